/// One chunk's partial result of a `ChunkedReduction`: a value that can be added to a running
/// total in chunk order and exchanged between processes as a fixed number of doubles.
///
/// `add` need not be associative (Chan's mean/variance merge is not): the reduction always adds
/// the partials of chunks 0, 1, 2, ... into a copy of the zero value, one after the other, so the
/// result depends only on the partition, never on threads or processes.
public protocol ChunkPartial {
    /// Adds `other` (the next chunk's partial, same shape) into the running total `self`.
    mutating func add(_ other: Self)
    /// Doubles in the flat encoding; the same for every value of one shape.
    var flatWidth: Int { get }
    /// Writes the flat encoding (`flatWidth` doubles) to `out`.
    func write(to out: UnsafeMutablePointer<Double>)
    /// Replaces self's contents with the flat encoding at `flat`; self (a zero value) gives the shape.
    mutating func read(from flat: UnsafePointer<Double>)
}

/// The one chunked reduction: per-chunk partials over a fixed `RowPartition`, computed in
/// parallel (`Parallel`), exchanged between the processes of a `ChunkGroup` when there are
/// several, and added in global chunk order.
///
/// Determinism: a chunk's partial depends only on its rows, and partials are added in chunk
/// order into a copy of `zero`, so the result is bit-identical for any thread count and any
/// number of processes (each process maps only its own chunks, `ChunkGroup.localChunks`).
/// Cost: `map` once per local chunk; with a group of several processes one `allGather` of
/// `chunks * zero.flatWidth` doubles; memory: one partial per chunk.
public enum ChunkedReduction {
    /// Every chunk's partial, in chunk order (`partition.count` values; with several processes
    /// those of other processes' chunks come from their owners).
    /// - Parameters:
    ///   - zero: the identity of the partials' shape (decoding template and reduction start).
    ///   - map: `(chunk, rows)`: the partial of one chunk; called concurrently for distinct chunks.
    public static func partials<P: ChunkPartial>(
        _ partition: RowPartition, threads: Int, group: any ChunkGroup = SingleProcess(), zero: P,
        _ map: (_ chunk: Int, _ rows: Range<Int>) -> P
    ) -> [P] {
        let count = partition.count
        let local = group.localChunks(count)
        let mine = Parallel.map(local.count, threads: threads) { lc in
            let chunk = local.lowerBound + lc
            return map(chunk, partition.range(chunk))
        }
        guard group.isDistributed, count > 0 else { return mine }
        let width = zero.flatWidth
        precondition(width > 0, "a distributed reduction exchanges at least one double per chunk")
        var flat = [Double](repeating: 0, count: count * width)
        flat.withUnsafeMutableBufferPointer { f in
            for (i, p) in mine.enumerated() { p.write(to: f.baseAddress! + (local.lowerBound + i) * width) }
        }
        group.allGather(&flat, chunks: count, width: width)
        return flat.withUnsafeBufferPointer { f in
            (0..<count).map { c in
                var p = zero
                p.read(from: f.baseAddress! + c * width)
                return p
            }
        }
    }

    /// `zero` plus every chunk's partial, added in chunk order (see `partials`).
    public static func reduce<P: ChunkPartial>(
        _ partition: RowPartition, threads: Int, group: any ChunkGroup = SingleProcess(), zero: P,
        _ map: (_ chunk: Int, _ rows: Range<Int>) -> P
    ) -> P {
        sum(partials(partition, threads: threads, group: group, zero: zero, map), zero: zero)
    }

    /// `zero` plus `parts`, added in order.
    public static func sum<P: ChunkPartial>(_ parts: [P], zero: P) -> P {
        var total = zero
        for p in parts { total.add(p) }
        return total
    }
}

/// A partial of `count` doubles added elementwise (sums, per-cluster totals, potentials).
public struct ChunkSums: ChunkPartial, Sendable, Equatable {
    public var values: [Double]

    /// `count` zeros.
    public init(count: Int) { values = [Double](repeating: 0, count: count) }
    public init(_ values: [Double]) { self.values = values }

    @inlinable
    public mutating func add(_ other: ChunkSums) {
        precondition(other.values.count == values.count)
        values.withUnsafeMutableBufferPointer { t in
            other.values.withUnsafeBufferPointer { o in
                for i in 0..<t.count { t[i] += o[i] }
            }
        }
    }
    public var flatWidth: Int { values.count }
    public func write(to out: UnsafeMutablePointer<Double>) {
        for i in 0..<values.count { out[i] = values[i] }
    }
    public mutating func read(from flat: UnsafePointer<Double>) {
        for i in 0..<values.count { values[i] = flat[i] }
    }
}

/// A scalar partial: plain `+` in chunk order (0 + p0 + p1 + ...).
extension Double: ChunkPartial {
    public mutating func add(_ other: Double) { self += other }
    public var flatWidth: Int { 1 }
    public func write(to out: UnsafeMutablePointer<Double>) { out.pointee = self }
    public mutating func read(from flat: UnsafePointer<Double>) { self = flat.pointee }
}
