import Foundation
import StrataCore
import StrataKernels
import StrataIO

/// Stage 3 of `strata segment`: the number of segments, fixed (`k`) or chosen by a sweep over
/// `k_min...k_max` on a seeded sample of at most `sweep_sample` customers (`Sweep.run`: highest
/// silhouette, checked against the inertia elbow; BIC for `gmm`; for `kprototypes`
/// `Sweep.runKPrototypes`: the K-Prototypes cost elbow, with the silhouette under the
/// K-Prototypes dissimilarity on at most 2,000 of the sampled customers reported beside it).
struct KSelection {
    var k: Int
    /// The sweep, when k was chosen by one.
    var sweep: SweepResult?
    /// The rule's decision (`KSelectionRule`), when k was chosen by a K-Means, GMM or
    /// agglomerative sweep.
    var decision: KSelectionRule.Decision? = nil

    /// - Throws: `StrataError.invalidSetting` when k exceeds the customers or the range cannot
    ///   be swept; errors of the fits.
    /// - Complexity: one fit per k on the sample (n_init restarts each) plus the metrics.
    /// - Parameter categorical: `kprototypes`: the categorical columns (n rows) beside `data`.
    static func choose(_ data: Dataset, categorical: CategoricalColumns? = nil, config c: SegmentConfig, threads: Int,
                       steps: SegmentSteps, gpu: (any GPUBackend)? = nil) throws -> KSelection {
        // DBSCAN/HDBSCAN: the number of segments follows from the density parameters (the fit
        // reports it); k is 0 until then.
        guard c.algorithm.takesK else { return KSelection(k: 0, sweep: nil) }
        // More segments than distinct customers would be empty or duplicates: k is reduced, and
        // the run says so.
        let limit = max(c.k ?? 0, c.kMax) + 1
        let distinct = categorical.map { mixedDistinctRowCount(data, $0, atMost: limit) } ?? distinctRowCount(data, atMost: limit)
        if let fixed = c.k {
            guard fixed <= data.rows else { throw StrataError.invalidSetting("k", "\(fixed) exceeds the \(data.rows) customers") }
            if distinct < fixed {
                guard distinct >= 1 else { throw StrataError.insufficientData("\(data.source): no customer with positive weight to segment") }
                steps.log("warning: k = \(fixed) but the customers have only \(distinct) distinct feature rows; k reduced to \(distinct)")
                return KSelection(k: distinct, sweep: nil)
            }
            return KSelection(k: fixed, sweep: nil)
        }
        let kMax = min(c.kMax, data.rows - 1, distinct)
        if kMax < c.kMax && distinct <= c.kMax {
            steps.log("warning: the customers have only \(distinct) distinct feature rows; k is chosen in \(c.kMin)...\(kMax), not up to \(c.kMax)")
        }
        guard kMax >= c.kMin else {
            throw StrataError.invalidSetting("k_min", "too few customers (\(data.rows), \(distinct) distinct) to choose k in \(c.kMin)...\(c.kMax)")
        }
        var decision: KSelectionRule.Decision? = nil
        let sweep = try steps.run("choose k") { () -> (SweepResult, String) in
            let rows = data.rows > c.sweepSample ? SeededRandom.sampleIndices(data.rows, c.sweepSample, seed: c.seed, stream: 0x5357) : nil
            let sample = rows.map { data.subset(rows: $0) } ?? data
            if let categorical {
                let cat = rows.map { categorical.subset(rows: $0) } ?? categorical
                let o = SegmentModel.prototypeOptions(k: c.kMin, config: c, threads: threads)
                let r = try Sweep.runKPrototypes(numeric: sample.cols > 0 ? sample : nil, categorical: cat, ks: Array(c.kMin...kMax), options: o)
                return (r, "k = \(r.recommendedK) of \(c.kMin)...\(kMax) on \(SegmentNaming.grouped(cat.rows)) customers: \(r.reason)")
            }
            var o = SweepOptions(ks: Array(c.kMin...kMax))
            o.algorithm = c.algorithm
            o.kmeans.seed = c.seed; o.kmeans.nInit = c.nInit; o.kmeans.maxIterations = c.maxIter; o.kmeans.threads = threads
            o.kmeans.gpu = gpu
            o.gmm.covarianceType = c.covariance
            o.gmm.maxIterations = c.maxIter
            o.agglomerative.linkage = c.effectiveLinkage
            o.agglomerative.microClusters = c.microClusters
            o.agglomerative.memoryBudget = c.memoryBudget.flatMap(MemoryBudget.parse) ?? MemoryBudget.defaultBytes
            o.bootstrap = c.bootstrap
            o.bootstrapSample = 10_000
            o.gapReferences = c.gapReferences
            var r = try Sweep.run(sample, options: o)
            steps.count("k_tried", o.ks.count)
            steps.count("customers", sample.rows)
            let d = KSelectionRule.decide(r.points, gap: r.gap, elbowK: r.elbowK, mixture: c.algorithm == .gmm, rows: data.rows,
                                          minSegmentShare: c.minSegmentShare, minStability: c.minStability, minSegmentSize: c.minSegmentSize)
            r.recommendedK = d.k
            r.reason = d.reason
            decision = d
            return (r, "k = \(r.recommendedK) of \(c.kMin)...\(kMax) on \(SegmentNaming.grouped(sample.rows)) customers: \(r.reason)")
        }
        decision?.warnings.forEach { steps.log("warning: " + $0) }
        return KSelection(k: sweep.recommendedK, sweep: sweep, decision: decision)
    }

