import Dispatch
import Foundation
import StrataLinalg
import Synchronization

/// The machine's core count: the default for every `threads` option.
public var defaultThreadCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

/// A parallel-for over a fixed list of chunks.
///
/// Determinism: the chunk list is fixed by the caller from the data's shape only (see
/// `RowPartition`), each chunk writes only its own outputs (`map`'s slot, `fillRows`' slice),
/// and reductions add the per-chunk results in chunk order (`ChunkedReduction`). Which worker
/// runs which chunk varies, the result does not: 1 or N threads give bit-identical output.
///
/// Cost: one `concurrentPerform` (one synchronization) per call, ~9 ns per claimed chunk; chunks
/// are claimed dynamically with an atomic counter, so a core shared with another process only
/// slows its own share. OpenBLAS is held at 1 thread inside (nested BLAS threads oversubscribe).
public enum Parallel {
    private final class Counter: Sendable {
        let next = Atomic<Int>(0)
    }

    /// Runs `body(chunk)` for every chunk in 0..<count on up to `threads` workers; each call must
    /// touch only its own chunk's outputs.
    public static func forEachChunk(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        let workers = min(max(1, threads), count)
        BLASThreads.withThreads(1) {
            if workers == 1 {
                for c in 0..<count { body(c) }
                return
            }
            let counter = Counter()
            withoutActuallyEscaping(body) { body in
                let box = UncheckedSendable(body)
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    while true {
                        let c = counter.next.wrappingAdd(1, ordering: .relaxed).oldValue
                        if c >= count { break }
                        box.value(c)
                    }
                }
            }
        }
    }

    /// `[body(0), body(1), ..., body(count - 1)]`, computed on up to `threads` workers.
    ///
    /// The result is in chunk order whatever worker computed each value, so it is the same for
    /// any `threads` as long as `body(c)` depends only on `c`. One allocation of `count` values;
    /// same cost as `forEachChunk`.
    public static func map<T>(_ count: Int, threads: Int, _ body: (Int) -> T) -> [T] {
        if count <= 0 { return [] }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let out = UncheckedSendable(buffer.baseAddress!)
            forEachChunk(count, threads: threads) { c in (out.value + c).initialize(to: body(c)) }
            initialized = count
        }
    }

    /// Fills `out` (partition.rows x width, row-major) chunk by chunk on up to `threads`
    /// workers: `body(rows, slice)` writes the rows of one chunk into `slice` (rows.count * width
    /// values, starting with row rows.lowerBound). Chunks own disjoint slices, so the result is
    /// the same for any `threads` when each row depends only on its inputs.
    public static func fillRows<T>(_ out: inout [T], partition: RowPartition, width: Int, threads: Int,
                                   _ body: (_ rows: Range<Int>, _ slice: UnsafeMutableBufferPointer<T>) -> Void) {
        precondition(out.count == partition.rows * width, "output holds \(out.count) values, expected \(partition.rows) x \(width)")
        out.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let shared = UncheckedSendable(base)
            forEachChunk(partition.count, threads: threads) { c in
                let r = partition.range(c)
                body(r, UnsafeMutableBufferPointer(start: shared.value + r.lowerBound * width, count: r.count * width))
            }
        }
    }
}

/// Wraps a value that is safe to share because the code around it partitions all access
/// (disjoint chunks of a buffer, read-only inputs). Keep its uses local and obvious.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
