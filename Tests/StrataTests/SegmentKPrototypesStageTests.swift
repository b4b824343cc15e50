import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataIO
@testable import StrataSegment

@Suite struct SegmentKPrototypesStageTests {
    /// n rows in 3 groups told apart by two categorical columns (95% tied), with a weak numeric shift.
    func planted(_ n: Int = 600, seed: UInt64 = 9) -> (Dataset, CategoricalColumns, [Int]) {
        var rng = SeededRandom(seed: seed)
        var x: [Float] = [], a: [String] = [], b: [String] = [], truth: [Int] = []
        for i in 0..<n {
            let g = i % 3
            truth.append(g)
            x += [Float(0.3 * Double(g) + rng.nextGaussian()), Float(rng.nextGaussian())]
            a.append(rng.nextUnit() < 0.95 ? ["p", "q", "r"][g] : "p")
            b.append(rng.nextUnit() < 0.95 ? ["u", "v", "w"][g] : "w")
        }
        return (Dataset(rows: n, cols: 2, values: x, columns: ["x", "y"]), CategoricalColumns(names: ["a", "b"], values: [a, b]), truth)
    }

    @Test func sweepPicksTheCostElbowAndReportsTheMixedSilhouette() throws {
        let (x, cat, _) = planted()
        var o = KPrototypesOptions(k: 2)
        o.gamma = 3; o.seed = 4; o.nInit = 3
        o.threads = 1
        let r1 = try Sweep.runKPrototypes(numeric: x, categorical: cat, ks: Array(2...6), options: o, silhouetteSample: 300)
        o.threads = 2
        let r2 = try Sweep.runKPrototypes(numeric: x, categorical: cat, ks: Array(2...6), options: o, silhouetteSample: 300)
        #expect(r1.recommendedK == 3, "\(r1.reason)")
        #expect(r1.elbowK == 3)
        #expect(r1.reason.hasPrefix("K-Prototypes cost elbow (Kneedle)"))
        #expect(r1.silhouetteMethod == "K-Prototypes dissimilarity, sampled (300 rows)")
        #expect(r1.points.map(\.k) == [2, 3, 4, 5, 6])
        // Costs fall with k; the silhouette peaks at the planted k.
        #expect(zip(r1.points, r1.points.dropFirst()).allSatisfy { $0.inertia >= $1.inertia })
        let sil = r1.points.map { $0.silhouette! }
        #expect(sil.firstIndex(of: sil.max()!) == 1, "\(sil)")
        #expect(sil.allSatisfy { $0 > -1 && $0 <= 1 })
        // Thread-count independent.
        #expect(r1.points.map(\.inertia) == r2.points.map(\.inertia))
        #expect(r1.points.map { $0.silhouette } == r2.points.map { $0.silhouette })
    }

    @Test func mixedSilhouetteMatchesADirectComputation() {
        // 4 rows, 2 clusters; d = squared distance + gamma x mismatches.
        let x: [Float] = [0, 1, 10, 11]
        let cat = CategoricalColumns(names: ["c"], values: [["a", "a", "b", "a"]])
        let labels: [Int32] = [0, 0, 1, 1]
        let gamma = 2.0
        func d(_ i: Int, _ j: Int) -> Double { let t = Double(x[i] - x[j]); return t * t + (cat.code(i, 0) == cat.code(j, 0) ? 0 : gamma) }
        var expected = 0.0
        for i in 0..<4 {
            let own = (0..<4).filter { $0 != i && labels[$0] == labels[i] }, other = (0..<4).filter { labels[$0] != labels[i] }
            let a = own.map { d(i, $0) }.reduce(0, +) / Double(own.count), b = other.map { d(i, $0) }.reduce(0, +) / Double(other.count)
            expected += (b - a) / max(a, b)
        }
        expected /= 4
        let got = Sweep.mixedSilhouette(x: x, dn: 1, categorical: cat, labels: labels, rows: [0, 1, 2, 3], k: 2, gamma: gamma, threads: 2)
        #expect(abs(got! - expected) < 1e-12)
    }

    @Test func categoricalSubsetKeepsCategoriesAndCodes() {
        let cat = CategoricalColumns(names: ["a", "b"], values: [["x", "y", "z", "x"], ["m", "m", "n", "n"]])
        let s = cat.subset(rows: [3, 1])
        #expect(s.rows == 2 && s.categories == cat.categories)
        #expect((0..<2).map { s.code($0, 0) } == [cat.code(3, 0), cat.code(1, 0)])
        #expect((0..<2).map { s.code($0, 1) } == [cat.code(3, 1), cat.code(1, 1)])
    }

    @Test func modelFileRoundTripsWithStagesAndRenumbering() throws {
        let (x, cat, truth) = planted(300)
        var c = SegmentConfig()
        c.algorithm = .kprototypes; c.gamma = 3; c.nInit = 2
        let m = try SegmentModel.fit(x, k: 3, config: c, threads: 2, categorical: cat)
        let sizes = ClusterLabels.counts(m.labels, k: 3)
        #expect(sizes == sizes.sorted(by: >))
        #expect(try PartitionAgreement.adjustedRandIndex(m.labels.map(Int.init), truth) > 0.8)
        guard case let .kprototypes(r, _, _) = m else { Issue.record("not kprototypes"); return }
        #expect(r.sizes == sizes)
        #expect(m.summary.algorithm == .kprototypes && m.summary.gamma == 3)
        let data = try m.encoded(data: x, stages: FeatureStages(), names: ["A", "B", "C"])
        let file = try JSONDecoder().decode(KPrototypesModelFile.self, from: data).validated(path: "model.json")
        #expect(file.segmentNames == ["A", "B", "C"] && file.numericColumns == ["x", "y"] && file.categoricalColumns == ["a", "b"])
        #expect(file.clusterSizes == sizes)
        // The file's prototypes assign the training rows as the fit did.
        let table = MixedTable.categoricalFrom(RawTable(source: "t", rows: 300, numericNames: [], numeric: [], categoricalNames: ["a", "b"],
                                                        categorical: (0..<2).map { a in (0..<300).map { cat.categories[a][cat.code($0, a)] } },
                                                        idColumn: nil, ids: nil, lines: Array(2...301)), numeric: x)
        #expect(try file.predict(table, threads: 2).labels == m.labels)
    }

    @Test func configChecksGammaAndPCA() throws {
        var c = SegmentConfig()
        c.customers = "a.csv"
        c.gamma = 1
        #expect(throws: StrataError.self) { try c.validate() }   // gamma without kprototypes
        c.algorithm = .kprototypes
        try c.validate()
        c.gamma = -1
        #expect(throws: StrataError.self) { try c.validate() }
        c.gamma = nil; c.pca = 2
        #expect(throws: StrataError.self) { try c.validate() }
        let r = try SegmentSettings.resolve(jobFile: nil, flags: ["--customers", "a.csv", "--algorithm", "kprototypes", "--gamma", "0.75"])
        #expect(r.config.algorithm == .kprototypes && r.config.gamma == 0.75)
    }
}
