/// The one memory-budget chunker: splits n rows into fixed chunks.
///
/// The split depends only on n and the chunk size (never on the thread count), which is what
/// makes reductions over chunks deterministic. Chunk sizes are multiples of 16 (the SIMD tile).
public struct RowPartition: Sendable, Equatable {
    public let rows: Int
    public let chunkRows: Int

    /// Rows per chunk for Lloyd-style passes: large enough that per-chunk overhead (partial
    /// statistics of k*d doubles, one atomic claim) is negligible, small enough for load balance.
    public static let defaultChunkRows = 16_384

    public init(rows: Int, chunkRows: Int = RowPartition.defaultChunkRows) {
        precondition(rows >= 0 && chunkRows > 0)
        self.rows = rows
        self.chunkRows = max(16, (chunkRows + 15) / 16 * 16)
    }

    /// A partition whose per-chunk temporaries (`bytesPerRow` each) fit `memoryBudget` bytes.
    public init(rows: Int, bytesPerRow: Int, memoryBudget: Int) {
        let perRow = max(1, bytesPerRow)
        let fit = max(16, memoryBudget / perRow)
        self.init(rows: rows, chunkRows: min(fit, max(16, rows)))
    }

    public var count: Int { rows == 0 ? 0 : (rows + chunkRows - 1) / chunkRows }

    public func range(_ chunk: Int) -> Range<Int> {
        let lo = chunk * chunkRows
        return lo..<min(rows, lo + chunkRows)
    }
}

/// Default working-memory budget for temporaries such as distance blocks: 256 MiB.
public let defaultBlockMemoryBudget = 256 << 20
