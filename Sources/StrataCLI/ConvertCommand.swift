import ArgumentParser
import Foundation
import Strata

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a CSV or Parquet table to float32 .npy for fast repeated passes (memory-mapped, never copied).",
        discussion: """
            Writes OUT (float32, C order), OUT.json (sidecar: column names, id column, rows, source) and, \
            with an id column, OUT.ids (one id per line). Every strata command reading OUT takes its \
            column names and ids from the sidecar. The CSV is streamed in 64 MiB blocks, so any size \
            converts in bounded memory; errors name the CSV's line and column.
            """
    )

    @Option(name: .long, help: "CSV with a header row, or Parquet (a .parquet file, a directory of them, or a glob).") var input: String
    @Option(name: .long, help: "Output .npy path.") var out: String
    @Option(name: .long, help: "Feature columns (comma-separated; default every numeric column but the id).") var columns: String?
    @OptionGroup var id: IDColumnOption
    @Flag(name: .long, help: "Print one JSON object on stdout.") var json = false

    func validate() throws {
        if !out.lowercased().hasSuffix(".npy") { throw ValidationError("--out must end in .npy") }
        if input.lowercased().hasSuffix(".npy") { throw ValidationError("--input is already .npy") }
    }

    func run() throws {
        try Report.run(json: json) {
            let opts = TableReadOptions(columns: columns.map(commaList), idColumn: id.idColumn)
            let progress = Progress(enabled: !json)
            let r = try NPYConverter.convert(csv: input, to: out, options: opts) { rows in progress.report("converted \(rows) rows") }
            r.warnings.forEach(Report.warn)
            let result = Result(r, out: out)
            if json { Report.json(result) } else { result.printSummary(input: input) }
        }
    }

    /// `strata convert --json`.
    struct Result: Encodable {
        var rows: Int
        var columns: [String]
        var idColumn: OrNull<String>
        var outputs: [String]
        var seconds: Double

        init(_ r: NPYConverter.Result, out: String) {
            rows = r.rows
            columns = r.columns
            idColumn = OrNull(r.idColumn)
            outputs = [out, out + ".json"] + (r.idColumn == nil ? [] : [out + ".ids"])
            seconds = r.seconds
        }

        func printSummary(input: String) {
            print("converted \(rows) rows x \(columns.count) columns of \(input) in \(String(format: "%.2f", seconds)) s: \(outputs.joined(separator: ", "))")
        }
    }
}
