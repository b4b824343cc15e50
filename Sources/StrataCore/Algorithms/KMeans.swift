import Foundation
import StrataKernels
import StrataLinalg

/// How K-Means picks its starting centers.
public enum KMeansInit: Sendable, Equatable {
    /// Greedy k-means++ (Arthur & Vassilvitskii 2007 with scikit-learn's greedy variant:
    /// 2 + floor(ln k) candidates per step, keep the one that lowers the potential most).
    /// Cost O(n * k * d * (2 + ln k)), k passes over the data.
    case kMeansPlusPlus
    /// k distinct rows drawn uniformly at random.
    case random
    /// These centers (k x d), used as given; `nInit` is then 1.
    case centers(Matrix<Float>)
    /// k-means|| (Bahmani et al. 2012, Spark's default): `rounds` passes that each keep every row
    /// independently with probability min(1, oversampling * k * w D(x)^2 / potential), then
    /// weighted k-means++ and up to 30 weighted Lloyd steps on the ~1 + rounds * oversampling * k
    /// candidates. Cost O(n * d * candidates), `rounds + 2` passes, instead of k-means++'s k
    /// passes: the choice for large n. Spark's defaults: oversampling 2, 2 rounds.
    case kMeansParallel(oversampling: Double, rounds: Int)

    public var name: String {
        switch self {
        case .kMeansPlusPlus: return "k-means++"
        case .random: return "random"
        case .centers: return "explicit"
        case .kMeansParallel: return "k-means||"
        }
    }
}

/// How each Lloyd iteration finds the nearest centers. Every variant gives Lloyd's iterates.
public enum KMeansAlgorithm: String, SettingChoice, CaseIterable {
    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

    /// Hamerly on the SIMD route when k >= 32, plain Lloyd otherwise. Measured at 1M x 16 on
    /// overlapping blobs (2 threads, steady state): k = 64 Lloyd 16 ms vs Hamerly 11 ms per
    /// iteration, k = 256 50 vs 38 ms; at k = 8 the pruned path costs about what a full SIMD
    /// comparison does, so Lloyd stays.
    case auto
    /// Compare every row with every center each iteration.
    case lloyd
    /// Lloyd with Hamerly's bounds (exact): skips centers that provably cannot win.
    case hamerly
    /// Mini-batch K-Means (not Lloyd's iterates: an approximation for very large n; see
    /// `MiniBatchKMeans` and `KMeansOptions.minibatch`).
    case minibatch
}

/// K-Means options. Every default is scikit-learn's, so results are comparable.
public struct KMeansOptions: Sendable {
    /// Number of clusters (1...n).
    public var k: Int
    /// Starting centers. Default: greedy k-means++.
    public var initialization: KMeansInit = .kMeansPlusPlus
    /// Restarts; the run with the lowest final inertia wins (first on ties). nil = scikit-learn's
    /// "auto": 1 for k-means++ and explicit centers, 10 for random.
    public var nInit: Int? = nil
    /// Lloyd iterations per run at most. Default 300.
    public var maxIterations: Int = 300
    /// Relative tolerance: a run stops when the total squared center shift is <= tolerance times
    /// the mean per-feature variance of the data (scikit-learn's definition; with sample weights
    /// the weighted variances, so rows of weight 0 do not count). Default 1e-4.
    public var tolerance: Double = 1e-4
    /// Seed for every random choice; the same seed gives the same result for any thread count.
    public var seed: UInt64 = 0
    /// Worker threads. Default: the number of cores.
    public var threads: Int = defaultThreadCount
    /// Nearest-centroid route; nil chooses by shape (`AssignmentRoute.choose`).
    public var route: AssignmentRoute? = nil
    /// Lloyd step variant. Default `.auto`: Hamerly's exact bounds on the SIMD route for k >= 32.
    public var algorithm: KMeansAlgorithm = .auto
    /// Called after every Lloyd iteration (from the calling thread), e.g. for progress.
    public var onIteration: (@Sendable (_ run: Int, _ stats: KMeansIteration) -> Void)? = nil

    /// The processes sharing the rows (MPI ranks); default: this process alone. With several,
    /// each computes its own chunks' partial statistics and all reduce them in chunk order, so
    /// the model is bit-identical to the single-process one.
    public var group: any ChunkGroup = SingleProcess()
    /// Mini-batch settings, used when `algorithm` is `.minibatch`.
    public var minibatch = MiniBatchOptions()
    /// The device for the Lloyd passes (`ComputeDevice.open()`); nil: the CPU. With a device
    /// the fit is plain Lloyd on the SIMD route (the only variant the device kernels compute),
    /// bit-identical to the CPU fit with `algorithm: .lloyd, route: .simd`; the seeding stays on
    /// the CPU. Not with mini-batch, Hamerly, the GEMM route or distributed runs.
    public var gpu: (any GPUBackend)? = nil

