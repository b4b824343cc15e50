import Foundation
import StrataKernels
import StrataLinalg

/// Covariance structure of a Gaussian mixture, as scikit-learn defines them.
public enum CovarianceType: String, SettingChoice, CaseIterable {
    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

    /// Each component has its own general covariance matrix.
    case full
    /// Each component has its own diagonal covariance matrix.
    case diag
    /// All components share one general covariance matrix.
    case tied
    /// Each component has its own single variance.
    case spherical
}

/// How EM starts: the initial responsibilities, from which the first parameters are estimated.
public enum GMMInit: Sendable, Equatable {
    /// One-hot responsibilities from a seeded K-Means run (scikit-learn's default).
    case kmeans
    /// k-means++ seeds; each seed row gets responsibility 1 for its component (scikit-learn).
    case kMeansPlusPlus
    /// Uniform random responsibilities, normalized per row (seeded).
    case random
    /// One-hot responsibilities from these hard labels (0..<k), e.g. a K-Means labels file.
    case labels([Int32])
    /// These means (k x d): rows go one-hot to their nearest mean, the weights and covariances
    /// are estimated from that partition, and the means are then set to the given ones.
    case means(Matrix<Float>)
}

/// Gaussian-mixture options. Defaults are scikit-learn's.
public struct GMMOptions: Sendable {
    public var k: Int
    public var covarianceType: CovarianceType = .full
    /// Added to the covariance diagonals so they stay positive definite. Default 1e-6.
    public var regCovar: Double = 1e-6
    public var initialization: GMMInit = .kmeans
    /// Restarts; the run with the highest final lower bound wins. Default 1.
    public var nInit: Int = 1
    /// EM iterations at most. Default 100.
    public var maxIterations: Int = 100
    /// Convergence: |change of the mean log-likelihood per sample| < tolerance. Default 1e-3.
    public var tolerance: Double = 1e-3
    public var seed: UInt64 = 0
    public var threads: Int = defaultThreadCount
    public var onIteration: (@Sendable (_ run: Int, _ stats: GMMIteration) -> Void)? = nil
    /// The processes sharing the rows (MPI ranks); see `KMeansOptions.group`.
    public var group: any ChunkGroup = SingleProcess()
    /// A device for the E-steps (nil: the CPU). The responsibilities come back to the host, which
    /// forms the statistics as on the CPU: diag/spherical fits are bit-identical to the CPU's,
    /// full/tied ones equal where OpenBLAS's SGEMM projects in feature order, else within float
    /// rounding of the projections. See `GPUGMMEStep`.
    public var gpu: (any GPUBackend)? = nil

    public init(k: Int) { self.k = k }
}

/// One EM iteration's statistics.
public struct GMMIteration: Sendable, Codable, Equatable {
    public var iteration: Int
    /// Mean log-likelihood per sample in this iteration's E-step.
    public var lowerBound: Double
    public var change: Double
    public var seconds: Double
}

/// A fitted mixture: everything needed to score new rows.
public struct GMMModel: Sendable, Equatable {
    public var covarianceType: CovarianceType
    public var k: Int
    public var d: Int
    public var weights: [Double]
    /// k x d, row-major.
    public var means: [Double]
    /// full: k d x d matrices; diag: k x d; tied: one d x d; spherical: k values (row-major).
    public var covariances: [Double]
    /// Same shapes: full/tied hold C with precision = C C^T (upper triangular, C = L^-T for the
    /// covariance's Cholesky factor L); diag/spherical hold 1 / standard deviation.
    public var precisionsCholesky: [Double]
    /// log det of each component's precision Cholesky factor (k values).
    public var logDetPrecisionCholesky: [Double]

    /// Free parameters (scikit-learn's `_n_parameters`), for BIC and AIC.
    public init(covarianceType: CovarianceType, k: Int, d: Int, weights: [Double], means: [Double], covariances: [Double],
                precisionsCholesky: [Double], logDetPrecisionCholesky: [Double]) {
        self.covarianceType = covarianceType; self.k = k; self.d = d; self.weights = weights; self.means = means
        self.covariances = covariances; self.precisionsCholesky = precisionsCholesky; self.logDetPrecisionCholesky = logDetPrecisionCholesky
    }

