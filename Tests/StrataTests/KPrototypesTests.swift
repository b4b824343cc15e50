import Foundation
import Testing
@testable import StrataCore
@testable import StrataIO
import StrataKernels

/// K-Prototypes and K-Modes against the `kmodes` package 0.12.2
/// (Scripts/make-kprototypes-fixtures.py): same data, same initial prototypes (or Cao's
/// deterministic ones) -> identical labels, n_iter and modes; cost and means within 1e-9
/// relative.
@Suite struct KPrototypesTests {
    struct Case: Decodable {
        struct Expected: Decodable {
            var labels: [Int32]
            var cost: Double
            var n_iter: Int
            var centroids: [[Double]]?
            var modes: [[String]]
            var epoch_costs: [Double]
        }
        var model: String
        var k: Int
        var max_iter: Int
        var `init`: String
        var numeric_columns: [String]
        var categorical_columns: [String]
        var weighted: Bool
        var init_centroids: [[Double]]?
        var init_modes: [[String]]?
        var gamma_given: Double?
        var gamma: Double?
        var expected: Expected
    }

    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kprototypes").path

    static func load(_ name: String) throws -> (Case, MixedTable) {
        let c = try JSONDecoder().decode(Case.self, from: Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).json")))
        let t = try MixedTable.read(path: "\(dir)/\(name).csv", numeric: c.numeric_columns, categorical: c.categorical_columns,
                                    idColumn: "id", weightsColumn: c.weighted ? "w" : nil)
        return (c, t)
    }

    static let cases = ["kmodes_cao", "kmodes_cao_weighted", "kmodes_explicit", "kmodes_cao_2iter",
                        "kproto_default_gamma", "kproto_gamma", "kproto_weighted", "kproto_1iter"]

    func rel(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(1e-300, abs(b)) }