    /// Distinct rows of the numeric features and categories together (positive weight only), up
    /// to `limit`; O(n (d + dc)).
    static func mixedDistinctRowCount(_ data: Dataset, _ categorical: CategoricalColumns, atMost limit: Int) -> Int {
        let m = data.materialized(), d = m.cols, dc = categorical.cols
        var seen = Set<[UInt32]>()
        var key = [UInt32](repeating: 0, count: d + dc)
        for i in 0..<m.rows {
            if let w = m.weights, !(w[i] > 0) { continue }
            for j in 0..<d { key[j] = (m.values[i * d + j] + 0).bitPattern }
            for a in 0..<dc { key[d + a] = UInt32(categorical.code(i, a)) }
            seen.insert(key)
            if seen.count >= limit { break }
        }
        return seen.count
    }

    /// run.json `k_selection` (absent when k was fixed).
    var record: Record? {
        sweep.map { s in
            let admissible = Set(decision?.admissible ?? [])
            return Record(recommendedK: s.recommendedK, reason: s.reason, elbowK: OrNull(s.elbowK), silhouette: s.silhouetteMethod, sampleRows: s.trainingRows,
                   structure: decision.map { $0.clearStructure ? "clear" : "none" }, gapK: OrNull(s.gap?.tibshiraniK),
                   gapRows: OrNull(s.gap?.rows),
                   points: s.points.map { p in
                       let g = s.gap?.point(p.k)
                       let total = p.sizes.reduce(0, +)
                       return Record.Point(k: p.k, inertia: FiniteOrNull(p.inertia), silhouette: FiniteOrNull(p.silhouette),
                                           silhouetteSE: FiniteOrNull(p.silhouetteStandardError),
                                           daviesBouldin: FiniteOrNull(p.daviesBouldin), calinskiHarabasz: FiniteOrNull(p.calinskiHarabasz),
                                           bic: FiniteOrNull(p.bic), gap: FiniteOrNull(g?.gap), gapSE: FiniteOrNull(g?.standardError),
                                           stability: FiniteOrNull(p.stability),
                                           smallestSegmentShare: FiniteOrNull(total == 0 ? nil : Double(p.sizes.min() ?? 0) / Double(total)),
                                           admissible: decision == nil ? nil : admissible.contains(p.k))
                   })
        }
    }

    /// One k of the sweep and why one was chosen; metrics a k could not have are null.
    struct Record: Encodable, Sendable {
        struct Point: Encodable, Sendable {
            var k: Int
            var inertia, silhouette, silhouetteSE, daviesBouldin, calinskiHarabasz, bic, gap, gapSE, stability, smallestSegmentShare: FiniteOrNull
            /// Whether the rule could choose this k (smallest segment and stability thresholds).
            var admissible: Bool?
            enum CodingKeys: String, CodingKey {
                case k, inertia, silhouette, silhouetteSE = "silhouette_se", daviesBouldin = "davies_bouldin", calinskiHarabasz = "calinski_harabasz"
                case bic, gap, gapSE = "gap_se", stability, smallestSegmentShare = "smallest_segment_share", admissible
            }
        }
        var recommendedK: Int
        var reason: String
        var elbowK: OrNull<Int>
        /// How silhouettes were computed ("exact" or a sample).
        var silhouette: String
        var sampleRows: Int
        /// "clear" (planted-like groups) or "none" (a continuum); nil for kprototypes sweeps.
        var structure: String?
        /// The gap statistic's own choice (Tibshirani's rule over 1...k_max + 1), and its rows.
        var gapK: OrNull<Int>
        var gapRows: OrNull<Int>
        var points: [Point]
        enum CodingKeys: String, CodingKey {
            case recommendedK = "recommended_k", reason, elbowK = "elbow_k", silhouette, sampleRows = "sample_rows", structure
            case gapK = "gap_k", gapRows = "gap_rows", points
        }
    }
}
