import Foundation
import Testing
@testable import StrataCore
import StrataKernels
import StrataLinalg

/// The chunked-reduction primitive and `Parallel.map`: same bits for any thread count and any
/// number of (simulated) processes.
@Suite struct ChunkedReductionTests {
    @Test func parallelMapKeepsChunkOrder() {
        for threads in [1, 2, 7] {
            #expect(Parallel.map(1_000, threads: threads) { $0 &* 3 } == (0..<1_000).map { $0 &* 3 })
            #expect(Parallel.map(0, threads: threads) { $0 }.isEmpty)
        }
    }

    @Test func reductionIsIdenticalForAnyThreadCountAndEqualsTheSequentialSum() {
        let n = 10_007, width = 5
        let x = randomMatrix(rows: n, cols: width, seed: 3, scale: 1e3)
        let partition = RowPartition(rows: n, chunkRows: 512)
        func chunkSums(_ r: Range<Int>) -> ChunkSums {
            var s = ChunkSums(count: width)
            for i in r { for j in 0..<width { s.values[j] += Double(x[i, j]) * Double(x[i, j]) } }
            return s
        }
        // Plain sequential: each chunk's sum, added to the total in chunk order.
        var expected = [Double](repeating: 0, count: width)
        for c in 0..<partition.count {
            let s = chunkSums(partition.range(c))
            for j in 0..<width { expected[j] += s.values[j] }
        }
        var scalarExpected = 0.0
        for c in 0..<partition.count { scalarExpected += chunkSums(partition.range(c)).values[0] }
        for threads in [1, 2, 7] {
            let total = ChunkedReduction.reduce(partition, threads: threads, zero: ChunkSums(count: width)) { _, r in chunkSums(r) }
            #expect(total.values == expected, "threads \(threads)")
            let scalar = ChunkedReduction.reduce(partition, threads: threads, zero: 0.0) { _, r in chunkSums(r).values[0] }
            #expect(scalar.bitPattern == scalarExpected.bitPattern)
            let parts = ChunkedReduction.partials(partition, threads: threads, zero: 0.0) { c, r in
                #expect(r == partition.range(c))
                return Double(c)
            }
            #expect(parts == (0..<partition.count).map(Double.init))
        }
    }

    /// 1 to 4 simulated processes (threads exchanging through shared memory, as MPI ranks do)
    /// give every rank the single-process result, bit for bit.
    @Test(arguments: [1, 2, 3, 4])
    func simulatedRanksGiveTheSingleProcessResult(ranks: Int) throws {
        let n = 20_011, d = 6, k = 5
        let x = randomMatrix(rows: n, cols: d, seed: 11, scale: 10)
        let partition = RowPartition(rows: n, chunkRows: 1_024)
        let labels = ClusterLabels(indices: (0..<n).map { Int32(($0 * 7 + $0 / 3) % k) }, values: (0..<k).map { "\($0)" })
        let data = Dataset(rows: n, cols: d, values: x.storage, weights: nil, source: "test")
        struct Outcome: Equatable, Sendable {
            var means: [Double], variances: [Double], inertia: Double, ch: Double?, db: Double?
            var sums: [Double], weights: [Double], lloydInertia: Double, seeds: [Int]
        }
        @Sendable func run(_ group: any ChunkGroup) throws -> Outcome {
            let stats = x.storage.withUnsafeBufferPointer { xp in
                ColumnStatistics.compute(DenseRows(xp.baseAddress!, rows: n, cols: d), partition: partition, threads: 2, group: group)
            }
            let dispersion = try DispersionMetrics.compute(data, labels: labels, threads: 2, group: group)
            let centroids = Matrix<Float>(rows: k, cols: d, storage: Array(x.storage[0..<(k * d)]))
            var lab = [Int32](repeating: -1, count: n), dist = [Float](repeating: 0, count: n)
            let lloyd = x.storage.withUnsafeBufferPointer { xp in
                lab.withUnsafeMutableBufferPointer { l in
                    dist.withUnsafeMutableBufferPointer { dp in
                        lloydPass(source: DenseRows(xp.baseAddress!, rows: n, cols: d), weights: nil, assigner: SIMDAssigner(centroids: centroids),
                                  labels: l.baseAddress!, dist: dp.baseAddress!, partition: partition, threads: 2, group: group)
                    }
                }
            }
            var rng = SeededRandom(seed: 4)
            let seeds = x.storage.withUnsafeBufferPointer { xp in
                KMeans.kMeansPlusPlusIndices(DenseRows(xp.baseAddress!, rows: n, cols: d), weights: nil, k: k, rng: &rng,
                                             partition: partition, threads: 2, group: group)
            }
            return Outcome(means: stats.means, variances: stats.variances, inertia: dispersion.inertia, ch: dispersion.calinskiHarabasz,
                          db: dispersion.daviesBouldin, sums: lloyd.sums, weights: lloyd.weights, lloydInertia: lloyd.inertia, seeds: seeds)
        }
        let single = try run(SingleProcess())
        let exchange = SharedExchange(size: ranks)
        let results = try exchange.runRanks { group in try run(group) }
        for (rank, r) in results.enumerated() { #expect(r == single, "rank \(rank) of \(ranks)") }
    }
}

/// In-process stand-in for MPI: `size` threads, each a rank, exchanging through one buffer.
final class SharedExchange: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    private var buffer: [Double] = []
    private var scalar = 0

    init(size: Int) { self.size = size }

    private func barrier() {
        condition.lock()
        let g = generation
        arrived += 1
        if arrived == size {
            arrived = 0; generation += 1; condition.broadcast()
        } else {
            while g == generation { condition.wait() }
        }
        condition.unlock()
    }

    struct Rank: ChunkGroup {
        let rank: Int
        let exchange: SharedExchange
        var size: Int { exchange.size }

        func allGather(_ values: inout [Double], chunks: Int, width: Int) {
            let e = exchange
            if rank == 0 { e.condition.lock(); e.buffer = [Double](repeating: 0, count: values.count); e.condition.unlock() }
            e.barrier()
            let mine = localChunks(chunks)
            e.condition.lock()
            for i in (mine.lowerBound * width)..<(mine.upperBound * width) { e.buffer[i] = values[i] }
            e.condition.unlock()
            e.barrier()
            e.condition.lock(); values = e.buffer; e.condition.unlock()
            e.barrier()
        }

        func broadcast(_ value: Int, chunk: Int, chunks: Int) -> Int {
            let e = exchange
            if rank == owner(ofChunk: chunk, count: chunks) { e.condition.lock(); e.scalar = value; e.condition.unlock() }
            e.barrier()
            e.condition.lock(); let v = e.scalar; e.condition.unlock()
            e.barrier()
            return v
        }
    }

    /// Runs `body` once per rank, each on its own thread; returns the results in rank order.
    func runRanks<R>(_ body: @escaping @Sendable (any ChunkGroup) throws -> R) throws -> [R] {
        let lock = NSLock()
        nonisolated(unsafe) var results = [Result<R, any Error>?](repeating: nil, count: size)
        let done = DispatchSemaphore(value: 0)
        for r in 0..<size {
            let t = Thread { [self] in
                let out = Result { try body(Rank(rank: r, exchange: self)) }
                lock.lock(); results[r] = out; lock.unlock()
                done.signal()
            }
            t.stackSize = 8 << 20
            t.start()
        }
        for _ in 0..<size { done.wait() }
        return try results.map { try $0!.get() }
    }
}
