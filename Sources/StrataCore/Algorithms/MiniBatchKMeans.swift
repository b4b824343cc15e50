import Foundation
import StrataKernels
import StrataLinalg

/// Mini-batch K-Means options (Sculley 2010, with scikit-learn's MiniBatchKMeans rules).
public struct MiniBatchOptions: Sendable {
    /// Rows per step, drawn uniformly with replacement (scikit-learn's default 1024; at most the
    /// rows of positive weight).
    public var batchSize: Int = 1024
    /// Epochs at most: steps = maxEpochs * n / batchSize.
    public var maxEpochs: Int = 100
    /// Stop after this many steps without improvement of the smoothed batch inertia (scikit-learn's 10).
    public var maxNoImprovement: Int = 10
    /// Centers whose accumulated weight falls below this share of the largest are moved to random
    /// rows of the current batch (checked every 10 steps; scikit-learn's 0.01).
    public var reassignmentRatio: Double = 0.01
    /// Rows for the k-means++ initialization (default: 3 * batchSize, at least 3k, at most n).
    public var initSize: Int? = nil
    public init() {}
}

/// Mini-batch K-Means: each step assigns one random batch and moves every center toward the
/// mean of its batch rows with a per-center learning rate 1 / (accumulated weight), so memory is
/// O(batch * d + k * d) besides the final labels. A final full pass (streamed over the data)
/// assigns every row and reports the exact inertia.
///
/// Rows of weight 0 have no influence: they are never drawn into a batch, the initialization
/// sample or a reassignment (draws are made among the rows of positive weight), so the centers
/// equal those of the same data without them.
///
/// Determinism: batches are drawn from the seeded generator on one thread; only the final pass is
/// parallel (fixed chunks), so results do not depend on `threads`.
public enum MiniBatchKMeans {
    /// Fits mini-batch K-Means (Sculley 2010, scikit-learn's update and reassignment rules).
    ///
    /// - Parameters:
    ///   - data: n x d rows (in memory or memory-mapped), optional sample weights.
    ///   - o: k, initialization (k-means++ or random on an initial sample; explicit centers),
    ///     seed, threads for the final pass.
    ///   - mb: batch size, epochs, early stop, reassignment ratio, initial sample size.
    /// - Returns: the centers, every row's label and squared distance, the weighted inertia of the
    ///   final pass, one record per step, and `warnings` (k above the distinct rows).
    /// - Throws: `StrataError.invalidArgument` for k < 1, k above the rows (of positive weight),
    ///   or a batch size, epoch count or patience below 1.
    public static func fit(_ data: Dataset, options o: KMeansOptions, minibatch mb: MiniBatchOptions) throws -> KMeansResult {
        try KMeans.validate(data, o)
        guard mb.batchSize >= 1, mb.maxEpochs >= 1, mb.maxNoImprovement >= 1 else {
            throw StrataError.invalidArgument("batch-size, max-epochs and max-no-improvement must be at least 1")
        }
        var result = data.withRows { rows, weights in fit(rows, weights: weights, source: data.source, options: o, minibatch: mb) }
        result.warnings = KMeans.degenerateKWarnings(data, o)
        return result
    }

    /// The rows draws are made from: those of positive weight (every row without weights).
    struct DrawPool {
        /// Row numbers when some rows weigh 0; nil: every row.
        let indices: [Int]?
        let count: Int

        init(weights: UnsafePointer<Float>?, rows n: Int) {
            if let w = weights, (0..<n).contains(where: { !(w[$0] > 0) }) {
                let rows = (0..<n).filter { w[$0] > 0 }
                indices = rows
                count = rows.count
            } else {
                indices = nil
                count = n
            }
        }

        /// The row of draw `i` (0..<count).
        func row(_ i: Int) -> Int { indices?[i] ?? i }

        /// A uniformly drawn row.
        func draw(_ rng: inout SeededRandom) -> Int { row(Int(rng.next() % UInt64(count))) }
    }

