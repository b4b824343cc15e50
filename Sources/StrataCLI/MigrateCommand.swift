import ArgumentParser
import Foundation
import Strata

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Segment migration between two runs: matched segments, migration matrix, moved, churned and new customers.",
        discussion: """
            --before and --after are `strata segment` output directories (segments matched by the \
            Hungarian method on centroid distance in original units) or assignment CSVs with \
            customer_id and segment_id columns (matched on customer overlap). Renumbered segments \
            are recognized either way. --moves-out lists every customer: customer_id, \
            before_segment, after_segment, status (stayed, moved, churned, new).
            """
    )

    @Option(name: .long, help: "Earlier run: output directory or assignments CSV.") var before: String
    @Option(name: .long, help: "Later run: output directory or assignments CSV.") var after: String
    @Option(name: .long, help: "Write the migration JSON here.") var out: String?
    @Option(name: .customLong("moves-out"), help: "Write the per-customer moves CSV here.") var movesOut: String?
    @Flag(name: .long, help: "Print exactly one JSON object on stdout.") var json = false

    func run() throws {
        try Report.run(json: json) {
            let b = try SegmentRunFiles.load(directory: before)
            let a = try SegmentRunFiles.load(directory: after)
            let m = try Migration.compute(before: b, after: a)
            var batch = OutputBatch()
            if let out { try batch.stage(try JSONOutput.pretty(m.record), to: out) }
            if let movesOut { try batch.stage(m.movesCSV, to: movesOut) }
            try batch.commit()
            if json {
                Report.json(RecordWithOutputs(m.record, outputs: ["migration": out, "moves": movesOut]))
            } else {
                printSummary(m, before: b, after: a)
            }
        }
    }

    func printSummary(_ m: Migration, before b: SegmentRunFiles, after a: SegmentRunFiles) {
        print("Migration from \(before) (\(b.ids.count) customers, k=\(b.k)) to \(after) (\(a.ids.count) customers, k=\(a.k))")
        print("matched on \(m.method)")
        for (i, j) in m.mapping.enumerated() {
            let to = j.map { "\($0) \(a.names[safeIndex: $0] ?? "")" } ?? "(no counterpart)"
            print("  before \(i) \(b.names[safeIndex: i] ?? "") -> now \(to)")
        }
        print("\nmatrix (rows: before segments, then new; columns: now segments, then churned), counts and row shares:")
        let header = ["", ] + (0..<a.k).map { "now \($0)" } + ["churned"]
        print(header.joined(separator: "\t"))
        for (i, row) in m.matrix.enumerated() {
            let total = Double(row.reduce(0, +))
            let cells = row.map { n in total == 0 ? "0" : String(format: "%d (%.0f%%)", n, 100 * Double(n) / total) }
            print(([i < b.k ? "before \(i)" : "new"] + cells).joined(separator: "\t"))
        }
        print("\nstayed \(m.stayed), moved \(m.moved), churned \(m.churned), new \(m.new)")
        let drift = m.shareDrift.enumerated().map { j, d in "now \(j): " + (d.map { String(format: "%+.1f pp", 100 * $0) } ?? "new segment") }
        print("share drift: " + drift.joined(separator: ", "))
        if let movesOut { print("per-customer moves: \(movesOut)") }
    }
}

extension Array {
    subscript(safeIndex i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}
