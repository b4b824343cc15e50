import Foundation
import StrataKernels
import StrataLinalg

extension KMeans {
    /// Greedy k-means++ (scikit-learn's `_kmeans_plusplus`): the first center is a row drawn
    /// with probability proportional to its weight; each next center is the best of
    /// 2 + floor(ln k) rows drawn with probability proportional to w * D(x)^2, "best" meaning the
    /// lowest resulting potential. Cost O(n*d*k*(2 + ln k)); parallel over fixed chunks, with
    /// chunk sums reduced in order (`ChunkedReduction`), so the choice is identical for any
    /// thread count and any `group`.
    package static func kMeansPlusPlus(_ rows: DenseRows, weights: UnsafePointer<Float>?, k: Int, rng: inout SeededRandom,
                               partition: RowPartition, threads: Int, group: any ChunkGroup = SingleProcess()) -> Matrix<Double> {
        let idx = kMeansPlusPlusIndices(rows, weights: weights, k: k, rng: &rng, partition: partition, threads: threads, group: group)
        var m = Matrix<Double>(rows: k, cols: rows.cols)
        for (c, i) in idx.enumerated() {
            rows.withRows(i..<(i + 1)) { x in for j in 0..<rows.cols { m[c, j] = Double(x[j]) } }
        }
        return m
    }

    /// The rows k-means++ picks, in order (see `kMeansPlusPlus`).
    static func kMeansPlusPlusIndices(_ rows: DenseRows, weights: UnsafePointer<Float>?, k: Int, rng: inout SeededRandom,
                                      partition: RowPartition, threads: Int, group: any ChunkGroup = SingleProcess()) -> [Int] {
        let local = group.localChunks(partition.count)
        let n = rows.rows, d = rows.cols
        let trials = 2 + Int(log(Double(k)))
        var centers = Matrix<Float>(rows: k, cols: d)
        var chosen: [Int] = []
        let closest = SeedingDistances(rows: n)
        var chunkPot: [Double] = []

        func copyRow(_ i: Int, to c: Int) {
            chosen.append(i)
            rows.withRows(i..<(i + 1)) { x in for j in 0..<d { centers[c, j] = x[j] } }
        }
        /// Draws a row with probability proportional to w_i * closest[i] (or w_i when `uniformWeight`).
        func sample(_ target: Double, byWeightOnly: Bool) -> Int {
            var acc = 0.0
            var lastPositive = n - 1
            if !byWeightOnly {
                // Find the chunk, then the row, walking in the same order the sums were formed.
                var c = 0
                while c < partition.count - 1 && acc + chunkPot[c] <= target { acc += chunkPot[c]; c += 1 }
                // Only the chunk's owner holds its distances: it walks the rows and tells everyone.
                var found = -1
                if local.contains(c) {
                    for i in partition.range(c) {
                        let v = (weights.map { Double($0[i]) } ?? 1) * Double(closest[i])
                        if v > 0 { lastPositive = i }
                        acc += v
                        if acc > target { found = i; break }
                    }
                    if found < 0 { found = lastPositive }
                }
                return group.broadcast(found, chunk: c, chunks: partition.count)
            }
            for i in 0..<n {
                let v = weights.map { Double($0[i]) } ?? 1
                if v > 0 { lastPositive = i }
                acc += v
                if acc > target { return i }
            }
            return lastPositive
        }

        let totalWeight: Double = weights.map { w in (0..<n).reduce(0.0) { $0 + Double(w[$1]) } } ?? Double(n)
        copyRow(sample(rng.nextUnit() * totalWeight, byWeightOnly: true), to: 0)
        func update(with c: Int) -> Double {
            let center = Array(centers.storage[(c * d)..<((c + 1) * d)])
            chunkPot = ChunkedReduction.partials(partition, threads: threads, group: group, zero: 0.0) { _, r in
                closest.lower(rows, range: r, toward: center, weights: weights)
            }
            return chunkPot.reduce(0, +)
        }
        var potential = update(with: 0)
        var candidates = Matrix<Float>(rows: trials, cols: d)
        var candidateIdx = [Int](repeating: 0, count: trials)
        for c in 1..<max(1, k) {
            for t in 0..<trials {
                let i = sample(rng.nextUnit() * potential, byWeightOnly: false)
                candidateIdx[t] = i
                rows.withRows(i..<(i + 1)) { x in for j in 0..<d { candidates[t, j] = x[j] } }
            }
            let pots = ChunkedReduction.reduce(partition, threads: threads, group: group, zero: ChunkSums(count: trials)) { _, r in
                ChunkSums(closest.trialPotentials(rows, range: r, candidates: candidates, weights: weights))
            }.values
            var bestT = 0, bestPot = Double.infinity
            for t in 0..<trials where pots[t] < bestPot { bestPot = pots[t]; bestT = t }
            copyRow(candidateIdx[bestT], to: c)
            potential = update(with: c)
        }
        return chosen
    }

    /// k distinct rows as initial centers: without weights uniformly (Floyd's sampling, O(k)
    /// expected time); with weights by `weightedRowSample`, so a row of weight 0 is never chosen.
    /// Needs k <= the rows with a positive weight (`KMeans.validate`).
    static func randomRows(_ rows: DenseRows, weights: UnsafePointer<Float>? = nil, k: Int, rng: inout SeededRandom) -> Matrix<Double> {
        let n = rows.rows, d = rows.cols
        var order: [Int] = []
        if let weights {
            order = weightedRowSample(weights, rows: n, count: k, rng: &rng)
        } else {
            var chosen = Set<Int>()
            for j in (n - k)..<n {
                let t = Int(rng.next() % UInt64(j + 1))
                if chosen.insert(t).inserted { order.append(t) } else { chosen.insert(j); order.append(j) }
            }
        }
        var m = Matrix<Double>(rows: k, cols: d)
        for (c, i) in order.enumerated() {
            rows.withRows(i..<(i + 1)) { x in for j in 0..<d { m[c, j] = Double(x[j]) } }
        }
        return m
    }

    /// `count` distinct rows drawn with probability proportional to their weight, without
    /// replacement (scikit-learn's `choice(n, k, p=w/sum(w), replace=False)` distribution), by
    /// Efraimidis & Spirakis' keys log(u)/w: the `count` largest keys win, largest first. Only
    /// rows of positive weight take a draw, so rows of weight 0 never win and do not shift the
    /// draws of the others. Fewer rows than `count` when fewer have a positive weight.
    /// O(n log count) time, O(count) memory.
    static func weightedRowSample(_ weights: UnsafePointer<Float>, rows n: Int, count: Int, rng: inout SeededRandom) -> [Int] {
        var top: [(key: Double, row: Int)] = []   // sorted by key, largest first
        top.reserveCapacity(count + 1)
        for i in 0..<n where weights[i] > 0 {
            let key = log(max(rng.nextUnit(), 0x1.0p-60)) / Double(weights[i])
            if top.count == count, let last = top.last, key <= last.key { continue }
            var pos = top.count
            while pos > 0 && key > top[pos - 1].key { pos -= 1 }
            top.insert((key, i), at: pos)
            if top.count > count { top.removeLast() }
        }
        return top.map(\.row)
    }
}
