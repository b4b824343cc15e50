import ArgumentParser
import Foundation
import Strata

/// What `hierarchical`, `dbscan` and `hdbscan` share: the input and its feature stages, and the
/// model and labels outputs (staged, published together; '-' prints the labels).
struct ClusterOutputs {
    var labelsOut: String?
    var modelOut: String?

    /// The `outputs` and `seconds` objects of their `--json` results.
    struct Paths: Encodable { var labels, model: String?; var linkage: String? = nil }
    struct Seconds: Encodable { var total, fit: Double }

    /// Reads the input through the preprocessing stages (as `kmeans`).
    static func read(_ input: InputOptions, _ preprocess: PreprocessArguments, seed: UInt64, threads: Int) throws -> (Dataset, FeatureStages) {
        let (data, stages) = try FeatureStages.fit(path: input.input, read: input.readOptions, preprocess: preprocess.options,
                                                   pcaComponents: preprocess.pca, seed: seed, threads: threads)
        data.warnings.forEach(Report.warn)
        return (data, stages)
    }

    /// Stages the model (with the stages) and the labels, commits, prints the labels for '-'.
    /// Returns false when the labels went to stdout (nothing else may be printed there).
    func write(model: ClusterModelFile?, stages: FeatureStages, data: Dataset, labels: [Int32], scoreColumn: String, scores: [Double],
               extra: (inout OutputBatch) throws -> Void = { _ in }) throws -> Bool {
        var batch = OutputBatch()
        if var m = model, let path = modelOut {
            m.preprocessing = stages.preprocessing
            m.pca = stages.pca
            try batch.stage(try m.encoded(), to: path)
        }
        if let path = labelsOut, path != "-" {
            try CSVOutput.stageScoredLabels(&batch, to: path, ids: data.id, labels: labels, scoreColumn: scoreColumn, scores: scores)
        }
        try extra(&batch)
        try batch.commit()
        if labelsOut == "-" {
            Report.writeStdout(CSVOutput.scoredLabels(ids: data.id, labels: labels, scoreColumn: scoreColumn, scores: scores))
            OutputBatch.divertLaterPrintsToStderr()
            return false
        }
        return true
    }

    /// Cluster sizes (noise left out) and the noise count.
    static func sizes(_ labels: [Int32], k: Int) -> (sizes: [Int], noise: Int) {
        (ClusterLabels.counts(labels.lazy.filter { $0 >= 0 }, k: k), labels.lazy.filter { $0 < 0 }.count)
    }
}