    @Test(arguments: cases, [1, 2])
    func matchesKModesPackage(name: String, threads: Int) throws {
        let (c, t) = try Self.load(name)
        var o = KPrototypesOptions(k: c.k)
        o.maxIterations = c.max_iter
        o.threads = threads
        // Python's gamma (its default, or the given one) so that sums agree to the last bit.
        o.gamma = c.gamma
        switch c.`init` {
        case "cao": o.initialization = .cao
        default:
            let modes = c.init_modes!.map { row in row.enumerated().map { t.categorical.code(of: $0.element, column: $0.offset)! } }
            o.initialization = .centers(numeric: c.init_centroids ?? modes.map { _ in [] }, modes: modes)
        }
        let r = try KPrototypes.fit(numeric: t.numeric, categorical: t.categorical, weights: t.weights, options: o)
        #expect(r.labels == c.expected.labels, "\(name): labels differ in \(zip(r.labels, c.expected.labels).filter { $0 != $1 }.count) rows")
        #expect(r.nIter == c.expected.n_iter, "\(name): n_iter \(r.nIter) vs \(c.expected.n_iter)")
        #expect(rel(r.cost, c.expected.cost) < 1e-9, "\(name): cost \(r.cost) vs \(c.expected.cost)")
        #expect(r.epochCosts.count == c.expected.epoch_costs.count && zip(r.epochCosts, c.expected.epoch_costs).allSatisfy { rel($0, $1) < 1e-9 },
                "\(name): epoch costs \(r.epochCosts) vs \(c.expected.epoch_costs)")
        let modes = r.modes.map { row in row.enumerated().map { t.categorical.categories[$0.offset][$0.element] } }
        #expect(modes == c.expected.modes, "\(name): modes")
        if let want = c.expected.centroids {
            for (a, b) in zip(r.centroids.joined(), want.joined()) { #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "\(name): centroid \(a) vs \(b)") }
        }
        if c.model == "kmodes" { #expect(r.gamma == nil) }
    }

    /// The default gamma is kmodes' 0.5 x mean population std of the numeric columns.
    @Test func defaultGammaMatchesKModes() throws {
        let (c, t) = try Self.load("kproto_default_gamma")
        let num = try #require(t.numeric)
        #expect(rel(KPrototypes.defaultGamma(num.values, rows: num.rows, cols: num.cols), c.gamma!) < 1e-12)
        // Without `gamma` the fit uses it and reaches the same answer.
        var o = KPrototypesOptions(k: c.k)
        let modes = c.init_modes!.map { row in row.enumerated().map { t.categorical.code(of: $0.element, column: $0.offset)! } }
        o.initialization = .centers(numeric: c.init_centroids!, modes: modes)
        let r = try KPrototypes.fit(numeric: t.numeric, categorical: t.categorical, options: o)
        #expect(r.labels == c.expected.labels && rel(r.cost, c.expected.cost) < 1e-9 && rel(r.gamma!, c.gamma!) < 1e-12)
    }

    /// Category codes follow UTF-8 byte order (numpy.unique's order on Python strings).
    @Test func categoriesInByteOrder() {
        let c = CategoricalColumns(names: ["a"], values: [["red", "Blue", "green", "\u{00C4}rger", "_x", "10", "9", "blue", "red"]])
        #expect(c.categories[0] == ["10", "9", "Blue", "_x", "blue", "green", "red", "\u{00C4}rger"])
        #expect(c.code(8, 0) == 6 && c.code(of: "9", column: 0) == 1 && c.code(of: "nope", column: 0) == nil)
        #expect(c.codeWidth == 1)
        // Canonically equivalent spellings stay apart (bytes differ), as in Python.
        let e = CategoricalColumns(names: ["a"], values: [["\u{00E9}", "e\u{0301}"]])
        #expect(e.categories[0].count == 2)
        let wide = CategoricalColumns(names: ["a"], values: [(0..<300).map { "v\($0)" }])
        #expect(wide.codeWidth == 2)
    }

    /// Random starts are deterministic for a seed whatever the thread count, and restarts keep
    /// the lowest cost.
    @Test func seededRestartsAreDeterministic() throws {
        let (_, t) = try Self.load("kproto_1iter")
        for initialization in [KPrototypesInit.huang, .cao, .random] {
            var results: [KPrototypesResult] = []
            for threads in [1, 2, 3] {
                var o = KPrototypesOptions(k: 5)
                o.initialization = initialization
                o.seed = 7
                o.threads = threads
                results.append(try KPrototypes.fit(numeric: t.numeric, categorical: t.categorical, options: o))
            }
            #expect(results[0].labels == results[1].labels && results[0].labels == results[2].labels)
            #expect(results[0].cost == results[1].cost && results[0].cost == results[2].cost)
            #expect(results[0].runs.count == 10)
            #expect(results[0].cost == results[0].runs.map(\.cost).min())
            #expect(results[0].runs[results[0].bestRun].cost == results[0].cost)
        }
        // K-Modes with Cao: one run (deterministic), as kmodes.
        let (_, m) = try Self.load("kmodes_cao")
        let r = try KModes.fit(m.categorical, options: KPrototypesOptions(k: 6))
        #expect(r.runs.count == 1)
        var h = KPrototypesOptions(k: 6)
        h.initialization = .huang
        let hr = try KModes.fit(m.categorical, options: h)
        #expect(hr.runs.count == 10 && hr.labels.count == 500 && Set(hr.labels).count == 6)
    }

    /// Each row's cost is its dissimilarity to its prototype, and the cost is their sum.
    @Test func costsAreDissimilarities() throws {
        let (c, t) = try Self.load("kproto_gamma")
        var o = KPrototypesOptions(k: c.k)
        o.gamma = 2.5
        let r = try KPrototypes.fit(numeric: t.numeric, categorical: t.categorical, options: o)
        let num = try #require(t.numeric)
        var total = 0.0
        for i in 0..<t.rows {
            let p = Int(r.labels[i])
            var d = 0.0
            for j in 0..<num.cols { let e = Double(num.values[i * num.cols + j]) - r.centroids[p][j]; d += e * e }
            for a in 0..<t.categorical.cols where t.categorical.code(i, a) != r.modes[p][a] { d += 2.5 }
            #expect(abs(d - r.costs[i]) <= 1e-9 * max(1, d))
            total += d
        }
        #expect(rel(r.cost, total) < 1e-12)
        #expect(r.sizes.reduce(0, +) == t.rows)
    }

    @Test func invalidInputs() throws {
        let cats = CategoricalColumns(names: ["a"], values: [["x", "y", "x", "x"]])
        #expect(throws: StrataError.self) { try KModes.fit(cats, options: KPrototypesOptions(k: 3)) }   // 2 distinct rows
        let two = try KModes.fit(cats, options: KPrototypesOptions(k: 2))   // k = distinct rows: each its own cluster
        #expect(two.cost == 0 && two.warnings.count == 1 && Set(two.labels).count == 2)
        let nan = Dataset(rows: 4, cols: 1, values: [1, .nan, 2, 3])
        #expect(throws: StrataError.self) { try KPrototypes.fit(numeric: nan, categorical: cats, options: KPrototypesOptions(k: 2)) }
    }

    /// Explicit centers that leave a cluster empty: random starts instead (kmodes' rule), said in a warning.
    @Test func centersLeavingAClusterEmptyFallBackToRandomStarts() throws {
        let (c, t) = try Self.load("kproto_gamma")
        var o = KPrototypesOptions(k: 3)
        o.gamma = 2.5
        let modes = c.init_modes!.map { row in row.enumerated().map { t.categorical.code(of: $0.element, column: $0.offset)! } }
        var num = c.init_centroids!
        num[2] = [1e6, 1e6]
        o.initialization = .centers(numeric: num, modes: modes)
        let r = try KPrototypes.fit(numeric: t.numeric, categorical: t.categorical, options: o)
        #expect(r.warnings.contains { $0.contains("started from random rows") }, "\(r.warnings)")
        #expect(Set(r.labels).count == 3 && r.cost.isFinite)
    }

    /// An empty categorical cell is the category "(missing)", counted in a warning.
    @Test func missingCategoryIsCounted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kproto-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "id,x,c\n1,1.5,a\n2,2,\n3,7,b\n4,8,\n".write(toFile: "\(dir)/t.csv", atomically: true, encoding: .utf8)
        let t = try MixedTable.read(path: "\(dir)/t.csv", numeric: nil, categorical: ["c"], idColumn: nil, weightsColumn: nil)
        #expect(t.numeric?.columns == ["x"] && t.missing == [2] && t.categorical.categories[0] == ["(missing)", "a", "b"])
        #expect(t.warnings.contains { $0.contains("2 empty cells are read as the category '(missing)'") })
        try "id,x,c\n1,1.5,a\n2,,b\n".write(toFile: "\(dir)/m.csv", atomically: true, encoding: .utf8)
        #expect(throws: StrataError.self) { try MixedTable.read(path: "\(dir)/m.csv", numeric: nil, categorical: ["c"], idColumn: nil, weightsColumn: nil) }
    }
}