    public init(k: Int) { self.k = k }

    /// The restart count actually used.
    public var effectiveNInit: Int {
        if let n = nInit { return n }
        if case .random = initialization { return 10 }
        return 1
    }
}

/// Statistics of one Lloyd iteration.
public struct KMeansIteration: Sendable, Codable, Equatable {
    /// 1-based iteration number within its run.
    public var iteration: Int
    /// Weighted inertia of the assignment made in this iteration (to the centers it started with).
    public var inertia: Double
    /// Total squared movement of the centers in this iteration.
    public var centerShift: Double
    /// Rows whose label changed.
    public var changed: Int
    /// Clusters that were empty and got relocated.
    public var relocated: Int
    /// Rows compared with every center (the others were proven not to move by Hamerly's bounds).
    public var fullyAssigned: Int
    /// Wall-clock seconds the iteration took.
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case iteration, inertia, seconds, changed, relocated
        case centerShift = "center_shift"
        case fullyAssigned = "fully_assigned"
    }
}

/// One restart's outcome.
public struct KMeansRunSummary: Sendable, Codable, Equatable {
    public var run: Int
    public var inertia: Double
    public var nIter: Int
    public var converged: Bool
    public var initSeconds: Double
    public var lloydSeconds: Double

    enum CodingKeys: String, CodingKey {
        case run, inertia, converged
        case nIter = "n_iter"
        case initSeconds = "init_seconds"
        case lloydSeconds = "lloyd_seconds"
    }
}

/// The fitted model and the assignment of every training row.
public struct KMeansResult: Sendable {
    /// Final centers (k x d), columns in input order.
    public var centroids: Matrix<Float>
    /// Label of every row (0..<k), consistent with `centroids`.
    public var labels: [Int32]
    /// Squared distance of every row to its center.
    public var distances: [Float]
    /// Weighted within-cluster sum of squares for `centroids` and `labels`.
    public var inertia: Double
    public var nIter: Int
    public var converged: Bool
    /// Per-iteration statistics of the winning run.
    public var iterations: [KMeansIteration]
    /// Every restart, in order.
    public var runs: [KMeansRunSummary]
    public var bestRun: Int
    /// Rows per cluster and total weight per cluster.
    public var sizes: [Int]
    public var clusterWeights: [Double]
    /// The absolute tolerance used (tolerance x mean feature variance).
    public var absoluteTolerance: Double
    public var route: AssignmentRoute
    /// The Lloyd step actually used (`.lloyd` or `.hamerly`).
    public var algorithm: KMeansAlgorithm
    /// What the caller should tell the user (k above the distinct rows...); empty when none.
    public var warnings: [String] = []
    /// The device that ran the Lloyd passes and its step times; nil on the CPU.
    public var gpu: GPURunRecord? = nil
}

/// Exact K-Means by Lloyd's algorithm, scikit-learn compatible (same init rules, convergence
/// test, empty-cluster relocation and inertia).
///
/// Complexity: O(n * k * d) per iteration, one sequential pass over the data (assignment and
/// accumulation are fused). Memory: the data, plus labels and distances (8 bytes per row) for the
/// current and the best restart, plus k*(d+1) doubles per chunk.
/// Numerics: data as Float, distances by direct differences in Float, sums and inertia in Double.
/// Determinism: bit-identical for a seed whatever `threads` is (fixed chunking, ordered reduction).
public enum KMeans {
    /// Smallest k for which `.auto` picks Hamerly.
    public static let hamerlyMinimumK = 32

