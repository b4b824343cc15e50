import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// Stage 1 of `strata segment`: the customer table the job models. The customer feature table,
/// the RFM/CLV features derived from an order log, or both joined on the customer id.
///
/// Each input is read once: the customer CSV is read into memory once (its columns are sniffed
/// and parsed from the same bytes), the order log is streamed once, and both are hashed
/// (SHA-256, for run.json) from the bytes as they are read.
struct SegmentInputs {
    var raw: RawTable
    var extras = ProfileExtras()
    /// Order-log counts for run.json (nil without an order log).
    var counts = InputCounts()
    var clvModel: CLVModelSummary? = nil
    /// The input files with their sizes and SHA-256 (run.json `inputs`).
    var files: [InputFile] = []
    /// Transaction-derived feature columns (units in run.json).
    static let derivedColumns = ["recency_days", "frequency", "monetary_total", "monetary_mean", "tenure_days", "clv"]

    /// Reads the customer table and/or the order log of `c`.
    ///
    /// - Returns: the joined table (numeric columns: the table's, then the derived ones), the
    ///   revenue/CLV/RFM extras for profiles, counts, the fitted CLV model and input checksums.
    /// - Throws: `StrataError.badData` naming file, line and column; `.unreadable`;
    ///   `.invalidSetting` (`columns`, `transactions.as_of`); `.invalidArgument` for a column
    ///   clash or a missing id column.
    /// - Complexity: O(customers x columns + transactions); memory per customer, not per order.
    static func read(_ c: SegmentConfig, threads: Int, log: (String) -> Void) throws -> SegmentInputs {
        var table: RawTable? = nil
        var files: [InputFile] = []
        if c.customers == nil, let name = c.piiColumns.first {
            throw StrataError.invalidSetting("pii_columns", "'\(Excerpt.of(name))': pii_columns names columns of the customer table (customers), and there is none")
        }
        if c.customers == nil, let name = c.profileOnly.first {
            throw StrataError.invalidSetting("profile_only", "'\(Excerpt.of(name))': profile_only names columns of the customer table (customers), and there is none")
        }
        var profileOnly: [ProfileOnlyColumn] = []
        if let path = c.customers {
            var (t, file) = try readCustomers(path: path, config: c)
            profileOnly = splitProfileOnly(&t, names: c.profileOnly)
            table = t
            files.append(file)
            log("customers: \(SegmentNaming.grouped(t.rows)) rows, \(t.numericNames.count) numeric and \(t.categoricalNames.count) categorical columns from \(path)"
                + (t.categoricalNames.isEmpty ? "" : (c.algorithm == .kprototypes ? "; categories (not one-hot encoded): " : "; one-hot encoded: ")
                    + t.categoricalNames.joined(separator: ", ")))
            for w in t.warnings { log("warning: " + w) }
        }
        guard let t = c.transactions else {
            var extras = ProfileExtras()
            extras.profileOnly = profileOnly
            return SegmentInputs(raw: table!, extras: extras, files: files)
        }

        // Transactions: RFM in days, BTYD (CLV) in weeks.
        var o = RFMOptions()
        if let s = t.asOf {
            guard let d = CivilDate.parse(Substring(s), format: nil) ?? t.dateFormat.flatMap({ CivilDate.parse(Substring(s), format: $0) }) else {
                throw StrataError.invalidSetting("transactions.as_of", "'\(s)' is not a date (YYYY-MM-DD)")
            }
            o.asOf = d
        }
        func day(_ s: String?, key: String) throws -> Int? {
            guard let s else { return nil }
            guard let d = CivilDate.parse(Substring(s), format: nil) ?? t.dateFormat.flatMap({ CivilDate.parse(Substring(s), format: $0) }) else {
                throw StrataError.invalidSetting(key, "'\(s)' is not a date (YYYY-MM-DD)")
            }
            return d
        }
        o.calibrationEnd = try day(t.calibrationEnd, key: "transactions.calibration_end")
        if let c = o.calibrationEnd {
            // Without holdout_end, every later order is in the holdout (it ends on the last one).
            o.holdoutEnd = try day(t.holdoutEnd, key: "transactions.holdout_end") ?? Int.max
            if o.holdoutEnd! <= c { throw StrataError.invalidSetting("transactions.holdout_end", "'\(t.holdoutEnd!)' must be after calibration_end \(t.calibrationEnd!)") }
        }
        o.unit = .days
        var checksum = FileChecksum()
        // With a customer table, the join is checked on the first rows: an order log whose first
        // 1,000 customers match none of the table's fails before the rest of the log is read.
        let tableKeys = table?.ids.map { Set($0.map(CustomerKey.normalized)) }
        var probed = 0, probeMatched = 0
        var probeExamples: [String] = []
        let check: ((Transaction) throws -> Void)? = tableKeys.map { keys in
            { tr in
                guard probed < 1000 else { return }
                probed += 1
                if keys.contains(CustomerKey.normalized(tr.customer)) { probeMatched += 1 } else if probeExamples.count < 3, !probeExamples.contains(tr.customer) { probeExamples.append(tr.customer) }
                if probed == 1000 && probeMatched == 0 {
                    throw StrataError.badData(file: t.path, line: tr.line, column: t.customerColumn,
                                              message: "none of the first 1,000 order rows' customer ids is in \(c.customers!) (e.g. \(probeExamples.map(c.quotedID).joined(separator: ", "))); check customer_column and id_column")
                }
            }
        }
        let (summaries, report) = try RFM.summarize(path: t.path, transactions: c.orderLogOptions, options: o, observe: { checksum.update($0) }, check: check)
        files.append(checksum.record(path: t.path))
        var counts = InputCounts(transactions: report.transactions, badTransactionRows: report.badRows,
                                 transactionCustomers: summaries.count, afterAsOf: report.afterAsOf, asOf: CivilDate.string(report.asOf))
        counts.excludedFutureTransactions = report.excludedFuture
        if let first = summaries.map(\.firstDay).min(), let last = summaries.map(\.lastDay).max() {
            counts.firstOrder = CivilDate.string(first); counts.lastOrder = CivilDate.string(last)
        }
        counts.dateFormat = report.dateFormat
        if let b = report.firstBadRows.first { counts.firstBadTransactionRow = .init(line: b.line, column: b.column ?? "", message: b.message) }
        log("transactions: \(SegmentNaming.grouped(report.transactions)) rows (\(report.badRows) bad, skipped) for \(SegmentNaming.grouped(summaries.count)) customers from \(t.path); dates read as \(report.dateFormat)"
            + (report.dateFormatDetected ? " (detected)" : ""))
        if report.badRows > 0 { log("warning: \(t.path): " + report.read.badRowsText()) }
        if report.excludedFuture > 0, let cut = report.futureCutoff {
            log("warning: \(t.path): \(report.excludedFuture) order rows dated after \(CivilDate.string(cut)) (after the run day, or more than a year after the rest of the log) were excluded; set transactions.as_of to keep them")
        }
        if t.quantityColumn != nil && t.priceColumn == nil {
            log("warning: transactions.quantity_column is read but not used by segment unless transactions.price_column is given (amount = quantity x price)")
        }
        if o.calibrationEnd != nil {
            counts.holdoutTransactions = report.holdoutRows
            counts.afterHoldoutEnd = report.afterHoldout
            counts.holdoutOnlyCustomers = report.holdoutOnlyCustomers
            for w in report.holdoutWarnings(holdout: true, calibrationEnd: "transactions.calibration_end", holdoutEnd: "transactions.holdout_end") {
                log("warning: \(t.path): " + w)
            }
            if !t.clv && report.holdoutRows > 0 {
                log("warning: \(t.path): \(report.holdoutRows) order rows after transactions.calibration_end are not used: the features are as of calibration_end, and the CLV holdout evaluation is off with clv: false")
            }
        }
        var clv: [Double]? = nil
        var alive: [Double]? = nil
        var intervals: [CLVInterval]? = nil
        var clvModel: CLVModelSummary? = nil
        if t.clv {
            let weekly = summaries.map { s -> CustomerSummary in
                var w = s
                w.btydRecency /= 7; w.btydT /= 7
                return w
            }
            do {
                JobProgress.shared.phase("fitting CLV")
                let r = try CLV.fit(weekly, model: BGNBD.self, horizon: t.clvHorizonWeeks, discount: t.weeklyDiscount, threads: threads)
                clv = r.results.map(\.clv)
                alive = r.results.map(\.probabilityAlive)
                intervals = t.clvIntervalDraws == 0 ? nil
                    : CLVIntervals.compute(weekly, model: r.model, gammaGamma: r.gammaGamma, horizon: t.clvHorizonWeeks,
                                           discount: t.weeklyDiscount, draws: t.clvIntervalDraws, seed: c.seed, threads: threads)
                var holdout: CLVHoldoutEvaluation? = nil
                if let cal = o.calibrationEnd, let last = report.lastHoldoutDay {
                    let end = o.holdoutEnd == Int.max ? last : o.holdoutEnd!
                    holdout = CLVHoldoutEvaluation.evaluate(weekly, model: r.model, gammaGamma: r.gammaGamma, repeatPurchasesPerDay: report.repeatPurchasesPerDay,
                                                            calibrationEnd: cal, holdoutEnd: end, unitDays: 7, threads: threads)
                    log(String(format: "CLV holdout to %@: %d actual vs %.1f predicted repeat purchases (MAE %.3f per customer)",
                               CivilDate.string(end), holdout!.actualRepeatPurchases, holdout!.predictedRepeatPurchases, holdout!.mae))
                    clvModel = CLVModelSummary(r, horizonWeeks: t.clvHorizonWeeks, discountPerWeek: t.weeklyDiscount,
                                               holdout: CLVModelSummary.Holdout(holdout!, calibrationEnd: cal, end: end))
                } else {
                    clvModel = CLVModelSummary(r, horizonWeeks: t.clvHorizonWeeks, discountPerWeek: t.weeklyDiscount, holdout: nil)
                }
                for w in CLV.fitWarnings(r, intervalsWanted: t.clvIntervalDraws > 0, intervalsGiven: intervals != nil) { log("warning: CLV: " + w) }
                log(String(format: "CLV: BG/NBD r=%.3g alpha=%.3g a=%.3g b=%.3g on %d unique triples", r.model.r, r.model.alpha, r.model.a, r.model.b, r.uniqueTriples))
            } catch let e as StrataError {
                // The nightly job degrades instead of dying: segment on RFM features alone.
                switch e {
                case .insufficientData(let m), .numerical(let m): log("warning: the clv feature was skipped: \(m)")
                default: throw e
                }
            }
        }
        // Derived columns per transaction customer.
        func derived(_ s: CustomerSummary, _ i: Int) -> [Float] {
            var v: [Float] = [Float(s.recency), Float(s.purchaseDays), Float(s.totalSpend), Float(s.totalSpend / Double(max(1, s.purchaseDays))), Float(s.tenure)]
            if let clv { v.append(Float(clv[i])) }
            return v
        }
        let names = Array(derivedColumns.prefix(clv == nil ? 5 : 6))
        var extras = ProfileExtras()
        extras.profileOnly = profileOnly
        var raw: RawTable
        if var table {
            guard let ids = table.ids else {
                throw StrataError.invalidArgument("\(c.customers!): joining the order log needs a customer id column in the customer table (id_column)")
            }
            for name in names where table.numericNames.contains(name) {
                throw StrataError.invalidArgument("\(c.customers!): column '\(name)' clashes with a feature derived from the transactions; rename it or add it to exclude")
            }
            var index: [String: Int] = [:]
            index.reserveCapacity(summaries.count)
            for (i, s) in summaries.enumerated() { index[CustomerKey.normalized(s.id)] = i }
            var cols = [[Float]](repeating: [], count: names.count)
            var revenue = [Double](), clvCol = [Double](), rfm = [String](), lo = [Double](), hi = [Double](), aliveCol = [Double]()
            var without = 0
            for id in ids {
                if let i = index[CustomerKey.normalized(id)] {
                    for (j, v) in derived(summaries[i], i).enumerated() { cols[j].append(v) }
                    revenue.append(summaries[i].totalSpend)
                    clvCol.append(clv?[i] ?? .nan)
                    aliveCol.append(alive?[i] ?? .nan)
                    lo.append(intervals?[i].clvP05 ?? .nan); hi.append(intervals?[i].clvP95 ?? .nan)
                    rfm.append(summaries[i].segment)
                } else {
                    // No purchase yet: nothing bought, recency/tenure unknown (imputed).
                    without += 1
                    for (j, name) in names.enumerated() { cols[j].append(name == "frequency" || name == "monetary_total" || name == "clv" ? 0 : .nan) }
                    revenue.append(0); clvCol.append(0); lo.append(0); hi.append(0); rfm.append("No purchases"); aliveCol.append(.nan)
                }
            }
            table.numericNames += names
            table.numeric += cols
            raw = table
            extras.revenue = revenue
            extras.clv = clv == nil ? nil : clvCol
            extras.probabilityAlive = alive == nil ? nil : aliveCol
            if intervals != nil { extras.clvP05 = lo; extras.clvP95 = hi }
            extras.rfmSegment = rfm
            counts.customersWithoutTransactions = without
            let matched = ids.count - without
            counts.transactionCustomersNotInTable = summaries.count - matched
            if matched == 0 {
                throw StrataError.badData(file: t.path, line: nil, column: t.customerColumn,
                                          message: "none of the order log's \(summaries.count) customer ids is in \(c.customers!) (e.g. \(summaries.prefix(3).map { c.quotedID($0.id) }.joined(separator: ", "))); check customer_column and id_column")
            }
            let notInTable = summaries.count - matched
            if notInTable > 0 {
                let keys = tableKeys!   // the table's normalized ids, built for the early join check
                let examples = summaries.lazy.filter { !keys.contains(CustomerKey.normalized($0.id)) }.prefix(3).map { c.quotedID($0.id) }
                log("warning: \(notInTable) of the order log's \(summaries.count) customers are not in \(c.customers!) (e.g. \(examples.joined(separator: ", "))); their orders are not modelled")
            }
        } else {
            var cols = [[Float]](repeating: [], count: names.count)
            for (i, s) in summaries.enumerated() { for (j, v) in derived(s, i).enumerated() { cols[j].append(v) } }
            raw = RawTable(source: t.path, rows: summaries.count, numericNames: names, numeric: cols, categoricalNames: [], categorical: [],
                           idColumn: "customer_id", ids: summaries.map(\.id), lines: Array(repeating: 0, count: summaries.count))
            extras.revenue = summaries.map(\.totalSpend)
            extras.clv = clv
            extras.probabilityAlive = alive
            extras.clvP05 = intervals?.map(\.clvP05); extras.clvP95 = intervals?.map(\.clvP95)
            extras.rfmSegment = summaries.map(\.segment)
        }
        // Column selection also applies to derived features.
        if let wanted = c.columns {
            let keep = raw.numericNames.indices.filter { wanted.contains(raw.numericNames[$0]) }
            for w in wanted where !raw.numericNames.contains(w) {
                throw StrataError.invalidSetting("columns", "'\(w)' is not a numeric column; numeric columns are \(Excerpt.list(raw.numericNames))")
            }
            raw.numericNames = keep.map { raw.numericNames[$0] }
            raw.numeric = keep.map { raw.numeric[$0] }
        }
        let drop = raw.numericNames.indices.filter { c.exclude.contains(raw.numericNames[$0]) }
        for j in drop.reversed() { raw.numericNames.remove(at: j); raw.numeric.remove(at: j) }
        return SegmentInputs(raw: raw, extras: extras, counts: counts, clvModel: clvModel, files: files)
    }

