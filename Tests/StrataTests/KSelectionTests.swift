import Foundation
import Testing
@testable import StrataCore
@testable import StrataSegment

/// The gap statistic and the segment job's rule for choosing k (`KSelectionRule`).
@Suite struct KSelectionTests {
    @Test func gapStatisticFindsPlantedGroupsAndNoneInUniformData() throws {
        var o = KMeansOptions(k: 2)
        o.nInit = 3
        for planted in [3, 5] {
            let (m, _) = blobs(k: planted, d: 4, perCluster: 120, spread: 0.6, seed: 7 + UInt64(planted))
            let g = try GapStatistic.compute(Dataset(m), ks: Array(1...8), references: 10, kmeans: o, seed: 3)
            #expect(g.tibshiraniK == planted, "\(g.points.map { ($0.k, $0.gap, $0.standardError) })")
            #expect(g.points.count == 8 && g.rows == 120 * planted)
            // W_1 is the total sum of squares; gap rises steeply up to the planted k.
            #expect(abs(g.point(1)!.logW - log(GapStatistic.totalSumOfSquares(Dataset(m)))) < 1e-12)
            #expect(g.point(planted)!.gap > g.point(1)!.gap + 0.5)
        }
        // Uniform data in a box: no structure, the rule stops at k = 1.
        let u = randomMatrix(rows: 600, cols: 3, seed: 11)
        let g = try GapStatistic.compute(Dataset(u), ks: Array(1...6), references: 10, kmeans: o, seed: 3)
        #expect(g.tibshiraniK == 1, "\(g.points.map { ($0.k, $0.gap, $0.standardError) })")
        // Deterministic for a seed.
        #expect(try GapStatistic.compute(Dataset(u), ks: Array(1...6), references: 10, kmeans: o, seed: 3) == g)
        #expect(throws: StrataError.self) { try GapStatistic.compute(Dataset(u), ks: [0, 2], references: 10, kmeans: o, seed: 3) }
        #expect(throws: StrataError.self) { try GapStatistic.compute(Dataset(u), ks: [2], references: 1, kmeans: o, seed: 3) }
    }

    /// The job's stage on planted groups recovers their number, in the default range 3...8.
    @Test func segmentStageRecoversPlantedK() throws {
        for planted in [4, 6] {
            let (m, _) = blobs(k: planted, d: 5, perCluster: 200, spread: 0.7, seed: 40 + UInt64(planted))
            var c = SegmentConfig()
            c.customers = "planted.csv"
            let s = try KSelection.choose(Dataset(m), config: c, threads: 2, steps: SegmentSteps(log: { _ in }))
            #expect(s.k == planted, "\(s.sweep!.reason)")
            #expect(s.decision!.clearStructure)
            #expect(s.sweep!.reason.hasPrefix("Clear cluster structure"))
            #expect(s.sweep!.gap!.point(planted)!.gap > s.sweep!.gap!.point(1)!.gap + 0.5)
            let r = try #require(s.record)
            #expect(r.structure == "clear" && r.points.count == 6)
        }
    }

    func point(_ k: Int, silhouette: Double, stability: Double?, smallest: Int, total: Int = 1000, inertia: Double = 0, bic: Double? = nil) -> SweepPoint {
        var sizes = [Int](repeating: (total - smallest) / (k - 1), count: k)
        sizes[k - 1] = smallest
        sizes[0] += total - sizes.reduce(0, +)
        var p = SweepPoint(k: k, inertia: inertia, nIter: 1, converged: true, fitSeconds: 0, metricSeconds: 0, sizes: sizes)
        p.silhouette = silhouette
        p.stability = stability
        p.bic = bic
        return p
    }

    func gap(_ values: [(Int, Double, Double)]) -> GapStatistic {
        GapStatistic(points: values.map { .init(k: $0.0, logW: 0, referenceLogW: $0.1, gap: $0.1, standardError: $0.2) }, rows: 1000, references: 10)
    }

    @Test func ruleAdmissibilityAtItsBoundaries() {
        // Clear structure (silhouette 0.7 at 5, gap picks 5), but k = 5's smallest segment is
        // just below 2% (19 of 1000): the next best admissible k is taken.
        let g = gap([(1, 0, 0.01), (2, 0.3, 0.01), (3, 0.5, 0.01), (4, 0.7, 0.01), (5, 0.9, 0.01), (6, 0.85, 0.01), (7, 0.8, 0.01), (8, 0.8, 0.01), (9, 0.8, 0.01)])
        var points = [point(3, silhouette: 0.55, stability: 0.9, smallest: 100), point(4, silhouette: 0.6, stability: 0.9, smallest: 100),
                      point(5, silhouette: 0.7, stability: 0.9, smallest: 19), point(6, silhouette: 0.5, stability: 0.9, smallest: 100)]
        var d = KSelectionRule.decide(points, gap: g, elbowK: 5, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 4 && d.clearStructure && d.admissible == [3, 4, 6], "\(d.reason)")
        #expect(d.reason.contains("not admissible") && d.reason.contains("k = 5"))
        // Exactly 2% is admissible.
        points[2] = point(5, silhouette: 0.7, stability: 0.9, smallest: 20)
        d = KSelectionRule.decide(points, gap: g, elbowK: 5, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 5 && d.reason.contains("gap statistic agrees"), "\(d.reason)")
        // 2% of 1,000 customers is 20: below a report threshold of 25 customers it is not admissible.
        d = KSelectionRule.decide(points, gap: g, elbowK: 5, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75, minSegmentSize: 25)
        #expect(d.k == 4 && d.reason.contains("smallest segment >= 2.0% and 25 customers"), "\(d.reason)")
        // Stability just below 0.75 excludes it; exactly 0.75 does not.
        points[2] = point(5, silhouette: 0.7, stability: 0.749, smallest: 100)
        #expect(KSelectionRule.decide(points, gap: g, elbowK: 5, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75).k == 4)
        points[2] = point(5, silhouette: 0.7, stability: 0.75, smallest: 100)
        #expect(KSelectionRule.decide(points, gap: g, elbowK: 5, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75).k == 5)
    }