    /// Fits K-Means to `data`.
    ///
    /// - Parameters:
    ///   - data: n x d rows (Float, in memory or memory-mapped), optional sample weights.
    ///   - options: k, initialization (k-means++ greedy with 2 + floor(ln k) trials, k-means||,
    ///     random, or explicit centers), restarts, iteration cap, tolerance (relative to the mean
    ///     feature variance, as scikit-learn), seed, threads, Lloyd variant and distance route.
    /// - Returns: the best restart's k x d centroids, n labels (Int32) and squared distances,
    ///   inertia, iterations, cluster sizes and weights, and per-iteration and per-restart records.
    ///   `warnings` says when k exceeds the distinct rows (single-process runs).
    /// - Throws: `StrataError.invalidArgument` (k < 1, k above the rows with a positive weight,
    ///   explicit centers of the wrong shape, non-finite data), `.numerical` when a fit produces
    ///   non-finite centers.
    ///
    /// Rows of weight 0 have no influence: they are never initial centers, never relocation
    /// targets, and count neither in the tolerance's variances nor in any sum (they are labelled).
    /// - Complexity: seeding O(n k d (2 + ln k)); each Lloyd iteration O(n k d) time in one pass
    ///   (Hamerly's bounds skip most distance work for k >= 32); memory O(n) beyond the data.
    /// - Source: Lloyd 1982; Arthur & Vassilvitskii 2007; Bahmani et al. 2012; Hamerly 2010;
    ///   scikit-learn `sklearn/cluster/_kmeans.py` for initialization, tolerance and relocation.
    public static func fit(_ data: Dataset, options: KMeansOptions) throws -> KMeansResult {
        if let gpu = options.gpu {
            if options.algorithm == .hamerly || options.algorithm == .minibatch || options.route == .gemm {
                throw StrataError.invalidArgument("--device \(gpu.info.backend) runs plain Lloyd on the SIMD route: leave --algorithm and --route at auto (or give lloyd and simd)")
            }
            if options.group.isDistributed { throw StrataError.invalidArgument("--device \(gpu.info.backend) is not supported in --distributed runs") }
        }
        if options.algorithm == .minibatch { return try MiniBatchKMeans.fit(data, options: options, minibatch: options.minibatch) }
        try validate(data, options)
        if options.group.isDistributed && data.weights != nil {
            throw StrataError.invalidArgument("--distributed runs do not support sample weights")
        }
        let route = options.route ?? AssignmentRoute.choose(k: options.k, d: data.cols)
        let algorithm: KMeansAlgorithm = options.algorithm == .auto
            ? (route == .simd && options.k >= hamerlyMinimumK ? .hamerly : .lloyd) : options.algorithm
        var result = try data.withRows { rows, weights in
            if options.gpu != nil {
                return try fit(rows, weights: weights, options: options, route: .simd, algorithm: .lloyd) { PlainStepper(make: SIMDAssigner.init) }
            }
            switch (algorithm, route) {
            case (.hamerly, _):
                return try fit(rows, weights: weights, options: options, route: .simd, algorithm: .hamerly) { HamerlyStepper(rows: rows.rows) }
            case (_, .simd):
                return try fit(rows, weights: weights, options: options, route: route, algorithm: .lloyd) { PlainStepper(make: SIMDAssigner.init) }
            case (_, .gemm):
                return try fit(rows, weights: weights, options: options, route: route, algorithm: .lloyd) { PlainStepper(make: GEMMAssigner.init) }
            }
        }
        result.warnings = degenerateKWarnings(data, options)
        return result
    }

    /// The warning when k exceeds the distinct rows (empty or duplicate clusters). Skipped in
    /// distributed runs: a rank cannot tell its rows' distinct count from the whole data's.
    static func degenerateKWarnings(_ data: Dataset, _ o: KMeansOptions) -> [String] {
        if o.group.isDistributed { return [] }
        let distinct = distinctRowCount(data, atMost: o.k)
        return distinctRowsWarning(k: o.k, distinct: distinct, source: data.source).map { [$0] } ?? []
    }

