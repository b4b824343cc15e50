import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers

/// Holdout evaluation, standard errors and per-customer intervals on CDNOW (calibration
/// 1997-09-30, holdout to 1998-06-30, weeks) against lifetimes 0.11.3 and the published
/// parameters of Fader, Hardie & Lee (2005): Fixtures/clv/cdnow_holdout.json, written by
/// Scripts/make-clv-fixtures.py.
@Suite struct CLVHoldoutTests {
    struct Reference: Decodable {
        struct Estimate: Decodable { let value: Double; let se: Double }
        struct Bin: Decodable { let frequency: Int; let customers: Int; let actual_mean: Double; let predicted_mean: Double }
        struct Holdout: Decodable {
            let customers: Int; let actual_repeat_purchases: Int; let predicted_repeat_purchases: Double
            let mae: Double; let rmse: Double; let correlation: Double; let by_frequency: [Bin]
        }
        struct Tracking: Decodable { let actual: [Int]; let predicted: [Double] }
        struct Bootstrap: Decodable { let bgnbd_sd: [String: Double]; let gamma_gamma_sd: [String: Double] }
        struct PNBDCase: Decodable { let x, tx, T, t, log_likelihood, p_alive, expected, unconditional: Double }
        struct PNBD: Decodable {
            let params: [String: Double]; let log_likelihood: Double
            let holdout_predicted: Double; let holdout_mae: Double; let holdout_rmse: Double
            let cases: [PNBDCase]; let tracking: Tracking
        }
        let duration_holdout: Double
        let bgnbd: [String: Estimate]
        let gamma_gamma: [String: Estimate]
        let holdout: Holdout
        let tracking_lifetimes_fit: Tracking
        let tracking_paper_parameters: Tracking
        let bootstrap: Bootstrap
        let pareto_nbd: PNBD
    }

