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
    /// `Benchmarks/` and `Scripts/compare-peers` re-measure it): SIMD up to k = 128 at small d.
    public static func choose(k: Int, d: Int) -> AssignmentRoute {
        if d <= 4 { return .simd }
        return k * d <= 2_048 ? .simd : .gemm
    }
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
    /// labels/dist for `rows` rows starting at `x`; adds the number of label changes to `changed`.
    func assign(_ x: UnsafePointer<Float>, rows: Int, labels: UnsafeMutablePointer<Int32>,
                dist: UnsafeMutablePointer<Float>, scratch: inout AssignerScratch, changed: inout Int64)
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

    public func assign(_ x: UnsafePointer<Float>, rows: Int, labels: UnsafeMutablePointer<Int32>,
                       dist: UnsafeMutablePointer<Float>, scratch: inout AssignerScratch, changed: inout Int64) {
        centroids.withUnsafeBufferPointer { c in
            scratch.floats.withUnsafeMutableBufferPointer { s in
                strata_nearest_rows(x, Int64(rows), Int64(d), c.baseAddress, Int64(k), labels, dist, s.baseAddress, &changed)
            }
        }
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

    public func assign(_ x: UnsafePointer<Float>, rows: Int, labels: UnsafeMutablePointer<Int32>,
                       dist: UnsafeMutablePointer<Float>, scratch: inout AssignerScratch, changed: inout Int64) {
        precondition(rows <= Self.blockRows)
        centroids.withUnsafeBufferPointer { c in
            norms.withUnsafeBufferPointer { cn in
                scratch.floats.withUnsafeMutableBufferPointer { g in
                    BLAS.gemm(transB: true, MatrixView(x, rows: rows, cols: d), MatrixView(c.baseAddress!, rows: k, cols: d),
                              into: MutableMatrixView(g.baseAddress!, rows: rows, cols: k))
                    strata_argmin_gemm_rows(g.baseAddress, Int64(rows), Int64(k), cn.baseAddress, x, Int64(d),
                                            c.baseAddress, labels, dist, &changed)
                }
            }
        }
    }
}
