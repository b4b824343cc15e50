import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment
import StrataKernels
import StrataLinalg

@Suite struct KMeansBehaviourTests {
    /// Enough rows for several chunks (RowPartition.defaultChunkRows = 16384).
    static let big: Dataset = {
        let (m, _) = blobs(k: 6, d: 7, perCluster: 7_000, spread: 6, seed: 11)
        return Dataset(m)
    }()

    @Test(arguments: [KMeansInit.kMeansPlusPlus, .random], ["simd/lloyd", "gemm/lloyd", "simd/hamerly"])
    func identicalForAnyThreadCount(initMethod: KMeansInit, variant: String) throws {
        let parts = variant.split(separator: "/").map(String.init)
        var results: [KMeansResult] = []
        for threads in [1, 2, 3] {
            var o = KMeansOptions(k: 6)
            o.initialization = initMethod
            o.nInit = 2
            o.seed = 1234
            o.threads = threads
            o.route = AssignmentRoute(rawValue: parts[0])
            o.algorithm = KMeansAlgorithm(rawValue: parts[1])!
            o.maxIterations = 15
            results.append(try KMeans.fit(Self.big, options: o))
        }
        for r in results.dropFirst() {
            #expect(r.centroids.storage.map(\.bitPattern) == results[0].centroids.storage.map(\.bitPattern))
            #expect(r.labels == results[0].labels)
            #expect(r.inertia.bitPattern == results[0].inertia.bitPattern)
            #expect(r.iterations.map(\.inertia) == results[0].iterations.map(\.inertia))
        }
    }

    @Test func seedChangesInitButSameSeedRepeats() throws {
        var o = KMeansOptions(k: 6)
        o.maxIterations = 2
        o.seed = 1
        let a = try KMeans.fit(Self.big, options: o)
        let b = try KMeans.fit(Self.big, options: o)
        o.seed = 2
        let c = try KMeans.fit(Self.big, options: o)
        #expect(a.centroids == b.centroids)
        #expect(a.centroids != c.centroids)
    }

    @Test func kMeansPlusPlusRecoversSeparatedBlobs() throws {
        let (m, truth) = blobs(k: 5, d: 3, perCluster: 200, spread: 0.5, seed: 3)
        var o = KMeansOptions(k: 5)
        o.seed = 9
        let r = try KMeans.fit(Dataset(m), options: o)
        // Every true blob maps to exactly one label and vice versa.
        var map = [Int: Int32]()
        for (i, t) in truth.enumerated() {
            if let l = map[t] { #expect(l == r.labels[i]) } else { map[t] = r.labels[i] }
        }
        #expect(Set(map.values).count == 5)
        #expect(r.converged)
        #expect(r.sizes == [200, 200, 200, 200, 200])
    }

    @Test func kMeansPlusPlusPicksDataRows() throws {
        let data = Dataset(randomMatrix(rows: 500, cols: 4, seed: 5))
        let centers = data.withRows { rows, w in
            var rng = SeededRandom(seed: 3)
            return KMeans.kMeansPlusPlus(rows, weights: w, k: 8, rng: &rng, partition: RowPartition(rows: 500, chunkRows: 64), threads: 2)
        }
        let rowsSet = Set((0..<500).map { i in (0..<4).map { data.values[i * 4 + $0] } })
        var picked = Set<[Float]>()
        for c in 0..<8 {
            let row = (0..<4).map { Float(centers[c, $0]) }
            #expect(rowsSet.contains(row))
            picked.insert(row)
        }
        #expect(picked.count == 8)
    }

    @Test func zeroWeightRowsAreNeverPicked() throws {
        // Rows with zero weight must not become k-means++ centers.
        var values: [Float] = []
        var weights: [Float] = []
        for i in 0..<300 {
            values += [Float(i % 3) * 10, Float(i % 7)]
            weights.append(i < 150 ? 0 : 1)
        }
        let data = Dataset(rows: 300, cols: 2, values: values, weights: weights)
        let centers = data.withRows { rows, w in
            var rng = SeededRandom(seed: 1)
            return KMeans.kMeansPlusPlus(rows, weights: w, k: 4, rng: &rng, partition: RowPartition(rows: 300, chunkRows: 32), threads: 1)
        }
        let allowed = Set((150..<300).map { [values[$0 * 2], values[$0 * 2 + 1]] })
        for c in 0..<4 { #expect(allowed.contains([Float(centers[c, 0]), Float(centers[c, 1])])) }
    }

    @Test func invalidOptionsAreRejected() {
        let data = Dataset(randomMatrix(rows: 10, cols: 2, seed: 1))
        #expect(throws: StrataError.self) { try KMeans.fit(data, options: KMeansOptions(k: 0)) }
        #expect(throws: StrataError.self) { try KMeans.fit(data, options: KMeansOptions(k: 11)) }
        var o = KMeansOptions(k: 2)
        o.initialization = .centers(Matrix(rows: 3, cols: 2))
        #expect(throws: StrataError.self) { try KMeans.fit(data, options: o) }
        o.initialization = .centers(Matrix(rows: 2, cols: 3))
        #expect(throws: StrataError.self) { try KMeans.fit(data, options: o) }
    }

    @Test func kEqualsNGivesZeroInertia() throws {
        let data = Dataset(randomMatrix(rows: 12, cols: 3, seed: 8))
        var o = KMeansOptions(k: 12)
        o.seed = 4
        let r = try KMeans.fit(data, options: o)
        #expect(r.inertia == 0)
        #expect(Set(r.labels).count == 12)
    }

    /// Hamerly must reproduce plain Lloyd exactly: same labels, iterations, per-iteration inertia.
    @Test(arguments: [2, 6, 40])
    func hamerlyEqualsLloyd(k: Int) throws {
        let (m, _) = blobs(k: 12, d: 5, perCluster: 400, spread: 9, seed: UInt64(k))
        let data = Dataset(m)
        var o = KMeansOptions(k: k)
        o.seed = 17
        o.tolerance = 0
        o.route = .simd
        o.algorithm = .lloyd
        let lloyd = try KMeans.fit(data, options: o)
        o.algorithm = .hamerly
        let hamerly = try KMeans.fit(data, options: o)
        #expect(hamerly.algorithm == .hamerly)
        #expect(hamerly.labels == lloyd.labels)
        #expect(hamerly.nIter == lloyd.nIter)
        #expect(hamerly.centroids == lloyd.centroids)
        #expect(hamerly.iterations.map(\.inertia) == lloyd.iterations.map(\.inertia))
        // Bounds must actually prune once the centers settle.
        if let last = hamerly.iterations.last, hamerly.nIter > 3 { #expect(last.fullyAssigned < data.rows / 2) }
        #expect(lloyd.iterations.allSatisfy { $0.fullyAssigned == data.rows })
    }

    @Test func perIterationStatisticsAreRecorded() throws {
        var o = KMeansOptions(k: 6)
        o.seed = 5
        o.tolerance = 0
        o.maxIterations = 50
        let r = try KMeans.fit(Self.big, options: o)
        #expect(r.iterations.count == r.nIter)
        #expect(r.iterations.map(\.iteration) == Array(1...r.nIter))
        // Lloyd never increases the inertia.
        for (a, b) in zip(r.iterations, r.iterations.dropFirst()) { #expect(b.inertia <= a.inertia * (1 + 1e-9)) }
        #expect(r.iterations[0].changed == Self.big.rows)
        #expect(r.iterations.allSatisfy { $0.seconds >= 0 })
    }
}
