import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataIO
import StrataKernels
import StrataLinalg

/// Issue 13's library items: degenerate k (10), zero-weight rows (11), offset data (12), AMI of
/// identical labelings (14).
@Suite struct DataContractCoreTests {
    // MARK: 14 - AMI

    @Test func amiOfIdenticalPartitionsIsOne() throws {
        // Every row its own cluster: MI = E[MI] = H, the formula is 0 / 0 (scikit-learn's edge case).
        for n in [2, 3, 4, 5, 10] {
            let a = Array(0..<n)
            #expect(try PartitionAgreement.adjustedMutualInformation(a, a) == 1, "n = \(n)")
            #expect(try PartitionAgreement.adjustedMutualInformation(a, a.map { 100 - $0 }) == 1, "n = \(n), renamed")
        }
        // Identical partitions under other names.
        let a = [0, 0, 1, 1, 2, 2, 2, 3]
        #expect(try PartitionAgreement.adjustedMutualInformation(a, a.map { [7, 3, 9, 1][$0] }) == 1)
        // Not identical: below 1 (one row moved).
        let b = [0, 0, 1, 1, 2, 2, 3, 3]
        #expect(try PartitionAgreement.adjustedMutualInformation(a, b) < 0.99)
        // Singletons against one cluster: nothing shared.
        #expect(abs(try PartitionAgreement.adjustedMutualInformation([0, 1, 2, 3], [0, 0, 0, 0])) < 1e-12)
    }

    // MARK: 12 - offset data

    static let offsetValues: [Float] = [5000000.5, 5000001, 5000001.5, 5000002.5]

    @Test(arguments: CovarianceType.allCases)
    func oneComponentMixtureOnOffsetDataHasTheExactMean(type: CovarianceType) throws {
        let data = Dataset(rows: 4, cols: 1, values: Self.offsetValues)
        var o = GMMOptions(k: 1)
        o.covarianceType = type
        o.threads = 1
        let r = try GMM.fit(data, options: o)
        // The inputs are exact in Float; their mean 5000001.375 is not (Float gives ...1.5).
        // (Before: 5000001.25, the data centered on the Float mean 5000001.5 and shifted back by
        // the Double one.)
        #expect(abs(r.model.means[0] - 5000001.375) < 1e-6, "\(type): mean \(r.model.means)")
        // Population variance of the deviations -0.875, -0.375, 0.125, 1.125, plus reg-covar.
        #expect(abs(r.model.covariances[0] - (0.546875 + 1e-6)) < 1e-6, "\(type): variance \(r.model.covariances)")
        let p = try r.model.predict(data, threads: 1)
        #expect(abs(p.meanLogLikelihood - r.score) < 1e-6)
    }

    @Test func twoComponentDiagonalMixtureOnOffsetDataSeparatesTheGroups() throws {
        // Two groups 0.5 apart around 5e6: the E-step must see the fractions (centered in Double).
        let values: [Float] = [5000000, 5000000, 5000000.5, 5000000, 5000004, 5000004.5, 5000004, 5000004]
        let data = Dataset(rows: 8, cols: 1, values: values)
        var o = GMMOptions(k: 2)
        o.covarianceType = .diag
        o.threads = 1
        let r = try GMM.fit(data, options: o)
        let means = r.model.means.sorted()
        let errors = [abs(means[0] - 5000000.125), abs(means[1] - 5000004.125)]
        #expect(errors.allSatisfy { $0 < 1e-6 }, "\(means)")
    }

    @Test func kMeansCentersOnOffsetDataAreTheFloatNearestMeans() throws {
        let data = Dataset(rows: 4, cols: 1, values: Self.offsetValues)
        var o = KMeansOptions(k: 1)
        o.threads = 1
        let r = try KMeans.fit(data, options: o)
        #expect(r.centroids[0, 0] == Float(5000001.375 as Double))
        // Inertia: squared deviations from the Float center 5000001.5.
        #expect(r.inertia == 2.25, "\(r.inertia)")   // 1 + 0.25 + 0 + 1
    }

    // MARK: 11 - zero-weight rows

    /// One column 1, 1, 5, 5, 1000 with weights 1, 1, 1, 1, 0 (the reproducer).
    static let reproducer = Dataset(rows: 5, cols: 1, values: [1, 1, 5, 5, 1000], weights: [1, 1, 1, 1, 0])

    static func sortedCenters(_ r: KMeansResult) -> [Float] { (0..<r.centroids.rows).map { r.centroids[$0, 0] }.sorted() }

    @Test func miniBatchIgnoresTheZeroWeightOutlierForEverySeed() throws {
        for seed in UInt64(0)..<40 {
            var o = KMeansOptions(k: 2)
            o.algorithm = .minibatch
            o.seed = seed
            o.threads = 1
            let r = try KMeans.fit(Self.reproducer, options: o)
            #expect(Self.sortedCenters(r) == [1, 5], "seed \(seed): \(Self.sortedCenters(r))")
            #expect(r.inertia == 0)
            #expect(r.clusterWeights.sorted() == [2, 2])
        }
    }

