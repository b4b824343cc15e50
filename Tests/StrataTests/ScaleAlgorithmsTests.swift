import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment
import StrataKernels
import StrataLinalg

@Suite struct ScaleAlgorithmsTests {
    /// n rows in 8 well separated unit blobs in 6-D (centers 10 apart), shifted by `offset` in x0.
    func blobs(_ n: Int, seed: UInt64, offset: Float = 0) -> (Dataset, [Int]) {
        var rng = SeededRandom(seed: seed)
        var values = [Float](), truth = [Int]()
        for i in 0..<n {
            let g = i % 8
            truth.append(g)
            for j in 0..<6 {
                let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
                let z = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
                values.append(Float((g >> (j % 3)) & 1) * 10 + Float(j == 3 ? g : 0) * 10 + z + (j == 0 ? offset : 0))
            }
        }
        return (Dataset(rows: n, cols: 6, values: values), truth)
    }

    @Test func kMeansParallelFindsTheBlobsAndIgnoresThreads() throws {
        let (data, truth) = blobs(40_000, seed: 1)
        var o = KMeansOptions(k: 8)
        o.initialization = .kMeansParallel(oversampling: 2, rounds: 2)
        o.seed = 4
        o.threads = 1
        let a = try KMeans.fit(data, options: o)
        o.threads = 2
        let b = try KMeans.fit(data, options: o)
        #expect(a.centroids.storage == b.centroids.storage && a.inertia == b.inertia)
        #expect(try PartitionAgreement.adjustedRandIndex(a.labels.map(Int.init), truth) > 0.999)
        var pp = KMeansOptions(k: 8)
        pp.nInit = 5
        let best = try KMeans.fit(data, options: pp)
        #expect(a.inertia <= best.inertia * (1 + 1e-9), "k-means|| \(a.inertia) vs best of 5 k-means++ \(best.inertia)")
        #expect(a.runs[0].initSeconds >= 0)
    }

    @Test func miniBatchIsCloseToLloydAndDeterministic() throws {
        let (data, truth) = blobs(60_000, seed: 2)
        var o = KMeansOptions(k: 8)
        o.seed = 7
        let lloyd = try KMeans.fit(data, options: o)
        o.algorithm = .minibatch
        o.minibatch.batchSize = 512
        o.threads = 1
        let mb1 = try KMeans.fit(data, options: o)
        o.threads = 2
        let mb2 = try KMeans.fit(data, options: o)
        #expect(mb1.centroids.storage == mb2.centroids.storage && mb1.labels == mb2.labels)
        #expect(mb1.inertia <= lloyd.inertia * 1.01, "mini-batch \(mb1.inertia) vs Lloyd \(lloyd.inertia)")
        #expect(try PartitionAgreement.adjustedRandIndex(mb1.labels.map(Int.init), truth) > 0.99)
        #expect(mb1.converged && mb1.nIter < 100 * 60_000 / 512, "early stop: \(mb1.nIter) steps")
        #expect(mb1.sizes.reduce(0, +) == 60_000)
    }

    @Test func onlineUpdateFollowsTheRule() throws {
        let (data, _) = blobs(16_000, seed: 3)
        var o = KMeansOptions(k: 8)
        o.seed = 1
        let r = try KMeans.fit(data, options: o)
        let model = KMeansModelFile(result: r, data: data, options: o)
        // Same distribution: centers barely move (well under the 1-unit blob spread).
        let (same, _) = blobs(4000, seed: 99)
        let (m1, rep1) = try model.updated(with: same, decay: 1, threads: 2)
        #expect(rep1.shift.max()! < 0.1, "\(rep1.shift)")
        #expect(rep1.assigned.reduce(0, +) == 4000)
        #expect(m1.clusterSizes.reduce(0, +) == 20_000)
        // Shifted by +3 in x0: every center moves toward it, more with a shorter memory.
        let (shifted, _) = blobs(4000, seed: 98, offset: 3)
        let (m2, rep2) = try model.updated(with: shifted, decay: 1, threads: 2)
        let (m3, rep3) = try model.updated(with: shifted, decay: 0.1, threads: 2)
        for s in 0..<8 {
            #expect(m2.centroids[s][0] > model.centroids[s][0] + 0.3)
            #expect(rep3.shift[s] > rep2.shift[s])
            // The rule exactly: c' = (c n a + sum) / (n a + m), checked against m3.
            let expectedWeight = Double(model.clusterSizes[s]) * 0.1 + Double(rep3.assigned[s])
            #expect(abs(rep3.countsAfter[s] - expectedWeight) < 1e-9)
        }
        #expect(m3.centroids[0][0] > m2.centroids[0][0])
        #expect(m3.updates == 1 && m3.sizeWeights != nil)
        // Decay 0 forgets the history: centers become the new rows' means.
        let (m4, rep4) = try model.updated(with: shifted, decay: 0, threads: 1)
        let labels = shifted.withRows { x, _ in nearestCentroid(x, centroids: model.centroidMatrix, threads: 1) }.labels
        for s in 0..<8 where rep4.assigned[s] > 0 {
            var mean = 0.0
            for i in 0..<shifted.rows where Int(labels[i]) == s { mean += Double(shifted.values[i * 6]) }
            mean /= Double(rep4.assigned[s])
            #expect(abs(m4.centroids[s][0] - mean) < 1e-6)
        }
    }
}
