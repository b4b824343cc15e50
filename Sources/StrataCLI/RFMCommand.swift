import ArgumentParser
import Foundation
import Strata

/// Options to read an order log, shared by the customer-analytics commands.
struct TransactionArguments: ParsableArguments {
    @Option(name: .long, help: "Transactions file (CSV, or whitespace-separated with --delimiter whitespace), or Parquet: a .parquet file, a directory of them, or a glob.")
    var transactions: String

    @Option(name: .customLong("customer-column"), help: "Customer id column: a header name, or a 1-based position.")
    var customerColumn: String = "customer_id"

    @Option(name: .customLong("date-column"), help: "Date column (name or position).")
    var dateColumn: String = "date"

    @Option(name: .customLong("amount-column"), help: "Amount column (name or position); negative amounts are returns.")
    var amountColumn: String = "amount"

    @Option(name: .customLong("quantity-column"), help: "Optional quantity column.")
    var quantityColumn: String?

    @Option(name: .customLong("price-column"), help: "Optional unit-price column: amount = quantity x price (needs --quantity-column; --amount-column is then unused).")
    var priceColumn: String?

    @Option(name: .long, help: "Decimal mark of amounts: . or , (with , the thousands separator is .).")
    var decimal: AmountFormat.DecimalMark = .point

    @Option(name: .long, help: "Currency symbol or code to strip from amounts (e.g. € or USD); also allows thousands separators.")
    var currency: String?

    @Option(name: .customLong("product-column"), help: "Optional product id column.")
    var productColumn: String?

    @Option(name: .long, help: "Field delimiter: , ; tab or whitespace (runs of spaces, as in the CDNOW files).")
    var delimiter: TransactionOptions.Delimiter = .comma

    @Flag(name: .customLong("no-header"), help: "The file has no header row; name columns by 1-based position.")
    var noHeader = false

    @Option(name: .customLong("date-format"), help: "Force the date format: strftime-style (%Y %y %m %d %H %M %S %b %p %z, e.g. %d/%m/%Y %H:%M), iso8601, epoch or epoch_ms. Default: detected from the first 1,000 rows (ISO 8601, YYYYMMDD, M/D/YYYY, D/M/YYYY, D.M.YYYY, Unix epoch) and reported.")
    var dateFormat: String?

    @Flag(name: .long, help: "Make the first bad row fatal instead of counting and skipping it.")
    var strict = false

    var options: TransactionOptions {
        var o = TransactionOptions(customer: customerColumn, date: dateColumn, amount: amountColumn, quantity: quantityColumn, product: productColumn,
                                   delimiter: delimiter, hasHeader: !noHeader, dateFormat: dateFormat, strict: strict)
        o.price = priceColumn.map(ColumnRef.init)
        o.amountFormat = AmountFormat(decimal: decimal, currency: currency)
        return o
    }

    func validate() throws {
        if priceColumn != nil && quantityColumn == nil { throw ValidationError("--price-column needs --quantity-column (amount = quantity x price)") }
        if let f = dateFormat { do { _ = try DateFormat(forced: f) } catch let StrataError.invalidArgument(m) { throw ValidationError(m) } }
    }

    /// The reference days and unit for RFM and CLV, from the command line (errors exit 64).
    func summaryOptions(asOf: String?, calibrationEnd: String?, unit: RFMOptions.Unit) throws -> RFMOptions {
        var o = RFMOptions()
        do {
            o.asOf = try day(asOf, option: "--as-of")
            o.calibrationEnd = try day(calibrationEnd, option: "--calibration-end")
        } catch let e as ValidationError { throw StrataError.invalidArgument(e.message) }
        o.unit = unit
        return o
    }

    /// A day given on the command line: ISO 8601, or in --date-format.
    func day(_ s: String?, option: String) throws -> Int? {
        guard let s else { return nil }
        if let d = CivilDate.parse(Substring(s), format: nil) ?? dateFormat.flatMap({ CivilDate.parse(Substring(s), format: $0) }) { return d }
        throw ValidationError("\(option) '\(s)' is not a date (YYYY-MM-DD\(dateFormat.map { " or \($0)" } ?? ""))")
    }
}

