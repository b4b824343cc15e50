import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment
import StrataKernels
import StrataLinalg

/// Distance kernels against a naive Double loop over many shapes.
@Suite struct DistanceKernelTests {
    static func naive(_ x: Matrix<Float>, _ c: Matrix<Float>) -> [[Double]] {
        (0..<x.rows).map { i in
            (0..<c.rows).map { j in
                var s = 0.0
                for t in 0..<x.cols { let v = Double(x[i, t]) - Double(c[j, t]); s += v * v }
                return s
            }
        }
    }

    // (n, k, d): n not a multiple of 16/256/4096, k from 1 to 300, d from 1 to 100.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (17, 1, 3), (33, 2, 1), (100, 3, 2), (257, 5, 7), (300, 8, 16), (513, 13, 33),
        (130, 64, 16), (77, 100, 100), (600, 129, 5), (4_100, 7, 9), (1_000, 300, 12), (50, 256, 64), (31, 17, 100),
    ]

    @Test(arguments: shapes)
    func nearestCentroidMatchesNaive(shape: (Int, Int, Int)) {
        let (n, k, d) = shape
        let x = randomMatrix(rows: n, cols: d, seed: UInt64(n * 7 + k), scale: 3)
        let c = randomMatrix(rows: k, cols: d, seed: UInt64(k * 13 + d), scale: 3)
        let ref = Self.naive(x, c)
        for route in AssignmentRoute.allCases {
            let r = Dataset(x).withRows { rows, _ in nearestCentroid(rows, centroids: c, route: route, threads: 2) }
            for i in 0..<n {
                let best = ref[i].min()!
                let chosen = ref[i][Int(r.labels[i])]
                // The chosen centroid is a nearest one up to float round-off...
                #expect(chosen <= best + 1e-4 * (1 + best), "\(route) n=\(n) k=\(k) d=\(d) row \(i)")
                // ...and its distance is exact to float precision.
                #expect(abs(Double(r.distances[i]) - chosen) <= 1e-5 * (1 + chosen))
            }
        }
    }

    @Test(arguments: shapes)
    func pairwiseMatchesNaive(shape: (Int, Int, Int)) {
        let (n, k, d) = shape
        let x = randomMatrix(rows: n, cols: d, seed: UInt64(n + 3), scale: 2)
        let c = randomMatrix(rows: k, cols: d, seed: UInt64(k + 5), scale: 2)
        let ref = Self.naive(x, c)
        let full = Dataset(x).withRows { rows, _ in SquaredEuclidean.pairwise(rows, c, threads: 2) }
        var maxErr = 0.0
        for i in 0..<n { for j in 0..<k {
            let scale = 1 + Double(d) * 8  // norms are at most d * 4 each
            maxErr = max(maxErr, abs(Double(full[i, j]) - ref[i][j]) / scale)
            #expect(full[i, j] >= 0)
        } }
        #expect(maxErr < 1e-5)
        // The streamed blocks (tiny budget: many blocks) agree with the full matrix. Not bit for bit:
        // sgemm's rounding depends on the block's row count, which is why every parallel path
        // fixes its blocks from the shape alone.
        var seen = 0
        Dataset(x).withRows { rows, _ in
            SquaredEuclidean.forEachBlock(rows, c, memoryBudget: 4 * (k + 1) * 16) { range, block in
                #expect(range.lowerBound == seen)
                for i in 0..<block.rows { for j in 0..<k {
                    #expect(abs(block.base[i * block.ld + j] - full[range.lowerBound + i, j]) <= 1e-5 * Float(1 + d * 8))
                } }
                seen = range.upperBound
            }
        }
        #expect(seen == n)
    }

    @Test func roundOffNegativesAreClamped() {
        // Identical far-from-origin points: the expansion cancels to tiny negatives.
        let x = Matrix<Float>([[1000.1, 2000.3, -3000.7]])
        let full = Dataset(x).withRows { rows, _ in SquaredEuclidean.pairwise(rows, x) }
        #expect(full[0, 0] >= 0)
    }

    @Test func tiesGoToTheLowestIndex() {
        let c = Matrix<Float>([[1, 0], [-1, 0], [1, 0]])
        let x = Matrix<Float>([[0, 0], [1, 0], [0, 5]])
        for route in AssignmentRoute.allCases {
            let r = Dataset(x).withRows { rows, _ in nearestCentroid(rows, centroids: c, route: route, threads: 1) }
            #expect(r.labels == [0, 0, 0], "\(route)")
        }
    }

    @Test func lloydPassStatisticsMatchNaive() {
        let x = randomMatrix(rows: 1_000, cols: 6, seed: 99)
        let c = randomMatrix(rows: 5, cols: 6, seed: 98)
        let w = (0..<1_000).map { Float(1 + $0 % 3) }
        var labels = [Int32](repeating: -1, count: 1_000), dist = [Float](repeating: 0, count: 1_000)
        let stats = x.storage.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                labels.withUnsafeMutableBufferPointer { l in
                    dist.withUnsafeMutableBufferPointer { dp in
                        lloydPass(source: DenseRows(xp.baseAddress!, rows: 1_000, cols: 6), weights: wp.baseAddress!,
                                  assigner: SIMDAssigner(centroids: c), labels: l.baseAddress!, dist: dp.baseAddress!,
                                  partition: RowPartition(rows: 1_000, chunkRows: 96), threads: 2)
                    }
                }
            }
        }
        var sums = [Double](repeating: 0, count: 30), ws = [Double](repeating: 0, count: 5), inertia = 0.0
        for i in 0..<1_000 {
            let l = Int(labels[i])
            for j in 0..<6 { sums[l * 6 + j] += Double(w[i]) * Double(x[i, j]) }
            ws[l] += Double(w[i])
            inertia += Double(w[i]) * Double(dist[i])
        }
        for i in 0..<30 { #expect(abs(stats.sums[i] - sums[i]) < 1e-9 * (1 + abs(sums[i]))) }
        #expect(stats.weights == ws)
        #expect(relativeError(stats.inertia, inertia) < 1e-12)
        #expect(stats.changed == 1_000)
    }

    @Test func partitionIsIndependentOfThreads() {
        let p = RowPartition(rows: 100_000)
        #expect(p.count == (100_000 + p.chunkRows - 1) / p.chunkRows)
        #expect(p.range(p.count - 1).upperBound == 100_000)
        #expect((0..<p.count).map { p.range($0).count }.reduce(0, +) == 100_000)
        #expect(RowPartition(rows: 10, chunkRows: 5).chunkRows == 16)
        #expect(RowPartition(rows: 1_000_000, bytesPerRow: 1_024, memoryBudget: 1 << 20).chunkRows == 1_024)
    }
}
