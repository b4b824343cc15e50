import ArgumentParser
import Foundation
import Strata

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Assign new rows to the segments of a saved model.",
        discussion: "The input must hold the model's feature columns (by name for CSV). Labels file: id,segment,distance."
    )

    @Option(name: .long, help: "A model.json written by `strata kmeans --model-out`.")
    var model: String

    @Option(name: .long, help: "Input table (CSV with header, or .npy with the model's column count).")
    var input: String

    @Option(name: .customLong("id-column"), help: "Column holding ids (default: the model's id column when present, else id/customer_id, else row numbers).")
    var idColumn: String?

    @Option(name: .customLong("labels-out"), help: "Write id,segment,distance per row here ('-' for stdout).")
    var labelsOut: String?

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if labelsOut == "-" && runOptions.json { throw ValidationError("--labels-out - and --json both want stdout; give --labels-out a file") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            let m = try KMeansModel.load(path: model)
            let isNPY = input.lowercased().hasSuffix(".npy")
            var opts = TableReadOptions(columns: m.columns, idColumn: idColumn)
            if isNPY {
                opts.columns = nil
            } else if idColumn == nil, let mid = m.idColumn, try csvHeader(input).contains(mid) {
                opts.idColumn = mid
            }
            let data = try TableReader.read(path: input, options: opts)
            let r = try m.predict(data, threads: runOptions.threads)
            var sizes = [Int](repeating: 0, count: m.k)
            for l in r.labels { sizes[Int(l)] += 1 }
            let labels = labelsOut.map { _ in CSVOutput.labels(ids: data.id, labels: r.labels, distances: r.distances) }
            var batch = OutputBatch()
            if let path = labelsOut, path != "-", let d = labels { try batch.stage(d, to: path) }
            try batch.commit()
            if labelsOut == "-", let d = labels { FileHandle.standardOutput.write(d); return }
            if runOptions.json {
                Report.json(["rows": data.rows, "k": m.k, "columns": m.columns, "inertia": r.inertia, "cluster_sizes": sizes,
                             "outputs": labelsOut.map { ["labels": $0] } ?? [:]])
            } else {
                print("predicted \(data.rows) rows of \(input) with \(model) (k=\(m.k)); inertia \(fmt(r.inertia, 8))")
                for c in 0..<m.k { print("segment \(c): \(sizes[c])") }
                if let l = labelsOut { print("labels: \(l)") } else { print("(write the labels with --labels-out FILE)") }
            }
        }
    }

    /// Header names of a CSV file (first record), for id-column defaulting.
    func csvHeader(_ path: String) throws -> [String] {
        guard let fh = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? fh.close() }
        let head = fh.readData(ofLength: 65_536)
        let line = String(decoding: head.prefix { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self)
        return line.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" \u{FEFF}"))
        }
    }
}
