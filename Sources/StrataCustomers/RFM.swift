import StrataCore
import StrataIO
import Foundation

/// Options for RFM and the BTYD summary.
public struct RFMOptions: Sendable {
    /// days or weeks (fractional) for recency, tenure and the BTYD summary.
    public enum Unit: String, SettingChoice, CaseIterable {
        case days, weeks
        public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
        public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }
    }
    /// Reference day for recency and tenure (days since 1970-01-01). nil: the calibration end
    /// when given, else the last transaction day in the file.
    public var asOf: Int? = nil
    /// Transactions after this day are left out (the hold-out period). nil: none.
    public var calibrationEnd: Int? = nil
    /// With `calibrationEnd`: transactions in (calibration end, holdout end] are not left out but
    /// summarized apart, per customer (`holdoutPurchaseDays`, `holdoutSpend`) and per day
    /// (`RFMReport.repeatPurchasesPerDay`), for the holdout evaluation. nil: none.
    public var holdoutEnd: Int? = nil
    public var unit: Unit = .days
    /// Quantile bins of the R, F and M scores (default 5: scores 1-5).
    public var bins: Int = 5
    public init() {}
}

/// Everything known about one customer as of the reference day.
public struct CustomerSummary: Sendable, Equatable {
    public var id: String
    public var firstDay: Int
    public var lastDay: Int
    /// Distinct purchase days (orders), the first included.
    public var purchaseDays: Int
    public var transactions: Int
    /// Net spend (returns, as negative amounts, are subtracted).
    public var totalSpend: Double
    public var firstDaySpend: Double
    // RFM, in the chosen unit.
    public var recency: Double
    public var tenure: Double
    // BTYD summary (Fader, Hardie & Lee; lifetimes' convention), in the chosen unit.
    public var btydFrequency: Int
    public var btydRecency: Double
    public var btydT: Double
    /// Mean spend of the repeat purchase days (0 without repeats).
    public var btydMonetaryValue: Double
    public var rScore = 0, fScore = 0, mScore = 0
    public var segment = ""
    /// With `RFMOptions.holdoutEnd`: distinct purchase days in the holdout period and their net
    /// spend (lifetimes' `frequency_holdout`, with days as the period).
    public var holdoutPurchaseDays = 0
    public var holdoutSpend = 0.0
    /// Holdout days with net spend > 0 and their spend (the observed spend per purchase the
    /// holdout evaluation compares with Gamma-Gamma, which is fitted on positive days too).
    public var holdoutPositiveDays = 0
    public var holdoutPositiveSpend = 0.0
}

public struct RFMReport: Sendable {
    /// Usable rows, bad rows, and the first bad rows with their reasons (from `read`).
    public var transactions: Int { read.rows }
    public var badRows: Int { read.bad }
    public var firstBadRows: [BadRow] { read.badRows }
    public var afterCalibration = 0
    public var afterAsOf = 0
    /// With `RFMOptions.holdoutEnd`: rows in the holdout period, rows after it, rows of customers
    /// first seen in the holdout (not in the calibration set, so not evaluated), and per day the
    /// number of repeat purchase days of calibration customers (calibration and holdout: the
    /// actual line of the tracking plot).
    public var holdoutRows = 0
    public var afterHoldout = 0
    public var holdoutOnlyCustomers = 0
    /// The last order day in the holdout period (nil: none).
    public var lastHoldoutDay: Int? = nil

    /// What a holdout evaluation must say about its data (`clv` and the segment job word the
    /// settings their own way: `calibrationEnd`/`holdoutEnd` name them): an empty holdout,
    /// customers first seen in it (not evaluated), rows after it; without a holdout, the rows
    /// after the calibration end that were left out.
    public func holdoutWarnings(holdout: Bool, calibrationEnd: String, holdoutEnd: String) -> [String] {
        var w: [String] = []
        if holdout {
            if holdoutRows == 0 { w.append("no order is dated in the holdout period (after \(calibrationEnd) up to \(holdoutEnd)): every actual is 0") }
            if holdoutOnlyCustomers > 0 {
                w.append("\(holdoutOnlyCustomers) customers first bought in the holdout period (after \(calibrationEnd)): they are not in the calibration set, so they are neither modelled nor evaluated")
            }
            if afterHoldout > 0 { w.append("\(afterHoldout) order rows dated after \(holdoutEnd) were left out") }
        } else if afterCalibration > 0 {
            w.append("\(afterCalibration) order rows dated after \(calibrationEnd) were left out (give \(holdoutEnd) to evaluate the fit on them)")
        }
        return w
    }
    public var repeatPurchasesPerDay: [Int: Int] = [:]
    public var asOf = 0
    /// The date format used (`DateFormat.description`) and whether it was detected.
    public var dateFormat: String { read.dateFormat.description }
    public var dateFormatDetected: Bool { read.dateFormatDetected }
    /// Rows left out (without `asOf`) because they are dated after the run day, or more than a
    /// year after the bulk of the log (see `RFM.futureCutoff`), and the last day kept then.
    public var excludedFuture = 0
    public var futureCutoff: Int? = nil
    /// The reader's summary (rows, bad rows with reasons).
    public var read = TransactionReadSummary()
}

