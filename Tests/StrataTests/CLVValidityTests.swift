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

    /// Property: random valid order logs (spends spanning six orders of magnitude) never give a
    /// negative or non-finite spend, CLV or probability.
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
                lines.append("c\(c),2024-\(String(format: "%02d-%02d", min(12, month), dom)),\(String(format: "%.2f", max(0.01, scale * (0.5 + rng.nextUnit()))))")
                day += 1 + Int(rng.next() % 40)
            }
        }
        let dir = temporaryDirectory()
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/o.csv", atomically: true, encoding: .utf8)
        var o = RFMOptions()
        o.unit = .weeks
        let customers = try RFM.summarize(path: dir + "/o.csv", transactions: TransactionOptions(), options: o).0
        guard customers.contains(where: { $0.btydFrequency > 0 }) else { return }
        let r = try CLV.run(customers, horizon: 52, discount: 0.01)
        for v in r.results {
            #expect(v.clv >= 0 && v.clv.isFinite, "seed \(seed): CLV \(v.clv)")
            #expect(v.expectedAverageSpend >= 0 && v.expectedAverageSpend.isFinite)
            #expect(v.probabilityAlive >= 0 && v.probabilityAlive <= 1)
            #expect(v.expectedPurchases >= 0 && v.expectedPurchases.isFinite)
        }
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