    /// Reads the customer table: numeric columns as given or inferred, categorical columns as
    /// given or inferred (text columns with at most 50 distinct values in the first 1,000 rows).
    /// Returns the table and the file's checksum record (hashed from the same bytes).
    static func readCustomers(path: String, config c: SegmentConfig) throws -> (RawTable, InputFile) {
        if path.lowercased().hasSuffix(".npy") {
            if let cat = c.categorical, !cat.isEmpty { throw StrataError.invalidArgument("\(path): .npy files have no categorical columns") }
            var t = RawTable(try TableReader.read(path: path, options: TableReadOptions(idColumn: c.idColumn)))
            let wanted = c.columns
            try checkPIIColumns(c, header: t.numericNames + [t.idColumn].compactMap { $0 }, path: path)
            let drop = t.numericNames.indices.filter { j in
                c.exclude.contains(t.numericNames[j]) || c.piiColumns.contains(t.numericNames[j])
                    || (wanted.map { !$0.contains(t.numericNames[j]) } ?? false)
            }
            for j in drop.reversed() { t.numericNames.remove(at: j); t.numeric.remove(at: j) }
            // Memory-mapped, never read whole: hashed by one streaming pass.
            let sum = try? FileChecksum.sha256(path: path)
            return (t, InputFile(path: path, bytes: sum?.bytes, sha256: sum?.hex))
        }
        if let table = try ColumnarInput.open(path) {
            // Parquet: the files' bytes; PostgreSQL: the COPY text of the rows read.
            var checksum = FileChecksum()
            try table.observeInput { checksum.update($0) }
            let t = try readCustomers(header: table.names, sniff: try ColumnSniff(parquet: table), path: table.path, config: c) { numeric, categorical, idColumn in
                try table.rawTable(numeric: numeric, categorical: categorical, idColumn: idColumn, unparsable: c.impute == .none ? .error : .missing)
            }
            return (t, checksum.record(path: table.path))
        }
        let bytes = try readFileBytes(path)
        var checksum = FileChecksum()
        bytes.withUnsafeBytes { checksum.update($0) }
        let table = try bytes.withUnsafeBufferPointer { buf in try readCustomers(bytes: buf, path: path, config: c) }
        return (table, checksum.record(path: path))
    }

