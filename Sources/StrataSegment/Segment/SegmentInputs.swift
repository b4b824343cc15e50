import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// The customer table a segmentation job models: the customer feature table, the RFM/CLV
/// features derived from an order log, or both joined on the customer id.
struct SegmentInputs {
    var raw: RawTable
    var extras = ProfileExtras()
    /// Counts and fitted parameters for run.json.
    var counts: [String: Any] = [:]
    var clvModel: [String: Any]? = nil
    /// Per-customer RFM summary, by id (for the report's RFM section).
    var rfmSummary: [String: Int]? = nil
    /// Transaction-derived feature columns (units in run.json).
    static let derivedColumns = ["recency_days", "frequency", "monetary_total", "monetary_mean", "tenure_days", "clv"]

    static func load(_ c: SegmentConfig, threads: Int, log: (String) -> Void) throws -> SegmentInputs {
        var table: RawTable? = nil
        if let path = c.customers {
            table = try readCustomers(path: path, config: c)
            log("customers: \(SegmentNaming.grouped(table!.rows)) rows, \(table!.numericNames.count) numeric and \(table!.categoricalNames.count) categorical columns from \(path)")
        }
        guard let t = c.transactions else { return SegmentInputs(raw: table!) }

        // Transactions: RFM in days, BTYD (CLV) in weeks.
        var o = RFMOptions()
        if let s = t.asOf {
            guard let d = CivilDate.parse(Substring(s), format: nil) ?? t.dateFormat.flatMap({ CivilDate.parse(Substring(s), format: $0) }) else {
                throw StrataError.invalidArgument("transactions.as_of '\(s)' is not a date (YYYY-MM-DD)")
            }
            o.asOf = d
        }
        o.unit = .days
        let (summaries, report) = try RFM.summarize(path: t.path, transactions: t.options, options: o)
        var counts: [String: Any] = ["transactions": report.transactions, "bad_transaction_rows": report.badRows,
                                     "transaction_customers": summaries.count, "after_as_of": report.afterAsOf,
                                     "as_of": CivilDate.string(report.asOf)]
        if let b = report.firstBadRows.first { counts["first_bad_transaction_row"] = ["line": b.line, "column": b.column ?? "", "message": b.message] }
        log("transactions: \(SegmentNaming.grouped(report.transactions)) rows (\(report.badRows) bad, skipped) for \(SegmentNaming.grouped(summaries.count)) customers from \(t.path)")
        var clv: [Double]? = nil
        var clvModel: [String: Any]? = nil
        if t.clv {
            let weekly = summaries.map { s -> CustomerSummary in
                var w = s
                w.btydRecency /= 7; w.btydT /= 7
                return w
            }
            let r = try CLV.run(weekly, horizon: t.clvHorizonWeeks, discount: t.clvDiscount, threads: threads)
            clv = r.results.map(\.clv)
            clvModel = ["bgnbd": ["r": r.bgnbd.r, "alpha": r.bgnbd.alpha, "a": r.bgnbd.a, "b": r.bgnbd.b,
                                  "converged": r.bgnbd.converged, "at_bound": r.bgnbd.atBound] as [String: Any],
                        "gamma_gamma": ["p": r.gammaGamma.p, "q": r.gammaGamma.q, "gamma": r.gammaGamma.gamma, "at_bound": r.gammaGamma.atBound] as [String: Any],
                        "horizon_weeks": t.clvHorizonWeeks, "discount_per_week": t.clvDiscount, "unique_triples": r.uniqueTriples,
                        "total_clv": r.results.reduce(0.0) { $0 + $1.clv }]
            if r.bgnbd.atBound || r.gammaGamma.atBound {
                log("warning: a CLV model parameter reached its search bound (no dropout or no heterogeneity in the data); treat CLV with care")
            }
            log(String(format: "CLV: BG/NBD r=%.3g alpha=%.3g a=%.3g b=%.3g on %d unique triples", r.bgnbd.r, r.bgnbd.alpha, r.bgnbd.a, r.bgnbd.b, r.uniqueTriples))
        }
        // Derived columns per transaction customer.
        func derived(_ s: CustomerSummary, _ i: Int) -> [Float] {
            var v: [Float] = [Float(s.recency), Float(s.purchaseDays), Float(s.totalSpend), Float(s.totalSpend / Double(max(1, s.purchaseDays))), Float(s.tenure)]
            if let clv { v.append(Float(clv[i])) }
            return v
        }
        let names = Array(derivedColumns.prefix(clv == nil ? 5 : 6))
        var extras = ProfileExtras()
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
            for (i, s) in summaries.enumerated() { index[s.id] = i }
            var cols = [[Float]](repeating: [], count: names.count)
            var revenue = [Double](), clvCol = [Double](), rfm = [String]()
            var without = 0
            for id in ids {
                if let i = index[id] {
                    for (j, v) in derived(summaries[i], i).enumerated() { cols[j].append(v) }
                    revenue.append(summaries[i].totalSpend)
                    clvCol.append(clv?[i] ?? .nan)
                    rfm.append(summaries[i].segment)
                } else {
                    // No purchase yet: nothing bought, recency/tenure unknown (imputed).
                    without += 1
                    for (j, name) in names.enumerated() { cols[j].append(name == "frequency" || name == "monetary_total" || name == "clv" ? 0 : .nan) }
                    revenue.append(0); clvCol.append(0); rfm.append("No purchases")
                }
            }
            table.numericNames += names
            table.numeric += cols
            raw = table
            extras.revenue = revenue
            extras.clv = clv == nil ? nil : clvCol
            extras.rfmSegment = rfm
            counts["customers_without_transactions"] = without
            counts["transaction_customers_not_in_table"] = summaries.count - (ids.count - without)
        } else {
            var cols = [[Float]](repeating: [], count: names.count)
            for (i, s) in summaries.enumerated() { for (j, v) in derived(s, i).enumerated() { cols[j].append(v) } }
            raw = RawTable(source: t.path, rows: summaries.count, numericNames: names, numeric: cols, categoricalNames: [], categorical: [],
                           idColumn: "customer_id", ids: summaries.map(\.id), lines: Array(repeating: 0, count: summaries.count))
            extras.revenue = summaries.map(\.totalSpend)
            extras.clv = clv
            extras.rfmSegment = summaries.map(\.segment)
        }
        // Column selection also applies to derived features.
        if let wanted = c.columns {
            let keep = raw.numericNames.indices.filter { wanted.contains(raw.numericNames[$0]) }
            for w in wanted where !raw.numericNames.contains(w) {
                throw StrataError.invalidArgument("columns: '\(w)' is not a numeric column; numeric columns are \(raw.numericNames.joined(separator: ", "))")
            }
            raw.numericNames = keep.map { raw.numericNames[$0] }
            raw.numeric = keep.map { raw.numeric[$0] }
        }
        let drop = raw.numericNames.indices.filter { c.exclude.contains(raw.numericNames[$0]) }
        for j in drop.reversed() { raw.numericNames.remove(at: j); raw.numeric.remove(at: j) }
        var rfmMix: [String: Int] = [:]
        for s in extras.rfmSegment ?? [] { rfmMix[s, default: 0] += 1 }
        return SegmentInputs(raw: raw, extras: extras, counts: counts, clvModel: clvModel, rfmSummary: rfmMix)
    }

    /// Reads the customer table: numeric columns as given or inferred, categorical columns as
    /// given or inferred (text columns with at most 50 distinct values in the first 1,000 rows).
    static func readCustomers(path: String, config c: SegmentConfig) throws -> RawTable {
        if path.lowercased().hasSuffix(".npy") {
            if let cat = c.categorical, !cat.isEmpty { throw StrataError.invalidArgument("\(path): .npy files have no categorical columns") }
            var t = RawTable(try TableReader.read(path: path, options: TableReadOptions(idColumn: c.idColumn)))
            let wanted = c.columns
            let drop = t.numericNames.indices.filter { j in
                c.exclude.contains(t.numericNames[j]) || (wanted.map { !$0.contains(t.numericNames[j]) } ?? false)
            }
            for j in drop.reversed() { t.numericNames.remove(at: j); t.numeric.remove(at: j) }
            return t
        }
        let sniff = try sniffColumns(path: path)
        let idColumn = c.idColumn ?? sniff.header.first { TableReadOptions.inferredIdNames.contains($0.lowercased()) }
        let categorical = c.categorical ?? sniff.header.filter { name in
            name != idColumn && !c.exclude.contains(name) && !(sniff.numeric[name] ?? true) && (sniff.distinct[name] ?? 0) <= 50
        }
        var numeric: [String]? = nil
        if c.transactions == nil, let cols = c.columns { numeric = cols }
        else {
            numeric = sniff.header.filter { ($0 != idColumn) && (sniff.numeric[$0] ?? false) && !categorical.contains($0) && !c.exclude.contains($0) }
        }
        return try RawTable.read(path: path, numeric: numeric, categorical: categorical, idColumn: idColumn)
    }

    /// Header, numeric-ness and distinct counts of each column over the first 1,000 rows (first 4 MB).
    static func sniffColumns(path: String) throws -> (header: [String], numeric: [String: Bool], distinct: [String: Int]) {
        let bytes = try readFileBytes(path, limit: 4 << 20)
        return try bytes.withUnsafeBufferPointer { buf in
            var tok = CSVTokenizer(bytes: buf, file: path)
            var fields: [FieldSpan] = []
            guard try tok.next(into: &fields) != nil else {
                throw StrataError.badData(file: path, line: nil, column: nil, message: "the file is empty; a header row naming the columns is required")
            }
            let header = fields.map { tok.string($0).trimmingCharacters(in: .whitespaces) }
            var numeric = [Bool](repeating: true, count: header.count), seen = [Bool](repeating: false, count: header.count)
            var distinct = [Set<String>](repeating: [], count: header.count)
            var rows = 0
            while rows < 1000, (try? tok.next(into: &fields)) != nil {
                rows += 1
                guard fields.count == header.count else { continue }
                for (j, f) in fields.enumerated() {
                    switch tok.number(f) {
                    case .value, .nonFinite: seen[j] = true
                    case .empty: continue
                    case .notANumber: numeric[j] = false
                    }
                    if distinct[j].count <= 50 { distinct[j].insert(tok.string(f)) }
                }
            }
            var n: [String: Bool] = [:], d: [String: Int] = [:]
            for (j, h) in header.enumerated() { n[h] = numeric[j] && seen[j]; d[h] = distinct[j].count }
            return (header, n, d)
        }
    }
}
