import Foundation
import StrataKernels
import StrataLinalg

/// Which model a sweep fits per k.

/// Options of a sweep over k. Every default is documented and chosen for big inputs.
public struct SweepOptions: Sendable {
    /// The k values to fit, ascending.
    public var ks: [Int]
    /// Model per k. Default K-Means.
    public var algorithm: ClusteringAlgorithm = .kmeans
    /// Gaussian-mixture settings when `algorithm == .gmm` (k, seed and threads are set per fit).
    public var gmm: GMMOptions = GMMOptions(k: 2)
    /// Agglomerative settings when `algorithm == .agglomerative`: one tree, cut at every k
    /// (nClusters is set per k).
    public var agglomerative: AgglomerativeOptions = AgglomerativeOptions()
    /// K-Means settings for every fit (k is overwritten per fit).
    public var kmeans: KMeansOptions = KMeansOptions(k: 2)
    /// Which metrics to compute besides inertia: "silhouette", "davies_bouldin", "calinski_harabasz".
    public var metrics: Set<String> = ["silhouette", "davies_bouldin", "calinski_harabasz"]
    /// Silhouette sample size (scikit-learn sample_size semantics); nil: exact up to
    /// `Silhouette.exactLimit` rows, else a sample of `Silhouette.defaultSample`. The same seeded
    /// sample is used for every k, so the curve compares like with like.
    public var silhouetteSample: Int? = nil
    /// Fraction of rows held out (0 = none): fit on the rest, report inertia per sample on both.
    public var holdout: Double = 0
    /// Bootstrap refits per k (0 = none): mean pairwise adjusted Rand index of the labelings of
    /// all rows by B models fitted on resamples with replacement.
    public var bootstrap: Int = 0
    /// Bootstrap on a seeded subset of at most this many training rows (resampled and labelled),
    /// nil: all training rows. Stability is a property of the partition, not of n, and a subset
    /// keeps B refits per k affordable on big samples.
    public var bootstrapSample: Int? = nil
    /// Gap statistic reference sets (0 = none; else at least 2): `GapStatistic` on a seeded
    /// subset of at most `gapSample` training rows, for k = 1 ... max(ks) + 1 (the paper's rule
    /// needs k + 1), with K-Means whatever `algorithm`.
    public var gapReferences: Int = 0
    public var gapSample: Int = 5_000
    /// Called after each k (for progress).
    public var onK: (@Sendable (SweepPoint) -> Void)? = nil

    public init(ks: [Int]) { self.ks = ks }
}

/// Results for one k.
public struct SweepPoint: Sendable {
    public var k: Int
    public var inertia: Double
    public var silhouette: Double?
    public var silhouetteStandardError: Double?
    public var daviesBouldin: Double?
    public var calinskiHarabasz: Double?
    public var nIter: Int
    public var converged: Bool
    public var fitSeconds: Double
    public var metricSeconds: Double
    /// Inertia per sample on the training rows and on the held-out rows (with `holdout`).
    public var trainInertiaPerSample: Double?
    public var testInertiaPerSample: Double?
    /// Mean pairwise ARI over bootstrap refits (with `bootstrap`).
    public var stability: Double?
    public var sizes: [Int]
    /// Gaussian mixtures: BIC and AIC on the training rows, mean log-likelihood per row on the
    /// training and (with `holdout`) held-out rows.
    public var bic: Double? = nil
    public var aic: Double? = nil
    public var trainLogLikelihood: Double? = nil
    public var testLogLikelihood: Double? = nil
}

public struct SweepResult: Sendable {
    public var points: [SweepPoint]
    /// k at the inertia elbow (Kneedle), nil when the curve has no knee.
    public var elbowK: Int?
    public var recommendedK: Int
    /// Why `recommendedK` was chosen, in one sentence.
    public var reason: String
    public var silhouetteMethod: String
    public var trainingRows: Int
    public var heldOutRows: Int
    /// The gap statistic (with `gapReferences`), for k = 1 ... max(ks) + 1.
    public var gap: GapStatistic? = nil
    /// Agglomerative sweeps: the one tree every k was cut from (on the training rows), so a
    /// caller fitting the same rows can cut it again instead of building it twice.
    public var agglomerativeTree: AgglomerativeResult? = nil
    /// What `SweepPoint.inertia` holds: "inertia" (sum of squared distances), or "cost" for
    /// K-Prototypes (squared distances + gamma x mismatches).
    public var objective: String = "inertia"
}

