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
            checked against what customers did in (D, E]: JSON `holdout`, and SVG charts with --charts DIR; with \
            --compare-models both models are fitted and compared on the holdout (`model_comparison`).
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

    @Flag(name: .customLong("compare-models"), help: "With --holdout-end: also fit the other repeat-purchase model and compare both on the holdout.")
    var compareModels = false

    @Option(name: .long, help: "days or weeks.")
    var unit: RFMOptions.Unit = .weeks

    @Option(name: .long, help: "Repeat-purchase model: bgnbd (BG/NBD) or pnbd (Pareto/NBD).")
    var model: RepeatPurchaseModelKind = .bgnbd

    @Option(name: .long, help: "Horizon in units for expected purchases and CLV.")
    var horizon: Int = 52

    @Option(name: .long, help: "Discount rate per --unit step (overrides --annual-discount).")
    var discount: Double?

    @Option(name: .customLong("annual-discount"), help: "Annual discount rate, compounded to the --unit step (default 0.10: 0.183% a week).")
    var annualDiscount: Double = CLVDiscount.defaultAnnualRate

    /// The per-step rate in effect.
    var stepDiscount: Double { discount ?? CLVDiscount.perStep(annual: annualDiscount, stepDays: unit == .weeks ? 7 : 1) }

    @Option(name: .long, help: "Write per-customer values here (CSV; Parquet when the path ends in .parquet).")
    var out: String?

    @OptionGroup var runOptions: RunOptions
    @OptionGroup var scheduler: SchedulerOptions

    func validate() throws {
        try Report.checkStdout([out], json: runOptions.json)
        if horizon < 1 { throw ValidationError("--horizon must be at least 1") }
        if let d = discount, !(d >= 0) { throw ValidationError("--discount must be >= 0") }
        if !(annualDiscount >= 0) || !annualDiscount.isFinite { throw ValidationError("--annual-discount must be >= 0") }
        if holdoutEnd != nil && calibrationEnd == nil { throw ValidationError("--holdout-end needs --calibration-end (the holdout starts after it)") }
        if compareModels && holdoutEnd == nil { throw ValidationError("--compare-models compares on the holdout: give --calibration-end and --holdout-end") }
        if charts != nil && holdoutEnd == nil { throw ValidationError("--charts draws the holdout evaluation: give --calibration-end and --holdout-end") }
        if intervalDraws < 0 || intervalDraws == 1 { throw ValidationError("--interval-draws must be 0 (no intervals) or at least 2") }
    }

    func run() throws {
        try JobLog(job: "clv", options: scheduler).run(json: runOptions.json) {
            var o = try input.summaryOptions(asOf: nil, calibrationEnd: calibrationEnd, unit: unit)
            do { o.holdoutEnd = try input.day(holdoutEnd, option: "--holdout-end") } catch let e as ValidationError { throw StrataError.invalidArgument(e.message) }
            if let h = o.holdoutEnd, let c = o.calibrationEnd, h <= c {
                throw StrataError.invalidArgument("--holdout-end \(holdoutEnd!) must be after --calibration-end \(calibrationEnd!)")
            }
            let t0 = Date()
            let (customers, report) = try RFM.summarize(path: input.transactions, transactions: input.options, options: o)
            Report.warnAboutRead(report, path: input.transactions)
            let result: Result
            switch model {
            case .bgnbd: result = try evaluate(BGNBD.self, customers: customers, report: report, options: o, started: t0)
            case .pnbd: result = try evaluate(ParetoNBD.self, customers: customers, report: report, options: o, started: t0)
            }
            if runOptions.json { Report.json(result) } else if out != "-" && !scheduler.quiet { printSummary(result) }
            var gauges = JobLog.orderLogGauges(job: "clv", customers: result.customers, transactions: result.transactions, badRows: report.badRows)
            gauges.gauge("strata_clv_total", "Total customer lifetime value over the horizon (discounted).", result.totalCLV.value.map { [([("strata_job", "clv")], $0)] } ?? [])
            return gauges
        }
    }

    /// Fits `Model` and Gamma-Gamma, scores, evaluates the holdout, writes the outputs.
    func evaluate<Model: RepeatPurchaseModel>(_ kind: Model.Type, customers: [CustomerSummary], report: RFMReport, options o: RFMOptions,
                                             started t0: Date) throws -> Result {
        let r: CLVFit<Model>
        JobProgress.shared.phase("fitting \(Model.self == BGNBD.self ? "BG/NBD" : "Pareto/NBD") and Gamma-Gamma")
        do { r = try CLV.fit(customers, model: kind, horizon: horizon, discount: stepDiscount, threads: runOptions.threads) }
        catch let StrataError.insufficientData(m) { throw StrataError.insufficientData("\(input.transactions): \(m)") }
        let intervals = intervalDraws == 0 ? nil
            : CLVIntervals.compute(customers, model: r.model, gammaGamma: r.gammaGamma, horizon: horizon, discount: stepDiscount,
                                   draws: intervalDraws, seed: seedOption.seed, threads: runOptions.threads)
        let unitDays = unit == .weeks ? 7.0 : 1.0
        var holdout: CLVHoldoutEvaluation? = nil, comparison: [Result.ModelComparison]? = nil
        if let h = o.holdoutEnd {
            func evaluate<M: RepeatPurchaseModel>(_ m: M) -> CLVHoldoutEvaluation {
                CLVHoldoutEvaluation.evaluate(customers, model: m, gammaGamma: r.gammaGamma, repeatPurchasesPerDay: report.repeatPurchasesPerDay,
                                              calibrationEnd: o.calibrationEnd!, holdoutEnd: h, unitDays: unitDays, threads: runOptions.threads)
            }
            holdout = evaluate(r.model)
            // The other model, fitted on the same calibration triples, on the same holdout.
            func other<M: RepeatPurchaseModel>(_ m: M.Type) -> Result.ModelComparison? {
                guard let (fitted, _) = try? CLV.fitRepeatPurchases(customers, model: m, threads: runOptions.threads) else {
                    Report.warn("the \(M.jsonKey) fit for the holdout comparison failed; model_comparison has only \(Model.jsonKey)")
                    return nil
                }
                return Result.ModelComparison(fitted, evaluate(fitted))
            }
            if compareModels {
                comparison = [Result.ModelComparison(r.model, holdout!)] + [Model.self == BGNBD.self ? other(ParetoNBD.self) : other(BGNBD.self)].compactMap { $0 }
            }
        }
        let seconds = Date().timeIntervalSince(t0)
        JobProgress.shared.phase("writing outputs")
        var batch = OutputBatch()
        if let path = out { try batch.stageTable(csv: Self.csv(customers, r.results, intervals), to: path) }
        if let dir = charts, let holdout {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in HoldoutCharts.files(holdout, unit: unit.rawValue) { try batch.stage(f.svg, to: (dir as NSString).appendingPathComponent(f.name)) }
        }
        try batch.commit()
        warn(r, intervals: intervals, report: report, holdout: holdout)
        var result = Result(fit: r, customers: customers, report: report, command: self, seconds: seconds, holdout: holdout,
                            holdoutEnd: o.holdoutEnd, intervals: intervals == nil ? nil : .init(draws: intervalDraws, seed: seedOption.seed))
        result.modelComparison = OrNull(comparison)
        return result
    }

    /// Every condition the user must hear about, on stderr and in the JSON `warnings`.
    func warn<Model: RepeatPurchaseModel>(_ r: CLVFit<Model>, intervals: [CLVInterval]?, report: RFMReport, holdout: CLVHoldoutEvaluation?) {
        for w in CLV.fitWarnings(r, intervalsWanted: intervalDraws > 0, intervalsGiven: intervals != nil) { Report.warn(w) }
        for w in report.holdoutWarnings(holdout: holdout != nil, calibrationEnd: "--calibration-end", holdoutEnd: "--holdout-end") { Report.warn(w) }
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
        print("CLV of \(r.customers) customers (\(r.uniqueTriples) unique frequency/recency/T triples) from \(input.transactions); dates read as \(r.dateFormat)")
        for (title, block) in [("BG/NBD", r.bgnbd.value), ("Pareto/NBD", r.paretoNbd.value), ("Gamma-Gamma", r.gammaGamma)] {
            guard let block else { continue }
            print(title + ": " + block.summary)
        }
        if let h = r.holdout.value {
            print(String(format: "holdout to %@ (%.1f %@): %d customers, %d actual vs %.1f predicted repeat purchases; MAE %.3f, RMSE %.3f, correlation %@",
                         h.periodEnd, h.duration, unit.rawValue, h.customers, h.actualRepeatPurchases, h.predictedRepeatPurchases, h.mae, h.rmse,
                         h.correlation.value.map { String(format: "%.3f", $0) } ?? "n/a"))
            print(String(format: "holdout spend: %d buyers, mean %.2f actual vs %.2f predicted per purchase day; revenue %.2f actual vs %.2f predicted",
                         h.spend.customers, h.spend.actualMeanSpend, h.spend.predictedMeanSpend, h.spend.actualRevenue, h.spend.predictedRevenue))
            for m in r.modelComparison.value ?? [] {
                print(String(format: "  %@: log-likelihood %.1f, predicted %.1f, MAE %.4f, RMSE %.4f", m.model, m.logLikelihood, m.predictedRepeatPurchases, m.mae, m.rmse))
            }
            if let c = charts { print("holdout charts: \(c)") }
        }
        print(String(format: "total CLV over %d %@ at %.3g discount per step: %.2f", horizon, unit.rawValue, stepDiscount, r.totalCLV.value ?? .nan))
        if let p = out { print("per customer: \(p)") }
    }

    /// `strata clv --json`.
    struct Result: Encodable {
        /// A fitted model's block: each parameter, `<name>_se`, `<name>_ci` ([lo, hi], null when
        /// the observed information is not positive definite), then the fit's flags.
        struct ParameterBlock: Encodable {
            var names: [String]
            var estimates: [ParameterEstimate]
            var logLikelihood: Double?
            var atBound: Bool
            var converged: Bool?
            /// Gamma-Gamma only: false when q <= 1 (mean spend undefined): spends came from the fallback.
            var valid: Bool?

            init<M: RepeatPurchaseModel>(_ m: M) {
                names = M.parameterNames; estimates = m.estimates; logLikelihood = m.logLikelihood; atBound = m.atBound; converged = m.converged
            }
            init(_ g: GammaGamma) {
                names = ["p", "q", "gamma"]; estimates = g.estimates; atBound = g.atBound; valid = g.valid
            }

            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: JSONKey.self)
                for (name, e) in zip(names, estimates) {
                    try c.encode(e.value, forKey: JSONKey(name))
                    try c.encode(OrNull(e.se), forKey: JSONKey(name + "_se"))
                    try c.encode(OrNull(e.ci), forKey: JSONKey(name + "_ci"))
                }
                if let logLikelihood { try c.encode(logLikelihood, forKey: JSONKey("log_likelihood")) }
                try c.encode(atBound, forKey: JSONKey("at_bound"))
                if let converged { try c.encode(converged, forKey: JSONKey("converged")) }
                if let valid { try c.encode(valid, forKey: JSONKey("valid")) }
            }

            /// "r=0.2426 (se 0.0126) alpha=...".
            var summary: String {
                zip(names, estimates).map { n, e in String(format: "%@=%.4g", n, e.value) + (e.se.map { String(format: " (se %.3g)", $0) } ?? "") }
                    .joined(separator: " ") + (logLikelihood.map { String(format: ", log-likelihood %.1f", $0) } ?? "")
            }
        }
        /// One model on the holdout (`model_comparison`, with --holdout-end).
        struct ModelComparison: Encodable {
            var model: String
            var logLikelihood: Double
            var predictedRepeatPurchases: Double
            var mae, rmse: Double
            var correlation: FiniteOrNull
            init<M: RepeatPurchaseModel>(_ m: M, _ e: CLVHoldoutEvaluation) {
                model = M.jsonKey; logLikelihood = m.logLikelihood; predictedRepeatPurchases = e.predictedRepeatPurchases
                mae = e.mae; rmse = e.rmse; correlation = FiniteOrNull(e.correlation)
            }
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
        /// The repeat-purchase model used (`--model`) and its block; the other block is null.
        var model: String
        var bgnbd: OrNull<ParameterBlock>
        var paretoNbd: OrNull<ParameterBlock>
        var gammaGamma: ParameterBlock
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
        /// With --compare-models: both models (the chosen one first) on the same holdout.
        var modelComparison = OrNull<[ModelComparison]>(nil)
        var outputs: Outputs
        var seconds: Double

        init<Model: RepeatPurchaseModel>(fit r: CLVFit<Model>, customers list: [CustomerSummary], report: RFMReport, command c: CLVCommand,
                                         seconds: Double, holdout: CLVHoldoutEvaluation?, holdoutEnd: Int?, intervals: Intervals?) {
            model = Model.self == BGNBD.self ? RepeatPurchaseModelKind.bgnbd.rawValue : RepeatPurchaseModelKind.pnbd.rawValue
            bgnbd = OrNull(Model.self == BGNBD.self ? ParameterBlock(r.model) : nil)
            paretoNbd = OrNull(Model.self == ParetoNBD.self ? ParameterBlock(r.model) : nil)
            gammaGamma = ParameterBlock(r.gammaGamma)
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
