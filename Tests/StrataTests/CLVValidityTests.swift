import Foundation
import Testing
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataSegment

/// Gamma-Gamma used only where it is defined (issue 16, first part): a fit with q <= 1 has no
/// mean spend, so the closed form is never used then; no spend or CLV is ever negative or
/// non-finite.
@Suite struct CLVValidityTests {
    /// The issue's reproducer: six customers with two or three equal orders each, amounts 2 to
    /// 2,546,183 (heavy-tailed spend).
    static func heavyTailed(_ dir: String) throws -> [CustomerSummary] {
        let text = """
            customer_id,date,amount
            a,2024-01-01,2
            a,2024-02-01,2
            a,2024-03-01,2
            b,2024-01-03,191
            b,2024-02-10,191
            c,2024-01-05,229
            c,2024-03-01,229
            c,2024-04-02,229
            d,2024-01-02,279
            d,2024-02-02,279
            e,2024-01-09,2522
            e,2024-03-09,2522
            f,2024-01-01,2546183
            f,2024-02-01,2546183
            f,2024-05-01,2546183

            """
        try text.write(toFile: dir + "/orders.csv", atomically: true, encoding: .utf8)
        var o = RFMOptions()
        o.unit = .weeks
        return try RFM.summarize(path: dir + "/orders.csv", transactions: TransactionOptions(), options: o).0
    }

    @Test func heavyTailedSpendFallsBackAndStaysPositive() throws {
        let customers = try Self.heavyTailed(temporaryDirectory())
        let r = try CLV.run(customers, horizon: 52, discount: 0.01)
        #expect(r.gammaGamma.q <= 1, "the reproducer fits q = \(r.gammaGamma.q)")
        #expect(!r.gammaGamma.valid)
        // Fallback: (x m + median) / (x + 1), the median of the six mean spends being 229 or 279.
        #expect([229.0, 279.0].contains(r.gammaGamma.medianSpend))
        for (c, v) in zip(customers, r.results) {
            #expect(v.expectedAverageSpend > 0 && v.expectedAverageSpend.isFinite)
            #expect(v.clv >= 0 && v.clv.isFinite)
            let x = Double(c.btydFrequency)
            let want = (x * c.btydMonetaryValue + r.gammaGamma.medianSpend) / (x + 1)
            #expect(abs(v.expectedAverageSpend - want) <= 1e-9 * want, "\(c.id): \(v.expectedAverageSpend) vs \(want)")
        }
        #expect(CLV.invalidSpendWarning(r.gammaGamma).contains("valid: false"))
    }

    @Test func aValidFitKeepsTheClosedForm() {
        let g = GammaGamma(p: 6.25, q: 3.74, gamma: 15.44, logLikelihood: 0, medianSpend: 30)
        #expect(g.valid)
        // Fader, Hardie & Lee 2005 / lifetimes: conditional expected average profit, x = 2, m = 35.
        let population = 15.44 * 6.25 / 2.74, w = 6.25 * 2 / (6.25 * 2 + 2.74)
        #expect(abs(g.expectedAverageSpend(x: 2, monetary: 35) - ((1 - w) * population + w * 35)) < 1e-12)
        var invalid = g
        invalid.q = 0.9
        #expect(!invalid.valid && invalid.expectedAverageSpend(x: 2, monetary: 35) == (70 + 30) / 3)
    }

