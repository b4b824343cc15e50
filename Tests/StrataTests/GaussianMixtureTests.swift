import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment
import StrataLinalg

/// Gaussian mixtures against scikit-learn (Scripts/make-gmm-fixtures.py): same data, the same
/// initial responsibilities (one-hot labels), tol 0 and a fixed iteration count.
@Suite struct GaussianMixtureTests {
    struct Case: Decodable {
        struct Expected: Decodable {
            let lower_bound: Double
            let n_iter: Int
            let weights: [Double]
            let means: [[Double]]
            let covariances: [Double]
            let bic: Double
            let aic: Double
            let labels: [Int32]
        }
        let covariance_type: String
        let k: Int
        let max_iter: Int
        let reg_covar: Double
        let data: [[Double]]
        let init_labels: [Int32]
        let expected: Expected
    }

    static func load(_ type: String) throws -> (Case, Dataset) {
        let c = try JSONDecoder().decode(Case.self, from: Data(contentsOf: URL(fileURLWithPath: "\(Fixtures.dir)/gmm_\(type).json")))
        let data = Dataset(rows: c.data.count, cols: c.data[0].count, values: c.data.flatMap { $0.map { Float($0) } })
        return (c, data)
    }

    func close(_ a: Double, _ b: Double, _ tol: Double) -> Bool { abs(a - b) <= tol * max(1, abs(b)) }

    @Test(arguments: CovarianceType.allCases)
    func matchesScikitLearn(type: CovarianceType) throws {
        let (c, data) = try Self.load(type.rawValue)
        var o = GMMOptions(k: c.k)
        o.covarianceType = type
        o.initialization = .labels(c.init_labels)
        o.tolerance = 0
        o.maxIterations = c.max_iter
        o.regCovar = c.reg_covar
        for threads in [1, 2] {
            o.threads = threads
            let r = try GMM.fit(data, options: o)
            let e = c.expected
            #expect(r.nIter == e.n_iter)
            #expect(abs(r.lowerBound - e.lower_bound) <= 1e-6 * abs(e.lower_bound), "\(type): lower bound \(r.lowerBound) vs \(e.lower_bound)")
            for i in 0..<c.k { #expect(close(r.model.weights[i], e.weights[i], 1e-4)) }
            for i in 0..<c.k { for j in 0..<data.cols { #expect(close(r.model.means[i * data.cols + j], e.means[i][j], 1e-4)) } }
            #expect(r.model.covariances.count == e.covariances.count)
            for (a, b) in zip(r.model.covariances, e.covariances) { #expect(close(a, b, 1e-4), "\(type): covariance \(a) vs \(b)") }
            #expect(abs(r.bic - e.bic) <= 1e-6 * abs(e.bic), "\(type): BIC \(r.bic) vs \(e.bic)")
            #expect(abs(r.aic - e.aic) <= 1e-6 * abs(e.aic))
            #expect(r.labels == e.labels)
        }
    }

    @Test func deterministicAcrossThreadsAndRestarts() throws {
        let (m, _) = blobs(k: 3, d: 4, perCluster: 9_000, spread: 3, seed: 4)
        var results: [GMMResult] = []
        for t in [1, 2, 3] {
            var o = GMMOptions(k: 3)
            o.covarianceType = .full
            o.threads = t
            o.nInit = 2
            o.seed = 9
            results.append(try GMM.fit(Dataset(m), options: o))
        }
        for r in results.dropFirst() {
            #expect(r.model == results[0].model)
            #expect(r.lowerBound.bitPattern == results[0].lowerBound.bitPattern)
        }
        #expect(results[0].converged)
        // EM never decreases the likelihood.
        for (a, b) in zip(results[0].iterations, results[0].iterations.dropFirst()) { #expect(b.lowerBound >= a.lowerBound - 1e-9) }
    }

    @Test(arguments: [GMMInit.kmeans, .kMeansPlusPlus, .random])
    func everyInitFitsSeparatedBlobs(initMethod: GMMInit) throws {
        let (m, truth) = blobs(k: 3, d: 2, perCluster: 200, spread: 0.5, seed: 6)
        var o = GMMOptions(k: 3)
        o.initialization = initMethod
        o.covarianceType = .diag
        o.seed = 2
        o.nInit = 3
        let r = try GMM.fit(Dataset(m), options: o)
        var map = [Int: Int32]()
        for (i, t) in truth.enumerated() { if let l = map[t] { #expect(l == r.labels[i]) } else { map[t] = r.labels[i] } }
        #expect(Set(map.values).count == 3)
        #expect(r.model.weights.allSatisfy { abs($0 - 1.0 / 3) < 0.01 })
    }

    @Test func illConditionedInputsGiveErrorsOrRegularizedResults() throws {
        // A constant column: reg_covar keeps it positive definite, no NaN.
        var values: [Float] = []
        for i in 0..<200 { values += [Float(i % 7), 5, Float(i % 3)] }
        let constant = Dataset(rows: 200, cols: 3, values: values)
        for type in CovarianceType.allCases {
            var o = GMMOptions(k: 2)
            o.covarianceType = type
            let r = try GMM.fit(constant, options: o)
            #expect(r.lowerBound.isFinite && r.model.covariances.allSatisfy(\.isFinite))
        }
        // Duplicated points with reg_covar 0: a clear error naming a component.
        let dup = Dataset(rows: 6, cols: 2, values: [1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5])
        var o = GMMOptions(k: 2)
        o.regCovar = 0
        o.initialization = .labels([0, 0, 0, 1, 1, 1])
        #expect { try GMM.fit(dup, options: o) } throws: { error in
            guard let e = error as? StrataError, case let .numerical(message) = e else { return false }
            return message.contains("component") && message.contains("reg-covar")
        }
        // k close to n and a starved component: regularized, finite.
        o.regCovar = 1e-3
        o.initialization = .labels([0, 0, 0, 0, 0, 1])
        let r = try GMM.fit(dup, options: o)
        #expect(r.lowerBound.isFinite)
        #expect(throws: StrataError.self) { try GMM.fit(dup, options: GMMOptions(k: 7)) }
        // k close to n: 5 components on 6 rows, regularized, finite or a clear error, never NaN.
        for type in CovarianceType.allCases {
            var near = GMMOptions(k: 5)
            near.covarianceType = type
            near.regCovar = 1e-2
            do {
                let r = try GMM.fit(Dataset(rows: 6, cols: 2, values: [0, 0, 1, 0, 0, 1, 5, 5, 6, 5, 5, 6]), options: near)
                #expect(r.lowerBound.isFinite && r.model.weights.allSatisfy(\.isFinite) && r.bic.isFinite)
            } catch let e as StrataError {
                #expect(e.description.contains("reg-covar"))
            }
        }
    }
}