    public var parameterCount: Int {
        let cov: Int
        switch covarianceType {
        case .full: cov = k * d * (d + 1) / 2
        case .diag: cov = k * d
        case .tied: cov = d * (d + 1) / 2
        case .spherical: cov = k
        }
        return cov + k * d + k - 1
    }
}

public struct GMMResult: Sendable {
    public var model: GMMModel
    /// scikit-learn's `lower_bound_`: the mean log-likelihood of the last iteration's E-step.
    public var lowerBound: Double
    public var nIter: Int
    public var converged: Bool
    public var iterations: [GMMIteration]
    /// Mean log-likelihood per sample under the final parameters (scikit-learn's `score(X)`).
    public var score: Double
    public var bic: Double
    public var aic: Double
    /// Most probable component of every training row under the final parameters.
    public var labels: [Int32]
    public var runLowerBounds: [Double]
    /// What the caller should tell the user (k above the distinct rows...); empty when none.
    public var warnings: [String] = []
    /// The device and its step times (all restarts together), when `GMMOptions.gpu` ran the E-steps.
    public var gpu: GPURunRecord? = nil
}

/// Gaussian mixtures fitted by EM, scikit-learn compatible.
///
/// Each iteration is one pass over the data: the E-step (log-space, log-sum-exp per row) and the
/// accumulation of the sufficient statistics for the M-step are fused, per fixed row chunk;
/// chunk partials are reduced in chunk order, so results are identical for any thread count.
/// The E-step runs in float SIMD (16-row tiles, vector exp/log; full and tied through one sgemm
/// per block on centered rows), the statistics in Double by DGEMM around the data mean, so the
/// covariances E[(x-g)(x-g)^T] - (mu-g)(mu-g)^T lose nothing to an origin far from the data. Full and tied precisions come from
/// LAPACK Cholesky factors; a component that is not positive definite after `regCovar` is an
/// error naming it. Cost per iteration: O(n k d^2) for full/tied (GEMM/SYRK per row block),
/// O(n k d) for diag/spherical. Memory: O(k d^2) per chunk, no n x k matrix.
public enum GMM {
    /// Fits a Gaussian mixture to `data` by EM.
    ///
    /// - Parameters:
    ///   - data: n x d rows (Float), optional sample weights.
    ///   - o: k, covariance type (full, diag, tied, spherical), `regCovar` (added to covariance
    ///     diagonals, 1e-6), initialization (K-Means labels as scikit-learn, k-means++, random,
    ///     given labels or means), restarts (highest lower bound wins), iteration cap, tolerance on
    ///     the mean log-likelihood per row, seed, threads.
    /// - Returns: weights, means, covariances and Cholesky factors of the precisions
    ///   (scikit-learn's storage), labels, lower bound (mean log-likelihood), BIC, AIC, iterations.
    ///   `warnings` says when k exceeds the distinct rows (single-process runs).
    /// - Throws: `StrataError.invalidArgument` (k out of range, bad initial labels or means,
    ///   sample weights: EM here is unweighted, as scikit-learn's `GaussianMixture`),
    ///   `.numerical` naming the component whose covariance is not positive definite;
    ///   `LinalgError` from LAPACK.
    /// - Complexity: per iteration O(n k d^2) (full, tied) or O(n k d) (diag, spherical), one pass;
    ///   memory O(k d^2) per chunk, never an n x k matrix.
    /// - Source: Dempster, Laird & Rubin 1977; scikit-learn `sklearn/mixture/_gaussian_mixture.py`.
    public static func fit(_ data: Dataset, options o: GMMOptions) throws -> GMMResult {
        try validate(data, o)
        if let gpu = o.gpu {
            if o.group.isDistributed { throw StrataError.invalidArgument("--device \(gpu.info.backend) is not supported in --distributed runs") }
        }
        var best: GMMResult? = nil
        var lowers: [Double] = []
        var times = GPUStepTimes()
        for run in 0..<o.nInit {
            var rng = SeededRandom.stream(seed: o.seed, index: UInt64(run))
            let r = try data.withRows { rows, _ in try fitOnce(data, rows, options: o, run: run, rng: &rng) }
            if let t = r.gpu?.steps { times.merge(t) }
            lowers.append(r.lowerBound)
            if best == nil || r.lowerBound > best!.lowerBound { best = r }
        }
        var b = best!
        b.runLowerBounds = lowers
        if let gpu = o.gpu { b.gpu = GPURunRecord(device: gpu.info, steps: times) }
        if !o.group.isDistributed,
           let w = distinctRowsWarning(k: o.k, distinct: distinctRowCount(data, atMost: o.k), source: data.source, unit: "components") {
            b.warnings.append(w)
        }
        return b
    }

