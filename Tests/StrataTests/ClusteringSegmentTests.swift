import Foundation
import Testing
@testable import StrataCore
@testable import StrataIO
@testable import StrataSegment

/// `strata segment --algorithm agglomerative|dbscan|hdbscan` in process, on planted customers:
/// three well-separated personas plus scattered atypical customers.
@Suite struct ClusteringSegmentTests {
    /// 3 x 150 customers around three centers in 3 features, then 24 spread far from all of them.
    static func plantedTable(_ dir: String) throws -> (path: String, truth: [Int]) {
        var rng = SeededRandom(seed: 11)
        let centers: [[Double]] = [[-8, 0, 4], [0, 9, -3], [9, -6, 0]]
        var lines = ["customer_id,spend_index,visit_index,basket_index"], truth: [Int] = []
        for c in 0..<3 {
            for i in 0..<150 {
                let v = centers[c].map { $0 + 0.7 * rng.nextGaussian() }
                lines.append("c\(c)-\(i)," + v.map { String(format: "%.4f", $0) }.joined(separator: ","))
                truth.append(c)
            }
        }
        for i in 0..<24 {
            let v = (0..<3).map { _ in (rng.nextUnit() < 0.5 ? -1.0 : 1.0) * (16 + 6 * rng.nextUnit()) }
            lines.append("odd-\(i)," + v.map { String(format: "%.4f", $0) }.joined(separator: ","))
            truth.append(-1)
        }
        let path = dir + "/customers.csv"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return (path, truth)
    }

    static func config(_ dir: String, _ path: String, _ algorithm: ClusteringAlgorithm, threads: Int = 2) -> SegmentConfig {
        var c = SegmentConfig()
        c.customers = path
        c.algorithm = algorithm
        c.clip = .none
        c.log = []
        c.minSegmentSize = 10
        c.threads = threads
        c.out = dir + "/out-\(algorithm.rawValue)-\(threads)"
        return c
    }

    static func assignments(_ out: String) throws -> (ids: [String], segments: [Int32], names: [String]) {
        let t = try RawTable.read(path: out + "/assignments.csv", numeric: ["segment_id"], categorical: ["segment_name"], idColumn: "customer_id")
        return (t.ids ?? [], t.numeric[0].map { Int32($0) }, t.categorical[0])
    }

    @Test func agglomerativeRecoversThePersonasAndDrawsTheTree() throws {
        let dir = temporaryDirectory()
        let (path, truth) = try Self.plantedTable(dir)
        var c = Self.config(dir, path, .agglomerative)
        c.k = 4
        _ = try SegmentJob.run(c, log: { _ in })
        let a = try Self.assignments(c.out)
        #expect(a.segments.count == truth.count)
        let personas = truth.indices.filter { truth[$0] >= 0 }
        let ari = try PartitionAgreement.adjustedRandIndex(personas.map { Int(a.segments[$0]) }, personas.map { truth[$0] })
        #expect(ari > 0.99, "ARI \(ari)")
        let html = try String(contentsOfFile: c.out + "/report.html", encoding: .utf8)
        #expect(html.contains("id=\"chart-dendrogram\""))
        // predict with the run's model gives every customer its segment back (nearest training row).
        let model = try AnyModelFile.load(path: c.out + "/model.json")
        guard case let .cluster(m) = model else { Issue.record("not a cluster model"); return }
        let data = try model.stages.apply(path: path, idColumn: "customer_id", modelColumns: m.columns, threads: 1)
        #expect(m.predict(data, threads: 1).labels == a.segments)
    }

    @Test(arguments: [ClusteringAlgorithm.dbscan, .hdbscan])
    func densityMethodsKeepAtypicalCustomersApart(algorithm: ClusteringAlgorithm) throws {
        let dir = temporaryDirectory()
        let (path, truth) = try Self.plantedTable(dir)
        var c = Self.config(dir, path, algorithm)
        if algorithm == .dbscan { c.eps = 0.5; c.minSamples = 6 } else { c.minClusterSize = 20 }
        let r = try SegmentJob.run(c, log: { _ in })
        let a = try Self.assignments(c.out)
        // Three persona segments plus the noise segment, last, with the fixed name.
        #expect(r.record.k == 4, "k \(r.record.k)")
        let noise: Int32 = 3
        #expect(a.names[truth.count - 1] == SegmentNaming.noiseName)
        let odd = truth.indices.filter { truth[$0] < 0 }
        #expect(odd.allSatisfy { a.segments[$0] == noise }, "every atypical customer is in the noise segment")
        let personas = truth.indices.filter { truth[$0] >= 0 }
        let clustered = personas.filter { a.segments[$0] != noise }
        #expect(Double(clustered.count) >= 0.9 * Double(personas.count))
        let ari = try PartitionAgreement.adjustedRandIndex(clustered.map { Int(a.segments[$0]) }, clustered.map { truth[$0] })
        #expect(ari > 0.99, "ARI \(ari)")
        // predict with the run's model gives every customer its segment back, noise included
        // (the model stores the noise segment's id and name).
        let model = try AnyModelFile.load(path: c.out + "/model.json")
        guard case let .cluster(m) = model else { Issue.record("not a cluster model"); return }
        #expect(m.noiseSegment == Int(noise) && m.segmentNames?.last == SegmentNaming.noiseName)
        let data = try model.stages.apply(path: path, idColumn: "customer_id", modelColumns: m.columns, threads: 1)
        #expect(m.predict(data, threads: 1).labels == a.segments)
        // The same run on one thread writes the same assignments.
        let c1 = Self.config(dir, path, algorithm, threads: 1)
        var one = c1
        one.eps = c.eps; one.minSamples = c.minSamples; one.minClusterSize = c.minClusterSize
        _ = try SegmentJob.run(one, log: { _ in })
        #expect(try Self.assignments(one.out).segments == a.segments)
        // run.json says how k came about.
        let run = try String(contentsOfFile: c.out + "/run.json", encoding: .utf8)
        #expect(run.contains("\"k_chosen_by\" : \"density\"") || run.contains("\"k_chosen_by\":\"density\""))
    }

    @Test func densityAlgorithmsRejectAFixedKAndOtherAlgorithmsSettings() throws {
        var c = SegmentConfig()
        c.customers = "x.csv"
        c.algorithm = .dbscan
        c.k = 3
        #expect(throws: StrataError.self) { try c.validate() }
        c.k = nil
        try c.validate()
        for mutate in [{ (c: inout SegmentConfig) in c.linkage = .single }, { $0.minClusterSize = 10 }, { $0.densitySample = 500 }, { $0.microClusters = 10 }] {
            var bad = c
            mutate(&bad)
            #expect(throws: StrataError.self) { try bad.validate() }
        }
        var h = c
        h.algorithm = .hdbscan
        h.eps = 0.5
        #expect { try h.validate() } throws: { "\($0)".contains("eps") && "\($0)".contains("dbscan") }
    }
}
