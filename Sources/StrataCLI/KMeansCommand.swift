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

    @OptionGroup var cluster: DistributedOptions

    @OptionGroup var runOptions: RunOptions

    @OptionGroup var outputs: ModelOutputOptions

    var modelOut: String? { outputs.modelOut }
    var labelsOut: String? { outputs.labelsOut }

    func validate() throws {
        if k < 1 { throw ValidationError("--k must be at least 1 (got \(k))") }
        if initRounds < 1 || !(initOversampling > 0) { throw ValidationError("--init-rounds must be >= 1 and --init-oversampling > 0") }
        if batchSize < 1 || maxNoImprovement < 1 || !(reassignmentRatio >= 0) { throw ValidationError("--batch-size and --max-no-improvement must be >= 1, --reassignment-ratio >= 0") }
        if labelsOut == "-" && runOptions.json { throw ValidationError("--labels-out - and --json both want stdout; give --labels-out a file") }
    }

    func run() throws {
        try cluster.run(runOptions) { group in
            let progress = Progress(enabled: group.rank == 0)
            let t0 = Date()
            var read = input.readOptions
            try cluster.shard(&read, input: input, plain: preprocess.options.isIdentity && preprocess.pca == nil, group: group)
            let (data, stages) = try FeatureStages.fit(path: input.input, read: read, preprocess: preprocess.options,
                                                       pcaComponents: preprocess.pca, seed: fit.seed, threads: runOptions.threads)
            let readSeconds = Date().timeIntervalSince(t0)
            progress.report("read \(data.rows) rows x \(data.cols) columns from \(input.input)")

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
            let maxIter = fit.maxIter
            options.onIteration = { r, it in
                progress.report("restart \(r + 1): iteration \(it.iteration)/\(maxIter), inertia \(fmt(it.inertia)), shift \(fmt(it.centerShift)), \(it.changed) labels changed")
            }
            let t1 = Date()
            let result = try KMeans.fit(data, options: options)
            let fitSeconds = Date().timeIntervalSince(t1)

            let t2 = Date()
            var model = KMeansModelFile(result: result, data: data, options: options)
            model.preprocessing = stages.preprocessing
            model.pca = stages.pca
            var batch = OutputBatch()
            if group.isDistributed {
                // Each rank writes the labels of its own rows as a part; rank 0 joins them in
                // rank order, then writes the model.
                if let path = labelsOut, path != "-" {
                    try CSVOutput.stageDistributedLabels(&batch, to: path, group: group, rows: data.rows, ids: data.id, labels: result.labels,
                                                         distances: result.distances) { Distributed.barrier(group) }
                }
                if group.rank == 0, let path = modelOut { try batch.stage(try model.encoded(), to: path) }
                try batch.commit()
                Distributed.barrier(group)
                if group.rank != 0 { return }
            } else {
                if let path = modelOut { try batch.stage(try model.encoded(), to: path) }
            }
            if !group.isDistributed, let path = labelsOut, path != "-" {
                try CSVOutput.stageLabels(&batch, to: path, ids: data.id, labels: result.labels, distances: result.distances)
            }
            let labelsData = labelsOut == "-" ? CSVOutput.labels(ids: data.id, labels: result.labels, distances: result.distances) : nil
            try batch.commit()
            if labelsOut == "-", let d = labelsData { FileHandle.standardOutput.write(d) }
            let writeSeconds = Date().timeIntervalSince(t2)

            if runOptions.json {
                var outputs: [String: Any] = [:]
                if let m = modelOut { outputs["model"] = m }
                if let l = labelsOut { outputs["labels"] = l }
                Report.json([
                    "k": k, "rows": data.rows, "columns": data.columns,
                    "inertia": result.inertia, "n_iter": result.nIter, "converged": result.converged,
                    "centroids": (0..<result.centroids.rows).map { jsonFloats(result.centroids.row($0)) },
                    "cluster_sizes": result.sizes, "cluster_weights": result.clusterWeights,
                    "iterations": result.iterations.map { ["iteration": $0.iteration, "inertia": $0.inertia, "center_shift": $0.centerShift,
                                                           "changed": $0.changed, "relocated": $0.relocated, "fully_assigned": $0.fullyAssigned,
                                                           "seconds": $0.seconds] },
                    "runs": result.runs.map { ["run": $0.run, "inertia": $0.inertia, "n_iter": $0.nIter, "converged": $0.converged,
                                               "init_seconds": $0.initSeconds, "lloyd_seconds": $0.lloydSeconds] },
                    "best_run": result.bestRun, "init": options.initialization.name, "seed": Int(truncatingIfNeeded: fit.seed),
                    "threads": runOptions.threads, "route": result.route.rawValue, "algorithm": result.algorithm.rawValue, "tol_absolute": result.absoluteTolerance,
                    "id_column": data.idColumn ?? NSNull(), "outputs": outputs, "ranks": group.size,
                    "seconds": ["read": readSeconds, "fit": fitSeconds, "write": writeSeconds],
                    "preprocessing": stages.isEmpty ? NSNull() : stages.summary as Any,
                    "centroids_original_units": stages.isEmpty ? NSNull() as Any
                        : (0..<result.centroids.rows).map { c in stages.originalUnits(result.centroids.row(c).map(Double.init)) ?? [] },
                ])
            } else if labelsOut != "-" {
                print("K-Means: k=\(k) on \(data.rows) rows x \(data.cols) columns of \(input.input)")
                print("\(result.converged ? "converged" : "stopped at --max-iter") after \(result.nIter) iterations (best of \(result.runs.count) restart\(result.runs.count == 1 ? "" : "s")); inertia \(fmt(result.inertia, 8))")
                print(segmentTable(result: result, columns: data.columns))
                if let m = modelOut { print("model:  \(m)") }
                if let l = labelsOut { print("labels: \(l)") }
                print(String(format: "time: read %.2fs, fit %.2fs, write %.2fs", readSeconds, fitSeconds, writeSeconds))
            }
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
