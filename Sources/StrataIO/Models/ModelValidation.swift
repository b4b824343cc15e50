import StrataCore
import Foundation

/// The checks a decoded model file must pass before anything uses it (`AnyModelFile.load` runs
/// them for every model kind): a hand-edited, truncated or corrupted file is a one-line
/// `StrataError.badData` naming the file (`file`) and the key (`column`), never a crash, an
/// `inf` distance or a NaN probability later.
struct ModelCheck {
    let path: String

    /// Largest count a Double holds exactly (2^53): sizes and weights beyond it are corrupt.
    static let maxCount = 9_007_199_254_740_992.0

    func fail(_ key: String, _ message: String) -> StrataError {
        .badData(file: path, line: nil, column: key, message: message)
    }

    /// `values` has `expected` entries.
    func count<T>(_ values: [T], _ expected: Int, _ key: String, _ what: String) throws {
        guard values.count == expected else { throw fail(key, "has \(values.count) entries; \(what) needs \(expected)") }
    }

    /// Every value is finite and, with `float`, within Float's range (the kernels compute in Float).
    func finite(_ values: [Double], _ key: String, float: Bool = false) throws {
        let limit = float ? Double(Float.greatestFiniteMagnitude) : Double.greatestFiniteMagnitude
        if let i = values.firstIndex(where: { !($0.magnitude <= limit) }) {
            throw fail(key, "entry \(i) is \(values[i]); every value must be a finite number" + (float ? " within Float range (|v| < 3.4e38)" : ""))
        }
    }

    /// Every value is finite and >= 0.
    func nonNegative(_ values: [Double], _ key: String) throws {
        try finite(values, key)
        if let i = values.firstIndex(where: { $0 < 0 }) { throw fail(key, "entry \(i) is \(values[i]); it must be >= 0") }
    }

    /// Every value is finite and > 0.
    func positive(_ values: [Double], _ key: String) throws {
        try finite(values, key)
        if let i = values.firstIndex(where: { !($0 > 0) }) { throw fail(key, "entry \(i) is \(values[i]); it must be > 0") }
    }

    /// A count in 0...2^53 (training rows, updates).
    func count(_ value: Int, _ key: String) throws {
        guard value >= 0, Double(value) <= Self.maxCount else { throw fail(key, "\(value) is not a row count") }
    }

    /// Names that are non-empty and distinct.
    func names(_ names: [String], _ key: String) throws {
        guard !names.isEmpty else { throw fail(key, "names no columns") }
        var seen = Set<String>()
        for n in names where n.isEmpty || !seen.insert(n).inserted {
            throw fail(key, "column name '\(NPYHeader.clipped(n))' is empty or repeated")
        }
    }
}

extension FeatureStages {
    /// The stored preprocessing and PCA are well-formed and chain into the model's `columns`.
    func validate(_ check: ModelCheck, modelColumns: [String]) throws {
        try preprocessing?.validate(check, key: "preprocessing")
        if let p = pca {
            try p.validate(check, key: "pca")
            if let pre = preprocessing, p.columns != pre.outputColumns {
                throw check.fail("pca.columns", "are not the preprocessing's output columns (\(pre.outputColumns.count) of them)")
            }
            try check.count(modelColumns, p.components.count, "columns", "the PCA's \(p.components.count) components")
        } else if let pre = preprocessing, modelColumns != pre.outputColumns {
            throw check.fail("columns", "are not the preprocessing's output columns (\(NPYHeader.clipped(pre.outputColumns.joined(separator: ","))))")
        }
    }
}

