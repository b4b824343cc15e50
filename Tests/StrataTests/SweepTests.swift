import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

@Suite struct SweepTests {
    @Test func kneedleFindsKnownKnees() {
        // Sharp elbow at x = 5.
        #expect(Kneedle.knee(x: [2, 3, 4, 5, 6, 7, 8, 9, 10], y: [100, 60, 30, 10, 8, 7, 6, 5, 4]) == 3)
        // y = 1/x on 1...10: Kneedle's published example has its knee at x = 3 (Satopaa et al. 2011, fig. 2 family).
        let x = (1...10).map(Double.init)
        #expect(Kneedle.knee(x: x, y: x.map { 1 / $0 }) == 2)
        // Increasing concave: y = log(x) shapes, knee early.
        #expect(Kneedle.knee(x: [1, 2, 3, 4, 5, 6], y: [0, 50, 80, 90, 95, 97], shape: .increasingConcave) == 2)
        // No knee on a line or a flat curve, or with too few points.
        #expect(Kneedle.knee(x: [1, 2, 3, 4], y: [4, 3, 2, 1]) == nil)
        #expect(Kneedle.knee(x: [1, 2, 3], y: [5, 5, 5]) == nil)
        #expect(Kneedle.knee(x: [1, 2], y: [5, 1]) == nil)
    }

    @Test func recommendsTheTrueK() throws {
        let (m, _) = blobs(k: 4, d: 3, perCluster: 150, spread: 0.8, seed: 21)
        var o = SweepOptions(ks: Array(2...8))
        o.kmeans.seed = 5
        o.kmeans.nInit = 3
        o.holdout = 0.2
        o.bootstrap = 3
        let r = try Sweep.run(Dataset(m), options: o)
        #expect(r.recommendedK == 4, "\(r.reason)")
        #expect(r.elbowK == 4)
        #expect(r.points.map(\.k) == Array(2...8))
        #expect(r.trainingRows == 480 && r.heldOutRows == 120)
        let p4 = r.points.first { $0.k == 4 }!
        #expect(p4.stability! > 0.99)
        // Held-out inertia per row is close to the training one for the true k.
        #expect(abs(p4.testInertiaPerSample! - p4.trainInertiaPerSample!) < 0.5 * p4.trainInertiaPerSample!)
        #expect(r.points.allSatisfy { $0.silhouette != nil && $0.daviesBouldin != nil && $0.calinskiHarabasz != nil })
        let svg = SweepPlot.svg(r, title: "test")
        #expect(svg.hasPrefix("<svg") && svg.contains("recommended k = 4") && svg.contains("polyline"))
    }

    @Test func sweepIsDeterministicAcrossThreads() throws {
        let (m, _) = blobs(k: 3, d: 4, perCluster: 100, spread: 2, seed: 8)
        var results: [[Double]] = []
        for t in [1, 2] {
            var o = SweepOptions(ks: [2, 3, 4])
            o.kmeans.threads = t
            o.silhouetteSample = 120
            let r = try Sweep.run(Dataset(m), options: o)
            results.append(r.points.flatMap { [$0.inertia, $0.silhouette!, $0.silhouetteStandardError!] })
        }
        #expect(results[0] == results[1])
    }
}
