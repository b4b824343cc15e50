import CBLAS

/// Typed wrappers over the LAPACKE routines Strata needs. All take and return row-major
/// `Matrix<Double>` values and throw `LinalgError` when LAPACK's `info` is non-zero.
///
/// Layout notes (the traps): symmetric inputs are passed column-major, which for a symmetric
/// matrix is the same memory, so no hidden transposing copy is made; `potrf` leaves the other
/// triangle holding input, so it is zeroed here; eigenvectors come back as columns and are
/// returned as columns (V[i, j] is component i of eigenvector j).
///
/// Determinism: every routine runs with OpenBLAS at 1 thread, because LAPACK's blocked
/// algorithms reduce in thread-dependent order and results must not depend on `--threads`. The
/// matrices Strata factorizes are d x d or d x l (d up to a few hundred), where one thread costs
/// milliseconds.
public enum LAPACK {
    private static func ch(_ c: String) -> CChar { CChar(UInt8(ascii: c.unicodeScalars.first!)) }

    /// Cholesky factor L (lower triangular, upper triangle zero) with A = L L^T.
    /// Complexity O(n^3 / 3). Throws `.notPositiveDefinite` naming the failing minor.
    public static func cholesky(_ a: Matrix<Double>) throws -> Matrix<Double> {
        precondition(a.rows == a.cols, "cholesky needs a square matrix")
        let n = a.rows
        var l = a
        if n == 0 { return l }
        // Row-major lower == column-major upper of the same memory.
        let info = BLASThreads.withThreads(1) {
            l.storage.withUnsafeMutableBufferPointer {
                LAPACKE_dpotrf(LAPACK_COL_MAJOR, ch("U"), Int32(n), $0.baseAddress, Int32(n))
            }
        }
        try LinalgError.check(info, routine: "dpotrf") { .notPositiveDefinite(routine: "dpotrf", order: $0) }
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { l.storage[i * n + j] = 0 } }
        return l
    }

    /// Inverse of a lower-triangular matrix (dtrtri); the upper triangle of the result is zero.
    /// Throws `.notPositiveDefinite` (a zero diagonal element: singular) naming the element.
    public static func lowerTriangularInverse(_ l: Matrix<Double>) throws -> Matrix<Double> {
        precondition(l.rows == l.cols, "lowerTriangularInverse needs a square matrix")
        let n = l.rows
        var m = l
        if n == 0 { return m }
        // Row-major lower == column-major upper of the same memory.
        let info = BLASThreads.withThreads(1) {
            m.storage.withUnsafeMutableBufferPointer {
                LAPACKE_dtrtri(LAPACK_COL_MAJOR, ch("U"), ch("N"), Int32(n), $0.baseAddress, Int32(n))
            }
        }
        try LinalgError.check(info, routine: "dtrtri") { .notPositiveDefinite(routine: "dtrtri", order: $0) }
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { m.storage[i * n + j] = 0 } }
        return m
    }

    /// Eigen-decomposition of a symmetric matrix by divide and conquer (dsyevd).
    /// Returns eigenvalues in ascending order and V with eigenvector j in column j.
    /// Only the lower triangle of `a` is read. Complexity O(n^3).
    public static func symmetricEigen(_ a: Matrix<Double>) throws -> (values: [Double], vectors: Matrix<Double>) {
        precondition(a.rows == a.cols, "symmetricEigen needs a square matrix")
        let n = a.rows
        if n == 0 { return ([], a) }
        var v = a
        var w = [Double](repeating: 0, count: n)
        // Row-major lower == column-major upper.
        let info = BLASThreads.withThreads(1) {
            v.storage.withUnsafeMutableBufferPointer { vp in
                w.withUnsafeMutableBufferPointer { wp in
                    LAPACKE_dsyevd(LAPACK_COL_MAJOR, ch("V"), ch("U"), Int32(n), vp.baseAddress, Int32(n), wp.baseAddress)
                }
            }
        }
        try LinalgError.check(info, routine: "dsyevd") { .noConvergence(routine: "dsyevd", count: $0) }
        // Column-major output: eigenvector j is contiguous at j*n; return it as column j.
        return (w, v.transposed)
    }

    /// Thin SVD A = U diag(s) V^T of an m x n matrix (dgesdd). U is m x r, s has r = min(m, n)
    /// values in descending order, Vt is r x n. Uses LAPACK_ROW_MAJOR, which makes transposing
    /// copies inside LAPACKE: fine for the small and medium matrices Strata factorizes.
    public static func svd(_ a: Matrix<Double>) throws -> (u: Matrix<Double>, s: [Double], vt: Matrix<Double>) {
        let m = a.rows, n = a.cols, r = min(m, n)
        if r == 0 { return (Matrix(rows: m, cols: 0), [], Matrix(rows: 0, cols: n)) }
        var work = a
        var s = [Double](repeating: 0, count: r)
        var u = Matrix<Double>(rows: m, cols: r)
        var vt = Matrix<Double>(rows: r, cols: n)
        let info = BLASThreads.withThreads(1) { work.storage.withUnsafeMutableBufferPointer { ap in
            s.withUnsafeMutableBufferPointer { sp in
                u.storage.withUnsafeMutableBufferPointer { up in
                    vt.storage.withUnsafeMutableBufferPointer { vp in
                        LAPACKE_dgesdd(LAPACK_ROW_MAJOR, ch("S"), Int32(m), Int32(n), ap.baseAddress, Int32(n),
                                       sp.baseAddress, up.baseAddress, Int32(r), vp.baseAddress, Int32(n))
                    }
                }
            }
        } }
        try LinalgError.check(info, routine: "dgesdd") { .noConvergence(routine: "dgesdd", count: $0) }
        return (u, s, vt)
    }
}
