import ArgumentParser
import Foundation
import Strata

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Clustering quality metrics of a labeling: silhouette, Davies-Bouldin, Calinski-Harabasz, inertia.",
        discussion: """
            Metrics follow scikit-learn's definitions (Euclidean, unweighted). The exact silhouette \
            is O(n^2): above \(Silhouette.exactLimit) rows it is estimated from a seeded \
            sample of \(Silhouette.defaultSample) rows unless --sample says otherwise, and the JSON \
            reports silhouette_stderr. simplified_silhouette is Spark's O(n*k) silhouette on squared \
            distances: a different metric, only computed when asked for.
            """
    )

    static let allMetrics = ["silhouette", "davies_bouldin", "calinski_harabasz", "inertia", "simplified_silhouette"]

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Labels CSV (as written by --labels-out: id,segment,distance), same rows in the same order.")
    var labels: String

    @Option(name: .customLong("labels-column"), help: "Column of the labels file holding the labels.")
    var labelsColumn: String = "segment"

    @Option(name: .long, help: "Comma-separated: silhouette, davies_bouldin, calinski_harabasz, inertia, simplified_silhouette (default: the first four).")
    var metrics: String = "silhouette,davies_bouldin,calinski_harabasz,inertia"

    @Option(name: .long, help: "Estimate the silhouette from this many sampled rows (0: exact whatever n).")
    var sample: Int?

    @OptionGroup var seedOption: SeedOption

    @Option(name: .customLong("reference-labels"), help: "A second labels file: adds adjusted_rand and adjusted_mutual_info between the two labelings.")
    var referenceLabels: String?

    @Option(name: .customLong("per-sample-out"), help: "Write id,segment,silhouette for every evaluated row here.")
    var perSampleOut: String?

    @OptionGroup var preprocess: PreprocessArguments

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        let wanted = commaList(metrics)
        for m in wanted where !Self.allMetrics.contains(m) {
            throw ValidationError("unknown metric '\(m)'; choose from \(Self.allMetrics.joined(separator: ", "))")
        }
        if let s = sample, s < 0 || s == 1 { throw ValidationError("--sample must be 0 (exact) or at least 2") }
        // The metrics are unweighted: weights would be ignored, and rows of weight 0 would count.
        if input.weightsColumn != nil { throw ValidationError("score's metrics are unweighted (scikit-learn's definitions); leave out --weights-column") }
    }

    @OptionGroup var device: DeviceOptions

    @OptionGroup var cluster: DistributedOptions

    func run() throws {
        try cluster.run(runOptions) { group in
            let wanted = Set(commaList(metrics))
            var read = input.readOptions
            if cluster.distributed {
                if wanted.contains("simplified_silhouette") || perSampleOut != nil || sample == 0 {
                    throw StrataError.invalidArgument("--distributed scores support davies_bouldin, calinski_harabasz, inertia and the sampled silhouette")
                }
            }
            try cluster.shard(&read, input: input, plain: preprocess.options.isIdentity && preprocess.pca == nil, group: group)
            // The same preprocessing and PCA stages as kmeans/gmm (all off by default).
            let (data, _) = try FeatureStages.fit(path: input.input, read: read, preprocess: preprocess.options,
                                                  pcaComponents: preprocess.pca, seed: seedOption.seed, threads: runOptions.threads)
            data.warnings.forEach(Report.warn)
            var file = try LabelsFile.read(path: labels, column: labelsColumn)
            try file.check(against: data, path: labels)
            // DBSCAN/HDBSCAN noise (-1) is not a cluster: those rows are left out of every metric.
            var scored = data
            let noise = file.labels.indices.filter { file.labels[$0] == "-1" }
            if !noise.isEmpty {
                guard !cluster.distributed else { throw StrataError.invalidArgument("--distributed scores need labels without noise (-1) rows") }
                let keep = file.labels.indices.filter { file.labels[$0] != "-1" }
                guard !keep.isEmpty else { throw StrataError.insufficientData("\(labels): every row is noise (-1); nothing to score") }
                Report.warn("\(noise.count) of \(data.rows) rows are labelled -1 (noise) and left out of the metrics")
                scored = data.subset(rows: keep)
                file.labels = keep.map { file.labels[$0] }
                file.ids = file.ids.map { ids in keep.map { ids[$0] } }
            }
            var result = try measure(scored, labels: file, wanted: wanted, group: group)
            result.noiseRows = noise.count
            if group.rank != 0 { return }
            if runOptions.json { Report.json(result) } else { printSummary(result) }
        }
    }

    /// Computes the wanted metrics (and writes --per-sample-out).
    func measure(_ data: Dataset, labels file: LabelsFile, wanted: Set<String>, group: any ChunkGroup) throws -> Result {
        let cl = ClusterLabels(strings: file.labels)
        var r = Result(rows: data.rows, k: cl.k, columns: data.columns, labels: cl.values, ranks: group.size)
        let threads = runOptions.threads
        func timed<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
            let t = Date()
            defer { r.seconds[name] = Date().timeIntervalSince(t) }
            return try body()
        }
        if !wanted.isDisjoint(with: ["davies_bouldin", "calinski_harabasz", "inertia"]) {
            let m = try timed("dispersion") { try DispersionMetrics.compute(data, labels: cl, threads: threads, group: group) }
            if wanted.contains("inertia") { r.inertia = FiniteOrNull(m.inertia) }
            if wanted.contains("calinski_harabasz") { r.calinskiHarabasz = FiniteOrNull(m.calinskiHarabasz) }
            if wanted.contains("davies_bouldin") { r.daviesBouldin = FiniteOrNull(m.daviesBouldin) }
        }
        if wanted.contains("silhouette") {
            let sampleSize: Int? = sample.map { $0 == 0 ? nil : $0 } ?? (data.rows > Silhouette.exactLimit ? Silhouette.defaultSample : nil)
            // The exact silhouette's O(n^2) distance sums run on --device (bit-identical).
            let gpu = try device.open()
            let s = try timed("silhouette") { try Silhouette.compute(data, labels: cl, sample: sampleSize, seed: seedOption.seed, threads: threads, gpu: gpu) }
            r.device = DeviceSummary(s.gpu)
            let sampled = s.rows.count < data.rows
            r.silhouette = FiniteOrNull(s.mean)
            r.silhouetteMethod = sampled ? "sampled" : "exact"
            r.perClusterSilhouette = s.perCluster.map { FiniteOrNull($0) }
            if sampled { r.silhouetteStderr = FiniteOrNull(s.standardError); r.silhouetteSample = s.rows.count }
            if let path = perSampleOut {
                var text = "id,segment,silhouette\n"
                for (i, v) in zip(s.rows, s.values) { text += "\(CSVOutput.field(data.id(i))),\(cl.values[Int(cl.indices[i])]),\(v)\n" }
                var batch = OutputBatch()
                try batch.stage(text, to: path)
                try batch.commit()
                r.outputs = .init(perSample: path)
            }
        }
        if wanted.contains("simplified_silhouette") {
            let v = try timed("simplified_silhouette") { try Silhouette.simplified(data, labels: cl, threads: threads) }
            r.simplifiedSilhouette = FiniteOrNull(v)
        }
        if let ref = referenceLabels {
            let other = try LabelsFile.read(path: ref, column: labelsColumn)
            try other.check(against: data, path: ref)
            let a = ClusterLabels(strings: file.labels).indices.map(Int.init)
            let b = ClusterLabels(strings: other.labels).indices.map(Int.init)
            r.adjustedRand = FiniteOrNull(try PartitionAgreement.adjustedRandIndex(a, b))
            r.adjustedMutualInfo = FiniteOrNull(try PartitionAgreement.adjustedMutualInformation(a, b))
        }
        return r
    }

    func printSummary(_ r: Result) {
        let undefined = "undefined (needs 2 <= k < n)"
        func v(_ x: FiniteOrNull?) -> Double { x?.value ?? .nan }
        print("scores of \(labels) on \(input.input): \(r.rows) rows, \(r.k) clusters")
        if r.inertia != nil { print("inertia            \(fmt(v(r.inertia), 8))") }
        if let c = r.calinskiHarabasz { print("calinski_harabasz  \(c.value.map { fmt($0, 8) } ?? undefined)") }
        if let d = r.daviesBouldin { print("davies_bouldin     \(d.value.map { fmt($0, 8) } ?? undefined)") }
        if r.silhouette != nil {
            let sampled = r.silhouetteSample.map { " ± \(fmt(v(r.silhouetteStderr), 2)) (sample of \($0) rows, seed \(seedOption.seed))" }
            print("silhouette         \(fmt(v(r.silhouette), 8))" + (sampled ?? " (exact)"))
        }
        if r.simplifiedSilhouette != nil { print("simplified_silhouette \(fmt(v(r.simplifiedSilhouette), 8)) (Spark's squared-distance definition)") }
        if let ref = referenceLabels {
            print("adjusted_rand      \(fmt(v(r.adjustedRand), 8)) vs \(ref)")
            print("adjusted_mutual_info \(fmt(v(r.adjustedMutualInfo), 8)) vs \(ref)")
        }
    }

    /// `strata score --json`: a metric's key is present only when it was asked for; null when it
    /// is undefined (e.g. Calinski-Harabasz for k = 1).
    struct Result: Encodable {
        struct Outputs: Encodable {
            var perSample: String
        }
        var rows: Int
        var k: Int
        var columns: [String]
        /// The distinct labels, in dense-index order.
        var labels: [String]
        var ranks: Int
        /// Rows labelled -1 (DBSCAN/HDBSCAN noise), left out of the metrics (`rows` excludes them).
        var noiseRows: Int = 0
        var inertia: FiniteOrNull?
        var calinskiHarabasz: FiniteOrNull?
        var daviesBouldin: FiniteOrNull?
        var silhouette: FiniteOrNull?
        var silhouetteMethod: String?
        var perClusterSilhouette: [FiniteOrNull]?
        var silhouetteStderr: FiniteOrNull?
        var silhouetteSample: Int?
        var simplifiedSilhouette: FiniteOrNull?
        var adjustedRand: FiniteOrNull?
        var adjustedMutualInfo: FiniteOrNull?
        var outputs: Outputs?
        /// Seconds per computation (dispersion, silhouette, simplified_silhouette).
        var seconds: [String: Double] = [:]
        /// Where the silhouette's distance sums ran (present when the silhouette was asked for).
        var device: DeviceSummary?

        init(rows: Int, k: Int, columns: [String], labels: [String], ranks: Int) {
            self.rows = rows; self.k = k; self.columns = columns; self.labels = labels; self.ranks = ranks
        }
    }
}
