import Foundation
import Testing
@testable import StrataCore
import StrataIO
import StrataKernels
import StrataLinalg

/// Hierarchical clustering, DBSCAN and HDBSCAN against scipy and scikit-learn
/// (Scripts/make-cluster-fixtures.py; committed fixtures, no Python at test time).
@Suite struct ClusteringReferenceTests {
    static let dir = Fixtures.dir + "/clustering"

    struct HierCase: Decodable {
        struct Expected: Decodable { let merges: [[Double]]; let labels_k: [Int]; let labels_threshold: [Int] }
        let columns: [String]; let linkage: String; let k: Int; let distance_threshold: Double; let expected: Expected
    }
    struct DBSCANCase: Decodable {
        struct Expected: Decodable { let labels: [Int32]; let core_sample_indices: [Int] }
        let columns: [String]; let eps: Double; let min_samples: Double; let weighted: Bool; let expected: Expected
    }
    struct HDBSCANCase: Decodable {
        struct Expected: Decodable { let labels: [Int32]; let probabilities: [Double] }
        let columns: [String]; let min_cluster_size: Int; let min_samples: Int?; let expected: Expected
    }

    static func load<C: Decodable>(_ name: String, _ type: C.Type, weights: Bool = false, columns: (C) -> [String]) throws -> (C, Dataset) {
        let c = try JSONDecoder().decode(C.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).json")))
        let data = try TableReader.read(path: "\(dir)/\(name).csv", options: TableReadOptions(columns: columns(c), weightsColumn: weights ? "w" : nil))
        return (c, data)
    }

    /// Two labelings are the same partition (equal up to renumbering; -1 must match -1).
    static func samePartition(_ a: [Int32], _ b: [Int32]) -> Bool {
        guard a.count == b.count else { return false }
        var ab = [Int32: Int32](), ba = [Int32: Int32]()
        for (x, y) in zip(a, b) {
            if (x < 0) != (y < 0) { return false }
            if let m = ab[x], m != y { return false }
            if let m = ba[y], m != x { return false }
            ab[x] = y; ba[y] = x
        }
        return true
    }

    @Test(arguments: ["ward", "complete", "average", "single"])
    func hierarchicalMatchesScipy(linkage: String) throws {
        let (c, data) = try Self.load("hier-\(linkage)", HierCase.self) { $0.columns }
        for threads in [1, 2] {
            var o = AgglomerativeOptions(linkage: Linkage(rawValue: linkage)!, nClusters: c.k)
            o.threads = threads
            let r = try Agglomerative.fit(data, options: o)
            #expect(r.exact)
            #expect(r.merges.count == data.rows - 1)
            for (i, (m, z)) in zip(r.merges, c.expected.merges).enumerated() {
                #expect(m.a == Int(z[0]) && m.b == Int(z[1]) && m.size == Int(z[3]), "\(linkage) merge \(i): \(m) vs \(z)")
                #expect(abs(m.height - z[2]) <= 1e-9 * max(1, z[2]), "\(linkage) merge \(i) height \(m.height) vs \(z[2])")
            }
            #expect(r.nClusters == c.k)
            #expect(Self.samePartition(r.labels, c.expected.labels_k.map(Int32.init)), "\(linkage): k-cut differs from fcluster maxclust")
            var t = AgglomerativeOptions(linkage: Linkage(rawValue: linkage)!, distanceThreshold: c.distance_threshold)
            t.threads = threads
            let rt = try Agglomerative.fit(data, options: t)
            #expect(Self.samePartition(rt.labels, c.expected.labels_threshold.map(Int32.init)), "\(linkage): threshold cut differs from fcluster distance")
        }
    }

    @Test func wardOnMicroClustersIsApproximateButClose() throws {
        let (c, data) = try Self.load("hier-ward", HierCase.self) { $0.columns }
        var o = AgglomerativeOptions(linkage: .ward, nClusters: c.k)
        o.microClusters = 40
        let r = try Agglomerative.fit(data, options: o)
        #expect(!r.exact)
        #expect(r.merges.count == 39)
        #expect(r.microCenters?.rows == 40)
        let ari = try PartitionAgreement.adjustedRandIndex(r.labels.map(Int.init), c.expected.labels_k)
        #expect(ari > 0.7, "ARI \(ari)")
        // Weighted Ward on the micro-centers is exact Ward on the centers repeated by their sizes
        // (the repeats merge at height 0 first): the other heights must agree.
        let centers = try #require(r.microCenters), micro = try #require(r.microLabels)
        let counts = ClusterLabels.counts(micro, k: centers.rows)
        var rows: [Float] = []
        for (i, w) in counts.enumerated() { for _ in 0..<w { rows += centers.row(i) } }
        let repeated = Dataset(rows: data.rows, cols: data.cols, values: rows)
        let exact = try Agglomerative.fit(repeated, options: AgglomerativeOptions(linkage: .ward, nClusters: c.k))
        let tail = exact.merges.suffix(39).map(\.height)
        for (a, b) in zip(r.merges.map(\.height), tail) { #expect(abs(a - b) <= 1e-9 * max(1, b), "height \(a) vs \(b)") }
        #expect(exact.merges.dropLast(39).allSatisfy { $0.height == 0 })
    }

    @Test(arguments: ["dbscan-blobs", "dbscan-weighted", "dbscan-4d"])
    func dbscanMatchesScikitLearn(name: String) throws {
        let (c, data) = try Self.load(name, DBSCANCase.self, weights: name.contains("weighted")) { $0.columns }
        for threads in [1, 2] {
            var o = DBSCANOptions(eps: c.eps, minSamples: c.min_samples)
            o.threads = threads
            let r = try DBSCAN.fit(data, options: o)
            #expect(r.labels == c.expected.labels, "\(name): \(zip(r.labels, c.expected.labels).filter { $0 != $1 }.count) labels differ")
            #expect(r.isCore.indices.filter { r.isCore[$0] } == c.expected.core_sample_indices)
        }
    }

    @Test func dbscanEpsSuggestionIsAKnee() throws {
        let (c, data) = try Self.load("dbscan-blobs", DBSCANCase.self) { $0.columns }
        let s = DBSCAN.suggestEps(data, minSamples: Int(c.min_samples))
        let eps = try #require(s.eps)
        // The knee separates the dense blobs from the uniform noise: between the median
        // k-distance and the largest.
        let sorted = s.kDistances
        #expect(eps > sorted[sorted.count / 2] && eps < sorted.last!)
        let r = try DBSCAN.fit(data, options: DBSCANOptions(eps: eps, minSamples: c.min_samples))
        #expect(r.nClusters >= 3 && r.nClusters <= 8, "eps \(eps): \(r.nClusters) clusters")
    }

    @Test(arguments: ["hdbscan-blobs", "hdbscan-minsamples"])
    func hdbscanMatchesScikitLearn(name: String) throws {
        let (c, data) = try Self.load(name, HDBSCANCase.self) { $0.columns }
        for threads in [1, 2] {
            var o = HDBSCANOptions(minClusterSize: c.min_cluster_size, minSamples: c.min_samples)
            o.threads = threads
            let r = try HDBSCAN.fit(data, options: o)
            #expect(Self.samePartition(r.labels, c.expected.labels), "\(name): labels differ from scikit-learn")
            #expect(r.nNoise == c.expected.labels.filter { $0 < 0 }.count)
            let worst = zip(r.probabilities, c.expected.probabilities).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-9, "\(name): probabilities differ by \(worst)")
        }
    }
}
