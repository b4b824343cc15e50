import ArgumentParser
import Foundation
import Strata

struct CLVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clv",
        abstract: "Customer lifetime value: BG/NBD for purchases and Gamma-Gamma for spend, fitted on an order log.",
        discussion: """
            Output CSV: customer_id, frequency, recency, T, monetary_value, p_alive, expected_purchases, \
            expected_avg_spend, clv. Horizon and discount are per --unit step. The models are fitted on \
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

    @Option(name: .long, help: "Discount rate per unit step.")
    var discount: Double = 0.01

    @Option(name: .long, help: "Write per-customer values here.")
    var out: String?

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        if horizon < 1 { throw ValidationError("--horizon must be at least 1") }
        if !(discount >= 0) { throw ValidationError("--discount must be >= 0") }
    }

    func run() throws {
        try Report.run(json: runOptions.json) {
            let o = try input.summaryOptions(asOf: nil, calibrationEnd: calibrationEnd, unit: unit)
            let t0 = Date()
            let (customers, report) = try RFM.summarize(path: input.transactions, transactions: input.options, options: o)
            let r = try CLV.run(customers, horizon: horizon, discount: discount)
            let seconds = Date().timeIntervalSince(t0)
            if let path = out {
                var text = "customer_id,frequency,recency,T,monetary_value,p_alive,expected_purchases,expected_avg_spend,clv\n"
                for (c, v) in zip(customers, r.results) {
                    text += CSVOutput.field(c.id) + ",\(c.btydFrequency),\(c.btydRecency),\(c.btydT),\(c.btydMonetaryValue),"
                    text += "\(v.probabilityAlive),\(v.expectedPurchases),\(v.expectedAverageSpend),\(v.clv)\n"
                }
                var batch = OutputBatch()
                try batch.stage(text, to: path)
                try batch.commit()
            }
            let total = r.results.reduce(0.0) { $0 + $1.clv }
            if !r.bgnbd.converged { Report.stderr("strata: warning: the BG/NBD optimizer stopped at its evaluation cap before converging") }
            if r.bgnbd.atBound || r.gammaGamma.atBound {
                Report.stderr("strata: warning: a model parameter reached its search bound: the data show no dropout or no heterogeneity, so the BTYD estimates are not meaningful")
            }
            if runOptions.json {
                Report.json([
                    "bgnbd": ["r": r.bgnbd.r, "alpha": r.bgnbd.alpha, "a": r.bgnbd.a, "b": r.bgnbd.b, "log_likelihood": r.bgnbd.logLikelihood,
                              "at_bound": r.bgnbd.atBound, "converged": r.bgnbd.converged] as [String: Any],
                    "gamma_gamma": ["p": r.gammaGamma.p, "q": r.gammaGamma.q, "gamma": r.gammaGamma.gamma, "at_bound": r.gammaGamma.atBound] as [String: Any],
                    "customers": customers.count, "repeat_customers": customers.filter { $0.btydFrequency > 0 }.count,
                    "unique_triples": r.uniqueTriples, "transactions": report.transactions, "bad_rows": report.badRows,
                    "horizon": horizon, "unit": unit.rawValue, "discount": discount, "total_clv": total,
                    "outputs": out.map { ["clv": $0] } ?? [:], "seconds": seconds,
                ])
            } else {
                print("CLV of \(customers.count) customers (\(r.uniqueTriples) unique frequency/recency/T triples) from \(input.transactions)")
                print(String(format: "BG/NBD: r=%.4g alpha=%.4g a=%.4g b=%.4g, log-likelihood %.1f", r.bgnbd.r, r.bgnbd.alpha, r.bgnbd.a, r.bgnbd.b, r.bgnbd.logLikelihood))
                print(String(format: "Gamma-Gamma: p=%.4g q=%.4g gamma=%.4g", r.gammaGamma.p, r.gammaGamma.q, r.gammaGamma.gamma))
                print(String(format: "total CLV over %d %@ at %.3g discount per step: %.2f", horizon, unit.rawValue, discount, total))
                if let p = out { print("per customer: \(p)") }
            }
        }
    }
}
