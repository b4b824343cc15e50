import ArgumentParser
import Foundation
import Strata

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Fit K-Means for a range of k and report the metrics that justify a choice of k.",
        discussion: """
            Per k: inertia, silhouette (exact up to \(Silhouette.exactLimit) rows, else the \
            exact silhouette of one seeded sample of \(Silhouette.defaultSample) rows, the \
            same for every k), Davies-Bouldin, Calinski-Harabasz; the inertia elbow (Kneedle); a \
            recommended k (highest silhouette; lowest BIC with --algorithm gmm) with the reason. --holdout adds train/held-out inertia per \
            row; --bootstrap B adds the mean pairwise adjusted Rand index of B refits on resamples.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "k values: a range 2...12 (also 2..12 or 2-12) or a list 3,5,8.")
    var k: String

    @Option(name: .long, help: "kmeans, gmm (adds BIC, AIC and log-likelihoods; recommends the lowest BIC), or agglomerative (one tree, cut at every k).")
    var algorithm: ClusteringAlgorithm = .kmeans

    @Option(name: .long, help: "With --algorithm agglomerative: ward, complete, average or single.")
    var linkage: Linkage = .ward

    @Option(name: .customLong("micro-clusters"), help: "With --algorithm agglomerative: build the tree on this many K-Means micro-clusters (default: exact up to 50,000 rows).")
    var microClusters: Int?

    @Option(name: .long, help: "With --algorithm gmm: full, diag, tied or spherical.")
    var covariance: CovarianceType = .full

    @Option(name: .customLong("reg-covar"), help: "With --algorithm gmm: added to covariance diagonals.")
    var regCovar: Double = 1e-6

    @Option(name: .long, help: "Comma-separated: silhouette, davies_bouldin, calinski_harabasz (inertia is always reported).")
    var metrics: String = "silhouette,davies_bouldin,calinski_harabasz"

    @Option(name: .long, help: "Silhouette sample size (0: exact whatever n).")
    var sample: Int?

    @Option(name: .long, help: "Fraction of rows held out for evaluation, e.g. 0.2.")
    var holdout: Double = 0

    @Option(name: .long, help: "Bootstrap refits per k for the stability (mean pairwise ARI).")
    var bootstrap: Int = 0

    @OptionGroup var fit: FitOptions

    @Option(name: .customLong("plot-out"), help: "Write an SVG chart of the curves here.")
    var plotOut: String?

    @OptionGroup var preprocess: PreprocessArguments

    @OptionGroup var device: DeviceOptions

    @OptionGroup var runOptions: RunOptions

    static func parseKs(_ s: String) -> [Int]? {
        for sep in ["...", "..", "-"] where s.contains(sep) {
            let parts = s.components(separatedBy: sep)
            guard parts.count == 2, let a = Int(parts[0].trimmingCharacters(in: .whitespaces)),
                  let b = Int(parts[1].trimmingCharacters(in: .whitespaces)), a <= b else { return nil }
            return Array(a...b)
        }
        let list = commaList(s).map { Int($0) }
        return list.contains(nil) || list.isEmpty ? nil : list.map { $0! }
    }

    func validate() throws {
        guard let ks = Self.parseKs(k) else { throw ValidationError("--k must be a range like 2...12 or a list like 3,5,8") }
        if algorithm == .kprototypes {
            throw ValidationError("--algorithm kprototypes needs categorical columns, which sweep does not read; use `strata segment --algorithm kprototypes` (it sweeps k by the K-Prototypes cost)")
        }
        if ks.contains(where: { $0 < 1 }) { throw ValidationError("every k must be at least 1") }
        for m in commaList(metrics)
        where !["silhouette", "davies_bouldin", "calinski_harabasz", "inertia"].contains(m) {
            throw ValidationError("unknown metric '\(m)'")
        }
        if let s = sample, s < 0 || s == 1 { throw ValidationError("--sample must be 0 (exact) or at least 2") }
        if !(holdout >= 0 && holdout < 1) { throw ValidationError("--holdout must be in [0, 1)") }
        if bootstrap < 0 || bootstrap == 1 { throw ValidationError("--bootstrap must be 0 or at least 2") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            let progress = Progress()
            // The same preprocessing and PCA stages as kmeans/gmm (all off by default).
            let (data, _) = try FeatureStages.fit(path: input.input, read: input.readOptions, preprocess: preprocess.options,
                                                  pcaComponents: preprocess.pca, seed: fit.seed, threads: runOptions.threads)
            data.warnings.forEach(Report.warn)
            var o = sweepOptions(rows: data.rows)
            // k values above the number of distinct rows would only add empty or duplicate clusters.
            let distinct = distinctRowCount(data, atMost: (o.ks.max() ?? 0) + 1)
            if let top = o.ks.max(), distinct < top {
                let skipped = o.ks.filter { $0 > distinct }
                o.ks = o.ks.filter { $0 <= distinct }
                Report.warn("the data have only \(distinct) distinct rows; k = \(skipped.map(String.init).joined(separator: ", ")) skipped")
                guard !o.ks.isEmpty else { throw StrataError.insufficientData("\(input.input): only \(distinct) distinct rows; no k of \(k) can be fitted") }
            }
            o.onK = { p in progress.report("k=\(p.k): inertia \(fmt(p.inertia)), fit \(String(format: "%.2f", p.fitSeconds))s") }
            // K-Means fits (plain Lloyd), GMM E-steps and the exact silhouette on --device.
            o.kmeans.gpu = try device.open()
            let t0 = Date()
            let r = try Sweep.run(data, options: o)
            let seconds = Date().timeIntervalSince(t0)
            if let path = plotOut {
                var batch = OutputBatch()
                try batch.stage(SweepPlot.svg(r, title: "strata sweep: \(input.input), \(data.rows) rows x \(data.cols) columns"), to: path)
                try batch.commit()
            }
            if runOptions.json {
                Report.json(Result(r, data: data, algorithm: algorithm, plot: plotOut, seconds: seconds))
            } else {
                printSummary(r, seconds: seconds)
            }
        }
    }

    func sweepOptions(rows: Int) -> SweepOptions {
        var o = SweepOptions(ks: Self.parseKs(k)!)
        fit.apply(to: &o.kmeans)
        o.algorithm = algorithm
        o.agglomerative.linkage = linkage
        o.agglomerative.microClusters = microClusters
        o.agglomerative.memoryBudget = input.memory.bytes
        o.gmm.covarianceType = covariance
        o.gmm.regCovar = regCovar
        o.gmm.maxIterations = fit.maxIter == 300 ? 100 : fit.maxIter
        o.gmm.nInit = fit.nInit ?? 1
        o.kmeans.threads = runOptions.threads
        o.metrics = Set(commaList(metrics))
        o.silhouetteSample = sample.map { $0 == 0 ? rows : $0 }
        o.holdout = holdout
        o.bootstrap = bootstrap
        return o
    }

    func printSummary(_ r: SweepResult, seconds: Double) {
        print("sweep over k on \(input.input): \(r.trainingRows) training rows" + (r.heldOutRows > 0 ? ", \(r.heldOutRows) held out" : "") + "; silhouette \(r.silhouetteMethod)")
        var header = ["k", "inertia", "silhouette", "davies_bouldin", "calinski_harabasz"]
        if r.heldOutRows > 0 { header += ["train/row", "held-out/row"] }
        if bootstrap > 0 { header += ["stability"] }
        if algorithm == .gmm { header += ["bic", "aic"] + (r.heldOutRows > 0 ? ["train loglik/row", "held-out loglik/row"] : []) }
        print(header.joined(separator: "\t"))
        for p in r.points {
            var row = [String(p.k), fmt(p.inertia, 6), p.silhouette.map { fmt($0) } ?? "-", p.daviesBouldin.map { fmt($0) } ?? "-",
                       p.calinskiHarabasz.map { fmt($0, 6) } ?? "-"]
            if r.heldOutRows > 0 { row += [fmt(p.trainInertiaPerSample ?? 0), fmt(p.testInertiaPerSample ?? 0)] }
            if bootstrap > 0 { row += [p.stability.map { fmt($0) } ?? "-"] }
            if algorithm == .gmm {
                row += [p.bic.map { fmt($0, 8) } ?? "-", p.aic.map { fmt($0, 8) } ?? "-"]
                if r.heldOutRows > 0 { row += [p.trainLogLikelihood.map { fmt($0) } ?? "-", p.testLogLikelihood.map { fmt($0) } ?? "-"] }
            }
            print(row.joined(separator: "\t"))
        }
        print("elbow (Kneedle): " + (r.elbowK.map { "k=\($0)" } ?? "none"))
        print("recommended k = \(r.recommendedK): \(r.reason)")
        if let path = plotOut { print("chart: \(path)") }
        print(String(format: "time: %.2fs", seconds))
    }

    /// `strata sweep --json`.
    struct Result: Encodable {
        /// One k; a metric that was not computed (or is not finite) is null.
        struct Point: Encodable {
            var k: Int
            var inertia: FiniteOrNull
            var silhouette, silhouetteStderr, daviesBouldin, calinskiHarabasz: FiniteOrNull
            var nIter: Int
            var converged: Bool
            var clusterSizes: [Int]
            var fitSeconds, metricSeconds: Double
            var trainInertiaPerSample, testInertiaPerSample, stabilityARI, bic, aic: FiniteOrNull
            var trainLogLikelihood, testLogLikelihood: FiniteOrNull

            init(_ p: SweepPoint) {
                k = p.k
                inertia = FiniteOrNull(p.inertia)
                silhouette = FiniteOrNull(p.silhouette)
                silhouetteStderr = FiniteOrNull(p.silhouetteStandardError)
                daviesBouldin = FiniteOrNull(p.daviesBouldin)
                calinskiHarabasz = FiniteOrNull(p.calinskiHarabasz)
                nIter = p.nIter
                converged = p.converged
                clusterSizes = p.sizes
                fitSeconds = p.fitSeconds
                metricSeconds = p.metricSeconds
                trainInertiaPerSample = FiniteOrNull(p.trainInertiaPerSample)
                testInertiaPerSample = FiniteOrNull(p.testInertiaPerSample)
                stabilityARI = FiniteOrNull(p.stability)
                bic = FiniteOrNull(p.bic)
                aic = FiniteOrNull(p.aic)
                trainLogLikelihood = FiniteOrNull(p.trainLogLikelihood)
                testLogLikelihood = FiniteOrNull(p.testLogLikelihood)
            }
        }
        struct Outputs: Encodable { var plot: String? }
        var rows: Int
        var trainingRows: Int
        var heldOutRows: Int
        var columns: [String]
        var algorithm: String
        var silhouetteMethod: String
        var elbowK: OrNull<Int>
        var recommendedK: Int
        var reason: String
        var seconds: Double
        var results: [Point]
        var outputs: Outputs

        init(_ r: SweepResult, data: Dataset, algorithm: ClusteringAlgorithm, plot: String?, seconds: Double) {
            rows = data.rows
            trainingRows = r.trainingRows
            heldOutRows = r.heldOutRows
            columns = data.columns
            self.algorithm = algorithm.rawValue
            silhouetteMethod = r.silhouetteMethod
            elbowK = OrNull(r.elbowK)
            recommendedK = r.recommendedK
            reason = r.reason
            self.seconds = seconds
            results = r.points.map(Point.init)
            outputs = Outputs(plot: plot)
        }
    }
}