    /// Sniffs (first 1,000 rows, `ColumnSniff`) and parses the customer CSV from its bytes in
    /// memory. Unless `columns`/`categorical` say otherwise: numeric columns are features; text
    /// columns whose values repeat (at most 50 distinct) are one-hot encoded; other text columns
    /// (names, e-mails, free text) and empty columns are ignored, and the table's `warnings` say
    /// which. With an imputation set, a non-number in a numeric column is a missing value
    /// (counted in `warnings`); with `impute: none` it is an error naming line and column.
    static func readCustomers(bytes: UnsafeBufferPointer<UInt8>, path: String, config c: SegmentConfig) throws -> RawTable {
        let head = UnsafeBufferPointer(rebasing: bytes[0..<min(bytes.count, 4 << 20)])
        var tok = CSVTokenizer(bytes: head, file: path)
        var fields: [FieldSpan] = []
        guard (try? tok.next(into: &fields)) != nil else {
            throw StrataError.badData(file: path, line: nil, column: nil, message: "the file is empty; a header row naming the columns is required")
        }
        let header = try CSVHeader.names(fields, tokenizer: tok, file: path)
        let sniff = try ColumnSniff(header: header, from: tok)
        return try readCustomers(header: header, sniff: sniff, path: path, config: c) { numeric, categorical, idColumn in
            try RawTable.read(bytes: bytes, path: path, numeric: numeric, categorical: categorical, idColumn: idColumn,
                              unparsable: c.impute == .none ? .error : .missing)
        }
    }

