/// Rows of a `Dataset` that live in a mapped file rather than in `values`.
public struct MappedRows: @unchecked Sendable {
    /// Keeps the mapping alive (the I/O layer's `MappedFile`).
    public let owner: AnyObject & Sendable
    /// First byte of the mapping.
    public let base: UnsafeRawPointer
    /// Byte offset of row 0 (4-byte aligned).
    public let offset: Int
    /// Rows per release window when the file exceeds the memory budget (0: keep pages).
    public let releaseWindowRows: Int

    public init(owner: AnyObject & Sendable, base: UnsafeRawPointer, offset: Int, releaseWindowRows: Int) {
        self.owner = owner
        self.base = base
        self.offset = offset
        self.releaseWindowRows = releaseWindowRows
    }

    public func rows(rows: Int, cols: Int) -> DenseRows {
        DenseRows((base + offset).assumingMemoryBound(to: Float.self), rows: rows, cols: cols, releaseWindowRows: releaseWindowRows)
    }
}

