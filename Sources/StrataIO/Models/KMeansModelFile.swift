import StrataCore
import Foundation
import StrataLinalg

/// The on-disk K-Means model (`model.json`): everything `strata predict` needs, plus the
/// training summary. `format_version` changes only when an old reader could misread a new file.
public struct KMeansModelFile: Codable, Sendable, Equatable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    /// Model kind; "kmeans" here. `predict` dispatches on it.
    public var model: String
    public var strataVersion: String
    /// Feature columns, in the order of the centroid coordinates.
    public var columns: [String]
    public var idColumn: String?
    public var k: Int
    /// k arrays of d numbers.
    public var centroids: [[Double]]
    public var inertia: Double
    public var nIter: Int
    public var converged: Bool
    public var clusterSizes: [Int]
    public var trainingRows: Int
    public var seed: UInt64
    public var initMethod: String
    public var nInit: Int
    public var tol: Double
    public var maxIter: Int
    /// Feature stages applied before the model (absent when none): see `FeatureStages`.
    public var preprocessing: FittedPipeline?
    public var pca: PCAModelFile?
    /// Segment names by segment id, when the model came from `strata segment`.
    public var segmentNames: [String]?
    /// Fractional segment weights after `strata update` with decay (cluster_sizes rounds them).
    public var sizeWeights: [Double]?
    /// Online updates applied since the fit.
    public var updates: Int?
    /// The training distribution for drift monitoring (`strata monitor`); nil in models written
    /// before it existed (and by distributed runs).
    public var trainingProfile: TrainingProfile?

    enum CodingKeys: String, CodingKey {
        case model, columns, k, centroids, inertia, converged, seed, tol
        case preprocessing, pca
        case segmentNames = "segment_names"
        case sizeWeights = "size_weights"
        case updates
        case trainingProfile = "training_profile"
        case formatVersion = "format_version"
        case strataVersion = "strata_version"
        case idColumn = "id_column"
        case nIter = "n_iter"
        case clusterSizes = "cluster_sizes"
        case trainingRows = "training_rows"
        case initMethod = "init"
        case nInit = "n_init"
        case maxIter = "max_iter"
    }

    public init(result: KMeansResult, data: Dataset, options: KMeansOptions) {
        formatVersion = Self.currentFormatVersion
        model = "kmeans"
        strataVersion = Strata.version
        columns = data.columns
        idColumn = data.idColumn
        k = result.centroids.rows
        centroids = (0..<result.centroids.rows).map { i in result.centroids.row(i).map(JSONNumber.float) }
        inertia = result.inertia
        nIter = result.nIter
        converged = result.converged
        clusterSizes = result.sizes
        trainingRows = data.rows
        seed = options.seed
        initMethod = options.initialization.name
        nInit = result.runs.count
        tol = options.tolerance
        maxIter = options.maxIterations
    }

    /// Centroids as the Float matrix the kernels use.
    public var centroidMatrix: Matrix<Float> {
        Matrix(rows: centroids.count, cols: columns.count, storage: centroids.flatMap { $0.map { Float($0) } })
    }

    /// Loads a K-Means model file (format and version checked by `AnyModelFile.load`).
    public static func load(path: String) throws -> KMeansModelFile {
        guard case let .kmeans(m) = try AnyModelFile.load(path: path) else {
            throw StrataError.badData(file: path, line: nil, column: nil, message: "not a K-Means model")
        }
        return m
    }
}

/// A model file written as `model.json`: pretty-printed, keys sorted (stable diffs between runs).
public protocol ModelFileEncodable: Encodable {}

extension ModelFileEncodable {
    public func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }
}

extension KMeansModelFile: ModelFileEncodable {}

/// The fields every model file starts with.
struct ModelHeader: Decodable {
    var formatVersion: Int
    var model: String
    enum CodingKeys: String, CodingKey {
        case model
        case formatVersion = "format_version"
    }
}

/// JSON number helpers.
public enum JSONNumber {
    /// A Float as the Double with the same shortest decimal form (0.1f -> 0.1, not 0.10000000149).
    public static func float(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }
}

