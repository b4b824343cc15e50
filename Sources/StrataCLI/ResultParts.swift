import Foundation
import Strata

/// Pieces shared by several commands' `--json` results.

/// `"preprocessing"` of `kmeans` and `gmm`: the keys of `FeatureStages.summary`, each present only
/// when its stage ran (the fitted pipeline, its report, PCA).
struct PreprocessingSummary: Encodable, Sendable {
    var outputColumns: [String]?
    var scale: String?
    var missing: [String: Int]?
    var imputed: [String: Int]?
    var clipped: [String: Int]?
    var droppedRows: Int?
    var pcaComponents: Int?
    var pcaExplainedVarianceRatio: [Double]?


    init(_ stages: FeatureStages) {
        if let p = stages.preprocessing {
            outputColumns = p.outputColumns
            scale = p.scaling.rawValue
        }
        if let r = stages.report {
            missing = r.missing
            imputed = r.imputed
            clipped = r.clipped
            droppedRows = r.droppedRows
        }
        if let f = stages.pca {
            pcaComponents = f.components.count
            pcaExplainedVarianceRatio = f.explainedVarianceRatio
        }
    }

    /// null when there are no stages.
    static func orNull(_ stages: FeatureStages) -> OrNull<PreprocessingSummary> {
        OrNull(stages.isEmpty ? nil : PreprocessingSummary(stages))
    }
}

/// Numbers that may be NaN or infinite, each written as null then.
func finiteOrNull(_ values: [Double]) -> [FiniteOrNull] { values.map { FiniteOrNull($0) } }