    /// Property: random valid order logs (spends spanning six orders of magnitude, returns
    /// included) never give a negative or non-finite spend, CLV, probability, interval or holdout
    /// figure, for either repeat-purchase model.
    @Test(arguments: 0..<12)
    func noNegativeOrNonFiniteValues(seed: Int) throws {
        var rng = SeededRandom(seed: UInt64(seed) &+ 77)
        var lines = ["customer_id,date,amount"]
        for c in 0..<40 {
            let orders = 1 + Int(rng.next() % 6)
            let scale = pow(10, 6 * rng.nextUnit())
            var day = Int(rng.next() % 60)
            for _ in 0..<orders {
                let month = 1 + day / 28, dom = 1 + day % 28
                // One order in eight is a return (a negative amount).
                let sign = rng.next() % 8 == 0 ? -1.0 : 1.0
                lines.append("c\(c),2024-\(String(format: "%02d-%02d", min(12, month), dom)),\(String(format: "%.2f", sign * max(0.01, scale * (0.5 + rng.nextUnit()))))")
                day += 1 + Int(rng.next() % 40)
            }
        }
        let dir = temporaryDirectory()
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/o.csv", atomically: true, encoding: .utf8)
        var o = RFMOptions()
        o.unit = .weeks
        o.calibrationEnd = CivilDate.days(year: 2024, month: 6, day: 30)
        o.holdoutEnd = CivilDate.days(year: 2024, month: 12, day: 31)
        let (customers, report) = try RFM.summarize(path: dir + "/o.csv", transactions: TransactionOptions(), options: o)
        guard customers.contains(where: { $0.btydFrequency > 0 }) else { return }
        try check(ParetoNBD.self)
        try check(BGNBD.self)

        func check<M: RepeatPurchaseModel>(_ kind: M.Type) throws {
            let r: CLVFit<M>
            do { r = try CLV.fit(customers, model: kind, horizon: 52, discount: 0.01) } catch StrataError.numerical { return }
            for v in r.results {
                #expect(v.clv >= 0 && v.clv.isFinite, "seed \(seed) \(kind): CLV \(v.clv)")
                #expect(v.expectedAverageSpend >= 0 && v.expectedAverageSpend.isFinite)
                #expect(v.probabilityAlive >= 0 && v.probabilityAlive <= 1)
                #expect(v.expectedPurchases >= 0 && v.expectedPurchases.isFinite)
            }
            // Intervals exactly when the fit has a covariance, and obeying the same rule.
            let intervals = CLVIntervals.compute(customers, model: r.model, gammaGamma: r.gammaGamma, horizon: 52, discount: 0.01, draws: 20, seed: 3)
            #expect((intervals != nil) == (r.model.logCovariance != nil), "seed \(seed) \(kind)")
            #expect(r.model.logCovariance == nil || (r.model.converged && !r.model.atBound))
            for w in intervals ?? [] {
                #expect(w.clvP05 >= 0 && w.clvP05 <= w.clvP95 && w.clvP95.isFinite, "seed \(seed): \(w)")
                #expect(w.purchasesP05 >= 0 && w.purchasesP05 <= w.purchasesP95 && w.purchasesP95.isFinite)
            }
            // The holdout evaluation on the orders after the calibration end.
            let e = CLVHoldoutEvaluation.evaluate(customers, model: r.model, gammaGamma: r.gammaGamma, repeatPurchasesPerDay: report.repeatPurchasesPerDay,
                                                  calibrationEnd: o.calibrationEnd!, holdoutEnd: o.holdoutEnd!, unitDays: 7)
            #expect(e.actualRepeatPurchases == customers.reduce(0) { $0 + $1.holdoutPurchaseDays })
            #expect(e.predictedRepeatPurchases >= 0 && e.predictedRepeatPurchases.isFinite && e.mae.isFinite && e.rmse.isFinite)
            #expect(e.spend.actualMean >= 0 && e.spend.predictedMean >= 0 && e.spend.predictedRevenue >= 0 && e.spend.predictedRevenue.isFinite)
            #expect(e.weekly.allSatisfy { $0.predictedCumulative >= 0 && $0.predictedCumulative.isFinite })
            #expect(zip(e.weekly, e.weekly.dropFirst()).allSatisfy { $0.actualCumulative <= $1.actualCumulative })
            #expect(e.weekly.last!.actualCumulative == report.repeatPurchasesPerDay.values.reduce(0, +))
        }
    }