    static func fit(_ rows: DenseRows, weights: UnsafePointer<Float>?, source: String, options o: KMeansOptions,
                    minibatch mb: MiniBatchOptions) -> KMeansResult {
        let n = rows.rows, d = rows.cols, k = o.k
        let pool = DrawPool(weights: weights, rows: n)
        let m = pool.count
        var mb = mb
        mb.batchSize = min(mb.batchSize, m)   // scikit-learn's min(batch_size, n_samples)
        var rng = SeededRandom.stream(seed: o.seed, index: 0x4D42)
        let t0 = Date()
        // Initialization on a random subset (all the rows when they fit in it).
        let initSize = min(m, max(mb.initSize ?? 3 * mb.batchSize, 3 * k))
        var pick = initSize == m ? (0..<m).map(pool.row) : (0..<initSize).map { _ in pool.draw(&rng) }
        pick.sort()
        var initValues = [Float]()
        initValues.reserveCapacity(initSize * d)
        for i in pick { rows.withRows(i..<(i + 1)) { initValues.append(contentsOf: UnsafeBufferPointer(start: $0, count: d)) } }
        let initData = Dataset(rows: initSize, cols: d, values: initValues, weights: weights.map { w in pick.map { w[$0] } }, source: source)
        var centers = initData.withRows { r, w in
            switch o.initialization {
            case let .centers(c): return Matrix(rows: c.rows, cols: c.cols, storage: c.storage.map(Double.init))
            case .random: return KMeans.randomRows(r, weights: w, k: k, rng: &rng)
            default: return KMeans.kMeansPlusPlus(r, weights: w, k: k, rng: &rng, partition: RowPartition(rows: initSize), threads: 1)
            }
        }
        let initSeconds = Date().timeIntervalSince(t0)
        let t1 = Date()
        var counts = [Double](repeating: 0, count: k)
        let (epochRows, overflow) = mb.maxEpochs.multipliedReportingOverflow(by: m)
        let steps = max(1, (overflow ? Int.max : epochRows) / mb.batchSize)
        let alpha = min(1, Double(mb.batchSize) * 2 / Double(m + 1))
        var ewa: Double? = nil, bestEwa = Double.infinity, noImprovement = 0
        var iterations: [KMeansIteration] = []
        var batch = [Float](repeating: 0, count: mb.batchSize * d)
        var batchWeights = [Float](repeating: 1, count: mb.batchSize)
        var step = 0
        var converged = false
        while step < steps {
            step += 1
            for b in 0..<mb.batchSize {
                let i = pool.draw(&rng)
                rows.withRows(i..<(i + 1)) { x in for j in 0..<d { batch[b * d + j] = x[j] } }
                batchWeights[b] = weights.map { $0[i] } ?? 1
            }
            let cf = Matrix<Float>(rows: k, cols: d, storage: centers.storage.map { Float($0) })
            let assigned = batch.withUnsafeBufferPointer { nearestCentroid(DenseRows($0.baseAddress!, rows: mb.batchSize, cols: d), centroids: cf, threads: 1) }
            var sums = [Double](repeating: 0, count: k * d), bw = [Double](repeating: 0, count: k)
            var inertia = 0.0
            for b in 0..<mb.batchSize {
                let c = Int(assigned.labels[b]), w = Double(batchWeights[b])
                bw[c] += w
                inertia += w * Double(assigned.distances[b])
                for j in 0..<d { sums[c * d + j] += w * Double(batch[b * d + j]) }
            }
            var shift = 0.0
            for c in 0..<k where bw[c] > 0 {
                let total = counts[c] + bw[c]
                for j in 0..<d {
                    let new = (centers[c, j] * counts[c] + sums[c * d + j]) / total
                    shift += (new - centers[c, j]) * (new - centers[c, j])
                    centers[c, j] = new
                }
                counts[c] = total
            }
            // Starved centers move to random rows of this batch (scikit-learn's rule; every batch
        // row weighs more than 0).
            var relocated = 0
            if step % 10 == 0, let most = counts.max(), most > 0 {
                let starved = (0..<k).filter { counts[$0] < mb.reassignmentRatio * most }
                if !starved.isEmpty && starved.count < k {
                    let keepMin = (0..<k).filter { !starved.contains($0) }.map { counts[$0] }.min() ?? 1
                    for c in starved {
                        let b = Int(rng.next() % UInt64(mb.batchSize))
                        for j in 0..<d { centers[c, j] = Double(batch[b * d + j]) }
                        counts[c] = keepMin
                        relocated += 1
                    }
                }
            }
            let batchInertia = inertia / Double(mb.batchSize)
            ewa = ewa.map { $0 * (1 - alpha) + batchInertia * alpha } ?? batchInertia
            iterations.append(KMeansIteration(iteration: step, inertia: inertia, centerShift: shift, changed: 0, relocated: relocated,
                                              fullyAssigned: mb.batchSize, seconds: 0))
            o.onIteration?(0, iterations.last!)
            if ewa! < bestEwa { bestEwa = ewa!; noImprovement = 0 } else {
                noImprovement += 1
                if noImprovement >= mb.maxNoImprovement { converged = true; break }
            }
        }
        // Final full pass: exact labels, distances and inertia.
        let cf = Matrix<Float>(rows: k, cols: d, storage: centers.storage.map { Float($0) })
        let assigned = nearestCentroid(rows, centroids: cf, threads: o.threads)
        var sizes = [Int](repeating: 0, count: k), clusterWeights = [Double](repeating: 0, count: k)
        var inertia = 0.0
        for i in 0..<n {
            let c = Int(assigned.labels[i]), w = Double(weights.map { $0[i] } ?? 1)
            sizes[c] += 1; clusterWeights[c] += w; inertia += w * Double(assigned.distances[i])
        }
        let lloydSeconds = Date().timeIntervalSince(t1)
        return KMeansResult(centroids: cf, labels: assigned.labels, distances: assigned.distances, inertia: inertia, nIter: step,
                            converged: converged, iterations: iterations,
                            runs: [KMeansRunSummary(run: 0, inertia: inertia, nIter: step, converged: converged, initSeconds: initSeconds, lloydSeconds: lloydSeconds)],
                            bestRun: 0, sizes: sizes, clusterWeights: clusterWeights, absoluteTolerance: 0, route: .simd, algorithm: .minibatch)
    }
}
