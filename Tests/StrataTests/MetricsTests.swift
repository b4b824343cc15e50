import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

/// Clustering metrics against scikit-learn (Scripts/make-metric-fixtures.py) and invariants.
@Suite struct MetricsTests {
    struct MetricCase: Decodable {
        let data: [[Double]]
        let labels: [Int]
        let silhouette: Double?
        let silhouette_samples: [Double]?
        let davies_bouldin: Double?
        let calinski_harabasz: Double?
        let inertia: Double
    }

    struct PairCase: Decodable {
        let a: [Int]
        let b: [Int]
        let adjusted_rand: Double
        let adjusted_mutual_info: Double
    }

    static func load<T: Decodable>(_ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: "\(Fixtures.dir)/\(name).json")))
    }

    static func dataset(_ c: MetricCase) -> Dataset {
        Dataset(rows: c.data.count, cols: c.data[0].count, values: c.data.flatMap { $0.map { Float($0) } })
    }

    func close(_ a: Double, _ b: Double, _ tol: Double = 1e-6) -> Bool { abs(a - b) <= tol * max(1, abs(b)) }

    @Test(arguments: ["blobs", "noisy_singleton", "two_clusters"])
    func matchesScikitLearn(name: String) throws {
        let c: MetricCase = try Self.load("metrics_\(name)")
        let data = Self.dataset(c)
        let labels = ClusterLabels(c.labels)
        for threads in [1, 2] {
            let m = try DispersionMetrics.compute(data, labels: labels, threads: threads)
            #expect(close(m.inertia, c.inertia), "\(name) inertia \(m.inertia) vs \(c.inertia)")
            #expect(close(m.calinskiHarabasz!, c.calinski_harabasz!), "\(name) CH \(m.calinskiHarabasz!) vs \(c.calinski_harabasz!)")
            #expect(close(m.daviesBouldin!, c.davies_bouldin!), "\(name) DB \(m.daviesBouldin!) vs \(c.davies_bouldin!)")
            let s = try Silhouette.compute(data, labels: labels, threads: threads)
            #expect(close(s.mean, c.silhouette!), "\(name) silhouette \(s.mean) vs \(c.silhouette!)")
            for (v, want) in zip(s.values, c.silhouette_samples!) { #expect(close(v, want)) }
            #expect(s.standardError == 0)
        }
    }

    @Test func sampledSilhouetteIsWithinItsErrorAndDeterministic() throws {
        let c: MetricCase = try Self.load("metrics_blobs")
        let data = Self.dataset(c)
        let labels = ClusterLabels(c.labels)
        let a = try Silhouette.compute(data, labels: labels, sample: 120, seed: 3, threads: 1)
        let b = try Silhouette.compute(data, labels: labels, sample: 120, seed: 3, threads: 2)
        #expect(a.values == b.values && a.rows == b.rows)
        #expect(a.rows.count == 120 && Set(a.rows).count == 120)
        #expect(a.standardError > 0)
        #expect(abs(a.mean - c.silhouette!) <= 4 * a.standardError, "\(a.mean) vs \(c.silhouette!) ± \(a.standardError)")
        // The estimate is the exact silhouette of the sampled subset.
        let sub = Dataset(rows: 120, cols: data.cols, values: a.rows.flatMap { r in (0..<data.cols).map { data.values[r * data.cols + $0] } })
        let exactSub = try Silhouette.compute(sub, labels: ClusterLabels(a.rows.map { c.labels[$0] }))
        #expect(close(exactSub.mean, a.mean, 1e-12))
    }

    @Test func simplifiedSilhouetteMatchesBruteForce() throws {
        for name in ["blobs", "noisy_singleton"] {
            let c: MetricCase = try Self.load("metrics_\(name)")
            let data = Self.dataset(c)
            let labels = ClusterLabels(c.labels)
            let fast = try Silhouette.simplified(data, labels: labels, threads: 2)
            // O(n^2) definition: mean squared distances, own cluster excluding the point itself.
            let x = c.data.map { $0.map { Double(Float($0)) } }
            var total = 0.0
            for i in 0..<x.count {
                var sums = [Double](repeating: 0, count: labels.k)
                for j in 0..<x.count {
                    var q = 0.0
                    for t in 0..<x[i].count { let v = x[i][t] - x[j][t]; q += v * v }
                    sums[Int(labels.indices[j])] += q
                }
                let own = Int(labels.indices[i])
                if labels.counts[own] == 1 { continue }
                let a = sums[own] / Double(labels.counts[own] - 1)
                var b = Double.infinity
                for k in 0..<labels.k where k != own { b = min(b, sums[k] / Double(labels.counts[k])) }
                total += (b - a) / max(a, b)
            }
            #expect(close(fast, total / Double(x.count), 1e-9), "\(name): \(fast) vs \(total / Double(x.count))")
        }
    }

    @Test(arguments: ["noisy", "permuted", "independent", "single"])
    func agreementMatchesScikitLearn(name: String) throws {
        let c: PairCase = try Self.load("labelpair_\(name)")
        let ari = try PartitionAgreement.adjustedRandIndex(c.a, c.b)
        let ami = try PartitionAgreement.adjustedMutualInformation(c.a, c.b)
        let ariSwapped = try PartitionAgreement.adjustedRandIndex(c.b, c.a)
        #expect(close(ari, c.adjusted_rand, 1e-9), "\(name): ARI \(ari) vs \(c.adjusted_rand)")
        #expect(close(ami, c.adjusted_mutual_info, 1e-9), "\(name): AMI \(ami) vs \(c.adjusted_mutual_info)")
        #expect(close(ariSwapped, c.adjusted_rand, 1e-9))
    }

    @Test func degenerateCases() throws {
        let data = Dataset(rows: 4, cols: 1, values: [0, 1, 2, 3])
        #expect(throws: StrataError.self) { try Silhouette.compute(data, labels: ClusterLabels([0, 0, 0, 0])) }
        #expect(throws: StrataError.self) { try Silhouette.compute(data, labels: ClusterLabels([0, 1, 2, 3])) }
        let one = try DispersionMetrics.compute(data, labels: ClusterLabels([5, 5, 5, 5]))
        #expect(one.calinskiHarabasz == nil && one.daviesBouldin == nil && one.inertia == 5)
        // Duplicate points in one cluster, identical clusters: scikit-learn's conventions.
        let dup = Dataset(rows: 4, cols: 1, values: [1, 1, 1, 1])
        let m = try DispersionMetrics.compute(dup, labels: ClusterLabels([0, 0, 1, 1]))
        #expect(m.calinskiHarabasz == 1 && m.daviesBouldin == 0)
        let same = try PartitionAgreement.adjustedRandIndex([1, 1, 2, 2], [0, 0, 1, 1])
        #expect(same == 1)
        #expect(throws: StrataError.self) { try PartitionAgreement.adjustedRandIndex([1], [1, 2]) }
        #expect(ClusterLabels(strings: ["10", "9", "10"]).values == ["9", "10"])
    }
}
