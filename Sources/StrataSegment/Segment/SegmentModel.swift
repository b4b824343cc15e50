import StrataCore
import StrataKernels
import StrataCustomers
import StrataIO
import Foundation
import StrataLinalg

/// The fitted segmentation model of either kind, with segment ids renumbered by size (largest
/// first, ties by the original id), so ids do not depend on initialization order.
enum SegmentModel {
    case kmeans(KMeansResult, KMeansOptions)
    case gmm(GMMResult, GMMOptions, probabilities: [Double])
    /// Agglomerative, DBSCAN or HDBSCAN (no centers to assign by; `predict` uses prototypes).
    case clusters(SegmentClusterFit)
    /// K-Prototypes (K-Modes without numeric features) on the numeric model features and the
    /// categorical columns (whose codes the result's modes index).
    case kprototypes(KPrototypesResult, KPrototypesOptions, CategoricalColumns)

    /// Stage 4 of `strata segment`: fits K-Means (`KMeans.fit`), a Gaussian mixture
    /// (`GMM.fit`), agglomerative/DBSCAN/HDBSCAN, or K-Prototypes (`KPrototypes.fit`, with
    /// `categorical`, n rows) with k segments on every customer of `data` (n x d, model units),
    /// then renumbers segments by size. Deterministic for the config's seed whatever `threads`.
    /// - Throws: the fit's `StrataError` / `LinalgError`.
    /// `tree`: an agglomerative tree already built on exactly these rows (the k sweep's), cut
    /// again instead of built twice.
    /// `gpu`: the device for the K-Means fit (`KMeansOptions.gpu`) and the mixture's E-steps
    /// (`GMMOptions.gpu`).
    static func fit(_ data: Dataset, k: Int, config c: SegmentConfig, threads: Int, categorical: CategoricalColumns? = nil,
                    tree: AgglomerativeResult? = nil, gpu: (any GPUBackend)? = nil) throws -> SegmentModel {
        switch c.algorithm {
        case .agglomerative, .dbscan, .hdbscan:
            return .clusters(try SegmentClusterFit.fit(data, k: k, config: c, threads: threads, tree: tree))
        case .kprototypes:
            guard let categorical else { preconditionFailure("kprototypes needs the categorical columns") }
            let o = prototypeOptions(k: k, config: c, threads: threads)
            let r = try KPrototypes.fit(numeric: data.cols > 0 ? data : nil, categorical: categorical, options: o)
            return SegmentModel.kprototypes(r, o, categorical).renumbered()
        case .kmeans, .gmm: break
        }
        if c.algorithm == .gmm {
            var o = GMMOptions(k: k)
            o.covarianceType = c.covariance
            o.seed = c.seed
            o.nInit = c.nInit
            o.maxIterations = c.maxIter
            o.threads = threads
            o.gpu = gpu
            let r = try GMM.fit(data, options: o)
            let p = try r.model.predict(data, threads: threads)
            return SegmentModel.gmm(r, o, probabilities: p.probabilities).renumbered()
        }
        var o = KMeansOptions(k: k)
        o.seed = c.seed
        o.nInit = c.nInit
        o.maxIterations = c.maxIter
        o.threads = threads
        o.gpu = gpu
        return SegmentModel.kmeans(try KMeans.fit(data, options: o), o).renumbered()
    }

    /// K-Prototypes options from the job: k, seed, n_init, max_iter, gamma (nil: kmodes' default),
    /// Cao initialization (kmodes' default).
    static func prototypeOptions(k: Int, config c: SegmentConfig, threads: Int) -> KPrototypesOptions {
        var o = KPrototypesOptions(k: k)
        o.seed = c.seed
        o.nInit = c.nInit
        o.maxIterations = c.maxIter
        o.gamma = c.gamma
        o.threads = threads
        return o
    }

    var k: Int {
        switch self {
        case let .kmeans(r, _): return r.centroids.rows; case let .gmm(r, _, _): return r.model.k; case let .clusters(f): return f.k
        case let .kprototypes(r, _, _): return r.modes.count
        }
    }

    var labels: [Int32] {
        switch self {
        case let .kmeans(r, _): return r.labels; case let .gmm(r, _, _): return r.labels; case let .clusters(f): return f.labels
        case let .kprototypes(r, _, _): return r.labels
        }
    }

    /// Per customer: squared distance to the centroid (K-Means) or the posterior probability of
    /// the assigned segment (GMM).
    var scoreColumn: String {
        switch self {
        case .kmeans: return "distance"; case .gmm: return "probability"; case let .clusters(f): return f.scoreColumn
        case .kprototypes: return "cost"
        }
    }

    /// The report's dendrogram input (agglomerative runs).
    func dendrogram(names: [String]) -> DendrogramChart.Input? {
        guard case let .clusters(f) = self, let m = f.merges, let s = f.leafSegments, let c = f.leafCustomers else { return nil }
        return DendrogramChart.Input(merges: m, leafSegments: s, leafCustomers: c, names: names)
    }

