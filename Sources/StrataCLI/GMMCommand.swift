import ArgumentParser
import Foundation
import Strata
import StrataLinalg

struct GMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gmm",
        abstract: "Gaussian mixture by EM (soft segmentation), scikit-learn compatible.",
        discussion: """
            Labels file: id,segment,probability (posterior of the chosen component). --proba-out: \
            id,p0,...,p{k-1}. A component that collapses is an error naming it (exit 70). \
            Deterministic for a given --seed whatever --threads is.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Number of components.")
    var k: Int

    @Option(name: .long, help: "full, diag, tied or spherical.")
    var covariance: CovarianceType = .full

    @Option(name: .customLong("reg-covar"), help: "Added to covariance diagonals.")
    var regCovar: Double = 1e-6

    @Option(name: .long, help: "kmeans (default), k-means++, random, or a CSV of initial means (header naming the features, or none).")
    var `init` = InitArgument<GMMInitMethod>(.kmeans)

    @Option(name: .customLong("init-labels"), help: "Initial hard labels (a labels file from `strata kmeans`): one-hot responsibilities, then an M-step.")
    var initLabels: String?

    @Option(name: .customLong("n-init"), help: "Restarts; the highest lower bound wins.")
    var nInit: Int = 1

    @Option(name: .customLong("max-iter"), help: "EM iterations at most.")
    var maxIter: Int = 100

    @Option(name: .long, help: "Stop when the mean log-likelihood per row changes by less than this.")
    var tol: Double = 1e-3

    @OptionGroup var seedOption: SeedOption

    @OptionGroup var preprocess: PreprocessArguments

    @OptionGroup var runOptions: RunOptions

    @OptionGroup var outputs: ModelOutputOptions

    var modelOut: String? { outputs.modelOut }
    var labelsOut: String? { outputs.labelsOut }

    @Option(name: .customLong("proba-out"), help: "Write id,p0,...,p{k-1} per row here.")
    var probaOut: String?

    func validate() throws {
        try Report.checkStdout([modelOut, labelsOut, probaOut], json: runOptions.json)
        if k < 1 { throw ValidationError("--k must be at least 1 (got \(k))") }
        if !(regCovar >= 0) { throw ValidationError("--reg-covar must be >= 0") }
        if nInit < 1 { throw ValidationError("--n-init must be at least 1") }
        if maxIter < 1 { throw ValidationError("--max-iter must be at least 1") }
        if !(tol >= 0) { throw ValidationError("--tol must be >= 0") }
        if initLabels != nil, case .file = `init`.value { throw ValidationError("give either --init or --init-labels, not both") }
        if initLabels != nil, case .method(let m) = `init`.value, m != .kmeans { throw ValidationError("give either --init or --init-labels, not both") }
    }

    @OptionGroup var cluster: DistributedOptions

    @Option(name: .long, help: "Where the E-steps run: auto (CUDA when an NVIDIA GPU is present, else the CPU), cpu, cuda or opencl (the first OpenCL device, e.g. PoCL). diag/spherical fits are bit-identical to --device cpu; full/tied ones equal where the CPU's SGEMM projects in feature order, else within float rounding. cuda/opencl without a usable device: exit 69.")
    var device: ComputeDevice = .auto

    func run() throws {
        try cluster.run(runOptions) { group in
            let progress = Progress(enabled: group.rank == 0)
            let t0 = Date()
            var read = input.readOptions
            if cluster.distributed {
                if labelsOut != nil || probaOut != nil || initLabels != nil {
                    throw StrataError.invalidArgument("--distributed writes the model only; score rows with `strata predict`")
                }
            }
            try cluster.shard(&read, input: input, plain: preprocess.options.isIdentity && preprocess.pca == nil, group: group)
            let (data, stages) = try FeatureStages.fit(path: input.input, read: read, preprocess: preprocess.options,
                                                       pcaComponents: preprocess.pca, seed: seedOption.seed, threads: runOptions.threads)
            data.warnings.forEach(Report.warn)
            let readSeconds = Date().timeIntervalSince(t0)
            let o = try gmmOptions(data: data, group: group, progress: progress)
            let t1 = Date()
            let r = try GMM.fit(data, options: o)
            let fitSeconds = Date().timeIntervalSince(t1)
            r.warnings.forEach(Report.warn)
            let t2 = Date()
            if group.rank != 0 { Distributed.barrier(group); return }
            defer { if group.isDistributed { Distributed.barrier(group) } }
            try writeOutputs(r, data: data, stages: stages, options: o)
            let seconds = Result.Seconds(read: readSeconds, fit: fitSeconds, write: Date().timeIntervalSince(t2))
            if runOptions.json {
                Report.json(Result(r, data: data, stages: stages, command: self, seconds: seconds))
            } else {
                printSummary(r, data: data, seconds: seconds)
            }
        }
    }

    func gmmOptions(data: Dataset, group: any ChunkGroup, progress: Progress) throws -> GMMOptions {
        var o = GMMOptions(k: k)
        o.covarianceType = covariance
        o.regCovar = regCovar
        o.nInit = nInit
        o.maxIterations = maxIter
        o.tolerance = tol
        o.seed = seedOption.seed
        o.threads = runOptions.threads
        o.group = group
        // auto stays on the CPU where the device could not run the fit (distributed).
        if device != .auto || !cluster.distributed { o.gpu = try device.open() }
        if let path = initLabels {
            let file = try LabelsFile.read(path: path)
            try file.check(against: data, path: path)
            let labels = try file.labels.enumerated().map { i, v -> Int32 in
                guard let l = Int32(v) else {
                    throw StrataError.badData(file: path, line: i + 2, column: "segment", message: "label '\(v)' is not an integer")
                }
                return l
            }
            o.initialization = .labels(labels)
        } else {
            switch `init`.value {
            case .method(.kmeans): o.initialization = .kmeans
            case .method(.kMeansPlusPlus): o.initialization = .kMeansPlusPlus
            case .method(.random): o.initialization = .random
            case let .file(path): o.initialization = .means(try `init`.centers(path: path, columns: data.columns))
            }
        }
        let maxIter = self.maxIter
        o.onIteration = { r, it in
            progress.report("restart \(r + 1): EM iteration \(it.iteration)/\(maxIter), lower bound \(fmt(it.lowerBound, 8)), change \(fmt(it.change))")
        }
        return o
    }

    /// Writes the model, the labels and the probabilities asked for.
    func writeOutputs(_ r: GMMResult, data: Dataset, stages: FeatureStages, options o: GMMOptions) throws {
        var batch = OutputBatch()
        if let path = modelOut {
            var file = GMMModelFile(result: r, data: data, options: o)
            file.preprocessing = stages.preprocessing
            file.pca = stages.pca
            try batch.stage(try file.encoded(), to: path)
        }
        if labelsOut != nil || probaOut != nil {
            let p = try r.model.predict(data, threads: runOptions.threads)
            if let path = labelsOut { try batch.stageTable(csv: CSVOutput.mixtureLabels(ids: data.id, labels: p.labels, probabilities: p.probabilities, k: k), to: path) }
            if let path = probaOut { try batch.stageTable(csv: CSVOutput.probabilities(ids: data.id, probabilities: p.probabilities, rows: data.rows, k: k), to: path) }
        }
        try batch.commit()
    }

    func printSummary(_ r: GMMResult, data: Dataset, seconds: Result.Seconds) {
        let m = r.model, d = m.d
        print("Gaussian mixture: k=\(k), \(covariance) covariances, on \(data.rows) rows x \(d) columns of \(input.input)")
        print("\(r.converged ? "converged" : "stopped at --max-iter") after \(r.nIter) EM iterations; lower bound \(fmt(r.lowerBound, 8)), BIC \(fmt(r.bic, 8)), AIC \(fmt(r.aic, 8))")
        print((["component", "weight"] + data.columns.map { "mean " + $0 }).joined(separator: "\t"))
        for c in 0..<k {
            print(([String(c), String(format: "%.4f", m.weights[c])] + (0..<d).map { fmt(m.means[c * d + $0]) }).joined(separator: "\t"))
        }
        for (name, path) in [("model", modelOut), ("labels", labelsOut), ("probabilities", probaOut)] { if let path { print("\(name): \(path)") } }
        print(String(format: "time: read %.2fs, fit %.2fs, write %.2fs", seconds.read, seconds.fit, seconds.write))
        if let gpu = r.gpu { print(DeviceSummary(gpu).line) }
    }

    /// `strata gmm --json`.
    struct Result: Encodable {
        struct Outputs: Encodable { var model, labels, proba: String? }
        struct Seconds: Encodable { var read, fit, write: Double }
        /// One EM iteration; the first one's change is infinite, written as null.
        struct Iteration: Encodable {
            var iteration: Int
            var lowerBound: FiniteOrNull
            var change: FiniteOrNull
            var seconds: Double
        }
        /// In the shape of the covariance type: full k x d x d, diag k x d, tied d x d, spherical k.
        enum Covariances: Encodable {
            case matrices([[[Double]]]), rows([[Double]]), values([Double])
            init(_ m: GMMModel) {
                let k = m.k, d = m.d
                switch m.covarianceType {
                case .full: self = .matrices((0..<k).map { c in (0..<d).map { a in Array(m.covariances[(c * d * d + a * d)..<(c * d * d + a * d + d)]) } })
                case .diag: self = .rows((0..<k).map { c in Array(m.covariances[(c * d)..<(c * d + d)]) })
                case .tied: self = .rows((0..<d).map { a in Array(m.covariances[(a * d)..<(a * d + d)]) })
                case .spherical: self = .values(m.covariances)
                }
            }
            func encode(to encoder: Encoder) throws {
                var c = encoder.singleValueContainer()
                switch self {
                case let .matrices(v): try c.encode(v)
                case let .rows(v): try c.encode(v)
                case let .values(v): try c.encode(v)
                }
            }
        }
        var k: Int
        var rows: Int
        var columns: [String]
        var covarianceType: String
        var weights: [Double]
        /// k x d.
        var means: [[Double]]
        var covariances: Covariances
        var lowerBound: FiniteOrNull
        var nIter: Int
        var converged: Bool
        var bic: FiniteOrNull
        var aic: FiniteOrNull
        var score: FiniteOrNull
        var iterations: [Iteration]
        var runLowerBounds: [FiniteOrNull]
        var seed: Int
        var threads: Int
        var outputs: Outputs
        var seconds: Seconds
        var preprocessing: OrNull<PreprocessingSummary>
        var device: DeviceSummary

        init(_ r: GMMResult, data: Dataset, stages: FeatureStages, command c: GMMCommand, seconds: Seconds) {
            let m = r.model, d = m.d
            k = c.k
            rows = data.rows
            columns = data.columns
            covarianceType = c.covariance.rawValue
            weights = m.weights
            means = (0..<c.k).map { Array(m.means[($0 * d)..<($0 * d + d)]) }
            covariances = Covariances(m)
            lowerBound = FiniteOrNull(r.lowerBound)
            nIter = r.nIter
            converged = r.converged
            bic = FiniteOrNull(r.bic)
            aic = FiniteOrNull(r.aic)
            score = FiniteOrNull(r.score)
            iterations = r.iterations.map { Iteration(iteration: $0.iteration, lowerBound: FiniteOrNull($0.lowerBound), change: FiniteOrNull($0.change), seconds: $0.seconds) }
            runLowerBounds = finiteOrNull(r.runLowerBounds)
            seed = Int(truncatingIfNeeded: c.seedOption.seed)
            threads = c.runOptions.threads
            outputs = Outputs(model: c.modelOut, labels: c.labelsOut, proba: c.probaOut)
            self.seconds = seconds
            preprocessing = PreprocessingSummary.orNull(stages)
            device = DeviceSummary(r.gpu)
        }
    }
}
