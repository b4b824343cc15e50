/// Errors from the linear-algebra layer. LAPACK reports failure only through `info`; every
/// wrapper here turns a non-zero `info` into one of these cases, so no caller ever reads a
/// half-computed factorization.
public enum LinalgError: Error, Equatable, CustomStringConvertible {
    /// LAPACK rejected argument number `parameter` (a bug in the caller, never in the data).
    case invalidArgument(routine: String, parameter: Int)
    /// Cholesky failed: the leading minor of this order (1-based) is not positive definite.
    case notPositiveDefinite(routine: String, order: Int)
    /// An iterative routine (eigen/SVD) did not converge; `count` is LAPACK's `info`.
    case noConvergence(routine: String, count: Int)
    /// Shapes of the operands do not agree.
    case dimensionMismatch(String)

    public var description: String {
        switch self {
        case let .invalidArgument(routine, parameter):
            return "\(routine): argument \(parameter) is invalid (internal error; please report it)"
        case let .notPositiveDefinite(routine, order):
            return "\(routine): matrix is not positive definite (leading minor of order \(order)); "
                + "add regularization to the diagonal or remove collinear columns"
        case let .noConvergence(routine, count):
            return "\(routine): failed to converge (\(count) off-diagonal elements did not converge); "
                + "check the input for extreme values"
        case let .dimensionMismatch(message):
            return "dimension mismatch: \(message)"
        }
    }

    /// Maps a LAPACK `info` to an error (nil when `info == 0`).
    static func check(_ info: Int32, routine: String, positiveMeans: (Int) -> LinalgError) throws {
        if info == 0 { return }
        if info < 0 { throw LinalgError.invalidArgument(routine: routine, parameter: Int(-info)) }
        throw positiveMeans(Int(info))
    }
}
