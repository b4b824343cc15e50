import ArgumentParser
import Foundation
import Strata

struct CLVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clv",
        abstract: "Customer lifetime value: BG/NBD for purchases and Gamma-Gamma for spend, fitted on an order log.",
        discussion: """
            Output CSV: customer_id, frequency, recency, T, monetary_value, p_alive, expected_purchases, \
            expected_avg_spend, clv. The horizon is in --unit steps; the discount is --annual-discount (default \
            10% a year) compounded to the step, unless --discount gives a per-step rate. The models are fitted on \
            unique (frequency, recency, T) triples with counts as weights, so millions of customers fit fast.
            """
    )

    @OptionGroup var input: TransactionArguments

    @Option(name: .customLong("calibration-end"), help: "Fit on transactions up to this date (default: all).")
    var calibrationEnd: String?

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
    }

    func run() throws {
        try Report.run(json: runOptions.json) {
            let o = try input.summaryOptions(asOf: nil, calibrationEnd: calibrationEnd, unit: unit)
            let t0 = Date()
            let (customers, report) = try RFM.summarize(path: input.transactions, transactions: input.options, options: o)
            Report.warnAboutRead(report, path: input.transactions)
            let r: (bgnbd: BGNBD, gammaGamma: GammaGamma, results: [CLVResult], uniqueTriples: Int)
            do { r = try CLV.run(customers, horizon: horizon, discount: stepDiscount) } catch let StrataError.insufficientData(m) {
                throw StrataError.insufficientData("\(input.transactions): \(m)")
            }
            let seconds = Date().timeIntervalSince(t0)
            if let path = out {
                var batch = OutputBatch()
                try batch.stage(Self.csv(customers, r.results), to: path)
                try batch.commit()
            }
            if !r.bgnbd.converged { Report.warn("the BG/NBD optimizer stopped at its evaluation cap before converging") }
            if !r.gammaGamma.valid { Report.warn(CLV.invalidSpendWarning(r.gammaGamma)) }
            if r.bgnbd.atBound || r.gammaGamma.atBound {
                Report.warn("a model parameter reached its search bound: the data show no dropout or no heterogeneity, so the BTYD estimates are not meaningful")
            }
            let result = Result(fit: r, customers: customers, report: report, command: self, seconds: seconds)
            if runOptions.json { Report.json(result) } else if out != "-" { printSummary(result) }
        }
    }

    /// The per-customer values file.
    static func csv(_ customers: [CustomerSummary], _ values: [CLVResult]) -> String {
        var text = "customer_id,frequency,recency,T,monetary_value,p_alive,expected_purchases,expected_avg_spend,clv\n"
        for (c, v) in zip(customers, values) {
            let n = CSVOutput.number
            text += CSVOutput.field(c.id) + ",\(c.btydFrequency),\(n(c.btydRecency)),\(n(c.btydT)),\(n(c.btydMonetaryValue)),"
            text += "\(n(v.probabilityAlive)),\(n(v.expectedPurchases)),\(n(v.expectedAverageSpend)),\(n(v.clv))\n"
        }
        return text
    }

    func printSummary(_ r: Result) {
        let bg = r.bgnbd, gg = r.gammaGamma
        print("CLV of \(r.customers) customers (\(r.uniqueTriples) unique frequency/recency/T triples) from \(input.transactions); dates read as \(r.dateFormat)")
        print(String(format: "BG/NBD: r=%.4g alpha=%.4g a=%.4g b=%.4g, log-likelihood %.1f", bg.r, bg.alpha, bg.a, bg.b, bg.logLikelihood))
        print(String(format: "Gamma-Gamma: p=%.4g q=%.4g gamma=%.4g", gg.p, gg.q, gg.gamma))
        print(String(format: "total CLV over %d %@ at %.3g discount per step: %.2f", horizon, unit.rawValue, stepDiscount, r.totalCLV.value ?? .nan))
        if let p = out { print("per customer: \(p)") }
    }

    /// `strata clv --json`.
    struct Result: Encodable {
        struct BGNBDParameters: Encodable {
            var r, alpha, a, b: Double
            var logLikelihood: Double
            var atBound: Bool
            var converged: Bool
        }
        struct GammaGammaParameters: Encodable {
            var p, q, gamma: Double
            var atBound: Bool
            /// False when q <= 1 (mean spend undefined): spends came from the fallback.
            var valid: Bool
        }
        struct Outputs: Encodable { var clv: String? }
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
        var outputs: Outputs
        var seconds: Double

        init(fit r: (bgnbd: BGNBD, gammaGamma: GammaGamma, results: [CLVResult], uniqueTriples: Int), customers list: [CustomerSummary],
             report: RFMReport, command c: CLVCommand, seconds: Double) {
            let bg = r.bgnbd, gg = r.gammaGamma
            bgnbd = BGNBDParameters(r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b, logLikelihood: bg.logLikelihood, atBound: bg.atBound, converged: bg.converged)
            gammaGamma = GammaGammaParameters(p: gg.p, q: gg.q, gamma: gg.gamma, atBound: gg.atBound, valid: gg.valid)
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
            outputs = Outputs(clv: c.out)
            self.seconds = seconds
        }
    }
}
