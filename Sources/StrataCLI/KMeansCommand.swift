import ArgumentParser
import Foundation
import Strata
import StrataKernels
import StrataLinalg

struct KMeansCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmeans",
        abstract: "Exact K-Means (Lloyd), scikit-learn compatible.",
        discussion: "Deterministic for a given --seed whatever --threads is. Labels file: id,segment,distance (squared Euclidean)."
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Number of clusters (1...rows).")
    var k: Int

    @Option(name: .long, help: "k-means++ (default), k-means|| (for large n: a few passes instead of k), random, or a CSV file of initial centers (header naming the feature columns, or no header).")
    var `init` = InitArgument<KMeansInitMethod>(.kMeansPlusPlus)

    @Option(name: .customLong("init-oversampling"), help: "k-means||: candidates per round, as a multiple of k (Spark's 2).")
    var initOversampling: Double = 2

    @Option(name: .customLong("init-rounds"), help: "k-means||: sampling rounds (Spark's 2).")
    var initRounds: Int = 2

    @Option(name: .customLong("batch-size"), help: "--algorithm minibatch: rows per step.")
    var batchSize: Int = 1024

    @Option(name: .customLong("max-no-improvement"), help: "--algorithm minibatch: stop after this many steps without a better smoothed batch inertia.")
    var maxNoImprovement: Int = 10

    @Option(name: .customLong("reassignment-ratio"), help: "--algorithm minibatch: centers below this share of the largest center weight are moved.")
    var reassignmentRatio: Double = 0.01

    @OptionGroup var fit: FitOptions

    @Option(name: .long, help: "Nearest-centroid route: auto, simd or gemm (results agree; speed differs by shape).")
    var route: RouteChoice = .auto

    @Option(name: .long, help: "Lloyd step: auto (Hamerly on the SIMD route when k >= 32), lloyd (every row against every center) or hamerly (exact bounds that skip centers that cannot win); these give Lloyd's iterates. minibatch: mini-batch K-Means (Sculley 2010; --max-iter counts epochs) for very large n.")
    var algorithm: KMeansAlgorithm = .auto

    @OptionGroup var preprocess: PreprocessArguments

    @OptionGroup var device: DeviceOptions

    @OptionGroup var cluster: DistributedOptions

    @OptionGroup var runOptions: RunOptions

    @OptionGroup var outputs: ModelOutputOptions

    @Flag(name: .customLong("no-training-profile"), help: "Leave the training profile (for strata monitor) out of --model-out; distributed runs never write one.")
    var noTrainingProfile = false

    var modelOut: String? { outputs.modelOut }
    var labelsOut: String? { outputs.labelsOut }

    func validate() throws {
        try Report.checkStdout([labelsOut, modelOut], json: runOptions.json)
        if k < 1 { throw ValidationError("--k must be at least 1 (got \(k))") }
        if initRounds < 1 || !(initOversampling > 0) { throw ValidationError("--init-rounds must be >= 1 and --init-oversampling > 0") }
        if batchSize < 1 || maxNoImprovement < 1 || !(reassignmentRatio >= 0) { throw ValidationError("--batch-size and --max-no-improvement must be >= 1, --reassignment-ratio >= 0") }
    }

    func run() throws {
        try cluster.run(runOptions) { group in
            let progress = Progress(enabled: group.rank == 0)
            let t0 = Date()
            var read = input.readOptions
            try cluster.shard(&read, input: input, plain: preprocess.options.isIdentity && preprocess.pca == nil, group: group)
            let (data, stages) = try FeatureStages.fit(path: input.input, read: read, preprocess: preprocess.options,
                                                       pcaComponents: preprocess.pca, seed: fit.seed, threads: runOptions.threads,
                                                       profile: modelOut != nil && !cluster.distributed && !noTrainingProfile)
            data.warnings.forEach(Report.warn)
            let readSeconds = Date().timeIntervalSince(t0)
            progress.report("read \(data.rows) rows x \(data.cols) columns from \(input.input)")
            let options = try kmeansOptions(data: data, group: group, progress: progress)
            let t1 = Date()
            let result = try KMeans.fit(data, options: options)
            let fitSeconds = Date().timeIntervalSince(t1)
            result.warnings.forEach(Report.warn)
            let t2 = Date()
            guard try writeOutputs(result, data: data, stages: stages, options: options, group: group) else { return }
            let seconds = Result.Seconds(read: readSeconds, fit: fitSeconds, write: Date().timeIntervalSince(t2))
            if runOptions.json {
                Report.json(Result(result, data: data, stages: stages, options: options, command: self, ranks: group.size, seconds: seconds))
            } else if labelsOut != "-" {
                printSummary(result, data: data, seconds: seconds)
            }
        }
    }

    func kmeansOptions(data: Dataset, group: any ChunkGroup, progress: Progress) throws -> KMeansOptions {
        var options = KMeansOptions(k: k)
        switch `init`.value {
        case .method(.kMeansPlusPlus): options.initialization = .kMeansPlusPlus
        case .method(.random): options.initialization = .random
        case .method(.kMeansParallel): options.initialization = .kMeansParallel(oversampling: initOversampling, rounds: initRounds)
        case let .file(path): options.initialization = .centers(try `init`.centers(path: path, columns: data.columns))
        }
        fit.apply(to: &options)
        options.threads = runOptions.threads
        options.group = group
        options.route = route.route
        options.algorithm = algorithm
        options.minibatch.batchSize = batchSize
        options.minibatch.maxEpochs = fit.maxIter
        options.minibatch.maxNoImprovement = maxNoImprovement
        options.minibatch.reassignmentRatio = reassignmentRatio
        // auto stays on the CPU where the device could not run the asked variant.
        if device.device != .auto || (algorithm == .auto || algorithm == .lloyd) && route != .gemm && !cluster.distributed {
            options.gpu = try device.open()
        }
        let maxIter = fit.maxIter
        options.onIteration = { r, it in
            progress.report("restart \(r + 1): iteration \(it.iteration)/\(maxIter), inertia \(fmt(it.inertia)), shift \(fmt(it.centerShift)), \(it.changed) labels changed")
        }
        return options
    }

    /// Writes the model and the labels ('-': stdout). Distributed, each rank writes the labels of
    /// its own rows as a part and rank 0 joins them in rank order, then writes the model; returns
    /// false on the other ranks, which are done then.
    func writeOutputs(_ result: KMeansResult, data: Dataset, stages: FeatureStages, options: KMeansOptions, group: any ChunkGroup) throws -> Bool {
        var model = KMeansModelFile(result: result, data: data, options: options)
        model.preprocessing = stages.preprocessing
        model.pca = stages.pca
        // The training distribution for `strata monitor` (not for distributed runs: each rank
        // holds only its shard).
        model.trainingProfile = stages.profile.map { p in
            var p = p
            p.distance = TrainingProfile.Distance.of(result.distances, seed: options.seed)
            return p
        }
        var batch = OutputBatch()
        if group.isDistributed {
            if let path = labelsOut, path != "-" {
                try CSVOutput.stageDistributedLabels(&batch, to: path, group: group, rows: data.rows, ids: data.id, labels: result.labels,
                                                     distances: result.distances) { Distributed.barrier(group) }
            }
            if group.rank == 0, let path = modelOut { try batch.stage(try model.encoded(), to: path) }
            try batch.commit()
            Distributed.barrier(group)
            if group.rank != 0 { return false }
        } else {
            if let path = modelOut { try batch.stage(try model.encoded(), to: path) }
        }
        if !group.isDistributed, let path = labelsOut, path != "-" {
            try CSVOutput.stageLabels(&batch, to: path, ids: data.id, labels: result.labels, distances: result.distances)
        }
        let labelsData = labelsOut == "-" ? CSVOutput.labels(ids: data.id, labels: result.labels, distances: result.distances) : nil
        try batch.commit()
        if labelsOut == "-", let d = labelsData { Report.writeStdout(d); OutputBatch.divertLaterPrintsToStderr() }
        return true
    }

    func printSummary(_ result: KMeansResult, data: Dataset, seconds: Result.Seconds) {
        print("K-Means: k=\(k) on \(data.rows) rows x \(data.cols) columns of \(input.input)")
        print("\(result.converged ? "converged" : "stopped at --max-iter") after \(result.nIter) iterations (best of \(result.runs.count) restart\(result.runs.count == 1 ? "" : "s")); inertia \(fmt(result.inertia, 8))")
        print(segmentTable(result: result, columns: data.columns))
        if let m = modelOut { print("model:  \(m)") }
        if let l = labelsOut { print("labels: \(l)") }
        if let gpu = result.gpu { print(DeviceSummary(gpu).line) }
        print(String(format: "time: read %.2fs, fit %.2fs, write %.2fs", seconds.read, seconds.fit, seconds.write))
    }

    /// `strata kmeans --json`.
    struct Result: Encodable {
        struct Outputs: Encodable { var model, labels: String? }
        struct Seconds: Encodable { var read, fit, write: Double }
        var k: Int
        var rows: Int
        var columns: [String]
        var inertia: FiniteOrNull
        var nIter: Int
        var converged: Bool
        /// k x d, each Float as the Double with its shortest decimal form.
        var centroids: [[Double]]
        var clusterSizes: [Int]
        var clusterWeights: [Double]
        var iterations: [KMeansIteration]
        var runs: [KMeansRunSummary]
        var bestRun: Int
        var initMethod: String
        var seed: Int
        var threads: Int
        var route: String
        var algorithm: String
        var tolAbsolute: Double
        var idColumn: OrNull<String>
        var outputs: Outputs
        var ranks: Int
        var seconds: Seconds
        var preprocessing: OrNull<PreprocessingSummary>
        /// The centroids back in the input's units when there are stages to undo, else null.
        var centroidsOriginalUnits: OrNull<[[Double]]>
        var device: DeviceSummary
        enum CodingKeys: String, CodingKey {
            case k, rows, columns, inertia, converged, centroids, iterations, runs, seed, threads, route, algorithm, outputs, ranks, seconds, preprocessing, device
            case nIter = "n_iter"
            case clusterSizes = "cluster_sizes"
            case clusterWeights = "cluster_weights"
            case bestRun = "best_run"
            case initMethod = "init"
            case tolAbsolute = "tol_absolute"
            case idColumn = "id_column"
            case centroidsOriginalUnits = "centroids_original_units"
        }

        init(_ r: KMeansResult, data: Dataset, stages: FeatureStages, options: KMeansOptions, command c: KMeansCommand, ranks: Int, seconds: Seconds) {
            k = c.k
            rows = data.rows
            columns = data.columns
            inertia = FiniteOrNull(r.inertia)
            nIter = r.nIter
            converged = r.converged
            centroids = (0..<r.centroids.rows).map { jsonFloats(r.centroids.row($0)) }
            clusterSizes = r.sizes
            clusterWeights = r.clusterWeights
            iterations = r.iterations
            runs = r.runs
            bestRun = r.bestRun
            initMethod = options.initialization.name
            seed = Int(truncatingIfNeeded: c.fit.seed)
            threads = c.runOptions.threads
            route = r.route.rawValue
            algorithm = r.algorithm.rawValue
            tolAbsolute = r.absoluteTolerance
            idColumn = OrNull(data.idColumn)
            outputs = Outputs(model: c.modelOut, labels: c.labelsOut)
            self.ranks = ranks
            self.seconds = seconds
            device = DeviceSummary(r.gpu)
            preprocessing = PreprocessingSummary.orNull(stages)
            centroidsOriginalUnits = OrNull(stages.isEmpty ? nil
                : (0..<r.centroids.rows).map { i in stages.originalUnits(r.centroids.row(i).map(Double.init)) ?? [] })
        }
    }
}

/// A small text table: segment, size, share, centroid coordinates.
func segmentTable(result: KMeansResult, columns: [String]) -> String {
    let n = result.sizes.reduce(0, +)
    var lines = [(["segment", "size", "share"] + columns).joined(separator: "\t")]
    for c in 0..<result.centroids.rows {
        let share = String(format: "%.1f%%", 100 * Double(result.sizes[c]) / Double(max(1, n)))
        lines.append(([String(c), String(result.sizes[c]), share] + result.centroids.row(c).map { fmt(Double($0)) }).joined(separator: "\t"))
    }
    return lines.joined(separator: "\n")
}
