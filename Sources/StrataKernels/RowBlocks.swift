#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a pass reads its rows from. Kernels only ever see one block of rows at a time, so an
/// out-of-core or streaming source can implement this without touching them.
public protocol RowBlockSource: Sendable {
    var rows: Int { get }
    var cols: Int { get }
    /// Calls `body` with a pointer to rows `range` stored row-major (cols floats each).
    func withRows<R>(_ range: Range<Int>, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R
}

/// Rows held in one contiguous row-major Float buffer owned by the caller, or in a read-only
/// memory-mapped file.
///
/// Out of core: with `releaseWindowRows > 0` (a mapped file larger than the memory budget), every
/// time a read passes the end of a window of that many rows, the window's pages are dropped from
/// the process (`madvise(MADV_DONTNEED)`; the file stays in the page cache), so resident memory
/// stays within a few windows however large the file is. Dropping is always safe for a read-only
/// file mapping: a thread still reading the window just faults its pages back in.
public struct DenseRows: RowBlockSource, @unchecked Sendable {
    public let base: UnsafePointer<Float>
    public let rows: Int
    public let cols: Int
    /// 0: never release (memory the caller owns, or a mapping that fits the budget).
    public let releaseWindowRows: Int

    public init(_ base: UnsafePointer<Float>, rows: Int, cols: Int, releaseWindowRows: Int = 0) {
        self.base = base; self.rows = rows; self.cols = cols; self.releaseWindowRows = releaseWindowRows
    }

    @inline(__always)
    public func withRows<R>(_ range: Range<Int>, _ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        let r = try body(base + range.lowerBound * cols)
        if releaseWindowRows > 0 { releaseCompletedWindow(range) }
        return r
    }

    @inline(never)
    func releaseCompletedWindow(_ range: Range<Int>) {
        let w = releaseWindowRows
        // The range ends a window (or the data): release the window it ends.
        guard range.upperBound % w < range.count || range.upperBound == rows else { return }
        let windowEnd = range.upperBound == rows ? rows : range.upperBound / w * w
        let windowStart = max(0, windowEnd - w)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lo = (Int(bitPattern: base + windowStart * cols) + page - 1) / page * page
        let hi = Int(bitPattern: base + windowEnd * cols) / page * page
        if hi > lo { madvise(UnsafeMutableRawPointer(bitPattern: lo), hi - lo, MADV_DONTNEED) }
    }
}
