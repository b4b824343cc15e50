import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

@Suite struct SegmentBuildingBlocksTests {
    /// Every permutation's cost, for small matrices.
    func bruteForce(_ cost: [Double], _ n: Int) -> Double {
        var best = Double.infinity
        func go(_ row: Int, _ used: [Bool], _ total: Double) {
            if row == n { best = min(best, total); return }
            for j in 0..<n where !used[j] { var u = used; u[j] = true; go(row + 1, u, total + cost[row * n + j]) }
        }
        go(0, [Bool](repeating: false, count: n), 0)
        return best
    }

    @Test func hungarianMatchesBruteForce() {
        var rng = SeededRandom(seed: 3)
        for n in 1...6 {
            for _ in 0..<20 {
                let cost = (0..<(n * n)).map { _ in (rng.nextUnit() * 100).rounded() }
                let match = Hungarian.solve(cost: cost, rows: n, cols: n).map { $0! }
                #expect(Set(match).count == n)
                let total = (0..<n).reduce(0.0) { $0 + cost[$1 * n + match[$1]] }
                #expect(total == bruteForce(cost, n))
            }
        }
        // Rectangular: 3 before segments, 2 after: the costliest row is left unmatched.
        let m = Hungarian.solve(cost: [0, 9, 9, 0, 5, 5], rows: 3, cols: 2)
        #expect(m[0] == 0 && m[1] == 1 && m[2] == nil)
    }