    /// Rows with a positive weight (all rows without weights).
    static func positiveWeightRows(_ data: Dataset) -> Int {
        data.weights.map { w in w.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } } ?? data.rows
    }

    static func validate(_ data: Dataset, _ o: KMeansOptions) throws {
        if o.k < 1 { throw StrataError.invalidArgument("k must be at least 1 (got \(o.k))") }
        if o.k > data.rows {
            throw StrataError.invalidArgument("k = \(o.k) exceeds the number of rows (\(data.rows)) in \(data.source); lower k")
        }
        if data.weights != nil {
            let positive = positiveWeightRows(data)
            if o.k > positive {
                throw StrataError.invalidArgument("k = \(o.k) exceeds the number of rows with a positive weight (\(positive)) in \(data.source); lower k")
            }
        }
        if data.cols < 1 { throw StrataError.invalidArgument("\(data.source): no feature columns to cluster") }
        if o.maxIterations < 1 { throw StrataError.invalidArgument("max-iter must be at least 1 (got \(o.maxIterations))") }
        if !(o.tolerance >= 0) || !o.tolerance.isFinite { throw StrataError.invalidArgument("tol must be a finite number >= 0 (got \(o.tolerance))") }
        if let n = o.nInit, n < 1 { throw StrataError.invalidArgument("n-init must be at least 1 (got \(n))") }
        if o.threads < 1 { throw StrataError.invalidArgument("threads must be at least 1 (got \(o.threads))") }
        if case let .centers(c) = o.initialization {
            if c.rows != o.k {
                throw StrataError.invalidArgument("the initial centers have \(c.rows) rows but k = \(o.k); give --k \(c.rows) or another centers file")
            }
            if c.cols != data.cols {
                throw StrataError.invalidArgument("the initial centers have \(c.cols) columns but the data has \(data.cols) features (\(data.columns.joined(separator: ",")))")
            }
            if !c.storage.allSatisfy({ $0.isFinite }) { throw StrataError.invalidArgument("the initial centers contain NaN or infinite values") }
        }
    }

    static func fit<S: LloydStepper>(
        _ rows: DenseRows, weights: UnsafePointer<Float>?, options o: KMeansOptions, route: AssignmentRoute,
        algorithm: KMeansAlgorithm, makeStepper: () -> S
    ) throws -> KMeansResult {
        let n = rows.rows
        let partition = RowPartition(rows: n)
        let absTol = o.tolerance * ColumnStatistics.compute(rows, weights: weights, partition: partition, threads: o.threads, group: o.group).meanVariance
        var labels = [Int32](repeating: -1, count: n), dist = [Float](repeating: 0, count: n)
        var bestLabels: [Int32] = [], bestDist: [Float] = []
        var best: LloydRun? = nil
        var runs: [KMeansRunSummary] = []
        var bestRun = 0
        // With a device: the rows go up once for every restart.
        let device = try o.gpu.map { try GPULloyd(backend: $0, source: rows, weights: weights, k: o.k, partition: partition) }
        let nInit: Int
        if case .centers = o.initialization { nInit = 1 } else { nInit = o.effectiveNInit }
        for run in 0..<nInit {
            var rng = SeededRandom.stream(seed: o.seed, index: UInt64(run))
            let t0 = Date()
            let initial: Matrix<Double>
            switch o.initialization {
            case .kMeansPlusPlus: initial = kMeansPlusPlus(rows, weights: weights, k: o.k, rng: &rng, partition: partition, threads: o.threads, group: o.group)
            case let .kMeansParallel(l, r):
                if o.group.isDistributed { throw StrataError.invalidArgument("--distributed runs support --init k-means++, random or a centers file") }
                initial = try kMeansParallel(rows, weights: weights, k: o.k, oversampling: l, rounds: r, rng: &rng, partition: partition, threads: o.threads)
            case .random: initial = randomRows(rows, weights: weights, k: o.k, rng: &rng)
            case let .centers(c): initial = Matrix(rows: c.rows, cols: c.cols, storage: c.storage.map(Double.init))
            }
            let initSeconds = Date().timeIntervalSince(t0)
            let t1 = Date()
            var stepper = makeStepper()
            let r = try lloyd(rows, weights: weights, initial: initial, options: o, run: run, absTol: absTol, partition: partition,
                              labels: &labels, dist: &dist, stepper: &stepper, device: device)
            runs.append(KMeansRunSummary(run: run, inertia: r.inertia, nIter: r.nIter, converged: r.converged,
                                         initSeconds: initSeconds, lloydSeconds: Date().timeIntervalSince(t1)))
            if best == nil || r.inertia < best!.inertia {
                best = r
                bestRun = run
                swap(&labels, &bestLabels)
                swap(&dist, &bestDist)
                if labels.count != n { labels = [Int32](repeating: -1, count: n); dist = [Float](repeating: 0, count: n) }
            }
            labels.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
        }
        let b = best!
        guard b.inertia.isFinite else {
            throw StrataError.numerical("K-Means produced a non-finite inertia; the data may hold values too large for Float arithmetic — scale it")
        }
        var sizes = [Int](repeating: 0, count: o.k)
        if o.group.isDistributed {
            sizes = b.clusterWeights.map { Int($0.rounded()) }   // no sample weights in distributed runs
        } else {
            for l in bestLabels { sizes[Int(l)] += 1 }
        }
        return KMeansResult(centroids: b.centers, labels: bestLabels, distances: bestDist, inertia: b.inertia, nIter: b.nIter,
                            converged: b.converged, iterations: b.iterations, runs: runs, bestRun: bestRun, sizes: sizes,
                            clusterWeights: b.clusterWeights, absoluteTolerance: absTol, route: route, algorithm: algorithm,
                            gpu: device.map { GPURunRecord(device: $0.backend.info, steps: $0.times) })
    }
}