/// RFM features, scores and named segments, and the BTYD summary the CLV models use.
///
/// Transactions are aggregated per customer per day in one streaming pass; memory is proportional
/// to customers x distinct purchase days, not to transactions.
/// Conventions (lifetimes' `summary_data_from_transaction_data`): frequency = distinct purchase
/// days after the first; recency = days from the first to the last purchase day; T = days from the
/// first purchase to the reference day; monetary_value = mean spend of the repeat days. Weeks are
/// days / 7, fractional. A customer whose first purchase is after the reference day is left out.
public enum RFM {
    /// One purchase day of a customer: its spend and row count (16 bytes; one array per
    /// customer, sorted by day).
    struct DayTotal {
        var day: Int32, rows: Int32, spend: Double
    }

    /// Summarizes an order log per customer, streaming it once.
    ///
    /// - Parameters:
    ///   - path: the order log (CSV, any delimiter; see `TransactionOptions`).
    ///   - o: reference day (`asOf`), calibration end, unit (days or weeks), score bins.
    ///   - today: the run day (days since 1970-01-01, UTC); without `asOf`, rows after it are
    ///     excluded and counted (`excludedFuture`). Default: the system clock.
    ///   - observe: sees every byte of the file as it is read (checksums).
    ///   - check: sees every usable row before it is aggregated; throwing stops the read (the
    ///     segment job fails fast when the first rows match no customer of its table).
    /// - Returns: per customer (first-seen order): recency, frequency (purchase days), monetary
    ///   total and mean, tenure, R/F/M quintile scores and the RFM segment name, plus the BTYD
    ///   summary (frequency = repeat purchase days, recency, T) as lifetimes'
    ///   `summary_data_from_transaction_data`; and counts (rows, bad rows, after as-of, future).
    /// - Throws: `StrataError.unreadable`, `.badData` (strict mode: the first bad row, with line
    ///   and column; an empty file; no usable row, with the first reasons and their lines).
    /// - Complexity: O(transactions) time; memory 16 bytes per customer purchase day, not per order.
    public static func summarize(path: String, transactions t: TransactionOptions, options o: RFMOptions,
                                 today: Int = CivilDate.today(),
                                 observe: ((UnsafeRawBufferPointer) -> Void)? = nil,
                                 check: ((Transaction) throws -> Void)? = nil) throws -> ([CustomerSummary], RFMReport) {
        var index: [String: Int] = [:]
        var ids: [String] = []
        var acc: [[DayTotal]] = []
        // Holdout purchase days per customer (same index as `acc`), with `holdoutEnd` only.
        var hold: [[DayTotal]] = []
        var report = RFMReport()
        func add(_ list: inout [DayTotal], _ tr: Transaction) {
            let day = Int32(tr.day)   // the date parsers only produce years 1-9999
            // Sorted distinct days (binary search; usually appended at the end).
            let n = list.count
            if n > 0, list[n - 1].day == day { list[n - 1].spend += tr.amount; list[n - 1].rows += 1; return }
            var lo = 0, hi = n
            while lo < hi { let mid = (lo + hi) / 2; if list[mid].day < day { lo = mid + 1 } else { hi = mid } }
            if lo < n, list[lo].day == day { list[lo].spend += tr.amount; list[lo].rows += 1 }
            else { list.insert(DayTotal(day: day, rows: 1, spend: tr.amount), at: lo) }
        }
        func slot(_ customer: String) -> Int {
            if let i = index[customer] { return i }
            index[customer] = acc.count
            ids.append(customer)
            acc.append([])
            if o.holdoutEnd != nil { hold.append([]) }
            return acc.count - 1
        }
        var rowsPerDay: [Int: Int] = [:]
        let read = try TransactionReader.read(path: path, options: t, observe: observe) { tr in
            if let c = o.calibrationEnd, tr.day > c {
                if let h = o.holdoutEnd {
                    if tr.day > h { report.afterHoldout += 1; return }
                    try check?(tr)
                    report.holdoutRows += 1
                    report.lastHoldoutDay = max(report.lastHoldoutDay ?? tr.day, tr.day)
                    add(&hold[slot(tr.customer)], tr)
                    return
                }
                report.afterCalibration += 1; return
            }
            if let a = o.asOf, tr.day > a { report.afterAsOf += 1; return }
            try check?(tr)
            rowsPerDay[tr.day, default: 0] += 1
            add(&acc[slot(tr.customer)], tr)
        }
        report.read = read
        // Without a reference day, rows dated after the run day or far after the bulk are left out.
        let cutoff = o.asOf == nil && o.calibrationEnd == nil ? futureCutoff(rowsPerDay: rowsPerDay, today: today) : Int.max
        var lastSeen = Int.min
        for i in acc.indices {
            if let last = acc[i].last, Int(last.day) > cutoff {
                let keep = acc[i].firstIndex { Int($0.day) > cutoff }!
                report.excludedFuture += acc[i][keep...].reduce(0) { $0 + Int($1.rows) }
                acc[i].removeSubrange(keep...)
            }
            if let last = acc[i].last { lastSeen = max(lastSeen, Int(last.day)) }
        }
        if report.excludedFuture > 0 { report.futureCutoff = cutoff }
        guard lastSeen != Int.min else {
            let why = read.bad > 0 ? "; " + read.badRowsText() : ""
            let excluded = report.afterAsOf + report.afterCalibration + report.excludedFuture
            throw StrataError.badData(file: path, line: read.badRows.first?.line, column: read.badRows.first?.column,
                                      message: "no usable transactions on or before the reference day (\(read.rows + read.bad) rows read, \(read.bad) bad"
                                        + (excluded > 0 ? ", \(excluded) after the reference day" : "") + ")" + why)
        }
        let asOf = o.asOf ?? o.calibrationEnd ?? lastSeen
        report.asOf = asOf
        let scale = o.unit == .weeks ? 7.0 : 1.0
        var out: [CustomerSummary] = []
        out.reserveCapacity(acc.count)
        for (i, a) in acc.enumerated() {
            if a.isEmpty { if !hold.isEmpty, !hold[i].isEmpty { report.holdoutOnlyCustomers += 1 }; continue }
            let freq = a.count - 1
            let total = a.reduce(0.0) { $0 + $1.spend }
            let first = Int(a[0].day), last = Int(a[a.count - 1].day)
            out.append(CustomerSummary(
                id: ids[i], firstDay: first, lastDay: last, purchaseDays: a.count, transactions: a.reduce(0) { $0 + Int($1.rows) },
                totalSpend: total, firstDaySpend: a[0].spend, recency: Double(asOf - last) / scale, tenure: Double(asOf - first) / scale,
                btydFrequency: freq, btydRecency: Double(last - first) / scale, btydT: Double(asOf - first) / scale,
                btydMonetaryValue: freq > 0 ? a[1...].reduce(0.0) { $0 + $1.spend } / Double(freq) : 0))
            if !hold.isEmpty {
                out[out.count - 1].holdoutPurchaseDays = hold[i].count
                out[out.count - 1].holdoutSpend = hold[i].reduce(0.0) { $0 + $1.spend }
                let positive = hold[i].filter { $0.spend > 0 }
                out[out.count - 1].holdoutPositiveDays = positive.count
                out[out.count - 1].holdoutPositiveSpend = positive.reduce(0.0) { $0 + $1.spend }
                for d in a.dropFirst() { report.repeatPurchasesPerDay[Int(d.day), default: 0] += 1 }
                for d in hold[i] { report.repeatPurchasesPerDay[Int(d.day), default: 0] += 1 }
            }
        }
        score(&out, bins: o.bins)
        return (out, report)
    }