    @Test(arguments: ["k-means++", "random", "k-means||"])
    func lloydIgnoresTheZeroWeightOutlierForEverySeed(initName: String) throws {
        for seed in UInt64(0)..<20 {
            var o = KMeansOptions(k: 2)
            o.initialization = Self.initialization(initName)
            o.seed = seed
            o.threads = 1
            let r = try KMeans.fit(Self.reproducer, options: o)
            #expect(Self.sortedCenters(r) == [1, 5], "\(initName), seed \(seed): \(Self.sortedCenters(r))")
            // Tolerance from the weighted variance (4), not one inflated by 1000.
            #expect(abs(r.absoluteTolerance - 1e-4 * 4) < 1e-15)
        }
    }

    static func initialization(_ name: String) -> KMeansInit {
        switch name {
        case "random": return .random
        case "k-means||": return .kMeansParallel(oversampling: 2, rounds: 2)
        default: return .kMeansPlusPlus
        }
    }

    @Test func weightedVariancesLeaveOutZeroWeightRows() {
        let stats = Self.reproducer.withRows { rows, w in
            ColumnStatistics.compute(rows, weights: w, partition: RowPartition(rows: 5, chunkRows: 2), threads: 2)
        }
        #expect(stats.means == [3] && stats.variances == [4])
        // Weights act as repeat counts: 2 x [1] + 1 x [4] has mean 2, variance 2.
        let repeated = Dataset(rows: 2, cols: 1, values: [1, 4], weights: [2, 1])
        let s2 = repeated.withRows { rows, w in ColumnStatistics.compute(rows, weights: w, partition: RowPartition(rows: 2), threads: 1) }
        #expect(s2.means == [2] && s2.variances == [2])
    }

    @Test func weightedRandomSampleNeverPicksZeroWeightRowsAndFollowsTheWeights() {
        let weights: [Float] = [0, 1, 0, 3, 0]
        var hits = [Int](repeating: 0, count: 5)
        for seed in UInt64(0)..<4000 {
            var rng = SeededRandom(seed: seed)
            let one = weights.withUnsafeBufferPointer { KMeans.weightedRowSample($0.baseAddress!, rows: 5, count: 1, rng: &rng) }
            hits[one[0]] += 1
            var rng2 = SeededRandom(seed: seed)
            let two = weights.withUnsafeBufferPointer { KMeans.weightedRowSample($0.baseAddress!, rows: 5, count: 2, rng: &rng2) }
            #expect(Set(two) == [1, 3])
        }
        #expect(hits[0] == 0 && hits[2] == 0 && hits[4] == 0)
        // P(row 3) = 3/4; 4000 draws: standard error 0.007.
        #expect(abs(Double(hits[3]) / 4000 - 0.75) < 0.03, "\(hits)")
    }

    @Test func relocationSkipsZeroWeightRows() {
        let dist: [Float] = [9, 1, 7, 3]
        let w: [Float] = [0, 1, 1, 1]
        #expect(w.withUnsafeBufferPointer { KMeans.farthestRows(dist, count: 2, weights: $0.baseAddress) } == [2, 3])
        #expect(KMeans.farthestRows(dist, count: 2) == [0, 2])
    }

    @Test func kAboveTheRowsOfPositiveWeightIsAnError() {
        var o = KMeansOptions(k: 5)
        o.threads = 1
        #expect(throws: StrataError.self) { try KMeans.fit(Self.reproducer, options: o) }
    }

    /// Blobs with positive weights, and the same rows followed by far-away rows of weight 0.
    static func weightedPair() -> (Dataset, Dataset) {
        let (m, _) = blobs(k: 3, d: 2, perCluster: 120, spread: 1.5, seed: 11)
        var rng = SeededRandom(seed: 4)
        let weights = (0..<m.rows).map { _ in Float(0.25 + rng.nextUnit() * 2) }
        let base = Dataset(rows: m.rows, cols: 2, values: m.storage, weights: weights)
        var values = m.storage, w = weights
        for i in 0..<90 { values += [Float(1000 + i), Float(-500 - 3 * i)]; w.append(0) }
        return (base, Dataset(rows: m.rows + 90, cols: 2, values: values, weights: w))
    }

