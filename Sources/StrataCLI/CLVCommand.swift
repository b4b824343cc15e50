import ArgumentParser
import Foundation
import Strata

struct CLVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clv",
        abstract: "Customer lifetime value: BG/NBD for purchases and Gamma-Gamma for spend, fitted on an order log.",
        discussion: """
            Output CSV: customer_id, frequency, recency, T, monetary_value, p_alive, expected_purchases, \
            expected_avg_spend, clv, then expected_purchases_p05, expected_purchases_p95, clv_p05, clv_p95 (90% \
            intervals from parameter uncertainty: --interval-draws parameter vectors drawn from the fit's asymptotic \
            normal, seeded by --seed; 0 draws leaves the columns out). The horizon is in --unit steps; the discount is \
            --annual-discount (default 10% a year) compounded to the step, unless --discount gives a per-step rate. \
            The models are fitted on unique (frequency, recency, T) triples with counts as weights, so millions of \
            customers fit fast. With --calibration-end D --holdout-end E the models are fitted on orders up to D and \
            checked against what customers did in (D, E]: JSON `holdout`, and SVG charts with --charts DIR.
            """
    )

    @OptionGroup var input: TransactionArguments

    @Option(name: .customLong("calibration-end"), help: "Fit on transactions up to this date (default: all).")
    var calibrationEnd: String?

    @Option(name: .customLong("holdout-end"), help: "With --calibration-end: evaluate the fit on the orders after it up to this date.")
    var holdoutEnd: String?

    @Option(name: .customLong("interval-draws"), help: "Parameter draws for the per-customer 90% intervals (0: none).")
    var intervalDraws: Int = CLVIntervals.defaultDraws

    @OptionGroup var seedOption: SeedOption

    @Option(name: .long, help: "With --holdout-end: write the holdout charts (SVG) into this directory.")
    var charts: String?

    @Option(name: .long, help: "days or weeks.")
    var unit: RFMOptions.Unit = .weeks

    @Option(name: .long, help: "Horizon in units for expected purchases and CLV.")
    var horizon: Int = 52

    @Option(name: .long, help: "Discount rate per --unit step (overrides --annual-discount).")
    var discount: Double?

    @Option(name: .customLong("annual-discount"), help: "Annual discount rate, compounded to the --unit step (default 0.10: 0.183% a week).")
    var annualDiscount: Double = CLVDiscount.defaultAnnualRate

    /// The per-step rate in effect.
    var stepDiscount: Double { discount ?? CLVDiscount.perStep(annual: annualDiscount, stepDays: unit == .weeks ? 7 : 1) }

    @Option(name: .long, help: "Write per-customer values here.")
    var out: String?

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        try Report.checkStdout([out], json: runOptions.json)
        if horizon < 1 { throw ValidationError("--horizon must be at least 1") }
        if let d = discount, !(d >= 0) { throw ValidationError("--discount must be >= 0") }
        if !(annualDiscount >= 0) || !annualDiscount.isFinite { throw ValidationError("--annual-discount must be >= 0") }
        if holdoutEnd != nil && calibrationEnd == nil { throw ValidationError("--holdout-end needs --calibration-end (the holdout starts after it)") }
        if charts != nil && holdoutEnd == nil { throw ValidationError("--charts draws the holdout evaluation: give --calibration-end and --holdout-end") }
        if intervalDraws < 0 || intervalDraws == 1 { throw ValidationError("--interval-draws must be 0 (no intervals) or at least 2") }
    }

    func run() throws {
        try Report.run(json: runOptions.json) {
            var o = try input.summaryOptions(asOf: nil, calibrationEnd: calibrationEnd, unit: unit)
            do { o.holdoutEnd = try input.day(holdoutEnd, option: "--holdout-end") } catch let e as ValidationError { throw StrataError.invalidArgument(e.message) }
            if let h = o.holdoutEnd, let c = o.calibrationEnd, h <= c {
                throw StrataError.invalidArgument("--holdout-end \(holdoutEnd!) must be after --calibration-end \(calibrationEnd!)")
            }
            let t0 = Date()
            let (customers, report) = try RFM.summarize(path: input.transactions, transactions: input.options, options: o)
            Report.warnAboutRead(report, path: input.transactions)
            let r: (bgnbd: BGNBD, gammaGamma: GammaGamma, results: [CLVResult], uniqueTriples: Int)
            do { r = try CLV.run(customers, horizon: horizon, discount: stepDiscount, threads: runOptions.threads) } catch let StrataError.insufficientData(m) {
                throw StrataError.insufficientData("\(input.transactions): \(m)")
            }
            let intervals = intervalDraws == 0 ? nil
                : CLVIntervals.compute(customers, bgnbd: r.bgnbd, gammaGamma: r.gammaGamma, horizon: horizon, discount: stepDiscount,
                                       draws: intervalDraws, seed: seedOption.seed, threads: runOptions.threads)
            let holdout = o.holdoutEnd.map { h in
                CLVHoldoutEvaluation.evaluate(customers, bgnbd: r.bgnbd, gammaGamma: r.gammaGamma, repeatPurchasesPerDay: report.repeatPurchasesPerDay,
                                              calibrationEnd: o.calibrationEnd!, holdoutEnd: h, unitDays: unit == .weeks ? 7 : 1, threads: runOptions.threads)
            }
            let seconds = Date().timeIntervalSince(t0)
            var batch = OutputBatch()
            if let path = out { try batch.stage(Self.csv(customers, r.results, intervals), to: path) }
            if let dir = charts, let holdout {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for f in HoldoutCharts.files(holdout, unit: unit.rawValue) { try batch.stage(f.svg, to: (dir as NSString).appendingPathComponent(f.name)) }
            }
            try batch.commit()
            warn(r, intervals: intervals, report: report, holdout: holdout)
            let result = Result(fit: r, customers: customers, report: report, command: self, seconds: seconds, holdout: holdout,
                                holdoutEnd: o.holdoutEnd, intervals: intervals == nil ? nil : .init(draws: intervalDraws, seed: seedOption.seed))
            if runOptions.json { Report.json(result) } else if out != "-" { printSummary(result) }
        }
    }

    /// Every condition the user must hear about, on stderr and in the JSON `warnings`.
    func warn(_ r: (bgnbd: BGNBD, gammaGamma: GammaGamma, results: [CLVResult], uniqueTriples: Int), intervals: [CLVInterval]?,
              report: RFMReport, holdout: CLVHoldoutEvaluation?) {
        if !r.bgnbd.converged { Report.warn("the BG/NBD optimizer stopped at its evaluation cap before converging") }
        if !r.gammaGamma.valid { Report.warn(CLV.invalidSpendWarning(r.gammaGamma)) }
        if r.bgnbd.atBound || r.gammaGamma.atBound {
            Report.warn("a model parameter reached its search bound: the data show no dropout or no heterogeneity, so the BTYD estimates are not meaningful")
        }
        if r.bgnbd.logCovariance == nil || r.gammaGamma.logCovariance == nil {
            Report.warn("the observed information of the \(r.bgnbd.logCovariance == nil ? "BG/NBD" : "Gamma-Gamma") fit is not positive definite: its standard errors and intervals are null"
                        + (intervalDraws > 0 && intervals == nil ? ", and there are no per-customer intervals" : ""))
        }
        if holdout != nil {
            if report.holdoutRows == 0 { Report.warn("no order is dated in the holdout period (after --calibration-end up to --holdout-end): every actual is 0") }
            if report.holdoutOnlyCustomers > 0 {
                Report.warn("\(report.holdoutOnlyCustomers) customers first bought in the holdout period: they are not in the calibration set and are not evaluated")
            }
            if report.afterHoldout > 0 { Report.warn("\(report.afterHoldout) order rows dated after --holdout-end were left out") }
        } else if report.afterCalibration > 0 {
            Report.warn("\(report.afterCalibration) order rows dated after --calibration-end were left out (give --holdout-end to evaluate the fit on them)")
        }
    }

    /// The per-customer values file (with interval columns when there are intervals).
    static func csv(_ customers: [CustomerSummary], _ values: [CLVResult], _ intervals: [CLVInterval]?) -> String {
        var text = "customer_id,frequency,recency,T,monetary_value,p_alive,expected_purchases,expected_avg_spend,clv"
            + (intervals == nil ? "\n" : ",expected_purchases_p05,expected_purchases_p95,clv_p05,clv_p95\n")
        let n = CSVOutput.number
        for (i, (c, v)) in zip(customers, values).enumerated() {
            text += CSVOutput.field(c.id) + ",\(c.btydFrequency),\(n(c.btydRecency)),\(n(c.btydT)),\(n(c.btydMonetaryValue)),"
            text += "\(n(v.probabilityAlive)),\(n(v.expectedPurchases)),\(n(v.expectedAverageSpend)),\(n(v.clv))"
            if let w = intervals?[i] { text += ",\(n(w.purchasesP05)),\(n(w.purchasesP95)),\(n(w.clvP05)),\(n(w.clvP95))" }
            text += "\n"
        }
        return text
    }

    func printSummary(_ r: Result) {
        let bg = r.bgnbd, gg = r.gammaGamma
        print("CLV of \(r.customers) customers (\(r.uniqueTriples) unique frequency/recency/T triples) from \(input.transactions); dates read as \(r.dateFormat)")
        func withSE(_ name: String, _ v: Double, _ se: OrNull<Double>) -> String {
            String(format: "%@=%.4g", name, v) + (se.value.map { String(format: " (se %.3g)", $0) } ?? "")
        }
        print("BG/NBD: " + [withSE("r", bg.r, bg.rSe), withSE("alpha", bg.alpha, bg.alphaSe), withSE("a", bg.a, bg.aSe), withSE("b", bg.b, bg.bSe)]
            .joined(separator: " ") + String(format: ", log-likelihood %.1f", bg.logLikelihood))
        print("Gamma-Gamma: " + [withSE("p", gg.p, gg.pSe), withSE("q", gg.q, gg.qSe), withSE("gamma", gg.gamma, gg.gammaSe)].joined(separator: " "))
        if let h = r.holdout.value {
            print(String(format: "holdout to %@ (%.1f %@): %d customers, %d actual vs %.1f predicted repeat purchases; MAE %.3f, RMSE %.3f, correlation %@",
                         h.periodEnd, h.duration, unit.rawValue, h.customers, h.actualRepeatPurchases, h.predictedRepeatPurchases, h.mae, h.rmse,
                         h.correlation.value.map { String(format: "%.3f", $0) } ?? "n/a"))
            print(String(format: "holdout spend: %d buyers, mean %.2f actual vs %.2f predicted per purchase day; revenue %.2f actual vs %.2f predicted",
                         h.spend.customers, h.spend.actualMeanSpend, h.spend.predictedMeanSpend, h.spend.actualRevenue, h.spend.predictedRevenue))
            if let c = charts { print("holdout charts: \(c)") }
        }
        print(String(format: "total CLV over %d %@ at %.3g discount per step: %.2f", horizon, unit.rawValue, stepDiscount, r.totalCLV.value ?? .nan))
        if let p = out { print("per customer: \(p)") }
    }

    /// `strata clv --json`.
    struct Result: Encodable {
        struct BGNBDParameters: Encodable {
            var r, alpha, a, b: Double
            var rSe, alphaSe, aSe, bSe: OrNull<Double>
            var rCi, alphaCi, aCi, bCi: OrNull<[Double]>
            var logLikelihood: Double
            var atBound: Bool
            var converged: Bool
        }
        struct GammaGammaParameters: Encodable {
            var p, q, gamma: Double
            var pSe, qSe, gammaSe: OrNull<Double>
            var pCi, qCi, gammaCi: OrNull<[Double]>
            var atBound: Bool
            /// False when q <= 1 (mean spend undefined): spends came from the fallback.
            var valid: Bool
        }
        struct Intervals: Encodable {
            var draws: Int
            var seed: UInt64
            var level = 0.9
            var columns = ["expected_purchases_p05", "expected_purchases_p95", "clv_p05", "clv_p95"]
        }
        struct Holdout: Encodable {
            struct Bin: Encodable { var frequency, customers: Int; var actualMean, predictedMean: Double }
            struct Week: Encodable { var week, actualCumulative: Int; var predictedCumulative: Double }
            struct Spend: Encodable {
                var customers: Int
                var actualMeanSpend, predictedMeanSpend, mae, rmse: Double
                var correlation: FiniteOrNull
                var actualRevenue, predictedRevenue: Double
            }
            var periodEnd: String
            var duration: Double
            var customers: Int
            var actualRepeatPurchases: Int
            var predictedRepeatPurchases: Double
            var mae, rmse: Double
            var correlation: FiniteOrNull
            var byFrequency: [Bin]
            var calibrationWeeks: Int
            var weekly: [Week]
            var spend: Spend
            var customersFirstSeenInHoldout: Int
            var holdoutTransactions: Int

            init(_ e: CLVHoldoutEvaluation, end: Int, report: RFMReport) {
                periodEnd = CivilDate.string(end)
                duration = e.duration
                customers = e.customers
                actualRepeatPurchases = e.actualRepeatPurchases
                predictedRepeatPurchases = e.predictedRepeatPurchases
                mae = e.mae; rmse = e.rmse
                correlation = FiniteOrNull(e.correlation)
                byFrequency = e.byFrequency.map { Bin(frequency: $0.frequency, customers: $0.customers, actualMean: $0.actualMean, predictedMean: $0.predictedMean) }
                calibrationWeeks = e.calibrationWeeks
                weekly = e.weekly.map { Week(week: $0.week, actualCumulative: $0.actualCumulative, predictedCumulative: $0.predictedCumulative) }
                spend = Spend(customers: e.spend.customers, actualMeanSpend: e.spend.actualMean, predictedMeanSpend: e.spend.predictedMean,
                              mae: e.spend.mae, rmse: e.spend.rmse, correlation: FiniteOrNull(e.spend.correlation),
                              actualRevenue: e.spend.actualRevenue, predictedRevenue: e.spend.predictedRevenue)
                customersFirstSeenInHoldout = report.holdoutOnlyCustomers
                holdoutTransactions = report.holdoutRows
            }
        }
        struct Outputs: Encodable { var clv: String?; var charts: String? }
        var bgnbd: BGNBDParameters
        var gammaGamma: GammaGammaParameters
        var customers: Int
        var repeatCustomers: Int
        var uniqueTriples: Int
        var transactions: Int
        var badRows: Int
        var excludedFuture: Int
        var dateFormat: String
        var horizon: Int
        var unit: String
        /// The per-step rate used, and the annual rate it came from (null with --discount).
        var discount: Double
        var annualDiscount: OrNull<Double>
        /// Sum of every customer's CLV.
        var totalCLV: FiniteOrNull
        /// The per-customer interval settings (null with --interval-draws 0 or no covariance).
        var intervals: OrNull<Intervals>
        /// With --holdout-end.
        var holdout: OrNull<Holdout>
        var outputs: Outputs
        var seconds: Double

        init(fit r: (bgnbd: BGNBD, gammaGamma: GammaGamma, results: [CLVResult], uniqueTriples: Int), customers list: [CustomerSummary],
             report: RFMReport, command c: CLVCommand, seconds: Double, holdout: CLVHoldoutEvaluation?, holdoutEnd: Int?, intervals: Intervals?) {
            let bg = r.bgnbd, gg = r.gammaGamma
            let be = bg.estimates, ge = gg.estimates
            bgnbd = BGNBDParameters(r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b,
                                    rSe: OrNull(be[0].se), alphaSe: OrNull(be[1].se), aSe: OrNull(be[2].se), bSe: OrNull(be[3].se),
                                    rCi: OrNull(be[0].ci), alphaCi: OrNull(be[1].ci), aCi: OrNull(be[2].ci), bCi: OrNull(be[3].ci),
                                    logLikelihood: bg.logLikelihood, atBound: bg.atBound, converged: bg.converged)
            gammaGamma = GammaGammaParameters(p: gg.p, q: gg.q, gamma: gg.gamma,
                                              pSe: OrNull(ge[0].se), qSe: OrNull(ge[1].se), gammaSe: OrNull(ge[2].se),
                                              pCi: OrNull(ge[0].ci), qCi: OrNull(ge[1].ci), gammaCi: OrNull(ge[2].ci),
                                              atBound: gg.atBound, valid: gg.valid)
            customers = list.count
            repeatCustomers = list.filter { $0.btydFrequency > 0 }.count
            uniqueTriples = r.uniqueTriples
            transactions = report.transactions
            badRows = report.badRows
            excludedFuture = report.excludedFuture
            dateFormat = report.dateFormat
            horizon = c.horizon
            unit = c.unit.rawValue
            discount = c.stepDiscount
            annualDiscount = OrNull(c.discount == nil ? c.annualDiscount : nil)
            totalCLV = FiniteOrNull(r.results.reduce(0.0) { $0 + $1.clv })
            self.intervals = OrNull(intervals)
            self.holdout = OrNull(holdout.map { Holdout($0, end: holdoutEnd!, report: report) })
            outputs = Outputs(clv: c.out, charts: c.charts)
            self.seconds = seconds
        }
    }
}
