import CStrataKernels

/// Sums of Euclidean distances from rows to every cluster of a reference set (the silhouette's
/// building block). The reference holds n rows (d floats each, row-major) sorted by cluster:
/// cluster c is rows [starts[c], starts[c + 1]).
///
/// SIMD kernel with direct float differences (no cancellation), 4 reference rows in flight;
/// per-cluster partial sums are flushed to Double every 128 reference rows, in a fixed order, so
/// each result depends only on its query rows. Read-only after init: share one among workers,
/// each with its own `Scratch`.
public struct ClusterDistanceSums: Sendable {
    /// Query rows per `sums` call.
    public static let blockRows = 16
    public let rows: Int
    public let d: Int
    public let k: Int
    private let reference: [Float]
    private let starts: [Int64]

    /// - Parameters:
    ///   - sortedRows: n x d, row-major, sorted by cluster.
    ///   - clusterSizes: k row counts (summing to n), in cluster order.
    public init(sortedRows: [Float], d: Int, clusterSizes: [Int]) {
        var starts = [Int64](repeating: 0, count: clusterSizes.count + 1)
        for c in 0..<clusterSizes.count { starts[c + 1] = starts[c] + Int64(clusterSizes[c]) }
        self.rows = Int(starts[clusterSizes.count])
        precondition(sortedRows.count == rows * d)
        self.reference = sortedRows; self.d = d; self.k = clusterSizes.count
        self.starts = starts
    }

    /// First reference row of each cluster, plus n at the end (k + 1 values).
    public var clusterStarts: [Int] { starts.map { Int($0) } }

    /// One worker's scratch.
    public struct Scratch {
        fileprivate var floats: [Float]
    }

    public func makeScratch() -> Scratch {
        Scratch(floats: [Float](repeating: 0, count: Int(strata_nearest_scratch_floats(Int64(d)))))
    }

    /// For the reference's own rows `query` (at most `blockRows`): sums[l * k + c] = the sum of
    /// ||y_{query.lowerBound + l} - y_j|| over the rows j of cluster c. `sums` is resized to
    /// `blockRows * k` and overwritten. O(query * n * d).
    public func sums(ofRows query: Range<Int>, into sums: inout [Double], scratch: inout Scratch) {
        precondition(query.count <= ClusterDistanceSums.blockRows && query.upperBound <= rows)
        let need = ClusterDistanceSums.blockRows * k
        if sums.count != need { sums = [Double](repeating: 0, count: need) }
        sums.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        let n = rows, d = d, k = k
        reference.withUnsafeBufferPointer { yp in
            starts.withUnsafeBufferPointer { sp in
                sums.withUnsafeMutableBufferPointer { sm in
                    scratch.floats.withUnsafeMutableBufferPointer { sc in
                        strata_silhouette_sums(yp.baseAddress! + query.lowerBound * d, Int64(query.count), yp.baseAddress!, Int64(n), Int64(d),
                                               sp.baseAddress!, Int64(k), sm.baseAddress!, sc.baseAddress!)
                    }
                }
            }
        }
    }
}
