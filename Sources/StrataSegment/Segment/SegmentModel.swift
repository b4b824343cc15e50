import StrataCore
import StrataCustomers
import StrataIO
import Foundation
import StrataLinalg

/// The fitted segmentation model of either kind, with segment ids renumbered by size (largest
/// first, ties by the original id), so ids do not depend on initialization order.
enum SegmentModel {
    case kmeans(KMeansResult, KMeansOptions)
    case gmm(GMMResult, GMMOptions, probabilities: [Double])

    /// Stage 4 of `strata segment`: fits K-Means (`KMeans.fit`) or a Gaussian mixture
    /// (`GMM.fit`) with k segments on every customer of `data` (n x d, model units),
    /// then renumbers segments by size. Deterministic for the config's seed whatever `threads`.
    /// - Throws: the fit's `StrataError` / `LinalgError`.
    static func fit(_ data: Dataset, k: Int, config c: SegmentConfig, threads: Int) throws -> SegmentModel {
        if c.algorithm == .gmm {
            var o = GMMOptions(k: k)
            o.covarianceType = c.covariance
            o.seed = c.seed
            o.nInit = c.nInit
            o.maxIterations = c.maxIter
            o.threads = threads
            let r = try GMM.fit(data, options: o)
            let p = try r.model.predict(data, threads: threads)
            return SegmentModel.gmm(r, o, probabilities: p.probabilities).renumbered()
        }
        var o = KMeansOptions(k: k)
        o.seed = c.seed
        o.nInit = c.nInit
        o.maxIterations = c.maxIter
        o.threads = threads
        return SegmentModel.kmeans(try KMeans.fit(data, options: o), o).renumbered()
    }

    var k: Int {
        switch self { case let .kmeans(r, _): return r.centroids.rows; case let .gmm(r, _, _): return r.model.k }
    }

    var labels: [Int32] {
        switch self { case let .kmeans(r, _): return r.labels; case let .gmm(r, _, _): return r.labels }
    }

    /// Per customer: squared distance to the centroid (K-Means) or the posterior probability of
    /// the assigned segment (GMM).
    var scoreColumn: String { if case .kmeans = self { return "distance" } else { return "probability" } }

    func score(_ i: Int) -> Double {
        switch self {
        case let .kmeans(r, _): return Double(r.distances[i])
        case let .gmm(r, _, p): return p[i * r.model.k + Int(r.labels[i])]
        }
    }

    /// Segment centers in model space (k x d).
    var centers: [[Double]] {
        switch self {
        case let .kmeans(r, _): return (0..<r.centroids.rows).map { i in r.centroids.row(i).map(Double.init) }
        case let .gmm(r, _, _): let m = r.model; return (0..<m.k).map { Array(m.means[($0 * m.d)..<(($0 + 1) * m.d)]) }
        }
    }

    /// run.json `model`.
    var summary: Summary {
        switch self {
        case let .kmeans(r, _):
            return Summary(algorithm: .kmeans, nIter: r.nIter, converged: r.converged, inertia: FiniteOrNull(r.inertia))
        case let .gmm(r, o, _):
            return Summary(algorithm: .gmm, nIter: r.nIter, converged: r.converged, covariance: o.covarianceType,
                           bic: FiniteOrNull(r.bic), aic: FiniteOrNull(r.aic), lowerBound: FiniteOrNull(r.lowerBound))
        }
    }

    struct Summary: Encodable, Sendable {
        var algorithm: ClusteringAlgorithm
        var nIter: Int
        var converged: Bool
        var inertia: FiniteOrNull? = nil
        var covariance: CovarianceType? = nil
        var bic: FiniteOrNull? = nil
        var aic: FiniteOrNull? = nil
        var lowerBound: FiniteOrNull? = nil
    }

    /// model.json: what `strata predict` needs, with the feature stages and segment names.
    func encoded(data: Dataset, stages: FeatureStages, names: [String]) throws -> Data {
        switch self {
        case let .kmeans(r, o):
            var m = KMeansModelFile(result: r, data: data, options: o)
            m.preprocessing = stages.preprocessing; m.pca = stages.pca; m.segmentNames = names
            return try m.encoded()
        case let .gmm(r, o, _):
            var m = GMMModelFile(result: r, data: data, options: o)
            m.preprocessing = stages.preprocessing; m.pca = stages.pca; m.segmentNames = names
            return try m.encoded()
        }
    }

    /// Renumbers segments by size, largest first.
    func renumbered() -> SegmentModel {
        let k = self.k
        let sizes = ClusterLabels.counts(labels, k: k)
        let order = (0..<k).sorted { (sizes[$0], $1) > (sizes[$1], $0) }   // order[new] = old
        var newOf = [Int32](repeating: 0, count: k)
        for (new, old) in order.enumerated() { newOf[old] = Int32(new) }
        switch self {
        case .kmeans(var r, let o):
            let d = r.centroids.cols
            r.centroids = Matrix(rows: k, cols: d, storage: order.flatMap { r.centroids.row($0) })
            r.sizes = order.map { r.sizes[$0] }
            r.clusterWeights = order.map { r.clusterWeights[$0] }
            r.labels = r.labels.map { newOf[Int($0)] }
            return .kmeans(r, o)
        case .gmm(var r, let o, let p):
            var m = r.model
            let d = m.d
            func blocks(_ a: [Double], _ size: Int) -> [Double] { order.flatMap { a[($0 * size)..<(($0 + 1) * size)] } }
            m.weights = order.map { m.weights[$0] }
            m.means = blocks(m.means, d)
            switch m.covarianceType {
            case .full: m.covariances = blocks(m.covariances, d * d); m.precisionsCholesky = blocks(m.precisionsCholesky, d * d)
            case .diag: m.covariances = blocks(m.covariances, d); m.precisionsCholesky = blocks(m.precisionsCholesky, d)
            case .spherical: m.covariances = blocks(m.covariances, 1); m.precisionsCholesky = blocks(m.precisionsCholesky, 1)
            case .tied: break
            }
            if m.logDetPrecisionCholesky.count == k { m.logDetPrecisionCholesky = order.map { m.logDetPrecisionCholesky[$0] } }
            r.model = m
            r.labels = r.labels.map { newOf[Int($0)] }
            let n = r.labels.count
            var q = [Double](repeating: 0, count: p.count)
            for i in 0..<n { for (new, old) in order.enumerated() { q[i * k + new] = p[i * k + old] } }
            return .gmm(r, o, probabilities: q)
        }
    }
}
