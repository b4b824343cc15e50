/// One edge of a minimum spanning tree: `source` (already in the tree) to `target` (added by
/// this step), weight `distance`.
public struct MSTEdge: Sendable, Equatable {
    public var source: Int32
    public var target: Int32
    public var distance: Double
    public init(source: Int32, target: Int32, distance: Double) { self.source = source; self.target = target; self.distance = distance }
}

/// Prim's minimum spanning tree over n x d rows under the Euclidean distance, or under the
/// mutual-reachability distance max(core[i], core[j], d(i, j)) of HDBSCAN when `core` is given.
///
/// The dense-data form of scikit-learn's `mst_from_data_matrix` (HDBSCAN) and scipy's
/// `mst_single_linkage`: O(n) memory (distances computed on the fly, in Double over the
/// features in order, then square-rooted, as their Euclidean metric does), O(n² d) time. Starts
/// at row 0; each step adds the outside row with the smallest reach, the smallest row number on
/// ties, and records the tree row it was reached from (the first one to reach that value).
/// Every step is parallel over fixed chunks of the outside rows, each chunk reporting its own
/// first minimum, combined in chunk order: the tree is the same whatever `threads`.
public enum PrimMST {
    public static func edges(_ data: UnsafePointer<Float>, rows n: Int, cols d: Int, core: [Double]? = nil,
                             threads: Int = defaultThreadCount) -> [MSTEdge] {
        guard n > 1 else { return [] }
        // Work in squared distances: sqrt is monotone and correctly rounded, so
        // sqrt(max(a², b², d²)) = max(a, b, d) and the order of reaches is the same.
        let core2 = core.map { $0.map { $0 * $0 } }
        var remaining = Array(1..<n)          // outside rows, ascending
        var reach = [Double](repeating: .infinity, count: n)
        var source = [Int32](repeating: 0, count: n)
        var out: [MSTEdge] = []
        out.reserveCapacity(n - 1)
        var current = 0
        // Chunks of at least 8,192 rows: one parallel step costs ~10 us, worth it only then.
        let chunk = 8192
        let x = UncheckedSendable(data)
        var best = [(Double, Int)](repeating: (0, -1), count: (n + chunk - 1) / chunk)
        while !remaining.isEmpty {
            let m = remaining.count
            let chunks = (m + chunk - 1) / chunk
            let cur = current
            reach.withUnsafeMutableBufferPointer { rb in
                source.withUnsafeMutableBufferPointer { sb in
                    remaining.withUnsafeBufferPointer { rem in
                        best.withUnsafeMutableBufferPointer { bb in
                            let r = UncheckedSendable(rb.baseAddress!), s = UncheckedSendable(sb.baseAddress!), q = UncheckedSendable(rem.baseAddress!)
                            let out = UncheckedSendable(bb.baseAddress!)
                            let coreBox = UncheckedSendable(core2)
                            let body: (Int) -> Void = { c in
                                let xc = x.value + cur * d
                                let cc = coreBox.value?[cur] ?? 0
                                var bestV = Double.greatestFiniteMagnitude, bestAt = -1
                                for p in (c * chunk)..<min(m, (c + 1) * chunk) {
                                    let j = q.value[p]
                                    var dist = KDTree.distance2(xc, x.value + j * d, d)
                                    if let c2 = coreBox.value { dist = max(cc, c2[j], dist) }
                                    if dist < r.value[j] { r.value[j] = dist; s.value[j] = Int32(cur) }
                                    if r.value[j] < bestV { bestV = r.value[j]; bestAt = p }
                                }
                                out.value[c] = (bestV, bestAt)
                            }
                            if chunks == 1 { body(0) } else { Parallel.forEachChunk(chunks, threads: threads, body) }
                        }
                    }
                }
            }
            var bv = Double.greatestFiniteMagnitude, bp = 0
            for c in 0..<chunks where best[c].1 >= 0 && best[c].0 < bv { bv = best[c].0; bp = best[c].1 }
            let next = remaining[bp]
            out.append(MSTEdge(source: source[next], target: Int32(next), distance: bv.squareRoot()))
            remaining.remove(at: bp)
            current = next
        }
        return out
    }
}