    static let reference: Reference = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: "\(Fixtures.dir)/clv/cdnow_holdout.json"))
        return try! JSONDecoder().decode(Reference.self, from: data)
    }()

    static let summary: ([CustomerSummary], RFMReport) = {
        var t = TransactionOptions()
        t.customer = .position(2); t.date = .position(3); t.amount = .position(5)
        t.delimiter = .whitespace; t.hasHeader = false; t.dateFormat = "%Y%m%d"
        var o = RFMOptions()
        o.calibrationEnd = CivilDate.days(year: 1997, month: 9, day: 30)
        o.holdoutEnd = CivilDate.days(year: 1998, month: 6, day: 30)
        o.unit = .weeks
        return try! RFM.summarize(path: "\(Fixtures.dir)/cdnow/CDNOW_sample.txt", transactions: t, options: o)
    }()

    static func evaluate<M: RepeatPurchaseModel>(_ bg: M, threads: Int = 2) -> CLVHoldoutEvaluation {
        let (customers, report) = summary
        return CLVHoldoutEvaluation.evaluate(customers, model: bg, gammaGamma: GammaGamma(p: 6.25, q: 3.74, gamma: 15.44, logLikelihood: 0),
                                             repeatPurchasesPerDay: report.repeatPurchasesPerDay, calibrationEnd: CivilDate.days(year: 1997, month: 9, day: 30),
                                             holdoutEnd: CivilDate.days(year: 1998, month: 6, day: 30), unitDays: 7, threads: threads)
    }

    func close(_ a: Double, _ b: Double, _ rel: Double) -> Bool { abs(a - b) <= rel * max(1, abs(b)) }

    /// With lifetimes' own fitted parameters, every holdout figure equals lifetimes'
    /// calibration_and_holdout_data + conditional_expected_number_of_purchases_up_to_time, and the
    /// weekly curve equals expected_cumulative_transactions.
    @Test func holdoutMatchesLifetimes() {
        let ref = Self.reference, b = ref.bgnbd
        let e = Self.evaluate(BGNBD(r: b["r"]!.value, alpha: b["alpha"]!.value, a: b["a"]!.value, b: b["b"]!.value, logLikelihood: 0))
        #expect(e.duration == ref.duration_holdout)
        #expect(e.customers == ref.holdout.customers && e.actualRepeatPurchases == ref.holdout.actual_repeat_purchases)
        #expect(close(e.predictedRepeatPurchases, ref.holdout.predicted_repeat_purchases, 1e-9), "\(e.predictedRepeatPurchases)")
        #expect(close(e.mae, ref.holdout.mae, 1e-9) && close(e.rmse, ref.holdout.rmse, 1e-9))
        #expect(close(e.correlation!, ref.holdout.correlation, 1e-9))
        #expect(e.byFrequency.count == ref.holdout.by_frequency.count)
        for (mine, theirs) in zip(e.byFrequency, ref.holdout.by_frequency) {
            #expect(mine.frequency == theirs.frequency && mine.customers == theirs.customers)
            #expect(close(mine.actualMean, theirs.actual_mean, 1e-12) && close(mine.predictedMean, theirs.predicted_mean, 1e-9), "f=\(mine.frequency)")
        }
        #expect(e.weekly.count == 78 && e.calibrationWeeks == 39)
        #expect(e.weekly.map(\.actualCumulative) == ref.tracking_lifetimes_fit.actual)
        for (w, p) in zip(e.weekly, ref.tracking_lifetimes_fit.predicted) { #expect(close(w.predictedCumulative, p, 1e-9), "week \(w.week)") }
    }

    /// The paper's tracking curve (Figure 2: the published parameters over 78 weeks) is reproduced
    /// exactly from those parameters, and Strata's own fit stays within 0.5% of it every week.
    @Test func paperTrackingCurve() throws {
        let ref = Self.reference
        let paper = Self.evaluate(BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: 0))
        for (w, p) in zip(paper.weekly, ref.tracking_paper_parameters.predicted) { #expect(close(w.predictedCumulative, p, 1e-9), "week \(w.week)") }
        let fit = try CLV.run(Self.summary.0, horizon: 52, discount: 0.01)
        let ours = Self.evaluate(fit.bgnbd)
        for (w, p) in zip(ours.weekly, ref.tracking_paper_parameters.predicted) {
            #expect(abs(w.predictedCumulative - p) <= 0.005 * p + 0.5, "week \(w.week): \(w.predictedCumulative) vs the paper's \(p)")
        }
        #expect(abs(ours.predictedRepeatPurchases - ref.holdout.predicted_repeat_purchases) <= 0.005 * ref.holdout.predicted_repeat_purchases)
        // The thread count changes nothing.
        let one = Self.evaluate(fit.bgnbd, threads: 1)
        #expect(one.weekly == ours.weekly && one.byFrequency == ours.byFrequency && one.mae == ours.mae)
    }

    /// Observed-information standard errors equal lifetimes' (Hessian-based) within 2%, and agree
    /// with a 200-replicate nonparametric bootstrap within 25%; the 95% intervals are positive and
    /// contain the estimate.
    @Test func standardErrors() throws {
        let ref = Self.reference
        let fit = try CLV.run(Self.summary.0, horizon: 52, discount: 0.01)
        let bg = fit.bgnbd.estimates, gg = fit.gammaGamma.estimates
        for (i, name) in ["r", "alpha", "a", "b"].enumerated() {
            let se = try #require(bg[i].se)
            #expect(abs(se - ref.bgnbd[name]!.se) <= 0.02 * ref.bgnbd[name]!.se, "\(name): \(se) vs lifetimes \(ref.bgnbd[name]!.se)")
            #expect(abs(se - ref.bootstrap.bgnbd_sd[name]!) <= 0.25 * ref.bootstrap.bgnbd_sd[name]!, "\(name): \(se) vs bootstrap")
            let ci = try #require(bg[i].ci)
            #expect(ci[0] > 0 && ci[0] < bg[i].value && bg[i].value < ci[1])
        }
        for (i, (name, theirs)) in [("p", "p"), ("q", "q"), ("gamma", "v")].enumerated() {
            let se = try #require(gg[i].se)
            #expect(abs(se - ref.gamma_gamma[theirs]!.se) <= 0.02 * ref.gamma_gamma[theirs]!.se, "\(name): \(se) vs lifetimes")
            #expect(abs(se - ref.bootstrap.gamma_gamma_sd[theirs]!) <= 0.25 * ref.bootstrap.gamma_gamma_sd[theirs]!, "\(name): \(se) vs bootstrap")
        }
    }

    /// Per-customer 90% intervals: seeded and thread-count invariant, ordered, and around the
    /// point estimate for nearly every customer; more parameter uncertainty (a tenth of the data)
    /// widens them.
    @Test func perCustomerIntervals() throws {
        let customers = Self.summary.0
        let fit = try CLV.run(customers, horizon: 52, discount: 0.01)
        func intervals(_ threads: Int, seed: UInt64 = 11) -> [CLVInterval] {
            CLVIntervals.compute(customers, model: fit.bgnbd, gammaGamma: fit.gammaGamma, horizon: 52, discount: 0.01, draws: 40, seed: seed, threads: threads)!
        }
        let two = intervals(2)
        #expect(two == intervals(1))
        #expect(two != intervals(2, seed: 12))
        var inside = 0
        for (w, v) in zip(two, fit.results) {
            #expect(w.clvP05 <= w.clvP95 && w.purchasesP05 <= w.purchasesP95)
            if w.clvP05 <= v.clv && v.clv <= w.clvP95 && w.purchasesP05 <= v.expectedPurchases && v.expectedPurchases <= w.purchasesP95 { inside += 1 }
        }
        #expect(Double(inside) >= 0.95 * Double(customers.count), "\(inside) of \(customers.count)")
        let total = fit.results.reduce(0.0) { $0 + $1.clv }, lo = two.reduce(0.0) { $0 + $1.clvP05 }, hi = two.reduce(0.0) { $0 + $1.clvP95 }
        #expect(lo < total && total < hi && (hi - lo) / total < 0.5, "\(lo) \(total) \(hi)")
        // A tenth of the customers: wider relative intervals.
        let few = Array(customers.enumerated().filter { $0.offset % 10 == 0 }.map(\.element))
        let small = try CLV.run(few, horizon: 52, discount: 0.01)
        let w = CLVIntervals.compute(few, model: small.bgnbd, gammaGamma: small.gammaGamma, horizon: 52, discount: 0.01, draws: 40, seed: 11)!
        let smallTotal = small.results.reduce(0.0) { $0 + $1.clv }
        #expect((w.reduce(0.0) { $0 + $1.clvP95 } - w.reduce(0.0) { $0 + $1.clvP05 }) / smallTotal > (hi - lo) / total)
    }

    /// Pareto/NBD (`--model pnbd`): with lifetimes' parameters the per-customer log-likelihood,
    /// P(alive), conditional and unconditional expectations, holdout figures and tracking curve
    /// equal lifetimes' ParetoNBDFitter; the fit reproduces the published estimates (Fader, Hardie
    /// & Lee 2005: r 0.55, alpha 10.58, s 0.61, beta 11.67, log-likelihood -9595.0).
    @Test func paretoNBDMatchesLifetimesAndThePaper() throws {
        let ref = Self.reference.pareto_nbd, p = ref.params
        let m = ParetoNBD(r: p["r"]!, alpha: p["alpha"]!, s: p["s"]!, beta: p["beta"]!, logLikelihood: 0)
        for c in ref.cases {
            let ll = -ParetoNBDLikelihood(x: [c.x], tx: [c.tx], T: [c.T], weights: [1]).negativeLogLikelihood(m.parameters.map(log), threads: 1)
            #expect(close(ll, c.log_likelihood, 1e-10), "x=\(c.x): \(ll) vs \(c.log_likelihood)")
            #expect(close(m.probabilityAlive(x: c.x, tx: c.tx, T: c.T), c.p_alive, 1e-10), "x=\(c.x)")
            #expect(close(m.expectedPurchases(t: c.t, x: c.x, tx: c.tx, T: c.T), c.expected, 1e-10), "x=\(c.x)")
            #expect(close(m.expectedPurchasesSinceAcquisition(t: c.t), c.unconditional, 1e-12))
        }
        // The quadrature form of A0 agrees with the series where both work.
        for c in ref.cases where c.T > c.tx {
            let series = ParetoNBD.logA0(r: m.r, alpha: m.alpha, s: m.s, beta: m.beta, x: c.x, tx: c.tx, T: c.T)!
            let quadrature = ParetoNBD.logA0ByQuadrature(r: m.r, alpha: m.alpha, s: m.s, beta: m.beta, x: c.x, tx: c.tx, T: c.T)!
            #expect(abs(series - quadrature) < 1e-9, "x=\(c.x): \(series) vs \(quadrature)")
        }
        let e = Self.evaluate(m)
        #expect(close(e.predictedRepeatPurchases, ref.holdout_predicted, 1e-9) && close(e.mae, ref.holdout_mae, 1e-9) && close(e.rmse, ref.holdout_rmse, 1e-9))
        for (w, t) in zip(e.weekly, ref.tracking.predicted) { #expect(close(w.predictedCumulative, t, 1e-9), "week \(w.week)") }
        let (fit, _) = try CLV.fitRepeatPurchases(Self.summary.0, model: ParetoNBD.self)
        #expect(abs(fit.r - 0.553) < 0.001 && abs(fit.alpha - 10.58) < 0.01 && abs(fit.s - 0.606) < 0.001 && abs(fit.beta - 11.67) < 0.02, "\(fit)")
        #expect(abs(fit.logLikelihood - -9595.0) < 0.05 && abs(fit.logLikelihood - ref.log_likelihood) < 1e-3)
        #expect(fit.estimates.allSatisfy { $0.se != nil && $0.ci != nil })
        // s = 1 is inside the domain (the closed form's 0/0 has its limit).
        let s1 = m.with(parameters: [m.r, m.alpha, 1, m.beta])
        let below = m.with(parameters: [m.r, m.alpha, 1 - 1e-7, m.beta]).expectedPurchasesIfAlive(t: 39, x: 2, T: 38)
        #expect(abs(s1.expectedPurchasesIfAlive(t: 39, x: 2, T: 38) - below) < 1e-6)
    }
}
