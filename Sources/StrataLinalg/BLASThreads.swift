import CBLAS

/// OpenBLAS's thread count, which also governs LAPACKE (same library, one pool).
///
/// Strata parallelizes over rows itself and keeps BLAS at 1 thread inside those loops: nested
/// BLAS threads cost 20-40% here through oversubscription. Raise it only around big standalone
/// factorizations, with `withThreads`.
public enum BLASThreads {
    public static var current: Int { Int(openblas_get_num_threads()) }

    public static func set(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// Runs `body` with OpenBLAS at `n` threads, restoring the previous count afterwards.
    public static func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let old = current
        set(n)
        defer { set(old) }
        return try body()
    }
}
