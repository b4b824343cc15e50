import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

/// BG/NBD and Gamma-Gamma on CDNOW against the published estimates (Fader, Hardie & Lee 2005;
/// lifetimes' documentation): calibration end 1997-09-30, weeks.
@Suite struct CLVTests {
    static func cdnow() throws -> [CustomerSummary] {
        var t = TransactionOptions()
        t.customer = .position(2); t.date = .position(3); t.amount = .position(5)
        t.delimiter = .whitespace; t.hasHeader = false; t.dateFormat = "%Y%m%d"
        var o = RFMOptions()
        o.calibrationEnd = CivilDate.days(year: 1997, month: 9, day: 30)
        o.unit = .weeks
        return try RFM.summarize(path: "\(Fixtures.dir)/cdnow/CDNOW_sample.txt", transactions: t, options: o).0
    }

    func sig3(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 0.5 * pow(10, floor(log10(abs(b))) - 2) + 1e-12 }

    @Test func publishedEstimates() throws {
        let customers = try Self.cdnow()
        let r = try CLV.run(customers, horizon: 52, discount: 0.01)
        let bg = r.bgnbd, gg = r.gammaGamma
        #expect(sig3(bg.r, 0.243) && sig3(bg.alpha, 4.41) && sig3(bg.a, 0.793) && sig3(bg.b, 2.43), "\(bg)")
        #expect(abs(bg.logLikelihood - -9582.4) < 0.05, "\(bg.logLikelihood)")
        #expect(customers.filter { $0.btydFrequency > 0 }.count == 946)
        #expect(sig3(gg.p, 6.25) && sig3(gg.q, 3.74) && sig3(gg.gamma, 15.4), "\(gg)")
        #expect(r.uniqueTriples < customers.count)
    }

    /// P(alive) and the conditional expectation against direct evaluation of the paper's formulas
    /// (here without the log-space rewriting), and their invariants.
    @Test func conditionalQuantities() throws {
        let bg = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: 0)
        let (x, tx, T) = (2.0, 30.43, 38.86)
        let direct = 1 / (1 + (bg.a / (bg.b + x - 1)) * pow((bg.alpha + T) / (bg.alpha + tx), bg.r + x))
        #expect(abs(bg.probabilityAlive(x: x, tx: tx, T: T) - direct) < 1e-12)
        #expect(bg.probabilityAlive(x: 0, tx: 0, T: 38.86) == 1)
        // A recent buyer is more likely alive than one who stopped long ago.
        #expect(bg.probabilityAlive(x: 5, tx: 38, T: 38.86) > bg.probabilityAlive(x: 5, tx: 5, T: 38.86))
        // E[Y(t)] is increasing in t, zero at t = 0, and matches a direct series evaluation.
        #expect(abs(bg.expectedPurchases(t: 0, x: x, tx: tx, T: T)) < 1e-12)
        let e10 = bg.expectedPurchases(t: 10, x: x, tx: tx, T: T), e52 = bg.expectedPurchases(t: 52, x: x, tx: tx, T: T)
        #expect(e10 > 0 && e52 > e10)
        var hyp = 1.0, term = 1.0
        let (aa, bb, cc, z) = (bg.r + x, bg.b + x, bg.a + bg.b + x - 1, 10 / (bg.alpha + T + 10))
        for k in 0..<2000 { let kk = Double(k); term *= (aa + kk) * (bb + kk) / ((cc + kk) * (kk + 1)) * z; hyp += term }
        let directE = (bg.a + bg.b + x - 1) / (bg.a - 1) * (1 - pow((bg.alpha + T) / (bg.alpha + T + 10), bg.r + x) * hyp)
            / (1 + (bg.a / (bg.b + x - 1)) * pow((bg.alpha + T) / (bg.alpha + tx), bg.r + x))
        #expect(abs(e10 - directE) < 1e-9)
        // Gamma-Gamma: the expected spend shrinks the observed mean towards the population mean.
        let gg = GammaGamma(p: 6.25, q: 3.74, gamma: 15.44, logLikelihood: 0)
        let population = 15.44 * 6.25 / (3.74 - 1)
        let e = gg.expectedAverageSpend(x: 3, monetary: 100)
        #expect(e > population && e < 100)
        #expect(abs(gg.expectedAverageSpend(x: 1e9, monetary: 42) - 42) < 1e-3)
    }
}