    @Test func decisionTreeFindsAPlantedRule() {
        // Class 1 iff x <= 30 and y > 5; z is noise.
        var rng = SeededRandom(seed: 11)
        let n = 4000
        let x = (0..<n).map { _ in Float((rng.nextUnit() * 100).rounded()) }
        let y = (0..<n).map { _ in Float((rng.nextUnit() * 10).rounded()) }
        let z = (0..<n).map { _ in Float(rng.nextUnit()) }
        let labels = (0..<n).map { Int32(x[$0] <= 30 && y[$0] > 5 ? 1 : 0) }
        let tree = DecisionTree.fit(features: [.init(name: "z", values: z), .init(name: "x", values: x), .init(name: "y", values: y)],
                                    labels: labels, k: 2, depth: 2)
        #expect(tree.accuracy > 0.97, "accuracy \(tree.accuracy)")
        let rule = tree.leaves.filter { $0.prediction == 1 }.map(tree.describe)
        #expect(rule.contains { $0.contains("x <=") && $0.contains("y >") }, "\(rule)")
        #expect(tree.leaves.reduce(0) { $0 + $1.size } == n)
        // Thresholds for people: fixed notation, thousands separated, no float noise.
        #expect([1924.7, 32.41, 0.30000001, 0.0012345, -15_300_000, 7, 1234567].map { DecisionTree.number(Float($0)) }
                == ["1,920", "32.4", "0.3", "0.00123", "-15,300,000", "7", "1,234,567"])
    }

    @Test func namingRulesAndDisambiguation() throws {
        let roles = try SegmentRoles.infer(features: ["recency_days", "orders_per_year", "avg_spend", "tenure_days", "discount"], explicit: [:])
        #expect(roles.columns[.recency] == "recency_days" && roles.columns[.frequency] == "orders_per_year")
        #expect(roles.columns[.monetary] == "avg_spend" && roles.columns[.tenure] == "tenure_days")
        // Every claim at its boundary: just inside names the segment, just outside does not.
        func e(r: Double? = nil, f: Double? = nil, m: Double? = nil, t: Double? = nil, clv: Double? = nil, alive: Double? = nil,
               top: (String, Double)? = nil) -> NamingEvidence {
            var x = NamingEvidence()
            if let r { x.lift[.recency] = r }; if let f { x.lift[.frequency] = f }; if let m { x.lift[.monetary] = m }; if let t { x.lift[.tenure] = t }
            x.clvLift = clv; x.probabilityAlive = alive
            x.ranked = top.map { [(feature: $0.0, z: $0.1)] } ?? []
            return x
        }
        func name(_ x: NamingEvidence) -> String { SegmentNaming.name(x).name }
        // Lapsed: recency >= 2.5 and P(alive) < 0.5 when CLV exists.
        #expect(name(e(r: 2.5, f: 1, m: 1, t: 1, alive: 0.49)) == "Lapsed customers")
        #expect(name(e(r: 2.5, f: 1, m: 1, t: 1)) == "Lapsed customers")
        #expect(name(e(r: 2.49, f: 1, m: 1, t: 1, alive: 0.3)) == "At-risk customers")
        #expect(name(e(r: 3, f: 1, m: 1, t: 1, alive: 0.5)) == "At-risk customers")
        #expect(name(e(r: 3, m: 1.25, alive: 0.2)) == "Lapsed high-value")
        #expect(name(e(r: 3, m: 1.24, alive: 0.2)) == "Lapsed customers")
        // At-risk: recency >= 1.5 and prior (historical) value >= 1; below, inactive.
        #expect(name(e(r: 1.5, m: 1.0, t: 1)) == "At-risk customers")
        #expect(name(e(r: 1.5, m: 0.99, t: 1)) == "Inactive customers")
        #expect(name(e(r: 1.5, m: 0.76, t: 1)) == "Inactive customers")
        #expect(name(e(r: 1.5, m: 0.75, t: 1)) == "Inactive low-value")
        #expect(name(e(r: 1.5, m: 0.99, t: 1, clv: 1.1)) == "Inactive customers", "prior value is the historical spend, not the CLV")
        #expect(name(e(r: 1.5, m: 0.9, t: 1, clv: 1.3)) == "At-risk high-value")
        #expect(name(e(r: 1.49, m: 1.0, t: 1)) == "Typical customers")
        // New: tenure <= 0.5.
        #expect(name(e(r: 0.2, m: 1, t: 0.5)) == "New customers")
        #expect(name(e(r: 0.2, m: 1, t: 0.51)) == "Typical customers")
        #expect(name(e(r: 0.2, m: 1.25, t: 0.3)) == "New high-value")
        // High-value: value >= 1.25; loyal: frequency and tenure above average.
        #expect(name(e(r: 0.5, f: 1.01, m: 1.25, t: 1.01)) == "High-value loyal")
        #expect(name(e(r: 0.5, f: 1.0, m: 1.25, t: 1.01)) == "High-value customers")
        #expect(name(e(r: 0.5, f: 1.01, m: 1.24, t: 1.01)) == "Loyal customers")
        #expect(name(e(f: 2, m: 1.24)) == "Frequent buyers")
        #expect(name(e(f: 1.24, m: 1)) == "Typical customers")
        #expect(name(e(f: 0.75, m: 0.75)) == "Low-value occasional")
        #expect(name(e(f: 0.76, m: 0.75)) == "Low spenders")
        #expect(name(e(f: 0.75, m: 0.76)) == "Occasional buyers")
        // No role claim: the most distinguishing feature, or typical.
        #expect(name(e(top: ("discount", 1.5))) == "High discount")
        #expect(name(e(top: ("discount", -0.5))) == "Low discount")
        #expect(name(e(top: ("discount", 0.49))) == "Typical customers")
        // Names round-trip to their persona; a claim that fails says why, with numbers.
        #expect(SegmentPersona.of(name: "At-risk customers (discount share 2.1x)") == .atRisk)
        #expect(SegmentPersona.of(name: "High discount") == .distinctive && SegmentPersona.of(name: "VIP") == nil)
        #expect(SegmentPersona.highValue.check(e(m: 1.1)).reason == "needs value lift >= 1.25 and recency lift < 1.5 (value 1.10, recency unknown)")
        // Active names never go to customers who stopped buying; without a monetary column the
        // recency claim alone names them inactive.
        #expect(name(e(r: 1.6, f: 1.2, t: 1.5)) == "Inactive customers")
        #expect(name(e(r: 1.49, f: 1.2, t: 1.5)) == "Loyal customers")
        // A High/Low name follows the feature's lift when z (log scale) and the mean disagree.
        var skew = e(top: ("basket_items", 0.58))
        skew.featureLift = ["basket_items": 0.18]
        #expect(name(skew) == "Typical customers")
        skew.ranked.append((feature: "visits", z: -0.7)); skew.featureLift["visits"] = 0.6
        #expect(name(skew) == "Low visits")
        // Duplicates: told apart by the feature differing most from the first holder, with its lift.
        var a = e(r: 1.6, m: 1.1, t: 1), b = e(r: 1.7, m: 1.2, t: 1)
        a.ranked = [(feature: "recency_days", z: 0.8), (feature: "discount_share", z: -0.2)]
        b.ranked = [(feature: "recency_days", z: 0.9), (feature: "discount_share", z: 1.1)]
        b.featureLift = ["discount_share": 2.1, "recency_days": 1.7]
        let unique = SegmentNaming.disambiguate([name(a), name(b), name(b)], evidence: [a, b, b])
        #expect(unique == ["At-risk customers", "At-risk customers (discount share 2.1x)", "At-risk customers (recency days 1.7x)"])
        #expect(throws: StrataError.self) { try SegmentRoles.infer(features: ["a"], explicit: ["recency": "b"]) }
        #expect(SegmentNaming.describe(size: 1234, share: 0.1234, top: [(feature: "avg_spend", lift: 2.5, z: 1)], revenueShare: 0.5)
                == "1,234 customers (12.3%) with avg spend 2.5x the average; 50.0% of revenue.")
    }

    @Test func configRejectsUnknownKeysWithASuggestion() {
        #expect(throws: StrataError.self) { try SegmentConfig.checkKeys(["customers": "a.csv", "min_segmnt_size": 3], file: "job.yaml") }
        do { try SegmentConfig.checkKeys(["transactions": ["path": "t.csv", "amout_column": "x"]], file: "job.yaml") } catch {
            #expect("\(error)".contains("transactions.amount_column"))
        }
        var c = SegmentConfig()
        #expect(throws: StrataError.self) { try c.validate() }   // no input
        c.customers = "a.csv"; c.kMin = 5; c.kMax = 3
        #expect(throws: StrataError.self) { try c.validate() }
    }
}
