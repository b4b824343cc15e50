// One Lloyd iteration (the fused assign + accumulate pass) and the nearest-centroid kernel at
// n = 1M, d = 16, k in {8, 64, 256}, on both routes, whole fits with Lloyd and Hamerly, and
// Gaussian-mixture EM (5 iterations, k = 8) for every covariance type.
// Data: overlapping Gaussian blobs (as Scripts/compare-peers), generated once, outside timing.
import Benchmark
import Foundation
import Strata
import StrataKernels
import StrataLinalg

let n = 1_000_000, d = 16

struct Fixture: @unchecked Sendable {
    let data: [Float]
    let centers: [Int: Matrix<Float>]

    static let shared: Fixture = {
        var rng = SeededRandom(seed: 1)
        func normal() -> Float {
            let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
            return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        let blobCenters = (0..<(64 * d)).map { _ in 3 * normal() }
        var x = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let b = Int(rng.next() % 64)
            for j in 0..<d { x[i * d + j] = blobCenters[b * d + j] + 2.5 * normal() }
        }
        var centers: [Int: Matrix<Float>] = [:]
        for k in [8, 64, 256] {
            var m = Matrix<Float>(rows: k, cols: d)
            for c in 0..<k {
                let i = Int(rng.next() % UInt64(n))
                for j in 0..<d { m[c, j] = x[i * d + j] }
            }
            centers[k] = m
        }
        return Fixture(data: x, centers: centers)
    }()
}

func pass<A: CentroidAssigner>(_ assigner: A, labels: inout [Int32], dist: inout [Float], accumulate: Bool) -> ClusterStatistics {
    let f = Fixture.shared
    return f.data.withUnsafeBufferPointer { x in
        labels.withUnsafeMutableBufferPointer { l in
            dist.withUnsafeMutableBufferPointer { dp in
                lloydPass(source: DenseRows(x.baseAddress!, rows: n, cols: d), weights: nil, assigner: assigner,
                          labels: l.baseAddress!, dist: dp.baseAddress!, partition: RowPartition(rows: n),
                          threads: defaultThreadCount, accumulate: accumulate)
            }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    for (solver, label) in [(PCASolver.covariance, "covariance"), (.randomized, "randomized")] {
        Benchmark("PCA \(label) n=1M d=16 to 8 components", configuration: .init(maxDuration: .seconds(10), maxIterations: 10)) { benchmark in
            let data = Dataset(rows: n, cols: d, values: Fixture.shared.data)
            var o = PCAOptions(components: .count(8))
            o.solver = solver
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(try PCA.fit(data, options: o)) }
        }
    }
    for type in CovarianceType.allCases {
        Benchmark("GMM 5 EM iterations \(type.rawValue) n=1M d=16 k=8",
                  configuration: .init(maxDuration: .seconds(20), maxIterations: 5)) { benchmark in
            let data = Dataset(rows: n, cols: d, values: Fixture.shared.data)
            let labels = data.withRows { rows, _ in nearestCentroid(rows, centroids: Fixture.shared.centers[8]!) }.labels
            var o = GMMOptions(k: 8)
            o.covarianceType = type
            o.initialization = .labels(labels)
            o.maxIterations = 5
            o.tolerance = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(try GMM.fit(data, options: o)) }
        }
    }

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident],
        timeUnits: .milliseconds,
        warmupIterations: 2,
        maxDuration: .seconds(5),
        maxIterations: 30
    )
    _ = Fixture.shared

    for k in [8, 64, 256] {
        let centers = Fixture.shared.centers[k]!
        // One fused pass = one Lloyd iteration (accumulate) or the nearest-centroid kernel alone.
        for (kind, accumulate) in [("Lloyd iteration", true), ("Nearest centroid", false)] {
            Benchmark("\(kind) SIMD n=1M d=16 k=\(k)") { benchmark in
                var labels = [Int32](repeating: -1, count: n), dist = [Float](repeating: 0, count: n)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(pass(SIMDAssigner(centroids: centers), labels: &labels, dist: &dist, accumulate: accumulate))
                }
            }
            Benchmark("\(kind) GEMM n=1M d=16 k=\(k)") { benchmark in
                var labels = [Int32](repeating: -1, count: n), dist = [Float](repeating: 0, count: n)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(pass(GEMMAssigner(centroids: centers), labels: &labels, dist: &dist, accumulate: accumulate))
                }
            }
        }
        // Whole fits (20 iterations from the same centers, tol 0): Lloyd vs Hamerly.
        for algorithm in [KMeansAlgorithm.lloyd, .hamerly] {
            Benchmark("K-Means fit 20 iterations \(algorithm.rawValue) n=1M d=16 k=\(k)",
                      configuration: .init(maxDuration: .seconds(10), maxIterations: 5)) { benchmark in
                let data = Dataset(rows: n, cols: d, values: Fixture.shared.data)
                var o = KMeansOptions(k: k)
                o.initialization = .centers(centers)
                o.maxIterations = 20
                o.tolerance = 0
                o.algorithm = algorithm
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations { blackHole(try KMeans.fit(data, options: o)) }
            }
        }
    }
}
