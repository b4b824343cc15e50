/// The processes that share one fixed chunk decomposition of the rows (`RowPartition`): one
/// process (the default), or the ranks of an MPI job.
///
/// Each process computes the per-chunk partial results of its own contiguous range of chunks;
/// `allGather` then gives every process every chunk's partials, which all reduce in global chunk
/// order. Because the threaded path reduces the very same per-chunk partials in the very same
/// order, results are bit-identical for any number of threads and any number of processes.
/// `ChunkedReduction` is the one place that does this exchange for per-chunk partials.
public protocol ChunkGroup: Sendable {
    var rank: Int { get }
    var size: Int { get }
    /// Fills the slots of every chunk not owned by this process from its owner: `values` holds
    /// `chunks * width` doubles, chunk-major.
    func allGather(_ values: inout [Double], chunks: Int, width: Int)
    /// Everyone gets `value` as the owner of `chunk` passes it.
    func broadcast(_ value: Int, chunk: Int, chunks: Int) -> Int
}

extension ChunkGroup {
    /// The contiguous chunks process `rank` computes: [rank*C/size, (rank+1)*C/size).
    public func chunks(of rank: Int, count: Int) -> Range<Int> { (rank * count / size)..<((rank + 1) * count / size) }
    public func localChunks(_ count: Int) -> Range<Int> { chunks(of: rank, count: count) }
    public func owner(ofChunk c: Int, count: Int) -> Int {
        var r = min(size - 1, c * size / max(1, count))
        while r > 0 && chunks(of: r, count: count).lowerBound > c { r -= 1 }
        while r < size - 1 && chunks(of: r, count: count).upperBound <= c { r += 1 }
        return r
    }
    public var isDistributed: Bool { size > 1 }
}

/// The single-process group: every chunk is local, nothing to exchange.
public struct SingleProcess: ChunkGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allGather(_ values: inout [Double], chunks: Int, width: Int) {}
    public func broadcast(_ value: Int, chunk: Int, chunks: Int) -> Int { value }
}
