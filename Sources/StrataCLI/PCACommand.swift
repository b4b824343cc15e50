import ArgumentParser
import Foundation
import Strata

struct PCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pca",
        abstract: "Principal component analysis (exact through the covariance, or randomized).",
        discussion: """
            Sign convention: each component's largest-magnitude entry is positive (scikit-learn's \
            svd_flip). --transform-out writes id,pc0,...,pc{c-1}. Deterministic whatever --threads is.
            """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Number of components.")
    var components: Int?

    @Option(name: .long, help: "Keep the fewest components explaining more than this fraction of the variance, e.g. 0.95.")
    var variance: Double?

    @Option(name: .long, help: "auto (covariance for d <= 1000), covariance, or randomized.")
    var solver: PCASolver = .auto

    @Flag(name: .long, help: "Scale projections to unit variance.")
    var whiten = false

    @OptionGroup var seedOption: SeedOption

    @Option(name: .customLong("model-out"), help: "Write the PCA model (JSON) here.")
    var modelOut: String?

    @Option(name: .customLong("transform-out"), help: "Write the projections (id,pc0,...) here.")
    var transformOut: String?

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if (components == nil) == (variance == nil) { throw ValidationError("give exactly one of --components N or --variance F") }
        if let c = components, c < 1 { throw ValidationError("--components must be at least 1") }
        if let v = variance, !(v > 0 && v < 1) { throw ValidationError("--variance must be strictly between 0 and 1") }
        if input.weightsColumn != nil { throw ValidationError("pca is unweighted (scikit-learn's PCA); leave out --weights-column") }
    }

    @OptionGroup var cluster: DistributedOptions

    func run() throws {
        try cluster.run(runOptions) { group in
            let t0 = Date()
            var read = input.readOptions
            if cluster.distributed {
                if transformOut != nil { throw StrataError.invalidArgument("--distributed writes the model only; project rows in a plain run") }
            }
            try cluster.shard(&read, input: input, plain: true, group: group)
            let data = try TableReader.read(path: input.input, options: read)
            data.warnings.forEach(Report.warn)
            let readSeconds = Date().timeIntervalSince(t0)
            let t1 = Date()
            let m = try PCA.fit(data, options: pcaOptions(group: group))
            if group.rank != 0 { Distributed.barrier(group); return }
            defer { if group.isDistributed { Distributed.barrier(group) } }
            let fitSeconds = Date().timeIntervalSince(t1)
            let file = PCAModelFile(m, columns: data.columns)
            var batch = OutputBatch()
            if let path = modelOut { try batch.stage(try file.encoded(), to: path) }
            if let path = transformOut { try batch.stage(try projections(m, data), to: path) }
            try batch.commit()
            let result = Result(m, file: file, data: data, outputs: .init(model: modelOut, transform: transformOut),
                                seconds: .init(read: readSeconds, fit: fitSeconds))
            if runOptions.json { Report.json(result) } else { printSummary(result) }
        }
    }

    func pcaOptions(group: any ChunkGroup) -> PCAOptions {
        var o = PCAOptions(components: components.map { .count($0) } ?? .varianceFraction(variance!))
        o.solver = solver
        o.whiten = whiten
        o.seed = seedOption.seed
        o.threads = runOptions.threads
        o.memoryBudget = input.memory.bytes
        o.group = group
        return o
    }

    /// id,pc0,...,pc{c-1} per row.
    func projections(_ m: PCAModel, _ data: Dataset) throws -> String {
        let z = try m.transform(data, threads: runOptions.threads)
        var text = "id," + (0..<m.count).map { "pc\($0)" }.joined(separator: ",") + "\n"
        text.reserveCapacity(data.rows * (12 + 12 * m.count))
        for i in 0..<data.rows {
            text += CSVOutput.field(data.id(i))
            for k in 0..<m.count { text += ","; text += "\(z[i, k])" }
            text += "\n"
        }
        return text
    }

    func printSummary(_ r: Result) {
        print("PCA (\(r.solver)) of \(r.rows) rows x \(r.columns.count) columns of \(input.input): \(r.nComponents) components")
        var cumulative = 0.0
        print("component\tvariance\tratio\tcumulative")
        for k in 0..<r.nComponents {
            cumulative += r.explainedVarianceRatio[k]
            print("pc\(k)\t\(fmt(r.explainedVariance[k]))\t\(String(format: "%.4f", r.explainedVarianceRatio[k]))\t\(String(format: "%.4f", cumulative))")
        }
        if let p = modelOut { print("model: \(p)") }
        if let p = transformOut { print("projections: \(p)") }
        print(String(format: "time: read %.2fs, fit %.3fs", r.seconds.read, r.seconds.fit))
    }

    /// `strata pca --json`.
    struct Result: Encodable {
        struct Outputs: Encodable { var model, transform: String? }
        struct Seconds: Encodable { var read, fit: Double }
        /// components x d.
        var components: [[Double]]
        var explainedVariance: [Double]
        var explainedVarianceRatio: [Double]
        var singularValues: [Double]
        var mean: [Double]
        var noiseVariance: FiniteOrNull
        var nComponents: Int
        var columns: [String]
        var rows: Int
        var solver: String
        var whiten: Bool
        var outputs: Outputs
        var seconds: Seconds

        init(_ m: PCAModel, file: PCAModelFile, data: Dataset, outputs: Outputs, seconds: Seconds) {
            components = file.components
            explainedVariance = m.explainedVariance
            explainedVarianceRatio = m.explainedVarianceRatio
            singularValues = m.singularValues
            mean = m.mean
            noiseVariance = FiniteOrNull(m.noiseVariance)
            nComponents = m.count
            columns = data.columns
            rows = data.rows
            solver = m.solver.rawValue
            whiten = m.whiten
            self.outputs = outputs
            self.seconds = seconds
        }
    }
}
