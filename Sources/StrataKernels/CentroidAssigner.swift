import CStrataKernels
import StrataLinalg

/// How rows are matched to their nearest centroid. Chosen once per run (mlpack-style policy),
/// so the hot loop never branches on it.
public enum AssignmentRoute: String, Sendable, CaseIterable, Codable {
    /// Direct squared differences in a 16-row SIMD tile: exact, no BLAS, best for small k*d.
    case simd
    /// Norm expansion with sgemm per block, vectorized argmin, exact distance recomputed for the
    /// winner: wins when k*d is large enough for GEMM to run near peak.
    case gemm

    /// The route measured fastest for this shape on this machine class (AMD Zen 4, 2 cores;
    /// `Benchmarks/` and `Scripts/compare-peers` re-measure it). At d = 16, 1M rows, one Lloyd
    /// iteration on 2 threads: k = 8 SIMD 7.0 ms vs GEMM 47 ms; k = 64 16 vs 66 ms; k = 256
    /// 49 vs 112 ms: sgemm with an inner dimension of 16 runs far below peak, and both routes
    /// are bound by FMA throughput. GEMM pays only once d is large (see `gemmMinimumDimension`).
    public static func choose(k: Int, d: Int) -> AssignmentRoute {
        d >= gemmMinimumDimension && k >= 32 ? .gemm : .simd
    }

    /// Smallest d at which the GEMM route is chosen by default.
    public static let gemmMinimumDimension = 128
}

/// Per-worker scratch for an assigner; allocate once per chunk, reuse across blocks.
public struct AssignerScratch {
    var floats: [Float]
    init(count: Int) { floats = [Float](repeating: 0, count: max(16, count)) }
}

/// Finds, for each row of a block, the nearest of k centroids (squared Euclidean).
public protocol CentroidAssigner: Sendable {
    var k: Int { get }
    var d: Int { get }
    /// Rows processed per call by `assign`, the unit callers block on.
    static var blockRows: Int { get }
    func makeScratch() -> AssignerScratch
    /// labels/dist for `rows` rows starting at `x` (row `firstRow` of the data set; labels and
    /// dist point at that row's slot); updates `counters`.
    func assign(_ x: UnsafePointer<Float>, firstRow: Int, rows: Int, labels: UnsafeMutablePointer<Int32>,
                dist: UnsafeMutablePointer<Float>, scratch: inout AssignerScratch, counters: inout AssignCounters)
}

/// What an assignment pass counts.
public struct AssignCounters: Sendable {
    /// Rows whose label changed.
    public var changed: Int64 = 0
    /// Rows compared with every centroid (all rows, except where bounds pruned them).
    public var fullyAssigned: Int64 = 0
    public init() {}
}

/// The SIMD route (see `AssignmentRoute.simd`). Cost per row: k*d subtract+FMA lanes.
public struct SIMDAssigner: CentroidAssigner {
    public let k: Int
    public let d: Int
    let centroids: [Float]
    public static var blockRows: Int { 256 }

    public init(centroids: Matrix<Float>) {
        k = centroids.rows; d = centroids.cols; self.centroids = centroids.storage
    }

    public func makeScratch() -> AssignerScratch {
        AssignerScratch(count: Int(strata_nearest_scratch_floats(Int64(d))))
    }

    public func assign(_ x: UnsafePointer<Float>, firstRow: Int, rows: Int, labels: UnsafeMutablePointer<Int32>,
                       dist: UnsafeMutablePointer<Float>, scratch: inout AssignerScratch, counters: inout AssignCounters) {
        centroids.withUnsafeBufferPointer { c in
            scratch.floats.withUnsafeMutableBufferPointer { s in
                strata_nearest_rows(x, Int64(rows), Int64(d), c.baseAddress, Int64(k), labels, dist, s.baseAddress, &counters.changed)
            }
        }
        counters.fullyAssigned += Int64(rows)
    }
}

/// The GEMM route (see `AssignmentRoute.gemm`). Per block of 256 rows: one sgemm
/// (256 x d) * (d x k), a vectorized argmin, and an O(d) exact distance for the winner.
/// Scratch: 256 * k floats.
public struct GEMMAssigner: CentroidAssigner {
    public let k: Int
    public let d: Int
    let centroids: [Float]
    let norms: [Float]
    public static var blockRows: Int { 256 }

    public init(centroids: Matrix<Float>) {
        k = centroids.rows; d = centroids.cols; self.centroids = centroids.storage
        var n = [Float](repeating: 0, count: centroids.rows)
        centroids.storage.withUnsafeBufferPointer { c in
            n.withUnsafeMutableBufferPointer { strata_row_sqnorms(c.baseAddress, Int64(centroids.rows), Int64(centroids.cols), $0.baseAddress) }
        }
        norms = n
    }

    public func makeScratch() -> AssignerScratch { AssignerScratch(count: Self.blockRows * k) }

    public func assign(_ x: UnsafePointer<Float>, firstRow: Int, rows: Int, labels: UnsafeMutablePointer<Int32>,
                       dist: UnsafeMutablePointer<Float>, scratch: inout AssignerScratch, counters: inout AssignCounters) {
        precondition(rows <= Self.blockRows)
        counters.fullyAssigned += Int64(rows)
        centroids.withUnsafeBufferPointer { c in
            norms.withUnsafeBufferPointer { cn in
                scratch.floats.withUnsafeMutableBufferPointer { g in
                    BLAS.gemm(transB: true, MatrixView(x, rows: rows, cols: d), MatrixView(c.baseAddress!, rows: k, cols: d),
                              into: MutableMatrixView(g.baseAddress!, rows: rows, cols: k))
                    strata_argmin_gemm_rows(g.baseAddress, Int64(rows), Int64(k), cn.baseAddress, x, Int64(d),
                                            c.baseAddress, labels, dist, &counters.changed)
                }
            }
        }
    }
}
