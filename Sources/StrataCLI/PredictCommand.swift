import ArgumentParser
import Foundation
import Strata

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Assign new rows to the segments of a saved model (K-Means or Gaussian mixture).",
        discussion: """
            The input must hold the model's feature columns (by name for CSV). Labels file: \
            id,segment,distance for K-Means, id,segment,probability for a Gaussian mixture. \
            --proba-out (Gaussian mixtures): id,p0,...,p{k-1}.
            """
    )

    @Option(name: .long, help: "A model.json written by `strata kmeans --model-out`.")
    var model: String

    @Option(name: .long, help: "Input table (CSV with header, or .npy with the model's column count).")
    var input: String

    @OptionGroup var id: IDColumnOption

    @Option(name: .customLong("labels-out"), help: "Write the labels file here ('-' for stdout).")
    var labelsOut: String?

    @Option(name: .customLong("proba-out"), help: "Gaussian mixtures: write id,p0,...,p{k-1} per row here.")
    var probaOut: String?

    @OptionGroup var memory: MemoryBudgetOption

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if labelsOut == "-" && runOptions.json { throw ValidationError("--labels-out - and --json both want stdout; give --labels-out a file") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            let file = try AnyModelFile.load(path: model)
            // The model's id column is the default when the input has it.
            var idColumn = id.idColumn
            if idColumn == nil, !input.lowercased().hasSuffix(".npy"), let mid = file.idColumn, try CSVHeader.read(path: input).contains(mid) {
                idColumn = mid
            }
            // Replays the model's preprocessing and PCA, if any, exactly as fitted.
            let data = try file.stages.apply(path: input, idColumn: idColumn, modelColumns: file.columns, threads: runOptions.threads,
                                             memoryBudget: memory.bytes)
            let labels: [Int32], labelsData: Data?, k: Int
            var summary: [String: Any] = [:]
            var batch = OutputBatch()
            switch file {
            case let .kmeans(m):
                if probaOut != nil { throw StrataError.invalidArgument("--proba-out needs a Gaussian-mixture model; \(model) is K-Means") }
                let r = try m.predict(data, threads: runOptions.threads)
                labels = r.labels
                k = m.k
                summary["inertia"] = r.inertia
                if let path = labelsOut, path != "-" {
                    try CSVOutput.stageLabels(&batch, to: path, ids: data.id, labels: r.labels, distances: r.distances)
                    labelsData = nil
                } else {
                    labelsData = labelsOut.map { _ in CSVOutput.labels(ids: data.id, labels: r.labels, distances: r.distances) }
                }
            case let .gmm(m):
                let r = try m.mixture.predict(data, threads: runOptions.threads)
                labels = r.labels
                k = m.k
                summary["mean_log_likelihood"] = r.meanLogLikelihood
                labelsData = labelsOut.map { _ in CSVOutput.mixtureLabels(ids: data.id, labels: r.labels, probabilities: r.probabilities, k: m.k) }
                if let path = probaOut {
                    try batch.stage(CSVOutput.probabilities(ids: data.id, probabilities: r.probabilities, rows: data.rows, k: m.k), to: path)
                }
            }
            let sizes = ClusterLabels.counts(labels, k: k)
            if let path = labelsOut, path != "-", let d = labelsData { try batch.stage(d, to: path) }
            try batch.commit()
            if labelsOut == "-", let d = labelsData { FileHandle.standardOutput.write(d); return }
            if runOptions.json {
                var outputs: [String: String] = [:]
                if let v = labelsOut { outputs["labels"] = v }
                if let v = probaOut { outputs["proba"] = v }
                Report.json(summary.merging(["rows": data.rows, "k": k, "columns": file.columns, "cluster_sizes": sizes, "outputs": outputs]) { a, _ in a })
            } else {
                print("predicted \(data.rows) rows of \(input) with \(model) (k=\(k))")
                for c in 0..<k { print("segment \(c): \(sizes[c])") }
                if let l = labelsOut { print("labels: \(l)") } else { print("(write the labels with --labels-out FILE)") }
                if let p = probaOut { print("probabilities: \(p)") }
            }
        }
    }
}