    @Test func ruleWithoutStructureTakesTheElbowNotTheSmallestK() {
        // Silhouette highest at the smallest k (0.45 < 0.5): a continuum. The elbow (6) is taken.
        let points = (3...8).map { point($0, silhouette: 0.45 - 0.02 * Double($0 - 3), stability: 0.9, smallest: 80) }
        let g = gap((1...9).map { ($0, 0.1 * Double($0), 0.01) })   // gap keeps rising: no k satisfies the rule
        var d = KSelectionRule.decide(points, gap: g, elbowK: 6, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 6 && !d.clearStructure, "\(d.reason)")
        #expect(d.reason.hasPrefix("No clear cluster structure (best silhouette 0.45 at k = 3; gap +0.20 over k = 1 (se 0.01), Tibshirani's rule picks no k)"), "\(d.reason)")
        #expect(d.warnings.isEmpty)
        // A silhouette of 0.6 with a gap below k = 1's is no clear structure either.
        let flat = gap([(1, 0.5, 0.01), (2, 0.4, 0.01)] + (3...9).map { ($0, 0.3, 0.01) })
        let high = (3...8).map { point($0, silhouette: 0.6, stability: 0.9, smallest: 80) }
        #expect(!KSelectionRule.decide(high, gap: flat, elbowK: 5, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75).clearStructure)
        // Elbow not admissible: the nearest admissible k, the more stable on a tie.
        var q = points
        q[3] = point(6, silhouette: 0.39, stability: 0.5, smallest: 80)     // 6 unstable
        q[2] = point(5, silhouette: 0.41, stability: 0.8, smallest: 80)
        q[4] = point(7, silhouette: 0.37, stability: 0.95, smallest: 80)
        d = KSelectionRule.decide(q, gap: g, elbowK: 6, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 7 && d.reason.contains("nearest the inertia elbow at k = 6"), "\(d.reason)")
        // The elbow at the top of the range: said, and a warning suggests widening k_max.
        d = KSelectionRule.decide(points, gap: g, elbowK: 8, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 8 && d.reason.contains("upper end of 3...8") && d.warnings.count == 1 && d.warnings[0].contains("k_max"))
        // No elbow: the most stable admissible k (ties: the smaller).
        d = KSelectionRule.decide(q, gap: g, elbowK: nil, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 7, "\(d.reason)")
    }

    @Test func ruleForMixturesAndWhenNothingIsAdmissible() {
        let g = gap((1...9).map { ($0, 0.1 * Double($0), 0.01) })
        // BIC minimum inside the range: taken.
        var points = (3...8).map { point($0, silhouette: 0.3, stability: 0.9, smallest: 80, bic: abs(Double($0) - 5) * 100) }
        var d = KSelectionRule.decide(points, gap: g, elbowK: 4, mixture: true, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 5 && d.reason.hasPrefix("Lowest BIC"), "\(d.reason)")
        // BIC still falling at k_max: not the top of the range by default, the elbow instead.
        points = (3...8).map { point($0, silhouette: 0.3, stability: 0.9, smallest: 80, bic: -Double($0) * 100) }
        d = KSelectionRule.decide(points, gap: g, elbowK: 4, mixture: true, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 4 && d.reason.hasPrefix("BIC still falls at k = 8"), "\(d.reason)")
        // Nothing admissible: a warning, and the most stable k meeting the share.
        points = [point(3, silhouette: 0.3, stability: 0.6, smallest: 80), point(4, silhouette: 0.3, stability: 0.7, smallest: 80),
                  point(5, silhouette: 0.3, stability: 0.74, smallest: 5)]
        d = KSelectionRule.decide(points, gap: g, elbowK: 4, mixture: false, rows: 1000, minSegmentShare: 0.02, minStability: 0.75)
        #expect(d.k == 4 && d.admissible.isEmpty && d.warnings.contains { $0.hasPrefix("no k in 3...5 is admissible") }, "\(d.reason)")
    }
}
