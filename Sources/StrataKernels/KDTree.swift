/// An exact k-d tree over n x d `Float` rows for radius counts, radius visits and k-nearest
/// distances (Bentley 1975; the layout of scikit-learn's `KDTree`: points reordered into tree
/// order, every node a contiguous range with its bounding box).
///
/// Splits: the dimension of largest spread, at the median (`leafSize` = 64 points per leaf by
/// default, scikit-learn uses 40; measured on 300k x 8 DBSCAN: 16 -> 16.8 s, 32 -> 14.9 s, 48 -> 10.1 s, 64 -> 9.7 s, 128 -> 10.5 s, the SIMD leaf scan being cheaper than the traversal). Distances are accumulated in `Double` over the features in
/// column order, as scikit-learn's Euclidean metric does, so a radius test `d² <= r²` matches
/// scikit-learn's `query_radius` bit for bit on the same float32 inputs.
///
/// Memory: the reordered copy (n x d floats), n row numbers and 2·d bounds per node (about
/// n/16 nodes): roughly 1.1x the data. Build O(n log n); a query visits only the nodes whose box
/// is within reach. Immutable after `init`, so queries may run on any number of threads.
public final class KDTree: @unchecked Sendable {
    public let rows: Int
    public let cols: Int
    /// The rows in tree order (rows x cols).
    private let points: [Float]
    /// Tree order -> original row number.
    private let order: [Int32]

    /// The rows in tree order (spatially close rows next to each other): queries issued in this
    /// order reuse the nodes and leaves the previous query touched.
    public var treeOrder: [Int32] { order }
    private var nodes: [Node] = []
    /// Per node: lower bounds (cols) then upper bounds (cols).
    private var bounds: [Float] = []

    private struct Node {
        var start: Int32, end: Int32
        /// Children (-1 for a leaf).
        var left: Int32, right: Int32
    }

    /// Builds the tree over `data` (rows x cols, row-major).
    /// - Complexity: O(n log n) time; the copy described above.
    public init(_ data: UnsafePointer<Float>, rows: Int, cols: Int, leafSize: Int = 64) {
        self.rows = rows
        self.cols = cols
        var idx = (0..<rows).map { Int32($0) }
        var nodes: [Node] = []
        var bounds: [Float] = []
        nodes.reserveCapacity(2 * rows / max(1, leafSize) + 2)
        // Iterative build: (node, start, end) work items.
        func box(_ s: Int, _ e: Int) -> [Float] {
            var lo = [Float](repeating: .infinity, count: cols), hi = [Float](repeating: -.infinity, count: cols)
            for p in s..<e {
                let r = data + Int(idx[p]) * cols
                for j in 0..<cols { lo[j] = min(lo[j], r[j]); hi[j] = max(hi[j], r[j]) }
            }
            return lo + hi
        }
        if rows > 0 {
            nodes.append(Node(start: 0, end: Int32(rows), left: -1, right: -1))
            bounds += box(0, rows)
            var stack = [0]
            while let n = stack.popLast() {
                let s = Int(nodes[n].start), e = Int(nodes[n].end)
                guard e - s > leafSize else { continue }
                let b = n * 2 * cols
                var dim = 0
                var spread: Float = -1
                for j in 0..<cols where bounds[b + cols + j] - bounds[b + j] > spread {
                    spread = bounds[b + cols + j] - bounds[b + j]; dim = j
                }
                guard spread > 0 else { continue }   // all points equal: keep as a leaf
                let mid = (s + e) / 2
                // Median by sorting the slice on the split dimension (ties by row number, so the
                // tree depends on the data only).
                idx[s..<e].sort { a, c in
                    let x = data[Int(a) * cols + dim], y = data[Int(c) * cols + dim]
                    return x < y || (x == y && a < c)
                }
                let l = nodes.count
                nodes.append(Node(start: Int32(s), end: Int32(mid), left: -1, right: -1))
                bounds += box(s, mid)
                nodes.append(Node(start: Int32(mid), end: Int32(e), left: -1, right: -1))
                bounds += box(mid, e)
                nodes[n].left = Int32(l)
                nodes[n].right = Int32(l + 1)
                stack.append(l); stack.append(l + 1)
            }
        }
        var pts = [Float](repeating: 0, count: rows * cols)
        for p in 0..<rows { for j in 0..<cols { pts[p * cols + j] = data[Int(idx[p]) * cols + j] } }
        self.points = pts
        self.order = idx
        self.nodes = nodes
        self.bounds = bounds
    }