    /// The segment of customers no dense cluster claims (DBSCAN/HDBSCAN noise), if any.
    var noiseSegment: Int? { if case let .clusters(f) = self { return f.noiseSegment } else { return nil } }

    func score(_ i: Int) -> Double {
        switch self {
        case let .kmeans(r, _): return Double(r.distances[i])
        case let .gmm(r, _, p): return p[i * r.model.k + Int(r.labels[i])]
        case let .clusters(f): return f.scores[i]
        case let .kprototypes(r, _, _): return r.costs[i]
        }
    }

    /// Segment centers in model space (k x d).
    var centers: [[Double]] {
        switch self {
        case let .kmeans(r, _): return (0..<r.centroids.rows).map { i in r.centroids.row(i).map(Double.init) }
        case let .gmm(r, _, _): let m = r.model; return (0..<m.k).map { Array(m.means[($0 * m.d)..<(($0 + 1) * m.d)]) }
        case let .clusters(f): return f.centers
        case let .kprototypes(r, _, _): return r.centroids
        }
    }

    /// run.json `model`.
    /// The model's settings in words, for the report's notes ("eps 1.87, min_samples 34").
    var detail: String {
        guard case let .clusters(f) = self else { return "" }
        var parts: [String] = []
        if let l = f.file.linkage { parts.append("\(l.rawValue) linkage" + (f.file.exact == false ? " on micro-clusters" : "")) }
        if let e = f.file.eps { parts.append(String(format: "eps %.4g", e)) }
        if let m = f.minClusterSize { parts.append("min_cluster_size \(m)") }
        if let m = f.file.minSamples { parts.append("min_samples \(m)") }
        if f.fittedRows < f.labels.count { parts.append("fitted on \(f.fittedRows) customers") }
        return parts.joined(separator: ", ")
    }

