/// Cluster labels as dense indices 0..<k, with the original label values kept for output.
///
/// Labels may arrive as any values (segment ids from a labels file, "3", "7", "42"); they are
/// mapped in sorted order (numerically when every label is an integer), so index i always
/// denotes the i-th smallest label.
public struct ClusterLabels: Sendable, Equatable {
    /// Dense label of every row.
    public let indices: [Int32]
    /// Original label value of each dense index.
    public let values: [String]
    /// Rows per cluster.
    public let counts: [Int]

    public var k: Int { values.count }
    public var rows: Int { indices.count }

    public init<S: Sequence>(_ labels: S) where S.Element: BinaryInteger {
        self.init(strings: labels.map { String($0) })
    }

    /// Dense indices over the given label values (every index < values.count).
    public init(indices: [Int32], values: [String]) {
        self.indices = indices
        self.values = values
        self.counts = ClusterLabels.counts(indices, k: values.count)
    }

    public init(strings: [String]) {
        let unique = Array(Set(strings))
        let sorted: [String]
        if unique.allSatisfy({ Int($0) != nil }) {
            sorted = unique.sorted { Int($0)! < Int($1)! }
        } else {
            sorted = unique.sorted()
        }
        var index = [String: Int32]()
        for (i, v) in sorted.enumerated() { index[v] = Int32(i) }
        let idx = strings.map { index[$0]! }
        self.indices = idx
        self.values = sorted
        self.counts = ClusterLabels.counts(idx, k: sorted.count)
    }

    /// How many of `labels` fall in each bin 0..<k (every label must be in 0..<k). O(n + k).
    public static func counts<S: Sequence>(_ labels: S, k: Int) -> [Int] where S.Element == Int32 {
        var counts = [Int](repeating: 0, count: k)
        for l in labels { counts[Int(l)] += 1 }
        return counts
    }
}