    /// The last day kept when no reference day is given: the run day, or, when a log of at
    /// least 10 rows has a gap of more than 365 days after which at most 1% of its rows (at
    /// least one row) lie, such as a mistyped 2099 among 2017 orders, the day before that gap.
    /// O(distinct days log days).
    public static func futureCutoff(rowsPerDay: [Int: Int], today: Int) -> Int {
        let days = rowsPerDay.keys.sorted()
        let total = rowsPerDay.values.reduce(0, +)
        var cutoff = today
        var after = total
        for (k, d) in days.enumerated() {
            after -= rowsPerDay[d]!
            if total >= 10, k + 1 < days.count, days[k + 1] - d > 365, after <= max(1, total / 100), d < cutoff {
                cutoff = d
                break
            }
        }
        return cutoff
    }

    /// Quantile scores 1...bins by rank (ties share the score of their first rank): recency
    /// reversed (recent = high), frequency = purchase days, monetary = net spend.
    static func score(_ c: inout [CustomerSummary], bins: Int) {
        func scores(_ values: [Double]) -> [Int] {
            let order = values.indices.sorted { (values[$0], $0) < (values[$1], $1) }
            var s = [Int](repeating: 1, count: values.count)
            var firstRank = 0
            for (rank, i) in order.enumerated() {
                if rank == 0 || values[i] != values[order[rank - 1]] { firstRank = rank }
                s[i] = 1 + firstRank * bins / values.count
            }
            return s
        }
        let r = scores(c.map { -$0.recency }), f = scores(c.map { Double($0.purchaseDays) }), m = scores(c.map(\.totalSpend))
        for i in c.indices {
            c[i].rScore = r[i]; c[i].fScore = f[i]; c[i].mScore = m[i]
            c[i].segment = segmentName(r: r[i] * 5 / bins + (r[i] * 5 % bins == 0 ? 0 : 1), f: f[i] * 5 / bins + (f[i] * 5 % bins == 0 ? 0 : 1))
        }
    }

