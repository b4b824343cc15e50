import StrataCore
import Foundation

/// The on-disk PCA model (`"model": "pca"`).
public struct PCAModelFile: Codable, Sendable, Equatable, ModelFileEncodable {
    public var formatVersion: Int
    public var model: String
    public var strataVersion: String
    public var columns: [String]
    public var mean: [Double]
    /// components x d.
    public var components: [[Double]]
    public var explainedVariance: [Double]
    public var explainedVarianceRatio: [Double]
    public var singularValues: [Double]
    public var noiseVariance: Double
    public var whiten: Bool
    public var solver: PCASolver
    public var trainingRows: Int

    enum CodingKeys: String, CodingKey {
        case model, columns, mean, components, whiten, solver
        case formatVersion = "format_version"
        case strataVersion = "strata_version"
        case explainedVariance = "explained_variance"
        case explainedVarianceRatio = "explained_variance_ratio"
        case singularValues = "singular_values"
        case noiseVariance = "noise_variance"
        case trainingRows = "training_rows"
    }

    public init(_ m: PCAModel, columns: [String]) {
        formatVersion = KMeansModelFile.currentFormatVersion
        model = "pca"
        strataVersion = Strata.version
        self.columns = columns
        mean = m.mean
        components = (0..<m.count).map { Array(m.components[($0 * m.d)..<(($0 + 1) * m.d)]) }
        explainedVariance = m.explainedVariance
        explainedVarianceRatio = m.explainedVarianceRatio
        singularValues = m.singularValues
        noiseVariance = m.noiseVariance
        whiten = m.whiten
        solver = m.solver
        trainingRows = m.samples
    }
}