struct RFMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rfm",
        abstract: "From an order log to per-customer RFM features, scores, named segments and the BTYD summary.",
        discussion: """
            Output CSV: customer_id, recency, frequency, monetary_total, monetary_mean, tenure, first_purchase, \
            last_purchase, btyd_frequency, btyd_recency, btyd_T, btyd_monetary_value, r_score, f_score, m_score, \
            rfm_segment; `strata kmeans --input` reads it directly. Bad rows are counted and reported with \
            their line numbers (--strict makes the first fatal). Returns (negative amounts) reduce spend.
            """
    )

    @OptionGroup var input: TransactionArguments

    @Option(name: .customLong("as-of"), help: "Reference date for recency and tenure (default: the calibration end, else the last transaction).")
    var asOf: String?

    @Option(name: .customLong("calibration-end"), help: "Leave out transactions after this date (the hold-out period).")
    var calibrationEnd: String?

    @Option(name: .long, help: "days or weeks (fractional) for recency, tenure and the BTYD summary.")
    var unit: RFMOptions.Unit = .days

    @Option(name: .long, help: "Quantile bins for the R, F and M scores.")
    var bins: Int = 5

    @Option(name: .long, help: "Write the customer feature table here (CSV; Parquet when the path ends in .parquet).")
    var out: String?

    @OptionGroup var runOptions: RunOptions
    @OptionGroup var scheduler: SchedulerOptions

    func validate() throws {
        try Report.checkStdout([out], json: runOptions.json)
        if bins < 2 { throw ValidationError("--bins must be at least 2") }
    }

    func run() throws {
        try JobLog(job: "rfm", options: scheduler).run(json: runOptions.json) {
            var o = try input.summaryOptions(asOf: asOf, calibrationEnd: calibrationEnd, unit: unit)
            o.bins = bins
            let t0 = Date()
            let (customers, report) = try RFM.summarize(path: input.transactions, transactions: input.options, options: o)
            Report.warnAboutRead(report, path: input.transactions)
            let seconds = Date().timeIntervalSince(t0)
            JobProgress.shared.phase("writing outputs")
            var batch = OutputBatch()
            if let path = out { try batch.stageTable(csv: RFM.csv(customers), to: path) }
            try batch.commit()
            let result = Result(customers: customers, report: report, unit: unit, out: out, seconds: seconds)
            if runOptions.json { Report.json(result) } else if out != "-" && !scheduler.quiet { printSummary(result, report: report) }
            return JobLog.orderLogGauges(job: "rfm", customers: result.customers, transactions: result.transactions, badRows: result.badRows)
        }
    }

    func printSummary(_ r: Result, report: RFMReport) {
        print("RFM of \(r.customers) customers from \(r.transactions) transactions in \(input.transactions) (as of \(r.asOf), \(unit); dates read as \(r.dateFormat)\(r.dateFormatDetected ? ", detected" : ""))")
        for (name, count) in r.segments.sorted(by: { $0.value > $1.value }) {
            print(name.padding(toLength: 20, withPad: " ", startingAt: 0) + String(format: "%8d  %5.1f%%", count, 100 * Double(count) / Double(r.customers)))
        }
        if let p = out { print("customers: \(p)") }
    }

    /// `strata rfm --json`.
    struct Result: Encodable {
        struct BadRowRecord: Encodable {
            var line: Int
            var column: OrNull<String>
            var message: String
        }
        struct Outputs: Encodable { var customers: String? }
        var customers: Int
        var transactions: Int
        var badRows: Int
        var firstBadRows: [BadRowRecord]
        var excludedAfterCalibration: Int
        var excludedAfterAsOf: Int
        /// Rows dated after the run day or far after the bulk of the log (no --as-of given).
        var excludedFuture: Int
        var dateFormat: String
        var dateFormatDetected: Bool
        var asOf: String
        var unit: String
        /// Customers per named RFM segment.
        var segments: [String: Int]
        var outputs: Outputs
        var seconds: Double

        init(customers list: [CustomerSummary], report: RFMReport, unit: RFMOptions.Unit, out: String?, seconds: Double) {
            customers = list.count
            transactions = report.transactions
            badRows = report.badRows
            firstBadRows = report.firstBadRows.map { BadRowRecord(line: $0.line, column: OrNull($0.column), message: $0.message) }
            excludedAfterCalibration = report.afterCalibration
            excludedAfterAsOf = report.afterAsOf
            excludedFuture = report.excludedFuture
            dateFormat = report.dateFormat
            dateFormatDetected = report.dateFormatDetected
            asOf = CivilDate.string(report.asOf)
            self.unit = unit.rawValue
            segments = list.reduce(into: [:]) { $0[$1.segment, default: 0] += 1 }
            outputs = Outputs(customers: out)
            self.seconds = seconds
        }
    }
}