extension FittedPipeline {
    /// Every numeric step is finite, scales are > 0, clip bounds come in ordered pairs, column
    /// names are distinct.
    func validate(_ check: ModelCheck, key: String) throws {
        try check.names(numeric.map(\.name) + categorical.map(\.name), key + ".numeric/categorical names")
        for (j, c) in numeric.enumerated() {
            let k = "\(key).numeric[\(j)]"
            try check.finite([c.center], k + ".center")
            try check.positive([c.scale], k + ".scale")
            if let f = c.fill { try check.finite([f], k + ".fill") }
            switch (c.clipLow, c.clipHigh) {
            case (nil, nil): break
            case let (lo?, hi?):
                try check.finite([lo, hi], k + ".clip")
                guard lo <= hi else { throw check.fail(k + ".clipLow", "\(lo) is above clipHigh \(hi)") }
            default: throw check.fail(k + ".clipLow", "clipLow and clipHigh go together")
            }
        }
        for (j, c) in categorical.enumerated() where Set(c.categories).count != c.categories.count {
            throw check.fail("\(key).categorical[\(j)].categories", "lists a category twice")
        }
    }
}

extension PCAModelFile {
    /// Shapes agree (components x columns, one variance per component), every value is finite,
    /// variances are >= 0 (> 0 when whitening divides by them).
    func validate(_ check: ModelCheck, key: String) throws {
        try check.names(columns, key + ".columns")
        let d = columns.count
        try check.count(mean, d, key + ".mean", "one per column")
        try check.finite(mean, key + ".mean")
        guard !components.isEmpty else { throw check.fail(key + ".components", "holds no component") }
        for (i, c) in components.enumerated() {
            try check.count(c, d, key + ".components", "component \(i), one value per column,")
            try check.finite(c, key + ".components")
        }
        let m = components.count
        try check.count(explainedVariance, m, key + ".explained_variance", "one per component")
        if whiten { try check.positive(explainedVariance, key + ".explained_variance") } else {
            try check.nonNegative(explainedVariance, key + ".explained_variance")
        }
        try check.count(explainedVarianceRatio, m, key + ".explained_variance_ratio", "one per component")
        try check.nonNegative(explainedVarianceRatio, key + ".explained_variance_ratio")
        try check.count(singularValues, m, key + ".singular_values", "one per component")
        try check.nonNegative(singularValues, key + ".singular_values")
        try check.finite([noiseVariance], key + ".noise_variance")
    }
}

extension KMeansModelFile {
    /// Checks after decoding: k >= 1; k centers of d finite coordinates within Float range;
    /// `cluster_sizes` (and `size_weights`, `segment_names`) one per segment, sizes >= 0; counts
    /// in range; the feature stages well-formed and matching the columns.
    /// - Throws: `StrataError.badData` naming `path` and the key.
    func validated(path: String) throws -> KMeansModelFile {
        let check = ModelCheck(path: path)
        guard k >= 1 else { throw check.fail("k", "\(k); a model has at least one segment") }
        try check.names(columns, "columns")
        let d = columns.count
        try check.count(centroids, k, "centroids", "k = \(k)")
        for (i, c) in centroids.enumerated() {
            try check.count(c, d, "centroids", "center \(i), one coordinate per column (\(d)),")
            try check.finite(c, "centroids", float: true)
        }
        try check.count(clusterSizes, k, "cluster_sizes", "k = \(k)")
        if let i = clusterSizes.firstIndex(where: { $0 < 0 || Double($0) > ModelCheck.maxCount }) {
            throw check.fail("cluster_sizes", "entry \(i) is \(clusterSizes[i]); sizes are row counts >= 0")
        }
        if let w = sizeWeights {
            try check.count(w, k, "size_weights", "k = \(k)")
            try check.nonNegative(w, "size_weights")
            if let i = w.firstIndex(where: { $0 > ModelCheck.maxCount }) { throw check.fail("size_weights", "entry \(i) is \(w[i]); not a row count") }
        }
        if let names = segmentNames { try check.count(names, k, "segment_names", "k = \(k)") }
        try check.count(trainingRows, "training_rows")
        if let u = updates { try check.count(u, "updates") }
        try FeatureStages(preprocessing: preprocessing, pca: pca).validate(check, modelColumns: columns)
        try trainingProfile?.validate(path: path)
        return self
    }
}