    /// Squared distance from `q` to the box of node `n` (0 inside), in Double.
    @inline(__always)
    private func boxDistance2(_ q: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Double {
        var s = 0.0
        for j in 0..<cols {
            let x = Double(q[j]), lo = Double(b[j]), hi = Double(b[cols + j])
            let t = x < lo ? lo - x : (x > hi ? x - hi : 0)
            s += t * t
        }
        return s
    }

    /// Whether the box of a node is farther than `radius2` (squared), stopping at the first
    /// features that prove it.
    @inline(__always)
    private func boxBeyond(_ q: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ radius2: Double) -> Bool {
        var s = 0.0
        for j in 0..<cols {
            let x = Double(q[j]), lo = Double(b[j]), hi = Double(b[cols + j])
            let t = x < lo ? lo - x : (x > hi ? x - hi : 0)
            s += t * t
            if s > radius2 { return true }
        }
        return false
    }

    /// Squared Euclidean distance in Double, accumulated over the features in order.
    @inline(__always)
    public static func distance2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Double {
        var s = 0.0
        for j in 0..<d { let t = Double(a[j]) - Double(b[j]); s += t * t }
        return s
    }

    /// Squared distance in Float, 4 features at a time (SIMD): a fast first test. Its relative
    /// error is below d x 2^-23; `within` falls back to the Double sum only inside that band.
    @inline(__always)
    static func distance2Fast(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var acc = SIMD4<Float>(repeating: 0)
        var j = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while j + 4 <= d {
            let t = ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self) - rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD4<Float>.self)
            acc += t * t
            j += 4
        }
        var s = acc.sum()
        while j < d { let t = a[j] - b[j]; s += t * t; j += 1 }
        return s
    }

    /// Whether `a` and `b` are within squared distance `radius2`, decided exactly as the Double
    /// sum over the features in order decides it (so as scikit-learn decides it), at Float SIMD
    /// speed for all but the pairs within a relative 1e-4 of the radius. Returns the Double
    /// squared distance when within, else nil.
    @inline(__always)
    static func within(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int, radius2: Double) -> Double? {
        let f = Double(distance2Fast(a, b, d))
        if f > radius2 * (1 + 1e-4) + 1e-30 { return nil }
        let exact = distance2(a, b, d)
        return exact <= radius2 ? exact : nil
    }

    /// The one radius traversal: calls `visit(position in tree order, d²)` for every row within
    /// squared distance `radius2` of `q` (inclusive), until `visit` returns false.
    @inline(__always)
    private func radiusWalk(_ q: UnsafePointer<Float>, radius2: Double, _ visit: (Int, Double) -> Bool) {
        guard rows > 0 else { return }
        points.withUnsafeBufferPointer { pts in
            bounds.withUnsafeBufferPointer { bnd in
                nodes.withUnsafeBufferPointer { nds in
                    // Depth-first, at most one pending sibling per level: 64 levels cover any n.
                    withUnsafeTemporaryAllocation(of: Int32.self, capacity: 64) { stack in
                        var top = 1
                        stack[0] = 0
                        while top > 0 {
                            top -= 1
                            let n = Int(stack[top])
                            if boxBeyond(q, bnd.baseAddress! + n * 2 * cols, radius2) { continue }
                            let node = nds[n]
                            if node.left < 0 {
                                for p in Int(node.start)..<Int(node.end) {
                                    if let d2 = Self.within(q, pts.baseAddress! + p * cols, cols, radius2: radius2), !visit(p, d2) { return }
                                }
                            } else {
                                stack[top] = node.right; stack[top + 1] = node.left
                                top += 2
                            }
                        }
                    }
                }
            }
        }
    }

    /// The number of rows (or their total weight) within squared distance `radius2` of `q`,
    /// counted until it reaches `atLeast` (then that partial count is returned): a DBSCAN core
    /// test stops as soon as the neighbourhood is big enough. `found(row)` is called for each row
    /// counted (in tree order), so a caller can keep the neighbours of a row whose count stays
    /// small without a second query.
    public func countWithin(_ q: UnsafePointer<Float>, radius2: Double, weights: UnsafePointer<Float>? = nil, atLeast: Double = .infinity,
                            found: ((Int) -> Void)? = nil) -> Double {
        var total = 0.0
        radiusWalk(q, radius2: radius2) { p, _ in
            let row = Int(order[p])
            total += weights.map { Double($0[row]) } ?? 1
            found?(row)
            return total < atLeast
        }
        return total
    }

    /// Calls `body(row, d²)` for every row within squared distance `radius2` of `q` (inclusive),
    /// in tree order (not row order).
    public func forEachWithin(_ q: UnsafePointer<Float>, radius2: Double, _ body: (Int, Double) -> Void) {
        radiusWalk(q, radius2: radius2) { p, d2 in body(Int(order[p]), d2); return true }
    }

    /// The one nearest-neighbour traversal: children nearer to `q` first, a node skipped when
    /// its box is farther than `bound()`; `leaf(position in tree order, d²)` sees every row of
    /// every leaf visited.
    @inline(__always)
    private func nearestWalk(_ q: UnsafePointer<Float>, bound: () -> Double, _ leaf: (Int, Double) -> Void) {
        guard rows > 0 else { return }
        points.withUnsafeBufferPointer { pts in
            bounds.withUnsafeBufferPointer { bnd in
                nodes.withUnsafeBufferPointer { nds in
                    var stack: [(Int32, Double)] = [(0, 0)]
                    while let (ni, reach) = stack.popLast() {
                        if reach > bound() { continue }
                        let node = nds[Int(ni)]
                        if node.left < 0 {
                            for p in Int(node.start)..<Int(node.end) { leaf(p, Self.distance2(q, pts.baseAddress! + p * cols, cols)) }
                        } else {
                            let dl = boxDistance2(q, bnd.baseAddress! + Int(node.left) * 2 * cols)
                            let dr = boxDistance2(q, bnd.baseAddress! + Int(node.right) * 2 * cols)
                            // Nearer child last, so it is visited first.
                            if dl <= dr { stack.append((node.right, dr)); stack.append((node.left, dl)) }
                            else { stack.append((node.left, dl)); stack.append((node.right, dr)) }
                        }
                    }
                }
            }
        }
    }

    /// The k smallest squared distances from `q` to the rows (a row equal to `q` counts, as in
    /// scikit-learn's `kneighbors(X)` on the training rows), ascending. Returns fewer when
    /// rows < k.
    public func nearestDistances2(_ q: UnsafePointer<Float>, k: Int) -> [Double] {
        guard k > 0 else { return [] }
        var best = [Double]()          // ascending, at most k
        best.reserveCapacity(k + 1)
        nearestWalk(q, bound: { best.count == k ? best[k - 1] : .infinity }) { _, d2 in
            guard best.count < k || d2 < best[k - 1] else { return }
            var i = best.count
            best.append(d2)
            while i > 0 && best[i - 1] > d2 { best[i] = best[i - 1]; i -= 1 }
            best[i] = d2
            if best.count > k { best.removeLast() }
        }
        return best
    }

    /// The nearest row to `q` (smallest row number among equally near rows) and its squared
    /// distance; nil when the tree is empty.
    public func nearest(_ q: UnsafePointer<Float>) -> (row: Int, distance2: Double)? {
        guard rows > 0 else { return nil }
        var bestRow = Int.max, bestD = Double.infinity
        nearestWalk(q, bound: { bestD }) { p, d2 in
            let r = Int(order[p])
            if d2 < bestD || (d2 == bestD && r < bestRow) { bestD = d2; bestRow = r }
        }
        return (bestRow, bestD)
    }
}