    @Test(arguments: ["k-means++", "random", "k-means||", "minibatch k-means++", "minibatch random"])
    func zeroWeightRowsChangeNothing(variant: String) throws {
        let (base, extended) = Self.weightedPair()
        var o = KMeansOptions(k: 4)
        o.initialization = Self.initialization(variant.replacingOccurrences(of: "minibatch ", with: ""))
        if variant.hasPrefix("minibatch") {
            o.algorithm = .minibatch
            o.minibatch.batchSize = 64
        }
        o.seed = 3
        o.threads = 2
        let a = try KMeans.fit(base, options: o)
        let b = try KMeans.fit(extended, options: o)
        for c in 0..<4 {
            for j in 0..<2 {
                #expect(abs(a.centroids[c, j] - b.centroids[c, j]) <= 1e-4 * max(1, abs(a.centroids[c, j])), "\(variant): center \(c)")
            }
        }
        #expect(relativeError(b.inertia, a.inertia) < 1e-9, "\(variant): inertia \(b.inertia) vs \(a.inertia)")
        #expect(zip(a.clusterWeights, b.clusterWeights).allSatisfy { relativeError($1, $0) < 1e-9 }, "\(variant)")
        #expect(Array(b.labels.prefix(base.rows)) == a.labels, "\(variant)")
        #expect(b.absoluteTolerance == a.absoluteTolerance)
    }

    @Test func gaussianMixturesRejectSampleWeights() {
        let data = Dataset(rows: 4, cols: 1, values: [1, 2, 3, 4], weightsColumn: "w", weights: [1, 1, 0, 1])
        #expect(throws: StrataError.self) { try GMM.fit(data, options: GMMOptions(k: 1)) }
    }

    // MARK: 10 - k above the distinct rows

    /// 3 distinct rows, 40 copies each (the issue's `segment --k 5` reproducer shape).
    static let threeDistinct: Dataset = {
        let rows: [[Float]] = [[1, 2], [-0.0, 7], [4, 4]]
        return Dataset(rows: 120, cols: 2, values: (0..<120).flatMap { rows[$0 % 3] })
    }()

    @Test func distinctRowCountStopsAtTheLimit() throws {
        #expect(distinctRowCount(Self.threeDistinct, atMost: 10) == 3)
        #expect(distinctRowCount(Self.threeDistinct, atMost: 2) == 2)
        #expect(distinctRowCount(Self.threeDistinct, atMost: 0) == 0)
        // -0 and +0 are the same point.
        let signed = Dataset(rows: 2, cols: 1, values: [0, -0.0])
        #expect(distinctRowCount(signed, atMost: 5) == 1)
        // Rows of weight 0 are not counted.
        #expect(distinctRowCount(Self.reproducer, atMost: 5) == 2)
        // Memory-mapped rows (float32 .npy).
        let dir = temporaryDirectory()
        let path = dir + "/three.npy"
        try Data(npyBytes(descr: "<f4", shape: "(120, 2)", payload: Self.threeDistinct.values.withUnsafeBytes { Array($0) })).write(to: URL(fileURLWithPath: path))
        let mapped = try TableReader.read(path: path)
        #expect(mapped.mapping != nil)
        #expect(distinctRowCount(mapped, atMost: 5) == 3)
    }

    @Test func kAboveTheDistinctRowsWarnsInEveryFit() throws {
        var o = KMeansOptions(k: 5)
        o.threads = 1
        let lloyd = try KMeans.fit(Self.threeDistinct, options: o)
        #expect(lloyd.warnings == ["k = 5 but the data (<memory>) have only 3 distinct rows; 2 clusters are empty or duplicates; lower k"])
        o.algorithm = .minibatch
        #expect(try KMeans.fit(Self.threeDistinct, options: o).warnings == lloyd.warnings)
        // k-means|| draws duplicate candidates here; those no row weighs for are dropped.
        o.algorithm = .auto
        o.initialization = .kMeansParallel(oversampling: 2, rounds: 2)
        let parallel = try KMeans.fit(Self.threeDistinct, options: o)
        #expect(parallel.warnings == lloyd.warnings && parallel.inertia == 0)
        var g = GMMOptions(k: 4)
        g.covarianceType = .diag
        g.threads = 1
        let mixture = try GMM.fit(Self.threeDistinct, options: g)
        #expect(mixture.warnings == ["k = 4 but the data (<memory>) have only 3 distinct rows; 1 component is empty or duplicate; lower k"])
        o = KMeansOptions(k: 3)
        o.threads = 1
        #expect(try KMeans.fit(Self.threeDistinct, options: o).warnings.isEmpty)
        g.k = 3
        #expect(try GMM.fit(Self.threeDistinct, options: g).warnings.isEmpty)
    }
}

/// A version 1.0 `.npy` file: `{'descr': ..., 'fortran_order': ..., 'shape': ...}` padded to 64 bytes.
func npyBytes(descr: String, shape: String, payload: [UInt8], fortran: String = "False", version: UInt8 = 1) -> [UInt8] {
    var header = "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }"
    let lengthBytes = version == 1 ? 2 : 4
    while (8 + lengthBytes + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let len = header.utf8.count
    let lengthField: [UInt8] = version == 1 ? [UInt8(len & 0xff), UInt8(len >> 8)] : [UInt8(len & 0xff), UInt8((len >> 8) & 0xff), 0, 0]
    return [0x93] + Array("NUMPY".utf8) + [version, 0] + lengthField + Array(header.utf8) + payload
}