    /// The column choices and checks of `readCustomers` from a header and its sniffed first
    /// rows; `read` reads the table (CSV bytes or a Parquet input) with the chosen columns.
    static func readCustomers(header: [String], sniff: ColumnSniff, path: String, config c: SegmentConfig,
                              read: (_ numeric: [String]?, _ categorical: [String], _ idColumn: String?) throws -> RawTable) throws -> RawTable {
        let idColumn = c.idColumn ?? header.first { TableReadOptions.inferredIdNames.contains($0.lowercased()) }
        try checkPIIColumns(c, header: header, path: path)
        try checkProfileOnlyColumns(c, header: header, idColumn: idColumn, path: path)
        let candidates = header.indices.filter { header[$0] != idColumn && !c.exclude.contains(header[$0]) && !c.piiColumns.contains(header[$0])
            && !c.profileOnly.contains(header[$0]) }
        let categorical = c.categorical ?? candidates.filter { sniff.isCategorical($0) }.map { header[$0] }
        var numeric: [String]? = nil
        if c.transactions == nil, let cols = c.columns { numeric = cols }
        else { numeric = candidates.filter { sniff.isNumeric($0) && !categorical.contains(header[$0]) }.map { header[$0] } }
        // Profile-only columns are read as text beside the features (split out by the caller).
        var t = try read(numeric, categorical + c.profileOnly, idColumn)
        if let ids = t.ids {
            // Every output (assignments, migration, the next run's --previous) is keyed by the
            // customer id: two rows of one customer are a data error, not two customers.
            var firstLine: [String: Int] = [:]
            for (i, id) in ids.enumerated() {
                if let earlier = firstLine.updateValue(t.lines[i], forKey: CustomerKey.normalized(id)) {
                    throw StrataError.badData(file: path, line: t.lines[i], column: idColumn,
                                              message: "customer id \(c.quotedID(id)) appears twice (also on line \(earlier)); one row per customer")
                }
            }
        }
        // Identifier-like text columns (e-mails, phones, a value per customer) never become
        // one-hot features: their values would be listed in model.json, profiles.json and the report.
        for j in t.categoricalNames.indices.reversed() where !c.profileOnly.contains(t.categoricalNames[j]) {
            guard let why = IdentifierColumns.reason(t.categorical[j]) else { continue }
            t.warnings.append("\(path): column '\(Excerpt.of(t.categoricalNames[j]))' holds \(why.rawValue), so it identifies customers: "
                + "left out of the features and every output (list it in pii_columns to say so)")
            t.categoricalNames.remove(at: j)
            t.categorical.remove(at: j)
        }
        if c.categorical == nil {
            let ignored = candidates.filter { sniff.isText($0) && !categorical.contains(header[$0]) && !(numeric ?? []).contains(header[$0]) }
            let empty = candidates.filter { sniff.isEmpty($0) && !(numeric ?? []).contains(header[$0]) }
            if !ignored.isEmpty {
                t.warnings.append("\(path): text columns ignored (free text or more than 50 distinct values; not features): \(Excerpt.list(ignored.map { header[$0] })); list them in categorical to one-hot encode them")
            }
            if !empty.isEmpty { t.warnings.append("\(path): empty columns ignored: \(Excerpt.list(empty.map { header[$0] }))") }
        }
        return t
    }
}