    static func validate(_ data: Dataset, _ o: GMMOptions) throws {
        if o.k < 1 { throw StrataError.invalidArgument("k must be at least 1 (got \(o.k))") }
        if o.k > data.rows { throw StrataError.invalidArgument("k = \(o.k) exceeds the number of rows (\(data.rows)) in \(data.source); lower k") }
        if data.cols < 1 { throw StrataError.invalidArgument("\(data.source): no feature columns") }
        if data.weights != nil {
            // Ignoring them would let a row of weight 0 shape the mixture.
            throw StrataError.invalidArgument("Gaussian mixtures do not take sample weights (\(data.weightsColumn ?? "weights") in \(data.source)); leave out the weights column")
        }
        if !(o.regCovar >= 0) { throw StrataError.invalidArgument("reg-covar must be >= 0 (got \(o.regCovar))") }
        if o.maxIterations < 1 { throw StrataError.invalidArgument("max-iter must be at least 1") }
        if o.nInit < 1 { throw StrataError.invalidArgument("n-init must be at least 1") }
        if !(o.tolerance >= 0) { throw StrataError.invalidArgument("tol must be >= 0") }
        if case let .means(m) = o.initialization, m.rows != o.k || m.cols != data.cols {
            throw StrataError.invalidArgument("the initial means are \(m.rows) x \(m.cols); expected k = \(o.k) rows of \(data.cols) features")
        }
        if case let .labels(l) = o.initialization {
            guard l.count == data.rows else {
                throw StrataError.invalidArgument("the initial labels have \(l.count) rows but \(data.source) has \(data.rows)")
            }
            if let bad = l.first(where: { $0 < 0 || Int($0) >= o.k }) {
                throw StrataError.invalidArgument("initial label \(bad) is outside 0..<\(o.k); give --k matching the labels file")
            }
        }
    }

