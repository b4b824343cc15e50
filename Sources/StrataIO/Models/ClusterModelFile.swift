import StrataCore
import Foundation

/// The on-disk model of a clustering without centers (`"model"`: `hierarchical`, `dbscan` or
/// `hdbscan`): the prototypes `strata predict` assigns new rows by (`PrototypeRule`) and their
/// labels.
/// - hierarchical: the training rows (exact) or the micro-cluster centers (two-stage), nearest
///   prototype wins;
/// - dbscan: the core points; nearest core point within `eps`, else noise;
/// - hdbscan: the training rows with their core distances and the clusters' birth and largest
///   lambdas (approximate prediction).
/// Size: prototypes x columns numbers (a 50,000 x 8 exact tree: about 5 MB of JSON).
public struct ClusterModelFile: Codable, Sendable, Equatable, ModelFileEncodable {
    public var formatVersion: Int
    public var model: String
    public var strataVersion: String
    public var columns: [String]
    public var idColumn: String?
    /// Clusters (noise, -1, is not one of them).
    public var k: Int
    public var prototypes: [[Double]]
    public var prototypeLabels: [Int32]
    /// Per cluster: the mean of its training rows (k x d), for profiles and migration.
    public var centers: [[Double]]
    public var linkage: Linkage?
    public var exact: Bool?
    public var eps: Double?
    public var minSamples: Int?
    public var coreDistances: [Double]?
    public var birthLambdas: [Double]?
    public var maxLambdas: [Double]?
    /// hdbscan: the training rows' membership probabilities (a training row predicts as fitted).
    public var probabilities: [Double]?
    /// From `strata segment`: the segment id of the noise customers (= k); `predict` writes it
    /// instead of -1, and `segment_names` then has k + 1 names, the last for it.
    public var noiseSegment: Int?
    public var trainingRows: Int
    public var preprocessing: FittedPipeline?
    public var pca: PCAModelFile?
    public var segmentNames: [String]?

    enum CodingKeys: String, CodingKey {
        case model, columns, k, prototypes, centers, probabilities, linkage, exact, eps, preprocessing, pca
        case formatVersion = "format_version"
        case strataVersion = "strata_version"
        case idColumn = "id_column"
        case prototypeLabels = "prototype_labels"
        case minSamples = "min_samples"
        case coreDistances = "core_distances"
        case birthLambdas = "birth_lambdas"
        case maxLambdas = "max_lambdas"
        case noiseSegment = "noise_segment"
        case trainingRows = "training_rows"
        case segmentNames = "segment_names"
    }

    init(model: String, data: Dataset, k: Int, prototypes: [Float], labels: [Int32]) {
        formatVersion = KMeansModelFile.currentFormatVersion
        self.model = model
        strataVersion = Strata.version
        columns = data.columns
        idColumn = data.idColumn
        self.k = k
        let d = data.cols
        self.prototypes = (0..<labels.count).map { i in prototypes[(i * d)..<((i + 1) * d)].map(JSONNumber.float) }
        prototypeLabels = labels
        trainingRows = data.rows
        centers = []
    }

    /// Per cluster, the weighted mean of the rows labelled with it (noise left out).
    static func means(_ data: Dataset, labels: [Int32], k: Int) -> [[Double]] {
        ClusterMeans.weighted(data, labels: labels, k: k)
    }

    public init(result r: AgglomerativeResult, data: Dataset, linkage: Linkage) {
        if let centers = r.microCenters {
            self.init(model: "hierarchical", data: data, k: r.nClusters, prototypes: centers.storage, labels: r.leafLabels)
        } else {
            self.init(model: "hierarchical", data: data, k: r.nClusters, prototypes: data.materialized().values, labels: r.labels)
        }
        self.linkage = linkage
        exact = r.exact
        centers = (0..<r.centroids.rows).map { r.centroids.row($0).map(JSONNumber.float) }
    }

    public init(result r: DBSCANResult, data: Dataset, eps: Double) {
        let m = data.materialized()
        let core = r.isCore.indices.filter { r.isCore[$0] }
        var values: [Float] = []
        values.reserveCapacity(core.count * m.cols)
        for i in core { values += m.values[(i * m.cols)..<((i + 1) * m.cols)] }
        self.init(model: "dbscan", data: data, k: r.nClusters, prototypes: values, labels: core.map { r.labels[$0] })
        self.eps = eps
        centers = Self.means(data, labels: r.labels, k: r.nClusters)
    }