struct HierarchicalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hierarchical",
        abstract: "Agglomerative clustering (ward, complete, average, single), scipy compatible.",
        discussion: """
            Exact up to 50,000 rows (O(n²) time; complete/average also O(n²) memory within \
            --memory-budget); beyond that, or with --micro-clusters M, the tree is built on M \
            K-Means micro-clusters weighted by their sizes (approximate; `exact: false`). Labels \
            file: id,segment,distance (squared Euclidean distance to the segment's mean). \
            --linkage-out: the merge tree in scipy's linkage format (cluster_a,cluster_b,distance,size; \
            ids >= leaves are earlier merges). Segments are numbered by first appearance in row order.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "ward (default), complete, average or single.")
    var linkage: Linkage = .ward

    @Option(name: .long, help: "Number of clusters (cut the tree into k).")
    var k: Int?

    @Option(name: .customLong("distance-threshold"), help: "Or cut where merges exceed this height (rows joined at <= T share a cluster, as scipy fcluster 'distance').")
    var distanceThreshold: Double?

    @Option(name: .customLong("micro-clusters"), help: "Build the tree on this many K-Means micro-clusters (two-stage, approximate; default: only beyond 50,000 rows, then 2,000).")
    var microClusters: Int?

    @Option(name: .customLong("linkage-out"), help: "Write the merge tree (scipy linkage matrix) as CSV here.")
    var linkageOut: String?

    @OptionGroup var seed: SeedOption
    @OptionGroup var preprocess: PreprocessArguments
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var outputs: ModelOutputOptions

    func validate() throws {
        try Report.checkStdout([outputs.labelsOut, outputs.modelOut, linkageOut], json: runOptions.json)
        guard (k == nil) != (distanceThreshold == nil) else { throw ValidationError("give exactly one of --k and --distance-threshold") }
        if let k, k < 1 { throw ValidationError("--k must be at least 1 (got \(k))") }
        if let t = distanceThreshold, !(t >= 0) || !t.isFinite { throw ValidationError("--distance-threshold must be a number >= 0") }
        if let m = microClusters, m < 2 { throw ValidationError("--micro-clusters must be at least 2") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            let t0 = Date()
            let (data, stages) = try ClusterOutputs.read(input, preprocess, seed: seed.seed, threads: runOptions.threads)
            var o = AgglomerativeOptions(linkage: linkage, nClusters: k, distanceThreshold: distanceThreshold)
            o.microClusters = microClusters
            o.memoryBudget = input.memory.bytes
            o.seed = seed.seed
            o.threads = runOptions.threads
            let t1 = Date()
            let r = try Agglomerative.fit(data, options: o)
            r.warnings.forEach(Report.warn)
            let fitSeconds = Date().timeIntervalSince(t1)
            let scores = ClusterMeans.squaredDistances(data, labels: r.labels, means: (0..<r.centroids.rows).map { r.centroids.row($0).map(Double.init) })
            let model = ClusterModelFile(result: r, data: data, linkage: linkage)
            let printed = try ClusterOutputs(labelsOut: outputs.labelsOut, modelOut: outputs.modelOut)
                .write(model: model, stages: stages, data: data, labels: r.labels, scoreColumn: "distance", scores: scores) { batch in
                    if let path = linkageOut {
                        var csv = "cluster_a,cluster_b,distance,size\n"
                        for s in r.merges { csv += "\(s.a),\(s.b),\(CSVOutput.number(s.height)),\(s.size)\n" }
                        try batch.stage(csv, to: path)
                    }
                }
            let result = Result(nClusters: r.nClusters, mergeHeights: r.merges.map(\.height), exact: r.exact, linkage: linkage.rawValue,
                                leaves: r.merges.count + 1, rows: data.rows, columns: data.columns, clusterSizes: r.sizes,
                                centroids: (0..<r.centroids.rows).map { jsonFloats(r.centroids.row($0)) },
                                outputs: .init(labels: outputs.labelsOut, model: outputs.modelOut, linkage: linkageOut),
                                seconds: .init(total: Date().timeIntervalSince(t0), fit: fitSeconds))
            if runOptions.json { Report.json(result) } else if printed {
                print("hierarchical (\(linkage.rawValue)\(r.exact ? "" : ", on \(r.merges.count + 1) micro-clusters")): \(r.nClusters) clusters of \(data.rows) rows x \(data.cols) columns")
                for (c, s) in r.sizes.enumerated() { print("segment \(c): \(s)") }
                if let h = r.merges.last { print("last merge height: \(fmt(h.height))") }
            }
        }
    }

    struct Result: Encodable {
        typealias Outputs = ClusterOutputs.Paths
        typealias Seconds = ClusterOutputs.Seconds
        var nClusters: Int
        /// The leaves - 1 merge distances in scipy's order (ascending).
        var mergeHeights: [Double]
        var exact: Bool
        var linkage: String
        var leaves: Int
        var rows: Int
        var columns: [String]
        var clusterSizes: [Int]
        var centroids: [[Double]]
        var outputs: Outputs
        var seconds: Seconds
    }
}

struct DBSCANCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbscan",
        abstract: "DBSCAN density clustering (exact, k-d tree), scikit-learn compatible.",
        discussion: """
            Labels file: id,segment,core (segment -1 = noise; core 1 for core points). Without \
            --eps, eps is the knee of the sorted k-distance curve (k = --min-samples) on a sample \
            of 10,000 rows, reported as `eps` with `eps_suggested: true`. Memory O(n + min_samples \
            per non-core row + one block of core-neighbour pairs), never O(n²). Weights (--weights-column) count toward --min-samples.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Neighbourhood radius in model units (after --scale/--pca); default: the k-distance knee.")
    var eps: Double?

    @Option(name: .customLong("min-samples"), help: "Rows (or weight) within eps, the row itself included, to be a core point (scikit-learn's 5).")
    var minSamples: Double = 5

    @OptionGroup var seed: SeedOption
    @OptionGroup var preprocess: PreprocessArguments
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var outputs: ModelOutputOptions

    func validate() throws {
        try Report.checkStdout([outputs.labelsOut, outputs.modelOut], json: runOptions.json)
        if let e = eps, !(e > 0) || !e.isFinite { throw ValidationError("--eps must be a positive number") }
        if !(minSamples >= 1) || !minSamples.isFinite { throw ValidationError("--min-samples must be at least 1") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            let t0 = Date()
            let (data, stages) = try ClusterOutputs.read(input, preprocess, seed: seed.seed, threads: runOptions.threads)
            var chosen = eps
            if chosen == nil {
                let s = DBSCAN.suggestEps(data, minSamples: max(1, Int(minSamples.rounded(.up))), seed: seed.seed, threads: runOptions.threads)
                guard let e = s.eps, e > 0 else {
                    throw StrataError.insufficientData("\(input.input): the k-distance curve has no knee to suggest eps from; give --eps")
                }
                chosen = e
                Report.warn("eps not given: using \(fmt(e, 6)), the knee of the \(Int(minSamples.rounded(.up)))-distance curve; check it against the curve before relying on it")
            }
            var o = DBSCANOptions(eps: chosen!, minSamples: minSamples)
            o.threads = runOptions.threads
            let t1 = Date()
            let r = try DBSCAN.fit(data, options: o)
            let fitSeconds = Date().timeIntervalSince(t1)
            let (sizes, noise) = ClusterOutputs.sizes(r.labels, k: r.nClusters)
            if r.nClusters == 0 { Report.warn("no cluster found: every row is noise at eps \(fmt(chosen!, 6)) and min_samples \(fmt(minSamples)); raise eps or lower min_samples") }
            let printed = try ClusterOutputs(labelsOut: outputs.labelsOut, modelOut: outputs.modelOut)
                .write(model: ClusterModelFile(result: r, data: data, eps: chosen!), stages: stages, data: data, labels: r.labels,
                       scoreColumn: "core", scores: r.isCore.map { $0 ? 1 : 0 })
            let result = Result(nClusters: r.nClusters, nNoise: noise, nCore: r.nCore, eps: chosen!, epsSuggested: eps == nil, minSamples: minSamples,
                                rows: data.rows, columns: data.columns, clusterSizes: sizes,
                                outputs: .init(labels: outputs.labelsOut, model: outputs.modelOut),
                                seconds: .init(total: Date().timeIntervalSince(t0), fit: fitSeconds))
            if runOptions.json { Report.json(result) } else if printed {
                print("DBSCAN (eps \(fmt(chosen!, 6)), min_samples \(fmt(minSamples))): \(r.nClusters) clusters, \(noise) noise rows, \(r.nCore) core rows of \(data.rows)")
                for (c, s) in sizes.enumerated() { print("segment \(c): \(s)") }
            }
        }
    }

    struct Result: Encodable {
        typealias Outputs = ClusterOutputs.Paths
        typealias Seconds = ClusterOutputs.Seconds
        var nClusters: Int
        var nNoise: Int
        var nCore: Int
        var eps: Double
        var epsSuggested: Bool
        var minSamples: Double
        var rows: Int
        var columns: [String]
        var clusterSizes: [Int]
        var outputs: Outputs
        var seconds: Seconds
    }
}