    static func fitOnce(_ data: Dataset, _ rows: DenseRows, options o: GMMOptions, run: Int, rng: inout SeededRandom) throws -> GMMResult {
        let n = rows.rows, k = o.k
        let part = RowPartition(rows: n)
        let g = o.group
        if g.isDistributed {
            switch o.initialization {
            case .means, .labels: throw StrataError.invalidArgument("--distributed mixtures start from kmeans, k-means++ or random")
            default: break
            }
        }
        let mean = ColumnStatistics.compute(rows, partition: part, threads: o.threads, group: g).means
        let globalShift = (0..<k).flatMap { _ in mean }
        // Initial responsibilities -> first parameters.
        let initStats: GMMStatistics
        switch o.initialization {
        case let .labels(l):
            initStats = GMMStatistics.pass(rows, k: k, type: o.covarianceType, center: mean, partition: part, threads: o.threads,
                                           responsibilities: .oneHot(l))
        case .kmeans:
            var ko = KMeansOptions(k: k)
            ko.seed = rng.next()
            ko.threads = o.threads
            ko.group = g
            let km = try KMeans.fit(data, options: ko)
            initStats = GMMStatistics.pass(rows, k: k, type: o.covarianceType, center: mean, partition: part, threads: o.threads,
                                           responsibilities: .oneHot(km.labels), group: g)
        case .kMeansPlusPlus:
            var seeds = [Int32](repeating: -1, count: n)
            let centers = KMeans.kMeansPlusPlusIndices(rows, weights: nil, k: k, rng: &rng, partition: part, threads: o.threads, group: g)
            for (c, i) in centers.enumerated() { seeds[i] = Int32(c) }
            initStats = GMMStatistics.pass(rows, k: k, type: o.covarianceType, center: mean, partition: part, threads: o.threads,
                                           responsibilities: .oneHot(seeds), group: g)
        case .random:
            initStats = GMMStatistics.pass(rows, k: k, type: o.covarianceType, center: mean, partition: part, threads: o.threads,
                                           responsibilities: .random(seed: rng.next()), group: g)
        case let .means(m):
            let nearest = nearestCentroid(rows, centroids: m, threads: o.threads)
            initStats = GMMStatistics.pass(rows, k: k, type: o.covarianceType, center: mean, partition: part, threads: o.threads,
                                           responsibilities: .oneHot(nearest.labels))
        }
        var model = try initStats.mStep(type: o.covarianceType, shifts: globalShift, regCovar: o.regCovar)
        if case let .means(m) = o.initialization { model.means = m.storage.map(Double.init) }
        var lowerBound = -Double.infinity
        var iterations: [GMMIteration] = []
        var converged = false
        // Diag/spherical E-steps on the device: the centered rows go up once per run.
        let full = o.covarianceType == .full || o.covarianceType == .tied
        let device = try o.gpu.map { try GPUGMMEStep(backend: $0, source: rows, center: mean, k: k, partition: part, full: full) }
        func source(_ model: GMMModel, statistics: Bool) throws -> ResponsibilitySource {
            guard let device else { return .model(model) }
            let p = GMMStatistics.EStepPlan(model, center: mean)
            if full { try device.eStepFull(ct: p.ct, mC: p.mC, cst: p.cst, withResponsibilities: statistics) }
            else { try device.eStep(mu: p.mu, prec: p.prec, cst: p.cst, withResponsibilities: statistics) }
            return .device(device)
        }
        for it in 1...o.maxIterations {
            let t0 = Date()
            let stats = GMMStatistics.pass(rows, k: k, type: o.covarianceType, center: mean, partition: part, threads: o.threads,
                                           responsibilities: try source(model, statistics: true), group: g)
            let previous = lowerBound
            lowerBound = stats.logLikelihood / Double(n)
            guard lowerBound.isFinite else {
                throw StrataError.numerical("EM produced a non-finite log-likelihood at iteration \(it); scale the data or raise --reg-covar")
            }
            model = try stats.mStep(type: o.covarianceType, shifts: globalShift, regCovar: o.regCovar)
            let change = lowerBound - previous
            let rec = GMMIteration(iteration: it, lowerBound: lowerBound, change: change, seconds: Date().timeIntervalSince(t0))
            iterations.append(rec)
            o.onIteration?(run, rec)
            if abs(change) < o.tolerance { converged = true; break }
        }
        // Score and labels under the final parameters.
        var labels = [Int32](repeating: 0, count: n)
        let finalSource = try source(model, statistics: false)
        let final = labels.withUnsafeMutableBufferPointer { lp in
            GMMStatistics.pass(rows, k: k, type: o.covarianceType, center: mean, partition: part, threads: o.threads,
                               responsibilities: finalSource, labelsOut: lp.baseAddress, accumulate: false, group: g)
        }
        let score = final.logLikelihood / Double(n)
        let p = Double(model.parameterCount)
        return GMMResult(model: model, lowerBound: lowerBound, nIter: iterations.count, converged: converged, iterations: iterations,
                         score: score, bic: -2 * score * Double(n) + p * log(Double(n)), aic: -2 * score * Double(n) + 2 * p,
                         labels: labels, runLowerBounds: [],
                         gpu: device.map { GPURunRecord(device: $0.backend.info, steps: $0.times) })
    }
}
