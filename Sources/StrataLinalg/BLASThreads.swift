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

/// What BLAS this process runs on, for run records.
public enum BLASInfo {
    /// OpenBLAS's build configuration (version, threading, target), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ...".
    public static var config: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }
    /// The kernel set OpenBLAS chose for this CPU (e.g. "Cooperlake").
    public static var core: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }
}