    /// Spend without an interior Gamma-Gamma optimum (here every customer's mean spend on a
    /// regular grid: the likelihood runs along a ridge, as scipy's Nelder-Mead also does on the
    /// demo's order log, where p grows to 2e6): the fit stops at the search bound, says so, gives
    /// no standard errors, and every expected spend stays positive and within the observed range.
    @Test func constantSpendStopsAtTheBound() throws {
        var frequency: [Double] = [], monetary: [Double] = [], weights: [Double] = []
        for i in 0..<300 { frequency.append(Double(1 + i % 7)); monetary.append(10 + Double(i % 50) * 3.7); weights.append(1) }
        // Each customer's days all had the same spend, so within-customer variation is nil; as a
        // Gamma-Gamma sample that is the limit p -> infinity.
        let g = try GammaGamma.fit(frequency: frequency, monetary: monetary, weights: weights)
        #expect(g.atBound && g.logCovariance == nil && g.estimates.allSatisfy { $0.se == nil }, "\(g)")
        for (x, m) in zip(frequency, monetary) {
            let e = g.expectedAverageSpend(x: x, monetary: m)
            #expect(e.isFinite && e >= monetary.min()! * 0.999 && e <= monetary.max()! * 1.001, "x=\(x) m=\(m): \(e)")
        }
        let fit = CLVFit(model: BGNBD(r: 0.24, alpha: 4.4, a: 0.79, b: 2.4, logLikelihood: 0, logCovariance: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]),
                         gammaGamma: g, results: [], uniqueTriples: 0)
        let w = CLV.fitWarnings(fit, intervalsWanted: false, intervalsGiven: false)
        #expect(w.contains { $0.contains("Gamma-Gamma parameter reached its search bound") } && !w.contains { $0.contains("evaluation cap") }, "\(w)")
    }

    /// The BG/NBD closed forms over the whole parameter domain: a = 1 exactly (0/0 in the closed
    /// form), a near 1, huge and tiny alpha, very long horizons (z near 1 in the hypergeometric
    /// series): always finite, >= 0, and non-decreasing in t.
    @Test func bgnbdExpectationsOverTheDomain() {
        let cases: [(Double, Double, Double, Double)] = [
            (0.243, 4.414, 0.793, 2.426), (0.243, 4.414, 1.0, 2.426), (0.243, 4.414, 1 + 5e-7, 2.426), (2, 1e-4, 0.5, 0.5),
            (0.01, 1e6, 3, 0.01), (50, 0.5, 1e-3, 1e3), (1e-3, 1e-3, 1e3, 1e-3), (5, 20, 0.999, 1e4),
        ]
        for (r, alpha, a, b) in cases {
            let bg = BGNBD(r: r, alpha: alpha, a: a, b: b, logLikelihood: 0)
            for (x, tx, T) in [(0.0, 0.0, 10.0), (3.0, 9.0, 10.0), (40.0, 500.0, 520.0), (1.0, 0.1, 1000.0)] {
                var previous = 0.0, previousU = 0.0
                for t in [0.0, 1e-6, 1, 10, 52, 520, 5200, 52_000] {
                    let e = bg.expectedPurchases(t: t, x: x, tx: tx, T: T), u = bg.expectedPurchasesSinceAcquisition(t: t)
                    #expect(e.isFinite && e >= previous - 1e-9 * max(1, e), "\(bg) x=\(x) t=\(t): \(e) after \(previous)")
                    #expect(u.isFinite && u >= previousU - 1e-9 * max(1, u), "\(bg) t=\(t): E[X(t)] \(u) after \(previousU)")
                    previous = e; previousU = u
                }
            }
        }
        // Continuity through a = 1: the nudged value sits between its neighbours' values.
        let at1 = BGNBD(r: 0.243, alpha: 4.414, a: 1, b: 2.426, logLikelihood: 0)
        var below = at1, above = at1
        below.a = 0.999; above.a = 1.001
        let (e0, e1, e2) = (below.expectedPurchases(t: 39, x: 2, tx: 30, T: 39), at1.expectedPurchases(t: 39, x: 2, tx: 30, T: 39),
                            above.expectedPurchases(t: 39, x: 2, tx: 30, T: 39))
        #expect(min(e0, e2) - 1e-6 <= e1 && e1 <= max(e0, e2) + 1e-6 && abs(e2 - e0) < 1e-2, "\(e0) \(e1) \(e2)")
        // A series that cannot converge in its budget says so instead of returning a truncated sum.
        #expect(Hypergeometric.f21(0.5, 1.5, 1.2, 0.999_999, maxTerms: 1_000) == nil)
        #expect(abs(Hypergeometric.f21(1, 1, 2, 0.5)! - (-log(0.5) / 0.5)) < 1e-14)
    }

    /// One discount convention: an annual rate compounded to the step, shared by clv and segment.
    @Test func oneDiscountConvention() {
        #expect(abs(CLVDiscount.perStep(annual: 0.10, stepDays: 7) - 0.0018283) < 1e-7)
        #expect(abs(CLVDiscount.perStep(annual: 0.10, stepDays: 365.25) - 0.10) < 1e-15)
        #expect(CLVDiscount.perStep(annual: 0, stepDays: 7) == 0)
        var t = SegmentConfig.Transactions(path: "o.csv")
        #expect(t.weeklyDiscount == CLVDiscount.perStep(annual: CLVDiscount.defaultAnnualRate, stepDays: 7))
        t.clvDiscount = 0.002
        #expect(t.weeklyDiscount == 0.002)
    }
}
