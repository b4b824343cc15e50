import Foundation
import StrataCore
import StrataIO
import StrataParquet

/// Order logs in Parquet (a file, a directory of part files read in name order, or a glob) or
/// in PostgreSQL (a `postgresql://` URL naming a table or query; `PostgresTable`):
/// the same columns, options, bad-row rules and `Transaction`s as the CSV reader.
///
/// Columns by name or 1-based position in the schema. Dates: DATE, TIMESTAMP (any unit, with or
/// without time zone) and INT96 give their UTC calendar day, which is the day the CSV reader
/// reads from the same values written as ISO text (`2017-01-01 11:53:26`); a text or integer
/// date column is parsed with `DateFormat` (forced, or detected from its first 1,000 values)
/// exactly as in a CSV. Amounts, quantities, prices and margins: numeric columns (decimals
/// included) as numbers; text columns parsed with `AmountFormat`. A null is a bad row as an
/// empty CSV cell is. `Transaction.line` and bad-row lines are 1-based row numbers over the
/// whole input. Memory: one row group of the selected columns.
enum ParquetTransactions {
    static func read(path: String, options o: TransactionOptions, maxBadRowsKept: Int,
                     observe: ((UnsafeRawBufferPointer) -> Void)?, _ body: (Transaction) throws -> Void) throws -> TransactionReadSummary {
        guard let table = try ColumnarInput.open(path) else { throw StrataError.unreadable(path: path, reason: "not a Parquet or PostgreSQL input") }
        func index(_ ref: ColumnRef, _ option: String) throws -> Int {
            switch ref {
            case let .position(p):
                guard p >= 1, p <= table.columns.count else {
                    throw StrataError.invalidArgument("\(path): \(option) #\(p) is beyond the \(table.columns.count) columns")
                }
                return try table.index(of: table.columns[p - 1].name, option: option)
            case let .name(n): return try table.index(of: n, option: option)
            }
        }
        let ci = try index(o.customer, "--customer-column"), di = try index(o.date, "--date-column")
        let ui = try o.price.map { try index($0, "--price-column") }
        if ui != nil && o.quantity == nil { throw StrataError.invalidArgument("\(path): --price-column needs --quantity-column (amount = quantity x price)") }
        let ai = ui == nil ? try index(o.amount, "--amount-column") : nil
        let qi = try o.quantity.map { try index($0, "--quantity-column") }
        let pi = try o.product.map { try index($0, "--product-column") }
        let mi = try o.margin.map { try index($0, "--margin-column") }
        // Each optional column is read only when asked for: its place in `selected`, else nil.
        var selected = [ci, di]
        func slot(_ i: Int?) -> Int? { i.map { selected.append($0); return selected.count - 1 } }
        let (aSlot, qSlot, uSlot, mSlot, pSlot) = (slot(ai), slot(qi), slot(ui), slot(mi), slot(pi))
        var summary = TransactionReadSummary()
        let typedDates = table.columns[di].kind == .date || table.columns[di].physicalType == .int96 || {
            if case .timestamp = table.columns[di].kind { return true } else { return false }
        }()
        var dateFormat: DateFormat?
        if typedDates {
            dateFormat = .typed
        } else if let f = o.dateFormat {
            dateFormat = try DateFormat(forced: f)
        } else {
            let head = try table.head(columns: [di], limit: TransactionReader.detectionRows)
            let samples = (0..<min(head[0].count, TransactionReader.detectionRows)).map { Array((head[0].text($0) ?? "").utf8) }
            dateFormat = try DateFormat.detect(samples, file: path, column: table.columns[di].name, quoteValues: o.quoteValues)
            summary.dateFormatDetected = true
        }
        summary.dateFormat = dateFormat!
        let names = table.names
        func fail(_ row: Int, _ column: Int?, _ message: String) throws {
            let r = BadRow(line: row, column: column.map { names[$0] }, message: message)
            if o.strict { throw StrataError.badData(file: path, line: nil, column: r.column, message: "row \(row): " + r.message + " (--strict)") }
            summary.bad += 1
            if summary.badRows.count < maxBadRowsKept { summary.badRows.append(r) }
        }
        if let observe { try table.observeInput(observe) }
        try table.forEachRowGroup(columns: selected) { _, _, offset, cols in
            let (cust, date) = (cols[0], cols[1])
            let amountCol = aSlot.map { cols[$0] }, qCol = qSlot.map { cols[$0] }, uCol = uSlot.map { cols[$0] }
            let mCol = mSlot.map { cols[$0] }, pCol = pSlot.map { cols[$0] }
            func shown(_ c: ParquetColumn, _ i: Int) -> String { o.quoteValues ? " '\(Excerpt.of(c.text(i) ?? ""))'" : "" }
            func number(_ c: ParquetColumn, _ i: Int, _ k: Int, _ what: String, _ row: Int) throws -> Double? {
                var v: Double?
                if c.info.isNumeric { v = c.double(i) } else if let s = c.text(i) {
                    v = Array(s.utf8).withUnsafeBufferPointer { o.amountFormat.parse($0) }
                }
                guard let v, !v.isNaN else { try fail(row, k, "\(what)\(shown(c, i)) is not a number"); return nil }
                guard abs(v) <= TransactionReader.maxAmount else { try fail(row, k, "\(what)\(shown(c, i)) is beyond +-1e15"); return nil }
                return v
            }
            for i in 0..<cust.count {
                let row = offset + i + 1
                guard let id = cust.text(i), !id.isEmpty else { try fail(row, ci, "missing customer id"); continue }
                let day: Int?
                if typedDates { day = date.day(i) } else { day = date.text(i).flatMap { s in Array(s.utf8).withUnsafeBufferPointer { dateFormat!.day($0) } } }
                guard let day, day >= -719_162, day <= 2_932_896 else {
                    try fail(row, di, "date\(shown(date, i)) " + (typedDates ? "is missing or outside years 1-9999" : "does not match \(dateFormat!)")); continue
                }
                var quantity: Double? = nil
                if let qCol { guard let q = try number(qCol, i, qi!, "quantity", row) else { continue }; quantity = q }
                let amount: Double
                if let uCol {
                    guard let price = try number(uCol, i, ui!, "price", row) else { continue }
                    amount = quantity! * price
                    guard abs(amount) <= TransactionReader.maxAmount else { try fail(row, ui, "quantity x price is beyond +-1e15"); continue }
                } else {
                    guard let a = try number(amountCol!, i, ai!, "amount", row) else { continue }
                    amount = a
                }
                var margin: Double? = nil
                if let mCol { guard let v = try number(mCol, i, mi!, "margin", row) else { continue }; margin = v }
                var product: String? = nil
                if let pCol { guard let p = pCol.text(i), !p.isEmpty else { try fail(row, pi, "missing product id"); continue }; product = p }
                summary.rows += 1
                try body(Transaction(customer: id, day: day, amount: amount, quantity: quantity, product: product, margin: margin, line: row))
            }
        }
        return summary
    }
}