extension SegmentInputs {
    /// `profile_only` must name columns of the customer table other than the id, and no column
    /// the model uses (`columns`, `categorical`) or that never leaves (`pii_columns`).
    /// Throws `StrataError.invalidSetting("profile_only", ...)`.
    static func checkProfileOnlyColumns(_ c: SegmentConfig, header: [String], idColumn: String?, path: String) throws {
        for name in c.profileOnly {
            func bad(_ m: String) -> StrataError { .invalidSetting("profile_only", "'\(Excerpt.of(name))' " + m) }
            guard header.contains(name) else { throw bad("is not a column of \(path); columns are \(Excerpt.list(header))") }
            if name == idColumn { throw bad("is the customer id column") }
            if c.columns?.contains(name) == true || c.categorical?.contains(name) == true { throw bad("is also a model feature (columns / categorical); a column is modelled or profiled only, not both") }
            if c.piiColumns.contains(name) { throw bad("is listed in pii_columns, which never appear in any output") }
        }
    }

    /// Moves the profile-only columns (read as text) out of the table's categorical columns.
    static func splitProfileOnly(_ t: inout RawTable, names: [String]) -> [ProfileOnlyColumn] {
        var out: [ProfileOnlyColumn] = []
        for name in names {
            guard let j = t.categoricalNames.lastIndex(of: name) else { continue }
            out.append(ProfileOnlyColumn(name: name, values: t.categorical[j]))
            t.categoricalNames.remove(at: j)
            t.categorical.remove(at: j)
        }
        return out
    }

