import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment
import StrataLinalg

/// PCA against scikit-learn's full-SVD PCA (Scripts/make-pca-fixtures.py).
@Suite struct PCATests {
    struct File: Decodable {
        struct Case: Decodable {
            let whiten: Bool
            let n_components: Int
            let components: [[Double]]
            let explained_variance: [Double]
            let explained_variance_ratio: [Double]
            let singular_values: [Double]
            let mean: [Double]
            let noise_variance: Double
            let transform_head: [[Double]]
            let inverse_head: [[Double]]
        }
        let data: [[Double]]
        let cases: [String: Case]
    }

    static func load() throws -> (File, Dataset) {
        let f = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: "\(Fixtures.dir)/pca_cases.json")))
        return (f, Dataset(rows: f.data.count, cols: f.data[0].count, values: f.data.flatMap { $0.map { Float($0) } }))
    }

    func rel(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-12) }

    @Test(arguments: ["count3", "variance90", "whiten4", "all"])
    func matchesScikitLearn(name: String) throws {
        let (f, data) = try Self.load()
        let c = f.cases[name]!
        var o = PCAOptions(components: name == "variance90" ? .varianceFraction(0.9) : .count(c.n_components))
        o.solver = .covariance
        o.whiten = c.whiten
        for threads in [1, 2] {
            o.threads = threads
            let m = try PCA.fit(data, options: o)
            #expect(m.count == c.n_components)
            for k in 0..<m.count {
                #expect(rel(m.explainedVariance[k], c.explained_variance[k]) < 1e-5)
                #expect(rel(m.explainedVarianceRatio[k], c.explained_variance_ratio[k]) < 1e-5)
                #expect(rel(m.singularValues[k], c.singular_values[k]) < 1e-5)
                for j in 0..<data.cols { #expect(abs(m.components[k * data.cols + j] - c.components[k][j]) < 1e-4, "\(name) component \(k),\(j)") }
            }
            // The fixture's decimals are float32 values in shortest form: their doubles differ by ~1e-7 relative.
            for j in 0..<data.cols { #expect(abs(m.mean[j] - c.mean[j]) < 1e-6 * max(1, abs(c.mean[j]))) }
            #expect(abs(m.noiseVariance - c.noise_variance) < 1e-5 * max(1, c.noise_variance))
            let head = Dataset(rows: 5, cols: data.cols, values: Array(data.values[0..<(5 * data.cols)]))
            let z = try m.transform(head)
            for i in 0..<5 { for k in 0..<m.count { #expect(abs(Double(z[i, k]) - c.transform_head[i][k]) < 1e-4 * max(1, abs(c.transform_head[i][k]))) } }
            let back = m.inverseTransform(z)
            for i in 0..<5 { for j in 0..<data.cols { #expect(abs(back[i, j] - c.inverse_head[i][j]) < 1e-3) } }
        }
    }

    @Test func randomizedAgreesWithExact() throws {
        let (_, data) = try Self.load()
        var o = PCAOptions(components: .count(3))
        o.solver = .covariance
        let exact = try PCA.fit(data, options: o)
        o.solver = .randomized
        o.seed = 5
        let r1 = try PCA.fit(data, options: o)
        o.threads = 1
        let r2 = try BLASThreads.withThreads(1) { try PCA.fit(data, options: o) }
        #expect(r1 == r2)
        #expect(r1.solver == .randomized)
        for k in 0..<3 {
            #expect(rel(r1.explainedVariance[k], exact.explainedVariance[k]) < 1e-6)
            for j in 0..<data.cols { #expect(abs(r1.components[k * data.cols + j] - exact.components[k * data.cols + j]) < 1e-5) }
        }
        #expect(rel(r1.noiseVariance, exact.noiseVariance) < 1e-6)
    }

    @Test func invalidRequests() throws {
        let (_, data) = try Self.load()
        #expect(throws: StrataError.self) { try PCA.fit(data, options: PCAOptions(components: .count(7))) }
        #expect(throws: StrataError.self) { try PCA.fit(data, options: PCAOptions(components: .varianceFraction(1.5))) }
        var o = PCAOptions(components: .varianceFraction(0.5))
        o.solver = .randomized
        #expect(throws: StrataError.self) { try PCA.fit(data, options: o) }
    }
}
