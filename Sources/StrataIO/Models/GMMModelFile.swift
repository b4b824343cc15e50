import StrataCore
import Foundation

/// The on-disk Gaussian-mixture model (`model.json` with `"model": "gmm"`): everything
/// `strata predict` needs, plus the training summary.
public struct GMMModelFile: Codable, Sendable, Equatable, ModelFileEncodable {
    public var formatVersion: Int
    public var model: String
    public var strataVersion: String
    public var columns: [String]
    public var idColumn: String?
    public var k: Int
    public var covarianceType: CovarianceType
    public var weights: [Double]
    public var means: [[Double]]
    /// Shape by type: full k x d x d, diag k x d, tied d x d, spherical k (flattened row-major).
    public var covariances: [Double]
    public var precisionsCholesky: [Double]
    public var logDetPrecisionCholesky: [Double]
    public var lowerBound: Double
    public var nIter: Int
    public var converged: Bool
    public var bic: Double
    public var aic: Double
    public var regCovar: Double
    public var seed: UInt64
    public var trainingRows: Int
    /// Feature stages applied before the model (absent when none): see `FeatureStages`.
    public var preprocessing: FittedPipeline?
    public var pca: PCAModelFile?
    /// Segment names by segment id, when the model came from `strata segment`.
    public var segmentNames: [String]?

    enum CodingKeys: String, CodingKey {
        case model, columns, k, weights, means, covariances, converged, bic, aic, seed
        case preprocessing, pca
        case segmentNames = "segment_names"
        case formatVersion = "format_version"
        case strataVersion = "strata_version"
        case idColumn = "id_column"
        case covarianceType = "covariance_type"
        case precisionsCholesky = "precisions_cholesky"
        case logDetPrecisionCholesky = "log_det_precisions_cholesky"
        case lowerBound = "lower_bound"
        case nIter = "n_iter"
        case regCovar = "reg_covar"
        case trainingRows = "training_rows"
    }

    public init(result: GMMResult, data: Dataset, options: GMMOptions) {
        let m = result.model
        formatVersion = KMeansModelFile.currentFormatVersion
        model = "gmm"
        strataVersion = Strata.version
        columns = data.columns
        idColumn = data.idColumn
        k = m.k
        covarianceType = m.covarianceType
        weights = m.weights
        means = (0..<m.k).map { Array(m.means[($0 * m.d)..<(($0 + 1) * m.d)]) }
        covariances = m.covariances
        precisionsCholesky = m.precisionsCholesky
        logDetPrecisionCholesky = m.logDetPrecisionCholesky
        lowerBound = result.lowerBound
        nIter = result.nIter
        converged = result.converged
        bic = result.bic
        aic = result.aic
        regCovar = options.regCovar
        seed = options.seed
        trainingRows = data.rows
    }

    public var mixture: GMMModel {
        GMMModel(covarianceType: covarianceType, k: k, d: columns.count, weights: weights,
                             means: means.flatMap { $0 }, covariances: covariances, precisionsCholesky: precisionsCholesky,
                             logDetPrecisionCholesky: logDetPrecisionCholesky)
    }
}