    public init(result r: HDBSCANResult, data: Dataset, minSamples: Int) {
        self.init(model: "hdbscan", data: data, k: r.nClusters, prototypes: data.materialized().values, labels: r.labels)
        self.minSamples = minSamples
        // JSON has no infinity: a lambda of duplicate rows (distance 0) is stored as the largest Double.
        func finite(_ a: [Double]) -> [Double] { a.map { $0.isFinite ? $0 : .greatestFiniteMagnitude } }
        coreDistances = r.coreDistances
        birthLambdas = finite(r.birthLambdas)
        maxLambdas = finite(r.maxLambdas)
        probabilities = r.probabilities
        centers = Self.means(data, labels: r.labels, k: r.nClusters)
    }

    /// The assignment rule this model stands for.
    public var rule: PrototypeRule {
        switch model {
        case "dbscan": return .dbscan(eps: eps ?? 0)
        case "hdbscan": return .hdbscan(minSamples: minSamples ?? 1, coreDistances: coreDistances ?? [], birthLambdas: birthLambdas ?? [],
                                        maxLambdas: maxLambdas ?? [], probabilities: probabilities ?? [])
        default: return .nearest
        }
    }

    /// Labels (-1: noise) and scores (distance, or HDBSCAN's probability) of `data`'s rows.
    public func predict(_ data: Dataset, threads: Int) -> (labels: [Int32], scores: [Double]) {
        var r = PrototypeAssignment.assign(data, prototypes: prototypes.flatMap { $0.map(Float.init) }, labels: prototypeLabels, rule: rule, threads: threads)
        if let z = noiseSegment { r.labels = r.labels.map { $0 < 0 ? Int32(z) : $0 } }
        return r
    }

    /// Segment ids `predict` writes: the k clusters, plus the noise segment when the model has one.
    public var segmentCount: Int { k + (noiseSegment == nil ? 0 : 1) }

    /// The per-row score column of the labels file.
    public var scoreColumn: String { model == "hdbscan" ? "probability" : "distance" }

    /// Checks after decoding: shapes, finite values, labels in -1..<k, the rule's parameters.
    func validated(path: String) throws -> ClusterModelFile {
        let check = ModelCheck(path: path)
        guard k >= 0 else { throw check.fail("k", "\(k); not a cluster count") }
        try check.names(columns, "columns")
        let d = columns.count
        for (i, p) in prototypes.enumerated() {
            try check.count(p, d, "prototypes", "prototype \(i), one coordinate per column (\(d)),")
            try check.finite(p, "prototypes", float: true)
        }
        try check.count(prototypeLabels, prototypes.count, "prototype_labels", "one per prototype (\(prototypes.count))")
        if let i = prototypeLabels.firstIndex(where: { $0 < -1 || Int($0) >= k }) {
            throw check.fail("prototype_labels", "entry \(i) is \(prototypeLabels[i]); labels are -1 (noise) or 0..<\(k)")
        }
        switch model {
        case "dbscan":
            guard let e = eps, e > 0, e.isFinite else { throw check.fail("eps", "a DBSCAN model needs a positive eps") }
        case "hdbscan":
            guard let m = minSamples, m >= 1 else { throw check.fail("min_samples", "an HDBSCAN model needs min_samples >= 1") }
            try check.count(coreDistances ?? [], prototypes.count, "core_distances", "one per prototype (\(prototypes.count))")
            try check.nonNegative(coreDistances ?? [], "core_distances")
            try check.count(birthLambdas ?? [], k, "birth_lambdas", "k = \(k)")
            try check.count(maxLambdas ?? [], k, "max_lambdas", "k = \(k)")
            try check.nonNegative(birthLambdas ?? [], "birth_lambdas")
        default: break
        }
        try check.count(centers, k, "centers", "k = \(k)")
        for c in centers { try check.count(c, d, "centers", "one coordinate per column (\(d))"); try check.finite(c, "centers") }
        if let z = noiseSegment, z != k { throw check.fail("noise_segment", "\(z); the noise segment follows the k = \(k) clusters") }
        if let names = segmentNames { try check.count(names, segmentCount, "segment_names", "one per segment (\(segmentCount))") }
        if let p = probabilities {
            try check.count(p, prototypes.count, "probabilities", "one per prototype (\(prototypes.count))")
            if let i = p.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) { throw check.fail("probabilities", "entry \(i) is \(p[i]); probabilities are in [0, 1]") }
        }
        try check.count(trainingRows, "training_rows")
        try FeatureStages(preprocessing: preprocessing, pca: pca).validate(check, modelColumns: columns)
        return self
    }
}
