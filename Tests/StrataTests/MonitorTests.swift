import Foundation
import Strata
@testable import StrataCore
import Testing

/// Drift monitoring's statistics against numpy (Scripts/make-monitor-fixtures.py): decile edges,
/// bin shares and the population stability index of every feature of every batch.
@Suite struct MonitorTests {
    static let dir = Fixtures.dir + "/monitor"

    static func expected() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json"))) as! [String: Any]
    }

    static func read(_ name: String) throws -> RawTable {
        try RawTable.read(path: "\(dir)/\(name).csv", numeric: ["recency_days", "frequency", "monetary"], categorical: ["region"], idColumn: "customer_id")
    }

    static func close(_ a: Double, _ b: Double, _ tol: Double = 1e-12) -> Bool { abs(a - b) <= tol * max(1, abs(b)) }

    @Test func binsAndPSIEqualNumpy() throws {
        let e = try Self.expected()
        let training = e["training"] as! [String: [String: Any]]
        let train = try Self.read("train")
        #expect(e["epsilon"] as? Double == PopulationStability.epsilon)
        var checked = 0
        for (j, name) in train.numericNames.enumerated() {
            let want = training[name]!
            let d = BinnedDistribution.fit(train.numeric[j])
            let edges = want["edges"] as! [Double], props = want["proportions"] as! [Double]
            #expect(d.edges.count == edges.count && zip(d.edges, edges).allSatisfy { Self.close($0, $1) }, "\(name) edges \(d.edges) vs \(edges)")
            #expect(d.proportions.count == props.count && zip(d.proportions, props).allSatisfy { Self.close($0, $1) }, "\(name) proportions")
            #expect(Self.close(d.missing, want["missing"] as! Double))
            for (batch, features) in e["batches"] as! [String: [String: [String: Any]]] {
                let raw = try Self.read(batch)
                let psi = d.psi(raw.numeric[j])
                let ref = features[name]!["psi"] as! Double
                #expect(Self.close(psi, ref), "\(batch) \(name): PSI \(psi) vs numpy \(ref)")
                checked += 1
            }
        }
        let region = training["region"]!
        let c = CategoryDistribution.fit(train.categorical[0])
        #expect(c.categories == region["categories"] as! [String])
        #expect(zip(c.proportions, region["proportions"] as! [Double]).allSatisfy { Self.close($0, $1) })
        #expect(Self.close(c.missing, region["missing"] as! Double))
        for (batch, features) in e["batches"] as! [String: [String: [String: Any]]] {
            let psi = c.psi(try Self.read(batch).categorical[0])
            let ref = features["region"]!["psi"] as! Double
            #expect(Self.close(psi, ref), "\(batch) region: PSI \(psi) vs numpy \(ref)")
            checked += 1
        }
        #expect(checked == 16)
    }

    @Test func psiFormulaWithEmptyBins() {
        // (1 - 0.5) ln(1 / 0.5) + (1e-4 - 0.5) ln(1e-4 / 0.5): an empty bin counts as epsilon.
        let want = 0.5 * log(2.0) + (1e-4 - 0.5) * log(1e-4 / 0.5)
        #expect(abs(PopulationStability.index(expected: [0.5, 0.5], actual: [1, 0]) - want) < 1e-15)
        #expect(PopulationStability.index(expected: [0.2, 0.8, 0], actual: [0.2, 0.8, 0]) == 0)
    }

    @Test func binsAreRightClosedAndEqualEdgesCollapse() {
        let d = BinnedDistribution.fit([0, 0, 0, 0, 0, 0, 1, 1, 1, .nan])
        // numpy's deciles of the 9 values: 0 (x6), 0.6, 1, 1; equal edges kept once.
        #expect(d.edges.count == 3 && d.edges[0] == 0 && abs(d.edges[1] - 0.6) < 1e-12 && d.edges[2] == 1)
        #expect(d.bin(0) == 0 && d.bin(0.5) == 1 && d.bin(1) == 2 && d.bin(2) == 3)
        #expect(d.proportions == [0.6, 0, 0.3, 0] && d.missing == 0.1)
    }
}
