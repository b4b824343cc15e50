import ArgumentParser
import Foundation
import Strata

struct ABCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "abc",
        abstract: "ABC (Pareto) profiling of products by revenue, quantity or margin, optionally per customer segment.",
        discussion: """
            Output CSV: product, value, share, cumulative_share, class (and segment rows with --segments). \
            A product is A while the cumulative share before it is below --a-cut, B below --b-cut, else C.
            """
    )

    @OptionGroup var input: TransactionArguments

    @Option(name: .long, help: "revenue (amount), quantity, or margin.")
    var by: ABC.Measure = .revenue

    @Option(name: .customLong("margin-column"), help: "Margin column (name or position) for --by margin.")
    var marginColumn: String?

    @Option(name: .customLong("a-cut"), help: "Cumulative share closing class A.")
    var aCut: Double = 0.8

    @Option(name: .customLong("b-cut"), help: "Cumulative share closing class B.")
    var bCut: Double = 0.95

    @Option(name: .long, help: "A labels file (id,segment) mapping customers to segments: adds per-segment ABC.")
    var segments: String?

    @Option(name: .long, help: "Write the product table here.")
    var out: String?

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if !(aCut > 0 && aCut < bCut && bCut <= 1) { throw ValidationError("need 0 < --a-cut < --b-cut <= 1") }
    }

    func run() throws {
        try Report.run(json: runOptions.json) {
            var t = input.options
            t.margin = marginColumn.map(ColumnRef.init)
            var map: [String: String]? = nil
            if let path = segments {
                let f = try LabelsFile.read(path: path)
                guard let ids = f.ids else { throw StrataError.badData(file: path, line: 1, column: "id", message: "the segments file needs an id column") }
                map = Dictionary(zip(ids, f.labels), uniquingKeysWith: { first, _ in first })
            }
            let r = try ABC.run(path: input.transactions, transactions: t, measure: by, segments: map, a: aCut, b: bCut)
            if let path = out {
                var text = "product,value,share,cumulative_share,class,segment\n"
                for p in r.overall { text += "\(CSVOutput.field(p.id)),\(p.value),\(p.share),\(p.cumulativeShare),\(p.abcClass),\n" }
                for (s, products) in r.bySegment.sorted(by: { $0.key < $1.key }) {
                    for p in products { text += "\(CSVOutput.field(p.id)),\(p.value),\(p.share),\(p.cumulativeShare),\(p.abcClass),\(CSVOutput.field(s))\n" }
                }
                var batch = OutputBatch()
                try batch.stage(text, to: path)
                try batch.commit()
            }
            let classes = r.classes.mapValues { ["products": $0.products, "product_share": $0.productShare, "value_share": $0.valueShare] as [String: Any] }
            if runOptions.json {
                Report.json(["products": r.overall.count, "by": by.rawValue, "classes": classes, "transactions": r.report.rows, "bad_rows": r.report.bad,
                             "segments": r.bySegment.mapValues { ps in ["A": ps.filter { $0.abcClass == "A" }.map(\.id), "products": ps.count] as [String: Any] },
                             "outputs": out.map { ["abc": $0] } ?? [:]])
            } else {
                print("ABC of \(r.overall.count) products by \(by) from \(r.report.rows) transactions")
                for c in ["A", "B", "C"] {
                    let s = r.classes[c]!
                    print(String(format: "%@: %d products (%.1f%%) carry %.1f%% of %@", c, s.products, 100 * s.productShare, 100 * s.valueShare, by.rawValue))
                }
                for (s, ps) in r.bySegment.sorted(by: { $0.key < $1.key }) {
                    print("segment \(s): A = " + ps.filter { $0.abcClass == "A" }.prefix(10).map(\.id).joined(separator: ", "))
                }
                if let p = out { print("table: \(p)") }
            }
        }
    }
}
