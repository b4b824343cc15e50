import Foundation
import StrataKernels
import StrataLinalg

extension KMeans {
    /// k-means|| (see `KMeansInit.kMeansParallel`). Row selection uses a counter-based random
    /// number per (seed, round, row), so the candidates do not depend on the thread count or on
    /// the order chunks run in.
    static func kMeansParallel(_ rows: DenseRows, weights: UnsafePointer<Float>?, k: Int, oversampling: Double, rounds: Int,
                               rng: inout SeededRandom, partition: RowPartition, threads: Int) throws -> Matrix<Double> {
        let n = rows.rows, d = rows.cols
        guard oversampling > 0, rounds >= 1 else { throw StrataError.invalidArgument("k-means|| needs oversampling > 0 and rounds >= 1") }
        let l = oversampling * Double(k)
        let streamSeed = rng.next()
        let closest = SeedingDistances(rows: n)
        var chunkPot = [Double](repeating: 0, count: partition.count)
        var candidates: [Int] = []
        func row(_ i: Int) -> [Float] { rows.withRows(i..<(i + 1)) { Array(UnsafeBufferPointer(start: $0, count: d)) } }
        /// Lowers `closest` with the given centers, all in one pass (nearest of them per row by
        /// the SIMD assigner); returns the potential (chunk sums in order).
        func update(_ centers: [Int]) -> Double {
            guard !centers.isEmpty else { return chunkPot.reduce(0, +) }
            let assigner = SIMDAssigner(centroids: Matrix<Float>(rows: centers.count, cols: d, storage: centers.flatMap(row)))
            chunkPot = ChunkedReduction.partials(partition, threads: threads, zero: 0.0) { _, r in
                var scratch = assigner.makeScratch()
                var counters = AssignCounters()
                var labels = [Int32](repeating: 0, count: SIMDAssigner.blockRows)
                var dist = [Float](repeating: 0, count: SIMDAssigner.blockRows)
                var potential = 0.0
                var lo = r.lowerBound
                while lo < r.upperBound {
                    let hi = min(r.upperBound, lo + SIMDAssigner.blockRows)
                    rows.withRows(lo..<hi) { x in
                        labels.withUnsafeMutableBufferPointer { l in
                            dist.withUnsafeMutableBufferPointer { dp in
                                assigner.assign(x, firstRow: lo, rows: hi - lo, labels: l.baseAddress!, dist: dp.baseAddress!,
                                                scratch: &scratch, counters: &counters)
                            }
                        }
                    }
                    closest.lower(lo..<hi, distances: dist, weights: weights, potential: &potential)
                    lo = hi
                }
                return potential
            }
            return chunkPot.reduce(0, +)
        }
        // First center: a row drawn by weight.
        let total = weights.map { w in (0..<n).reduce(0.0) { $0 + Double(w[$1]) } } ?? Double(n)
        var target = rng.nextUnit() * total, first = n - 1, lastPositive = n - 1
        for i in 0..<n {
            let w = weights.map { Double($0[i]) } ?? 1
            if w > 0 { lastPositive = i }
            target -= w
            if target < 0 { first = i; break }
            if i == n - 1 { first = lastPositive }   // rounding left target >= 0: the last row that weighs
        }
        candidates.append(first)
        var potential = update([first])
        for round in 0..<rounds where potential > 0 {
            // Each chunk picks its rows independently; chunks are concatenated in order.
            let phi = potential
            let picked = Parallel.map(partition.count, threads: threads) { ch in
                var out: [Int] = []
                for i in partition.range(ch) {
                    let w = weights.map { Double($0[i]) } ?? 1
                    let p = min(1, l * w * Double(closest[i]) / phi)
                    if p > 0 && counterUniform(streamSeed, UInt64(round), UInt64(i)) < p { out.append(i) }
                }
                return out
            }
            let new = picked.flatMap { $0 }
            candidates += new
            potential = update(new)
        }
        // Weight each candidate by the weight of the rows closest to it, then reduce to k. A
        // candidate no row weighs for (a duplicate of an earlier one) is dropped.
        if candidates.count > k {
            let cand = Matrix<Float>(rows: candidates.count, cols: d, storage: candidates.flatMap(row))
            let assigned = nearestCentroid(rows, centroids: cand, threads: threads)
            var cw = [Float](repeating: 0, count: candidates.count)
            for i in 0..<n { cw[Int(assigned.labels[i])] += weights.map { $0[i] } ?? 1 }
            let kept = candidates.indices.filter { cw[$0] > 0 }
            if kept.count > k {
                var local = KMeansOptions(k: k)
                local.seed = rng.next()
                local.nInit = 1
                local.maxIterations = 30
                local.threads = 1
                let data = Dataset(rows: kept.count, cols: d, values: kept.flatMap { row(candidates[$0]) }, weights: kept.map { cw[$0] },
                                   source: "k-means|| candidates")
                let r = try KMeans.fit(data, options: local)
                return Matrix(rows: k, cols: d, storage: r.centroids.storage.map(Double.init))
            }
            candidates = kept.map { candidates[$0] }
        }
        // k or fewer candidates: all of them, then random rows.
        var m = Matrix<Double>(rows: k, cols: d)
        let extra = randomRows(rows, weights: weights, k: k, rng: &rng)
        for c in 0..<k {
            let value = c < candidates.count ? row(candidates[c]) : nil
            for j in 0..<d { m[c, j] = value.map { Double($0[j]) } ?? extra[c, j] }
        }
        return m
    }

    /// A uniform [0, 1) number from (seed, round, row): SplitMix64 finalizer of a combined key.
    static func counterUniform(_ seed: UInt64, _ round: UInt64, _ row: UInt64) -> Double {
        let z = SplitMix64.mix(seed &+ round &* SplitMix64.gamma &+ row &* 0xD1B5_4A32_D192_ED03)
        return Double(z >> 11) * 0x1.0p-53
    }
}