    /// The standard named RFM segments from the R and F scores on a 1-5 scale, first rule wins:
    /// Champions R5 F4-5; Loyal R3-4 F4-5; Potential loyalists R4-5 F2-3; New R5 F1; Promising R4 F1;
    /// Need attention R3 F3; About to sleep R3 F1-2; At risk R1-2 F3-4; Can't lose them R1-2 F5;
    /// Lost R1 F1; Hibernating the rest (R1-2 F1-2).
    public static func segmentName(r: Int, f: Int) -> String {
        switch (r, f) {
        case (5, 4...5): return "Champions"
        case (3...4, 4...5): return "Loyal"
        case (4...5, 2...3): return "Potential loyalists"
        case (5, 1): return "New"
        case (4, 1): return "Promising"
        case (3, 3): return "Need attention"
        case (3, 1...2): return "About to sleep"
        case (1...2, 3...4): return "At risk"
        case (1...2, 5): return "Can't lose them"
        case (1, 1): return "Lost"
        default: return "Hibernating"
        }
    }

    /// The customer feature CSV (`strata kmeans` / `gmm` / `pca` read it directly: dates and names
    /// are text columns, ignored as features by default).
    public static func csv(_ c: [CustomerSummary]) -> Data {
        var w = CSVBytes(header: "customer_id,recency,frequency,monetary_total,monetary_mean,tenure,first_purchase,last_purchase,"
            + "btyd_frequency,btyd_recency,btyd_T,btyd_monetary_value,r_score,f_score,m_score,rfm_segment", reserveRows: c.count, rowBytes: 110)
        for x in c {
            w.text(x.id); w.comma(); w.number(x.recency); w.comma(); w.integer(x.purchaseDays); w.comma()
            w.number(x.totalSpend); w.comma(); w.number(x.totalSpend / Double(x.purchaseDays)); w.comma()
            w.number(x.tenure); w.comma(); w.date(x.firstDay); w.comma(); w.date(x.lastDay); w.comma(); w.integer(x.btydFrequency); w.comma()
            w.number(x.btydRecency); w.comma(); w.number(x.btydT); w.comma(); w.number(x.btydMonetaryValue); w.comma()
            w.integer(x.rScore); w.comma(); w.integer(x.fScore); w.comma(); w.integer(x.mScore); w.comma(); w.text(x.segment); w.endRow()
        }
        return w.data
    }

    static func fmt2(_ v: Double) -> String { CSVOutput.number(v) }
}