struct HDBSCANCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hdbscan",
        abstract: "HDBSCAN hierarchical density clustering, scikit-learn compatible.",
        discussion: """
            Labels file: id,segment,probability (segment -1 = noise, probability 0). O(n²) time \
            (Prim's tree on mutual reachability), O(n) memory; up to 200,000 rows, beyond that fit \
            a sample and assign the rest with `strata predict`.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .customLong("min-cluster-size"), help: "Smallest group counted as a cluster (scikit-learn's 5).")
    var minClusterSize: Int = 5

    @Option(name: .customLong("min-samples"), help: "Neighbours (the row included) defining the core distance; default --min-cluster-size.")
    var minSamples: Int?

    @Option(name: .customLong("cluster-selection"), help: "eom (excess of mass, default) or leaf.")
    var selection: HDBSCANOptions.ClusterSelection = .eom

    @OptionGroup var seed: SeedOption
    @OptionGroup var preprocess: PreprocessArguments
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var outputs: ModelOutputOptions

    func validate() throws {
        try Report.checkStdout([outputs.labelsOut, outputs.modelOut], json: runOptions.json)
        if minClusterSize < 2 { throw ValidationError("--min-cluster-size must be at least 2") }
        if let m = minSamples, m < 1 { throw ValidationError("--min-samples must be at least 1") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            let t0 = Date()
            let (data, stages) = try ClusterOutputs.read(input, preprocess, seed: seed.seed, threads: runOptions.threads)
            var o = HDBSCANOptions(minClusterSize: minClusterSize, minSamples: minSamples)
            o.selection = selection
            o.threads = runOptions.threads
            let t1 = Date()
            let r = try HDBSCAN.fit(data, options: o)
            let fitSeconds = Date().timeIntervalSince(t1)
            let (sizes, noise) = ClusterOutputs.sizes(r.labels, k: r.nClusters)
            if r.nClusters == 0 { Report.warn("no cluster found: every row is noise; lower --min-cluster-size") }
            let printed = try ClusterOutputs(labelsOut: outputs.labelsOut, modelOut: outputs.modelOut)
                .write(model: ClusterModelFile(result: r, data: data, minSamples: minSamples ?? minClusterSize), stages: stages, data: data,
                       labels: r.labels, scoreColumn: "probability", scores: r.probabilities)
            let result = Result(nClusters: r.nClusters, nNoise: noise, minClusterSize: minClusterSize, minSamples: minSamples ?? minClusterSize,
                                clusterSelection: selection.rawValue, rows: data.rows, columns: data.columns, clusterSizes: sizes,
                                outputs: .init(labels: outputs.labelsOut, model: outputs.modelOut),
                                seconds: .init(total: Date().timeIntervalSince(t0), fit: fitSeconds))
            if runOptions.json { Report.json(result) } else if printed {
                print("HDBSCAN (min_cluster_size \(minClusterSize)): \(r.nClusters) clusters, \(noise) noise rows of \(data.rows)")
                for (c, s) in sizes.enumerated() { print("segment \(c): \(s)") }
            }
        }
    }

    struct Result: Encodable {
        typealias Outputs = ClusterOutputs.Paths
        typealias Seconds = ClusterOutputs.Seconds
        var nClusters: Int
        var nNoise: Int
        var minClusterSize: Int
        var minSamples: Int
        var clusterSelection: String
        var rows: Int
        var columns: [String]
        var clusterSizes: [Int]
        var outputs: Outputs
        var seconds: Seconds
    }
}
