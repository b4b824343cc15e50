import CBLAS

/// Thin typed wrappers over cblas level-3 routines, row-major throughout.
///
/// Complexity: GEMM O(m*n*k), SYRK O(n^2*k). These run on OpenBLAS's own thread pool with
/// however many threads `BLASThreads` allows; inside Strata's row-parallel loops that is 1.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C`, where op(X) is X or X^T.
    public static func gemm(
        transA: Bool = false, transB: Bool = false, alpha: Float = 1,
        _ a: MatrixView<Float>, _ b: MatrixView<Float>, beta: Float = 0, into c: MutableMatrixView<Float>
    ) {
        let (m, ka) = transA ? (a.cols, a.rows) : (a.rows, a.cols)
        let (kb, n) = transB ? (b.cols, b.rows) : (b.rows, b.cols)
        precondition(ka == kb && c.rows == m && c.cols == n, "gemm: shapes (\(m)x\(ka)) * (\(kb)x\(n)) -> (\(c.rows)x\(c.cols))")
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(ka), alpha, a.base, Int32(a.ld), b.base, Int32(b.ld),
                    beta, c.base, Int32(c.ld))
    }

    /// Double version of `gemm`.
    public static func gemm(
        transA: Bool = false, transB: Bool = false, alpha: Double = 1,
        _ a: MatrixView<Double>, _ b: MatrixView<Double>, beta: Double = 0, into c: MutableMatrixView<Double>
    ) {
        let (m, ka) = transA ? (a.cols, a.rows) : (a.rows, a.cols)
        let (kb, n) = transB ? (b.cols, b.rows) : (b.rows, b.cols)
        precondition(ka == kb && c.rows == m && c.cols == n, "gemm: shapes (\(m)x\(ka)) * (\(kb)x\(n)) -> (\(c.rows)x\(c.cols))")
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(ka), alpha, a.base, Int32(a.ld), b.base, Int32(b.ld),
                    beta, c.base, Int32(c.ld))
    }

    /// `C = alpha * A^T * A + beta * C` (n x n from an m x n A). Only the lower triangle of C
    /// is written (row-major); call `Symmetric.mirrorLower` for the full matrix.
    public static func syrkTransposed(alpha: Double = 1, _ a: MatrixView<Double>, beta: Double = 0, into c: MutableMatrixView<Double>) {
        precondition(c.rows == a.cols && c.cols == a.cols, "syrk: A is \(a.rows)x\(a.cols), C is \(c.rows)x\(c.cols)")
        if a.cols == 0 { return }
        cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, Int32(a.cols), Int32(a.rows),
                    alpha, a.base, Int32(a.ld), beta, c.base, Int32(c.ld))
    }
}

/// Helpers for symmetric matrices stored densely row-major.
public enum Symmetric {
    /// Copies the lower triangle onto the upper one.
    public static func mirrorLower(_ m: inout Matrix<Double>) {
        precondition(m.rows == m.cols)
        let n = m.rows
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { m.storage[i * n + j] = m.storage[j * n + i] } }
    }
}