    /// `pii_columns` must name columns of the customer table (a misspelt name would let the
    /// column through), and cannot also be asked for as features (`columns`, `categorical`).
    /// Throws `StrataError.invalidSetting("pii_columns", ...)`.
    static func checkPIIColumns(_ c: SegmentConfig, header: [String], path: String) throws {
        for name in c.piiColumns {
            guard header.contains(name) else {
                throw StrataError.invalidSetting("pii_columns", "'\(Excerpt.of(name))' is not a column of \(path); columns are \(Excerpt.list(header))")
            }
            if c.columns?.contains(name) == true {
                throw StrataError.invalidSetting("pii_columns", "'\(Excerpt.of(name))' is also listed in columns; a personal-data column is never a feature")
            }
            if c.categorical?.contains(name) == true {
                throw StrataError.invalidSetting("pii_columns", "'\(Excerpt.of(name))' is also listed in categorical; a personal-data column is never a feature")
            }
        }
    }
}

/// Order-log counts of the inputs stage (run.json `counts`; absent without an order log).
struct InputCounts: Encodable, Sendable {
    struct BadRowRecord: Encodable, Sendable { var line: Int; var column: String; var message: String }
    var transactions: Int? = nil
    var badTransactionRows: Int? = nil
    var transactionCustomers: Int? = nil
    var afterAsOf: Int? = nil
    var asOf: String? = nil
    /// The data period: the first and last order day of the modelled order rows.
    var firstOrder: String? = nil
    var lastOrder: String? = nil
    var firstBadTransactionRow: BadRowRecord? = nil
    var customersWithoutTransactions: Int? = nil
    var transactionCustomersNotInTable: Int? = nil
    /// Rows excluded as dated after the run day or far after the rest of the log.
    var excludedFutureTransactions: Int? = nil
    /// The order log's date format (detected or forced).
    var dateFormat: String? = nil
    /// With transactions.calibration_end: order rows in the holdout, rows after holdout_end, and
    /// customers first seen in the holdout (neither segmented nor evaluated).
    var holdoutTransactions: Int? = nil
    var afterHoldoutEnd: Int? = nil
    var holdoutOnlyCustomers: Int? = nil

}