extension GMMModelFile {
    /// Checks after decoding: shapes match k, columns and covariance_type; weights finite, >= 0
    /// and summing to 1 (within 1e-6); means, covariances and precision factors finite within
    /// Float range, variances and factor diagonals > 0; each log-determinant equal to the one
    /// its precision factor gives (so 1e308 cannot reach the E-step); the feature stages.
    /// - Throws: `StrataError.badData` naming `path` and the key.
    func validated(path: String) throws -> GMMModelFile {
        let check = ModelCheck(path: path)
        guard k >= 1 else { throw check.fail("k", "\(k); a model has at least one component") }
        try check.names(columns, "columns")
        try check.count(weights, k, "weights", "k = \(k)")   // first: bounds k by the file's size
        let d = columns.count
        let (dd, o1) = d.multipliedReportingOverflow(by: d)
        let (kdd, o2) = k.multipliedReportingOverflow(by: dd)
        guard !o1, !o2 else { throw check.fail("columns", "\(k) components of \(d) columns are more than any file holds") }
        let covCount: Int
        switch covarianceType {
        case .full: covCount = kdd
        case .diag: covCount = k * d
        case .tied: covCount = dd
        case .spherical: covCount = k
        }
        try check.nonNegative(weights, "weights")
        let total = weights.reduce(0, +)
        guard abs(total - 1) <= 1e-6 else { throw check.fail("weights", "sum to \(total); mixture weights sum to 1") }
        try check.count(means, k, "means", "k = \(k)")
        for (i, m) in means.enumerated() {
            try check.count(m, d, "means", "mean \(i), one value per column (\(d)),")
            try check.finite(m, "means", float: true)
        }
        try check.count(covariances, covCount, "covariances", "\(covarianceType.rawValue) covariances of k = \(k), d = \(d)")
        try check.count(precisionsCholesky, covCount, "precisions_cholesky", "\(covarianceType.rawValue) covariances of k = \(k), d = \(d)")
        try check.count(logDetPrecisionCholesky, k, "log_det_precisions_cholesky", "k = \(k)")
        try check.finite(covariances, "covariances", float: true)
        try check.finite(precisionsCholesky, "precisions_cholesky", float: true)
        try check.finite(logDetPrecisionCholesky, "log_det_precisions_cholesky")
        // Diagonals of every covariance and precision factor, in component order.
        let matrices = covarianceType == .full ? k : covarianceType == .tied ? 1 : 0
        let diagonal: (([Double]) -> [Double]) = { v in
            matrices > 0 ? (0..<matrices).flatMap { c in (0..<d).map { v[c * d * d + $0 * d + $0] } } : v
        }
        try check.positive(diagonal(covariances), "covariances")
        try check.positive(diagonal(precisionsCholesky), "precisions_cholesky")
        for c in 0..<k {
            let expected: Double
            switch covarianceType {
            case .full: expected = (0..<d).reduce(0.0) { $0 + log(precisionsCholesky[c * d * d + $1 * d + $1]) }
            case .tied: expected = (0..<d).reduce(0.0) { $0 + log(precisionsCholesky[$1 * d + $1]) }
            case .diag: expected = (0..<d).reduce(0.0) { $0 + log(precisionsCholesky[c * d + $1]) }
            case .spherical: expected = Double(d) * log(precisionsCholesky[c])
            }
            let given = logDetPrecisionCholesky[c]
            guard abs(given - expected) <= 1e-6 * max(1, abs(expected)) else {
                throw check.fail("log_det_precisions_cholesky", "entry \(c) is \(given) but precisions_cholesky gives \(expected)")
            }
        }
        if let names = segmentNames { try check.count(names, k, "segment_names", "k = \(k)") }
        try check.count(trainingRows, "training_rows")
        try FeatureStages(preprocessing: preprocessing, pca: pca).validate(check, modelColumns: columns)
        return self
    }
}