/// Fits K-Means for each k and scores it, to choose k with numbers.
///
/// Work reused across k: the data (read once), the train/holdout split, the silhouette sample,
/// the bootstrap resamples (the same B index sets for every k).
/// Recommendation rule: the k with the highest silhouette (smaller k on ties); without a
/// silhouette, the inertia elbow; without either, the smallest k. The reason names the runner-up
/// criteria that agree or disagree (elbow, Davies-Bouldin minimum, Calinski-Harabasz maximum).
public enum Sweep {
    /// Fits and scores every k of `o.ks` on `data` (n x d rows).
    ///
    /// - Returns: one point per k (inertia, silhouette exact or sampled, Davies-Bouldin,
    ///   Calinski-Harabasz, BIC/AIC for GMM, held-out inertia with `holdout`, bootstrap stability
    ///   as mean adjusted Rand index with `bootstrap`), the inertia elbow (Kneedle) and the
    ///   recommended k with its reason.
    /// - Throws: `StrataError.invalidSetting` (`holdout`, `bootstrap`), `.invalidArgument` (k < 1)
    ///   and the fits' errors.
    /// - Complexity: one fit per k (times B + 1 with bootstrap) plus O(s^2 d) for a silhouette on
    ///   s sampled rows, O(n k d) for the other metrics.
    /// - Source: Rousseeuw 1987 (silhouette), Davies & Bouldin 1979, Calinski & Harabasz 1974,
    ///   Satopaa et al. 2011 (Kneedle); scikit-learn `sklearn/metrics/cluster/` for the metrics.
    public static func run(_ data: Dataset, options o: SweepOptions) throws -> SweepResult {
        let ks = Array(Set(o.ks)).sorted()
        guard let kmin = ks.first, kmin >= 1 else { throw StrataError.invalidArgument("k values must be >= 1") }
        guard o.holdout >= 0 && o.holdout < 1 else { throw StrataError.invalidSetting("holdout", "must be in [0, 1)") }
        guard o.bootstrap >= 0 && o.bootstrap != 1 else { throw StrataError.invalidSetting("bootstrap", "must be 0 or at least 2") }
        guard o.gapReferences >= 0 && o.gapReferences != 1 else { throw StrataError.invalidSetting("gap_references", "must be 0 or at least 2") }
        // Train / holdout split (seeded).
        var train = data, test: Dataset? = nil
        if o.holdout > 0 {
            var rng = SeededRandom.stream(seed: o.kmeans.seed, index: 0x484F_4C44)
            var order = Array(0..<data.rows)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let nTest = Int((Double(data.rows) * o.holdout).rounded())
            guard nTest >= 1 && data.rows - nTest >= ks.last! else {
                throw StrataError.invalidSetting("holdout", "\(o.holdout) leaves too few rows (\(data.rows - nTest)) to fit k = \(ks.last!)")
            }
            train = data.subset(rows: order[nTest...].sorted())
            test = data.subset(rows: order[..<nTest].sorted())
        }
        guard ks.last! <= train.rows else {
            throw StrataError.invalidArgument("k = \(ks.last!) exceeds the number of training rows (\(train.rows))")
        }
        let wantSil = o.metrics.contains("silhouette")
        let sample: Int? = o.silhouetteSample ?? (train.rows > Silhouette.exactLimit ? Silhouette.defaultSample : nil)
        // Bootstrap base: the training rows, or a seeded subset of them.
        let bootBase = o.bootstrap > 0 ? o.bootstrapSample.flatMap { $0 < train.rows ? train.subset(rows: SeededRandom.sampleIndices(train.rows, max(2, $0), seed: o.kmeans.seed, stream: 0x4253)) : nil } ?? train : train
        let boot: [[Int]] = (0..<o.bootstrap).map { b in
            var rng = SeededRandom.stream(seed: o.kmeans.seed, index: 0x424F_4F54 &+ UInt64(b))
            return (0..<bootBase.rows).map { _ in Int(rng.next() % UInt64(bootBase.rows)) }
        }
        guard o.algorithm.takesK else {
            throw StrataError.invalidSetting("algorithm", "\(o.algorithm.rawValue) has no k to sweep: its clusters follow from its density parameters")
        }
        // Agglomerative: one tree for every k (a cut is O(n)).
        var tree: AgglomerativeResult? = nil
        if o.algorithm == .agglomerative {
            var ao = o.agglomerative
            ao.nClusters = ks.first!; ao.distanceThreshold = nil
            ao.seed = o.kmeans.seed; ao.threads = o.kmeans.threads
            tree = try Agglomerative.fit(train, options: ao)
        }
        var points: [SweepPoint] = []
        for (i, k) in ks.enumerated() {
            JobProgress.shared.update(done: i, total: ks.count, unit: "k")
            var ko = o.kmeans
            ko.k = k
            ko.onIteration = nil
            let t0 = Date()
            let fitted = try tree.map { Fitted.cut($0, of: train, k: k) } ?? fitOne(train, k: k, options: o, kmeans: ko, seed: o.kmeans.seed)
            let fitSeconds = Date().timeIntervalSince(t0)
            let t1 = Date()
            let labels = ClusterLabels(indices: fitted.labels, values: (0..<k).map(String.init))
            let inertia: Double
            if let value = fitted.inertia { inertia = value } else {
                inertia = try DispersionMetrics.compute(train, labels: labels, threads: ko.threads).inertia
            }
            var p = SweepPoint(k: k, inertia: inertia, nIter: fitted.nIter, converged: fitted.converged, fitSeconds: fitSeconds,
                               metricSeconds: 0, sizes: labels.counts)
            if let g = fitted.gmm {
                p.bic = g.bic
                p.aic = g.aic
                p.trainLogLikelihood = g.score
                if let test { p.testLogLikelihood = try g.model.predict(test, threads: ko.threads).meanLogLikelihood }
            }
            if k >= 2 && k < train.rows {
                if wantSil {
                    let s = try Silhouette.compute(train, labels: labels, sample: sample, seed: o.kmeans.seed, threads: ko.threads, gpu: o.kmeans.gpu)
                    p.silhouette = s.mean
                    p.silhouetteStandardError = sample == nil ? nil : s.standardError
                }
                if o.metrics.contains("davies_bouldin") || o.metrics.contains("calinski_harabasz") {
                    let m = try DispersionMetrics.compute(train, labels: labels, threads: ko.threads)
                    if o.metrics.contains("davies_bouldin") { p.daviesBouldin = m.daviesBouldin }
                    if o.metrics.contains("calinski_harabasz") { p.calinskiHarabasz = m.calinskiHarabasz }
                }
            }
            if let test, let centroids = fitted.centroids {
                let assigned = test.withRows { rows, _ in nearestCentroid(rows, centroids: centroids, threads: ko.threads) }
                p.trainInertiaPerSample = inertia / Double(train.rows)
                p.testInertiaPerSample = assigned.distances.reduce(0.0) { $0 + Double($1) } / Double(test.rows)
            }
            if !boot.isEmpty {
                var labelings: [[Int]] = []
                for (b, rows) in boot.enumerated() {
                    let r = try fitOne(bootBase.subset(rows: rows), k: k, options: o, kmeans: ko, seed: o.kmeans.seed &+ UInt64(b + 1))
                    labelings.append(try r.assign(bootBase, threads: ko.threads).map(Int.init))
                }
                var total = 0.0, pairs = 0
                for a in 0..<labelings.count { for b in (a + 1)..<labelings.count {
                    total += try PartitionAgreement.adjustedRandIndex(labelings[a], labelings[b]); pairs += 1
                } }
                p.stability = total / Double(pairs)
            }
            p.metricSeconds = Date().timeIntervalSince(t1)
            points.append(p)
            o.onK?(p)
        }
        let elbowIndex = Kneedle.knee(x: points.map { Double($0.k) }, y: points.map(\.inertia))
        let elbowK = elbowIndex.map { points[$0].k }
        var (recommended, reason) = recommend(points, elbowK: elbowK)
        if o.algorithm == .gmm, let best = points.filter({ $0.bic != nil }).min(by: { $0.bic! < $1.bic! }) {
            // Mixtures: the likelihood-based choice.
            let silK = points.filter { $0.silhouette != nil }.max { $0.silhouette! < $1.silhouette! }?.k
            recommended = best.k
            reason = String(format: "lowest BIC (%.6g)", best.bic!)
                + (silK.map { $0 == best.k ? "; agrees with the highest silhouette" : "; the silhouette is highest at k=\($0)" } ?? "")
        }
        var result = SweepResult(points: points, elbowK: elbowK, recommendedK: recommended, reason: reason,
                           silhouetteMethod: wantSil ? (sample == nil ? "exact" : "sampled (\(sample!) rows)") : "not computed",
                           trainingRows: train.rows, heldOutRows: test?.rows ?? 0)
        result.agglomerativeTree = tree
        if o.gapReferences > 0 {
            let rows = train.rows > o.gapSample ? SeededRandom.sampleIndices(train.rows, o.gapSample, seed: o.kmeans.seed, stream: 0x4741) : nil
            let sample = rows.map { train.subset(rows: $0) } ?? train
            var ko = o.kmeans
            ko.nInit = min(ko.effectiveNInit, 3)
            // Up to the distinct rows (beyond them W_k is 0 and log W_k meaningless), and only
            // with more rows than columns (the principal axes need them).
            let top = min(ks.last! + 1, sample.rows, distinctRowCount(sample, atMost: ks.last! + 2))
            if sample.rows > sample.cols && top >= 2 {
                result.gap = try GapStatistic.compute(sample, ks: Array(1...top), references: o.gapReferences, kmeans: ko, seed: o.kmeans.seed)
            }
        }
        return result
    }

