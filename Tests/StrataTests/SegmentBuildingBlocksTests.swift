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
    }

    @Test func namingRulesAndDisambiguation() throws {
        let roles = try SegmentRoles.infer(features: ["recency_days", "orders_per_year", "avg_spend", "tenure_days", "discount"], explicit: [:])
        #expect(roles.columns[.recency] == "recency_days" && roles.columns[.frequency] == "orders_per_year")
        #expect(roles.columns[.monetary] == "avg_spend" && roles.columns[.tenure] == "tenure_days")
        func name(_ z: [String: Double]) -> String {
            SegmentNaming.name(z: z, ranked: z.sorted { abs($0.value) > abs($1.value) }.map { ($0.key, $0.value) }, roles: roles)
        }
        #expect(name(["recency_days": 1.4, "avg_spend": 0.9]) == "Lapsed big spenders")
        #expect(name(["recency_days": 0.7, "avg_spend": 0.6]) == "At-risk big spenders")
        #expect(name(["tenure_days": -1.2, "avg_spend": -0.8]) == "New low-spend")
        #expect(name(["avg_spend": 0.8, "orders_per_year": 0.7, "recency_days": -0.6]) == "High-value loyal")
        #expect(name(["discount": 1.5]) == "High discount")
        #expect(name(["discount": 0.1]) == "Typical customers")
        let unique = SegmentNaming.disambiguate(["Big spenders", "Big spenders", "Big spenders"],
                                                ranked: [[("a", 1)], [("discount", -0.9)], [("discount", -0.9)]])
        #expect(unique == ["Big spenders", "Big spenders (low discount)", "Big spenders 2"])
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
