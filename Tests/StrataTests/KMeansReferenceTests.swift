import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment
import StrataKernels
import StrataLinalg

/// K-Means against scikit-learn's results (Scripts/make-fixtures.py): same data, same initial
/// centers, same iteration budget -> identical labels and n_iter, inertia within 1e-5 relative.
@Suite struct KMeansReferenceTests {
    static let cases = ["blobs_converge", "blobs_3iter", "weighted", "empty_cluster", "uniform_tol", "single_cluster", "many_clusters"]

    /// (route, algorithm) variants; every one must reproduce scikit-learn's Lloyd iterates.
    static let variants: [String] = ["simd/lloyd", "gemm/lloyd", "simd/hamerly"]

    @Test(arguments: cases, variants)
    func matchesScikitLearn(name: String, variant: String) throws {
        let parts = variant.split(separator: "/").map(String.init)
        let route = AssignmentRoute(rawValue: parts[0])!
        let (c, data) = try Fixtures.load(name)
        var o = KMeansOptions(k: c.k)
        o.initialization = .centers(Matrix(c.`init`.map { $0.map { Float($0) } }))
        o.maxIterations = c.max_iter
        o.tolerance = c.tol
        o.route = route
        o.algorithm = KMeansAlgorithm(rawValue: parts[1])!
        o.threads = 2
        let r = try KMeans.fit(data, options: o)
        #expect(r.algorithm.rawValue == parts[1])
        #expect(r.nIter == c.expected.n_iter, "\(name): n_iter")
        #expect(r.labels == c.expected.labels, "\(name): labels differ in \(zip(r.labels, c.expected.labels).filter { $0 != $1 }.count) rows")
        #expect(relativeError(r.inertia, c.expected.inertia) < 1e-5, "\(name): inertia \(r.inertia) vs \(c.expected.inertia)")
        for i in 0..<c.k {
            for j in 0..<data.cols {
                let want = c.expected.centers[i][j]
                #expect(abs(Double(r.centroids[i, j]) - want) <= 1e-4 * max(1, abs(want)), "\(name): center \(i),\(j)")
            }
        }
        // Labels match the final centers, and the inertia is theirs.
        let check = data.withRows { rows, _ in nearestCentroid(rows, centroids: r.centroids, route: .simd, threads: 1) }
        #expect(check.labels == r.labels)
    }

    @Test func weightedInertiaCountsWeights() throws {
        let (_, data) = try Fixtures.load("weighted")
        var o = KMeansOptions(k: 3)
        o.seed = 7
        let r = try KMeans.fit(data, options: o)
        var manual = 0.0
        for i in 0..<data.rows { manual += Double(data.weights![i]) * Double(r.distances[i]) }
        #expect(relativeError(r.inertia, manual) < 1e-12)
        #expect(relativeError(r.clusterWeights.reduce(0, +), data.weights!.reduce(0.0) { $0 + Double($1) }) < 1e-9)
    }

    @Test func emptyClusterIsRelocatedToFarthestPoint() throws {
        let (c, data) = try Fixtures.load("empty_cluster")
        var o = KMeansOptions(k: 3)
        o.initialization = .centers(Matrix(c.`init`.map { $0.map { Float($0) } }))
        o.maxIterations = c.max_iter
        o.tolerance = 0
        let r = try KMeans.fit(data, options: o)
        #expect(r.iterations.first?.relocated == 1)
        #expect(r.sizes.allSatisfy { $0 > 0 })
    }

    @Test func farthestRowsOrder() {
        #expect(KMeans.farthestRows([1, 5, 3, 5, 0, 9], count: 3) == [5, 1, 3])
        #expect(KMeans.farthestRows([2, 2, 2], count: 2) == [0, 1])
    }
}
