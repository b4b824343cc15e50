/// Where a pass reads its rows from. Kernels only ever see one block of rows at a time, so an
/// out-of-core or streaming source can implement this without touching them.
public protocol RowBlockSource: Sendable {
    var rows: Int { get }
    var cols: Int { get }
    /// Calls `body` with a pointer to rows `range` stored row-major (cols floats each).
    func withRows<R>(_ range: Range<Int>, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R
}

/// Rows held in one contiguous row-major Float buffer owned by the caller.
public struct DenseRows: RowBlockSource, @unchecked Sendable {
    public let base: UnsafePointer<Float>
    public let rows: Int
    public let cols: Int

    public init(_ base: UnsafePointer<Float>, rows: Int, cols: Int) {
        self.base = base; self.rows = rows; self.cols = cols
    }

    public func withRows<R>(_ range: Range<Int>, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try body(base + range.lowerBound * cols)
    }
}
