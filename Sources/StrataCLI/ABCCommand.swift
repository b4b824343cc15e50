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

    @Option(name: .long, help: "A labels file mapping customers to segments (id,segment; or strata segment's assignments.csv: customer_id,segment_id,segment_name): adds per-segment ABC.")
    var segments: String?

    @Option(name: .long, help: "The --segments column naming the segment (default: segment, else segment_name, else segment_id).")
    var segmentsColumn: String?

    @Option(name: .long, help: "Write the product table here (CSV; Parquet when the path ends in .parquet).")
    var out: String?

    @OptionGroup var runOptions: RunOptions
    @OptionGroup var scheduler: SchedulerOptions

    func validate() throws {
        try Report.checkStdout([out], json: runOptions.json)
        if !(aCut > 0 && aCut < bCut && bCut <= 1) { throw ValidationError("need 0 < --a-cut < --b-cut <= 1") }
    }

    func run() throws {
        try JobLog(job: "abc", options: scheduler).run(json: runOptions.json) {
            var t = input.options
            t.margin = marginColumn.map(ColumnRef.init)
            let map = try segments.map { try Self.segmentMap(path: $0, column: segmentsColumn) }
            let r = try ABC.run(path: input.transactions, transactions: t, measure: by, segments: map, a: aCut, b: bCut)
            if r.report.bad > 0 { Report.warn("\(input.transactions): " + r.report.badRowsText()) }
            if map != nil && r.join.unmatchedRows > 0 {
                Report.warn("\(input.transactions): \(r.join.unmatchedRows) order rows' customers have no segment in \(segments!) (e.g. \(r.join.unmatchedExamples.map { "'\(Excerpt.of($0))'" }.joined(separator: ", "))); they count in the overall classes only")
            }
            if let path = out {
                var batch = OutputBatch()
                try batch.stageTable(csv: Self.csv(overall: r.overall, bySegment: r.bySegment), to: path)
                try batch.commit()
            }
            let result = Result(overall: r.overall, classes: r.classes, bySegment: r.bySegment, report: r.report, rowsWithoutSegment: r.join.unmatchedRows, by: by, out: out)
            if runOptions.json { Report.json(result) } else if out != "-" && !scheduler.quiet { printSummary(r.classes, r.bySegment, result) }
            var gauges = PrometheusText()
            gauges.gauge("strata_abc_products", "Products by ABC class.", r.classes.keys.sorted().map { ([("strata_job", "abc"), ("class", $0)], Double(r.classes[$0]!.products)) })
            gauges.gauge("strata_abc_transactions", "Order-log rows by kind: read (usable), bad (skipped).",
                         [([("strata_job", "abc"), ("kind", "read")], Double(r.report.rows)), ([("strata_job", "abc"), ("kind", "bad")], Double(r.report.bad))])
            return gauges
        }
    }

    /// Customer id -> segment, from a labels file (id,segment); the first row of an id wins.
    static func segmentMap(path: String, column: String? = nil) throws -> [String: String] {
        let f = try LabelsFile.read(path: path, column: column)
        guard let ids = f.ids else { throw StrataError.badData(file: path, line: 1, column: "id", message: "the segments file needs an id (or customer_id) column") }
        return Dictionary(zip(ids, f.labels), uniquingKeysWith: { first, _ in first })
    }

    /// The product table: overall rows, then each segment's rows.
    static func csv(overall: [ABC.Product], bySegment: [String: [ABC.Product]]) -> String {
        var text = "product,value,share,cumulative_share,class,segment\n"
        let n = CSVOutput.number
        for p in overall { text += "\(CSVOutput.field(p.id)),\(n(p.value)),\(n(p.share)),\(n(p.cumulativeShare)),\(p.abcClass),\n" }
        for (s, products) in bySegment.sorted(by: { $0.key < $1.key }) {
            for p in products { text += "\(CSVOutput.field(p.id)),\(n(p.value)),\(n(p.share)),\(n(p.cumulativeShare)),\(p.abcClass),\(CSVOutput.field(s))\n" }
        }
        return text
    }

    func printSummary(_ classes: [String: ABC.ClassSummary], _ bySegment: [String: [ABC.Product]], _ r: Result) {
        print("ABC of \(r.products) products by \(by) from \(r.transactions) transactions")
        for c in ["A", "B", "C"] {
            let s = classes[c]!
            print(String(format: "%@: %d products (%.1f%%) carry %.1f%% of %@", c, s.products, 100 * s.productShare, 100 * s.valueShare, by.rawValue))
        }
        for (s, ps) in bySegment.sorted(by: { $0.key < $1.key }) {
            print("segment \(s): A = " + ps.filter { $0.abcClass == "A" }.prefix(10).map(\.id).joined(separator: ", "))
        }
        if let p = out { print("table: \(p)") }
    }

    /// `strata abc --json`.
    struct Result: Encodable {
        struct ClassSummary: Encodable {
            var products: Int
            var productShare: Double
            var valueShare: Double
        }
        /// Per segment: its class-A products in rank order (key "A", upper case like the class
        /// names, so written as a dictionary: the JSON writer's snake-case keys leave those alone).
        struct SegmentSummary: Encodable {
            var a: [String]
            var products: Int
            enum Value: Encodable {
                case products([String]), count(Int)
                func encode(to encoder: Encoder) throws {
                    var c = encoder.singleValueContainer()
                    switch self { case let .products(p): try c.encode(p); case let .count(n): try c.encode(n) }
                }
            }
            func encode(to encoder: Encoder) throws {
                var c = encoder.singleValueContainer()
                try c.encode(["A": Value.products(a), "products": Value.count(products)])
            }
        }
        struct Outputs: Encodable { var abc: String? }
        var products: Int
        var by: String
        var classes: [String: ClassSummary]
        var transactions: Int
        var badRows: Int
        var dateFormat: String
        /// Order rows whose customer has no segment in --segments (0 without it).
        var rowsWithoutSegment: Int
        var segments: [String: SegmentSummary]
        var outputs: Outputs

        init(overall: [ABC.Product], classes: [String: ABC.ClassSummary], bySegment: [String: [ABC.Product]],
             report: TransactionReadSummary, rowsWithoutSegment: Int, by: ABC.Measure, out: String?) {
            self.rowsWithoutSegment = rowsWithoutSegment
            products = overall.count
            self.by = by.rawValue
            self.classes = classes.mapValues { ClassSummary(products: $0.products, productShare: $0.productShare, valueShare: $0.valueShare) }
            transactions = report.rows
            dateFormat = report.dateFormat.description
            badRows = report.bad
            segments = bySegment.mapValues { ps in SegmentSummary(a: ps.filter { $0.abcClass == "A" }.map(\.id), products: ps.count) }
            outputs = Outputs(abc: out)
        }
    }
}