    /// One fitted model of either kind, reduced to what the sweep needs.
    struct Fitted {
        var labels: [Int32]
        var inertia: Double?
        var nIter: Int
        var converged: Bool
        var centroids: Matrix<Float>?
        var gmm: GMMResult?

        /// A cut of an agglomerative tree: labels, and the clusters' means as centroids.
        static func cut(_ tree: AgglomerativeResult, of data: Dataset, k: Int) -> Fitted {
            let m = Agglomerative.recut(tree, data: data, k: k)
            return Fitted(labels: m.labels, inertia: nil, nIter: 0, converged: true, centroids: m.centroids, gmm: nil)
        }

        func assign(_ data: Dataset, threads: Int) throws -> [Int32] {
            if let c = centroids { return data.withRows { x, _ in nearestCentroid(x, centroids: c, threads: threads) }.labels }
            return try gmm!.model.predict(data, threads: threads).labels
        }
    }

    static func fitOne(_ data: Dataset, k: Int, options o: SweepOptions, kmeans: KMeansOptions, seed: UInt64) throws -> Fitted {
        switch o.algorithm {
        case .kmeans:
            var ko = kmeans
            ko.seed = seed
            let r = try KMeans.fit(data, options: ko)
            return Fitted(labels: r.labels, inertia: r.inertia, nIter: r.nIter, converged: r.converged, centroids: r.centroids, gmm: nil)
        case .gmm:
            var go = o.gmm
            go.k = k
            go.seed = seed
            go.threads = kmeans.threads
            go.onIteration = nil
            // The mixtures' E-steps on the K-Means device.
            if !go.group.isDistributed { go.gpu = kmeans.gpu }
            let r = try GMM.fit(data, options: go)
            return Fitted(labels: r.labels, inertia: nil, nIter: r.nIter, converged: r.converged, centroids: nil, gmm: r)
        case .agglomerative:
            var ao = o.agglomerative
            ao.nClusters = k; ao.distanceThreshold = nil; ao.seed = seed; ao.threads = kmeans.threads
            return Fitted.cut(try Agglomerative.fit(data, options: ao), of: data, k: k)
        case .dbscan, .hdbscan:
            throw StrataError.invalidSetting("algorithm", "\(o.algorithm.rawValue) has no k to sweep")
        case .kprototypes:
            throw StrataError.invalidSetting("algorithm", "kprototypes needs categorical columns; sweep it with `Sweep.runKPrototypes` (strata segment --algorithm kprototypes)")
        }
    }