/// The fitted CLV models (run.json `clv_model`): BG/NBD (Fader, Hardie & Lee 2005) and
/// Gamma-Gamma, fitted in weeks, with standard errors and 95% intervals (`ParameterEstimate`),
/// and with `calibration_end` the holdout evaluation (`CLVHoldoutEvaluation`).
public struct CLVModelSummary: Encodable, Sendable {
    public struct BGNBDParameters: Encodable, Sendable {
        public var r, alpha, a, b: Double
        public var rSe, alphaSe, aSe, bSe: OrNull<Double>
        public var rCi, alphaCi, aCi, bCi: OrNull<[Double]>
        public var converged: Bool
        public var atBound: Bool
    }
    public struct GammaGammaParameters: Encodable, Sendable {
        public var p, q, gamma: Double
        public var pSe, qSe, gammaSe: OrNull<Double>
        public var pCi, qCi, gammaCi: OrNull<[Double]>
        public var atBound: Bool
        /// False when q <= 1 (mean spend undefined): spends came from the fallback.
        public var valid: Bool
    }
    /// The holdout evaluation's headline numbers (the per-frequency and weekly detail is in
    /// `strata clv --holdout-end`).
    public struct Holdout: Encodable, Sendable {
        public var calibrationEnd: String
        public var periodEnd: String
        public var durationWeeks: Double
        public var customers: Int
        public var actualRepeatPurchases: Int
        public var predictedRepeatPurchases: Double
        public var mae, rmse: Double
        public var correlation: FiniteOrNull
        public var actualRevenue, predictedRevenue: Double

        public init(_ e: CLVHoldoutEvaluation, calibrationEnd: Int, end: Int) {
            self.calibrationEnd = CivilDate.string(calibrationEnd)
            periodEnd = CivilDate.string(end)
            durationWeeks = e.duration
            customers = e.customers
            actualRepeatPurchases = e.actualRepeatPurchases
            predictedRepeatPurchases = e.predictedRepeatPurchases
            mae = e.mae; rmse = e.rmse; correlation = FiniteOrNull(e.correlation)
            actualRevenue = e.spend.actualRevenue; predictedRevenue = e.spend.predictedRevenue
        }
    }
    public var bgnbd: BGNBDParameters
    public var gammaGamma: GammaGammaParameters
    public var horizonWeeks: Int
    public var discountPerWeek: Double
    public var uniqueTriples: Int
    public var totalCLV: Double
    public var holdout: OrNull<Holdout>

    init(_ r: CLVFit<BGNBD>, horizonWeeks: Int, discountPerWeek: Double,
         holdout: Holdout?) {
        let bg = r.model, gg = r.gammaGamma, be = bg.estimates, ge = gg.estimates
        bgnbd = BGNBDParameters(r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b, rSe: OrNull(be[0].se), alphaSe: OrNull(be[1].se), aSe: OrNull(be[2].se),
                                bSe: OrNull(be[3].se), rCi: OrNull(be[0].ci), alphaCi: OrNull(be[1].ci), aCi: OrNull(be[2].ci), bCi: OrNull(be[3].ci),
                                converged: bg.converged, atBound: bg.atBound)
        gammaGamma = GammaGammaParameters(p: gg.p, q: gg.q, gamma: gg.gamma, pSe: OrNull(ge[0].se), qSe: OrNull(ge[1].se), gammaSe: OrNull(ge[2].se),
                                          pCi: OrNull(ge[0].ci), qCi: OrNull(ge[1].ci), gammaCi: OrNull(ge[2].ci), atBound: gg.atBound, valid: gg.valid)
        self.horizonWeeks = horizonWeeks
        self.discountPerWeek = discountPerWeek
        uniqueTriples = r.uniqueTriples
        totalCLV = r.results.reduce(0.0) { $0 + $1.clv }
        self.holdout = OrNull(holdout)
    }
}