    var summary: Summary {
        switch self {
        case let .kmeans(r, _):
            return Summary(algorithm: .kmeans, nIter: r.nIter, converged: r.converged, inertia: FiniteOrNull(r.inertia))
        case let .gmm(r, o, _):
            return Summary(algorithm: .gmm, nIter: r.nIter, converged: r.converged, covariance: o.covarianceType,
                           bic: FiniteOrNull(r.bic), aic: FiniteOrNull(r.aic), lowerBound: FiniteOrNull(r.lowerBound))
        case let .clusters(f):
            return Summary(algorithm: f.algorithm, nIter: 0, converged: true, linkage: f.file.linkage, exact: f.file.exact, eps: f.file.eps,
                           minSamples: f.file.minSamples, minClusterSize: f.minClusterSize, noiseSegment: f.noiseSegment,
                           fittedRows: f.fittedRows)
        case let .kprototypes(r, _, _):
            return Summary(algorithm: .kprototypes, nIter: r.nIter, converged: r.converged, inertia: FiniteOrNull(r.cost), gamma: r.gamma,
                           kmodes: r.centroids.first?.isEmpty ?? true)
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
        var linkage: Linkage? = nil
        /// agglomerative: false when the tree was built on micro-clusters.
        var exact: Bool? = nil
        var eps: Double? = nil
        var minSamples: Int? = nil
        var minClusterSize: Int? = nil
        /// dbscan/hdbscan: the segment holding the noise customers.
        var noiseSegment: Int? = nil
        /// hdbscan: customers the tree was built on (the rest predicted).
        var fittedRows: Int? = nil
        /// kprototypes: the gamma used (nil for K-Modes); `inertia` is then the K-Prototypes cost.
        var gamma: Double? = nil
        /// kprototypes: true when there was no numeric feature (K-Modes).
        var kmodes: Bool? = nil
    }

    /// model.json: what `strata predict` needs, with the feature stages and segment names; for
    /// K-Means also the training profile `strata monitor` compares new data with (`profile`:
    /// the input columns' distributions, completed here with the distances to the centroids).
    func encoded(data: Dataset, stages: FeatureStages, names: [String], profile: TrainingProfile? = nil) throws -> Data {
        switch self {
        case let .kmeans(r, o):
            var m = KMeansModelFile(result: r, data: data, options: o)
            m.preprocessing = stages.preprocessing; m.pca = stages.pca; m.segmentNames = names
            m.trainingProfile = profile.map { p in
                var p = p
                p.distance = TrainingProfile.Distance.of(r.distances, seed: o.seed)
                return p
            }
            return try m.encoded()
        case let .gmm(r, o, _):
            var m = GMMModelFile(result: r, data: data, options: o)
            m.preprocessing = stages.preprocessing; m.pca = stages.pca; m.segmentNames = names
            return try m.encoded()
        case let .clusters(f):
            var m = f.file
            m.preprocessing = stages.preprocessing; m.pca = stages.pca
            // The model's k counts clusters; the noise segment (last) is what predict writes for
            // rows near no cluster, so its name is kept too.
            m.segmentNames = Array(names.prefix(m.segmentCount))
            return try m.encoded()
        case let .kprototypes(r, o, categorical):
            var m = KPrototypesModelFile(result: r, numericColumns: data.cols > 0 ? data.columns : [], categorical: categorical,
                                         idColumn: data.idColumn, trainingRows: data.rows, options: o)
            // Only the numeric stages (no one-hot, no PCA): predict replays them on the raw numeric columns.
            m.preprocessing = data.cols > 0 ? stages.preprocessing : nil
            m.segmentNames = names
            return try m.encoded()
        }
    }

    /// The training profile of the model's input columns on the customers read (input units), for
    /// the model kinds `strata monitor` supports (K-Means); nil for the others.
    /// - Complexity: O(n d log n).
    func trainingProfile(_ features: SegmentFeatures, seed: UInt64) throws -> TrainingProfile? {
        guard case .kmeans = self else { return nil }
        let p = features.pipeline
        return try TrainingProfile.fit(features.raw, numeric: p.inputNumeric, categorical: p.inputCategorical, seed: seed)
    }

    /// Renumbers segments by size, largest first.
    func renumbered() -> SegmentModel {
        let k = self.k
        let sizes = ClusterLabels.counts(labels, k: k)
        let order = (0..<k).sorted { (sizes[$0], $1) > (sizes[$1], $0) }   // order[new] = old
        var newOf = [Int32](repeating: 0, count: k)
        for (new, old) in order.enumerated() { newOf[old] = Int32(new) }
        switch self {
        case .clusters: return self   // numbered by size when fitted (noise last)
        case .kprototypes(var r, let o, let categorical):
            r.centroids = order.map { r.centroids[$0] }
            r.modes = order.map { r.modes[$0] }
            r.sizes = order.map { r.sizes[$0] }
            r.clusterWeights = order.map { r.clusterWeights[$0] }
            r.labels = r.labels.map { newOf[Int($0)] }
            return .kprototypes(r, o, categorical)
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

/// A segmentation by agglomerative clustering, DBSCAN or HDBSCAN in the job's terms: segment ids
/// 0..<k by size (largest first), the noise customers (DBSCAN/HDBSCAN) as the last segment, the
/// model file for `predict` (noise there is -1), and per segment the mean in model units.
struct SegmentClusterFit {
    var algorithm: ClusteringAlgorithm
    var labels: [Int32]
    var scores: [Double]
    var scoreColumn: String
    var k: Int
    var noiseSegment: Int?
    var centers: [[Double]]
    var file: ClusterModelFile
    var minClusterSize: Int?
    var fittedRows: Int
    var warnings: [String] = []
    /// Agglomerative: the merge tree, each leaf's segment and customer count.
    var merges: [LinkageStep]? = nil
    var leafSegments: [Int32]? = nil
    var leafCustomers: [Int]? = nil

    /// - Parameter k: segments for agglomerative (ignored by the density methods).
    /// - Throws: the fits' errors; `.insufficientData` when DBSCAN/HDBSCAN find no cluster.
    static func fit(_ data: Dataset, k: Int, config c: SegmentConfig, threads: Int, tree built: AgglomerativeResult? = nil) throws -> SegmentClusterFit {
        let n = data.rows
        var labels: [Int32], scores: [Double], file: ClusterModelFile, column: String
        var minClusterSize: Int? = nil, fitted = n, warnings: [String] = []
        var tree: ([LinkageStep], [Int32], [Int])? = nil
        switch c.algorithm {
        case .agglomerative:
            var o = AgglomerativeOptions(linkage: c.effectiveLinkage, nClusters: k)
            o.microClusters = c.microClusters
            o.memoryBudget = c.memoryBudget.flatMap(MemoryBudget.parse) ?? MemoryBudget.defaultBytes
            o.seed = c.seed
            o.threads = threads
            let r = try built.map { Agglomerative.recut($0, data: data, k: k) } ?? Agglomerative.fit(data, options: o)
            warnings += r.warnings
            labels = r.labels
            scores = ClusterMeans.squaredDistances(data, labels: labels, means: (0..<r.centroids.rows).map { r.centroids.row($0).map(Double.init) })
            file = ClusterModelFile(result: r, data: data, linkage: c.effectiveLinkage)
            column = "distance"
            tree = (r.merges, r.leafLabels, r.microLabels.map { ClusterLabels.counts($0, k: r.leafLabels.count) } ?? [Int](repeating: 1, count: n))
        case .dbscan:
            let minSamples = c.minSamples ?? max(5, 2 * data.cols)
            var eps = c.eps
            if eps == nil {
                guard let e = DBSCAN.suggestEps(data, minSamples: minSamples, seed: c.seed, threads: threads).eps, e > 0 else {
                    throw StrataError.insufficientData("\(data.source): the k-distance curve has no knee to choose eps from; set eps")
                }
                eps = e
                warnings.append("eps not set: using \(String(format: "%.6g", e)), the knee of the \(minSamples)-distance curve")
            }
            var o = DBSCANOptions(eps: eps!, minSamples: Double(minSamples))
            o.threads = threads
            let r = try DBSCAN.fit(data, options: o)
            labels = r.labels
            scores = r.isCore.map { $0 ? 1 : 0 }
            file = ClusterModelFile(result: r, data: data, eps: eps!)
            file.minSamples = minSamples
            column = "core"
        case .hdbscan:
            // Default: a reportable segment and at least 1% of the customers: smaller density clusters
            // are rarely actionable (demo, 20,000 customers: 50 -> 39 clusters, 100 -> 27 with 39%
            // noise, 200 -> 2 with 27% noise; the demo personas overlap, which suits K-Means better).
            let size = c.minClusterSize ?? max(5, c.minSegmentSize, min(n, c.effectiveDensitySample) / 100)
            minClusterSize = size
            var o = HDBSCANOptions(minClusterSize: size, minSamples: c.minSamples)
            o.threads = threads
            let sample = n > c.effectiveDensitySample ? SeededRandom.sampleIndices(n, c.effectiveDensitySample, seed: c.seed, stream: 0x4844).sorted() : nil
            let train = sample.map { data.subset(rows: $0) } ?? data
            let r = try HDBSCAN.fit(train, options: o)
            file = ClusterModelFile(result: r, data: train, minSamples: c.minSamples ?? size)
            if let sample {
                fitted = sample.count
                let predicted = file.predict(data, threads: threads)
                labels = predicted.labels
                scores = predicted.scores
                for (j, i) in sample.enumerated() { labels[i] = r.labels[j]; scores[i] = r.probabilities[j] }
                warnings.append("HDBSCAN fitted on a seeded sample of \(sample.count) of \(n) customers (density_sample); the rest assigned by approximate prediction")
            } else {
                labels = r.labels
                scores = r.probabilities
            }
            column = "probability"
        case .kmeans, .gmm, .kprototypes:
            preconditionFailure("SegmentClusterFit is for agglomerative, dbscan and hdbscan")
        }
        let clusters = file.k
        guard clusters >= 1 else {
            throw StrataError.insufficientData("\(data.source): \(c.algorithm.rawValue) found no cluster: every customer is noise; "
                + (c.algorithm == .dbscan ? "raise eps or lower min_samples" : "lower min_cluster_size"))
        }
        // Segments by size, largest first (ties by the original id); noise last.
        let sizes = ClusterLabels.counts(labels.lazy.filter { $0 >= 0 }, k: clusters)
        let order = (0..<clusters).sorted { (sizes[$0], $1) > (sizes[$1], $0) }
        var newOf = [Int32](repeating: 0, count: clusters)
        for (new, old) in order.enumerated() { newOf[old] = Int32(new) }
        let hasNoise = labels.contains { $0 < 0 }
        let noise: Int? = hasNoise ? clusters : nil
        labels = labels.map { $0 < 0 ? Int32(clusters) : newOf[Int($0)] }
        file.prototypeLabels = file.prototypeLabels.map { $0 < 0 ? -1 : newOf[Int($0)] }
        file.noiseSegment = hasNoise ? clusters : nil
        file.centers = order.map { file.centers[$0] }
        if let b = file.birthLambdas { file.birthLambdas = order.map { b[$0] } }
        if let m = file.maxLambdas { file.maxLambdas = order.map { m[$0] } }
        let k = clusters + (hasNoise ? 1 : 0)
        if c.algorithm != .agglomerative, let largest = sizes.max(), Double(largest) >= 0.95 * Double(n) {
            warnings.append(String(format: "one %@ cluster holds %.1f%% of the customers: the density parameters hardly separate them; ", c.algorithm.rawValue, 100 * Double(largest) / Double(n))
                + (c.algorithm == .dbscan ? "lower eps or raise min_samples" : "lower min_cluster_size") + ", or use kmeans/gmm")
        }
        var centers = file.centers
        if hasNoise { centers.append(ClusterMeans.weighted(data, labels: labels, k: k)[clusters]) }
        return SegmentClusterFit(algorithm: c.algorithm, labels: labels, scores: scores, scoreColumn: column, k: k, noiseSegment: noise,
                                 centers: centers, file: file, minClusterSize: minClusterSize, fittedRows: fitted, warnings: warnings,
                                 merges: tree?.0, leafSegments: tree.map { $0.1.map { newOf[Int($0)] } }, leafCustomers: tree?.2)
    }
}