    static func recommend(_ points: [SweepPoint], elbowK: Int?) -> (Int, String) {
        let withSil = points.filter { $0.silhouette != nil }
        let dbBest = points.filter { $0.daviesBouldin != nil }.min { $0.daviesBouldin! < $1.daviesBouldin! }?.k
        let chBest = points.filter { $0.calinskiHarabasz != nil }.max { $0.calinskiHarabasz! < $1.calinskiHarabasz! }?.k
        func agreement(_ k: Int) -> String {
            var agree: [String] = [], disagree: [String] = []
            if let e = elbowK { (e == k ? { agree.append("the inertia elbow") } : { disagree.append("the inertia elbow is at k=\(e)") })() }
            if let d = dbBest { (d == k ? { agree.append("the Davies-Bouldin minimum") } : { disagree.append("Davies-Bouldin is lowest at k=\(d)") })() }
            if let c = chBest { (c == k ? { agree.append("the Calinski-Harabasz maximum") } : { disagree.append("Calinski-Harabasz is highest at k=\(c)") })() }
            var s = ""
            if !agree.isEmpty { s += "; agrees with " + agree.joined(separator: " and ") }
            if !disagree.isEmpty { s += "; " + disagree.joined(separator: ", ") }
            return s
        }
        if let best = withSil.max(by: { $0.silhouette! < $1.silhouette! || ($0.silhouette! == $1.silhouette! && $0.k > $1.k) }) {
            return (best.k, String(format: "highest silhouette (%.4f)", best.silhouette!) + agreement(best.k))
        }
        if let e = elbowK { return (e, "inertia elbow (Kneedle)" + agreement(e)) }
        return (points.first!.k, "no silhouette or elbow available; smallest k")
    }
}
