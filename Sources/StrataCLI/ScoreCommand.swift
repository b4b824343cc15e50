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
    }

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
            let file = try LabelsFile.read(path: labels, column: labelsColumn)
            try file.check(against: data, path: labels)
            let cl = ClusterLabels(strings: file.labels)
            var out: [String: Any] = ["rows": data.rows, "k": cl.k, "columns": data.columns, "labels": cl.values]
            var lines: [String] = []
            let threads = runOptions.threads
            var seconds: [String: Double] = [:]
            func timed<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
                let t = Date()
                defer { seconds[name] = Date().timeIntervalSince(t) }
                return try body()
            }

            if !wanted.isDisjoint(with: ["davies_bouldin", "calinski_harabasz", "inertia"]) {
                let m = try timed("dispersion") { try DispersionMetrics.compute(data, labels: cl, threads: threads, group: group) }
                if wanted.contains("inertia") { out["inertia"] = m.inertia; lines.append("inertia            \(fmt(m.inertia, 8))") }
                if wanted.contains("calinski_harabasz") {
                    out["calinski_harabasz"] = m.calinskiHarabasz ?? NSNull()
                    lines.append("calinski_harabasz  \(m.calinskiHarabasz.map { fmt($0, 8) } ?? "undefined (needs 2 <= k < n)")")
                }
                if wanted.contains("davies_bouldin") {
                    out["davies_bouldin"] = m.daviesBouldin ?? NSNull()
                    lines.append("davies_bouldin     \(m.daviesBouldin.map { fmt($0, 8) } ?? "undefined (needs 2 <= k < n)")")
                }
            }
            if wanted.contains("silhouette") {
                let sampleSize: Int? = sample.map { $0 == 0 ? nil : $0 } ?? (data.rows > Silhouette.exactLimit ? Silhouette.defaultSample : nil)
                let s = try timed("silhouette") { try Silhouette.compute(data, labels: cl, sample: sampleSize, seed: seedOption.seed, threads: threads) }
                let sampled = s.rows.count < data.rows
                out["silhouette"] = s.mean
                out["silhouette_method"] = sampled ? "sampled" : "exact"
                out["per_cluster_silhouette"] = s.perCluster.map { $0 ?? NSNull() as Any }
                if sampled { out["silhouette_stderr"] = s.standardError; out["silhouette_sample"] = s.rows.count }
                lines.append("silhouette         \(fmt(s.mean, 8))" + (sampled ? " ± \(fmt(s.standardError, 2)) (sample of \(s.rows.count) rows, seedOption.seed \(seedOption.seed))" : " (exact)"))
                if let path = perSampleOut {
                    var text = "id,segment,silhouette\n"
                    for (r, v) in zip(s.rows, s.values) { text += "\(CSVOutput.field(data.id(r))),\(cl.values[Int(cl.indices[r])]),\(v)\n" }
                    var batch = OutputBatch()
                    try batch.stage(text, to: path)
                    try batch.commit()
                    out["outputs"] = ["per_sample": path]
                }
            }
            if wanted.contains("simplified_silhouette") {
                let v = try timed("simplified_silhouette") { try Silhouette.simplified(data, labels: cl, threads: threads) }
                out["simplified_silhouette"] = v
                lines.append("simplified_silhouette \(fmt(v, 8)) (Spark's squared-distance definition)")
            }
            if let ref = referenceLabels {
                let other = try LabelsFile.read(path: ref, column: labelsColumn)
                try other.check(against: data, path: ref)
                let a = ClusterLabels(strings: file.labels).indices.map(Int.init)
                let b = ClusterLabels(strings: other.labels).indices.map(Int.init)
                let ari = try PartitionAgreement.adjustedRandIndex(a, b)
                let ami = try PartitionAgreement.adjustedMutualInformation(a, b)
                out["adjusted_rand"] = ari
                out["adjusted_mutual_info"] = ami
                lines.append("adjusted_rand      \(fmt(ari, 8)) vs \(ref)")
                lines.append("adjusted_mutual_info \(fmt(ami, 8)) vs \(ref)")
            }
            out["seconds"] = seconds
            out["ranks"] = group.size
            if group.rank != 0 { return }
            if runOptions.json {
                Report.json(out)
            } else {
                print("scores of \(labels) on \(input.input): \(data.rows) rows, \(cl.k) clusters")
                lines.forEach { print($0) }
            }
        }
    }
}
