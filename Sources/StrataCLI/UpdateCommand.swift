import ArgumentParser
import Foundation
import Strata

struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Update a saved K-Means model with new customers (online, Spark StreamingKMeans' rule); segment ids stay.",
        discussion: """
            c <- (c n a + sum_new) / (n a + m) per segment, n <- n a + m, with a = --decay (default 1: \
            every customer so far weighs the same) or a = 0.5^(1/N) for --half-life N updates. The new \
            rows pass through the model's own preprocessing and PCA. The new model is written \
            atomically to --model-out (default: replaces --model); the report says how far each \
            center moved.
            """
    )

    @Option(name: .long, help: "K-Means model.json to update.") var model: String
    @Option(name: .long, help: "New customers (CSV or .npy), with the model's input columns.") var input: String
    @OptionGroup var id: IDColumnOption
    @Option(name: .long, help: "Decay factor in [0, 1] applied to the model's history.") var decay: Double?
    @Option(name: .customLong("half-life"), help: "Updates after which history weighs half (sets the decay).") var halfLife: Double?
    @Option(name: .customLong("model-out"), help: "Where to write the updated model (default: --model).") var modelOut: String?
    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if decay != nil && halfLife != nil { throw ValidationError("give --decay or --half-life, not both") }
        if let d = decay, !(d >= 0 && d <= 1) { throw ValidationError("--decay must be in [0, 1]") }
        if let h = halfLife, !(h > 0) { throw ValidationError("--half-life must be > 0") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            let file = try AnyModelFile.load(path: model)
            guard case let .kmeans(m) = file else {
                throw StrataError.invalidArgument("\(model) is not a K-Means model; update supports K-Means models")
            }
            let data = try file.stages.apply(path: input, idColumn: id.idColumn, modelColumns: m.columns, threads: runOptions.threads)
            data.warnings.forEach(Report.warn)
            let a = decay ?? halfLife.map { pow(0.5, 1 / $0) } ?? 1
            let (next, r) = try m.updated(with: data, decay: a, threads: runOptions.threads)
            let out = modelOut ?? model
            var batch = OutputBatch()
            try batch.stage(try next.encoded(), to: out)
            try batch.commit()
            let result = Result(r, decay: a, model: next, out: out)
            if runOptions.json { Report.json(result) } else { printSummary(result, before: m) }
        }
    }

    func printSummary(_ r: Result, before m: KMeansModelFile) {
        print("updated \(model) with \(r.rows) rows of \(input) (decay \(String(format: "%.4g", r.decay))) -> \(r.outputs.model)")
        for s in 0..<m.k {
            let name = m.segmentNames.map { " " + $0[s] } ?? ""
            print(String(format: "  segment %d%@: +%d rows, weight %.1f -> %.1f, center moved %.4g", s, name, r.assigned[s], r.countsBefore[s], r.countsAfter[s], r.shift[s]))
        }
    }

    /// `strata update --json`.
    struct Result: Encodable {
        struct Outputs: Encodable { var model: String }
        var rows: Int
        var decay: Double
        var assigned: [Int]
        var shift: [Double]
        var maxShift: Double
        var countsBefore: [Double]
        var countsAfter: [Double]
        var centroids: [[Double]]
        var outputs: Outputs

        init(_ r: KMeansUpdateReport, decay: Double, model next: KMeansModelFile, out: String) {
            rows = r.rows
            self.decay = decay
            assigned = r.assigned
            shift = r.shift
            maxShift = r.shift.max() ?? 0
            countsBefore = r.countsBefore
            countsAfter = r.countsAfter
            centroids = next.centroids
            outputs = Outputs(model: out)
        }
    }
}
