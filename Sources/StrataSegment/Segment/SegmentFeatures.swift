import Foundation
import StrataCore
import StrataIO

/// Stage 2 of `strata segment`: from the joined customer table to the model's input.
///
/// Drops rows with missing values when `impute: drop`, chooses the log1p columns (unless given),
/// fits the preprocessing pipeline (impute -> log1p -> clip -> scale, one-hot) and, with `pca`,
/// projects onto principal components. With `algorithm: kprototypes` the categorical columns are
/// not one-hot encoded: the pipeline sees the numeric columns only (none: K-Modes, an empty
/// pipeline and a 0-column `data`), and the categories go to `categorical` (empty cells as the
/// category "(missing)", also in `raw`, counted in a warning). `stages` converts model units back to original units
/// (`FeatureStages.originalUnits`, the one place that undoes PCA, scaling and log1p).
struct SegmentFeatures {
    /// The modelled rows in original units (rows dropped by `impute: drop` removed).
    var raw: RawTable
    var extras: ProfileExtras
    var pipeline: FittedPipeline
    var report: PreprocessReport
    /// Columns transformed by log1p.
    var logColumns: [String]
    /// Preprocessed features (model units before PCA): n x (numeric + one-hot) columns
    /// (kprototypes: numeric only).
    var preprocessed: Dataset
    /// The model's input: `preprocessed`, or its principal components with `pca`.
    var data: Dataset
    /// The fitted stages as saved in model.json.
    var stages: FeatureStages
    /// Rows read minus rows modelled.
    var droppedRows: Int
    /// `algorithm: kprototypes`: the categorical columns as categories (empty cells as
    /// `MixedTable.missingCategory`), n rows, beside the numeric `data`; nil otherwise (then
    /// categorical columns are one-hot encoded into `data`).
    var categorical: CategoricalColumns? = nil

    /// - Throws: `StrataError.invalidArgument` (no feature left, a log column that is not a
    ///   numeric feature, more PCA components than features), `.badData` from preprocessing.
    /// - Complexity: O(n d) for the pipeline, plus O(n d^2 + d^3) with PCA (covariance solver).
    static func build(_ inputs: SegmentInputs, config c: SegmentConfig, threads: Int, steps: SegmentSteps) throws -> SegmentFeatures {
        var raw = inputs.raw
        var extras = inputs.extras
        guard !raw.numericNames.isEmpty || !raw.categoricalNames.isEmpty else {
            throw StrataError.invalidArgument("\(raw.source): no feature columns left to segment on (check columns / exclude)")
        }
        let prototypes = c.algorithm == .kprototypes
        var pre = c.preprocessOptions
        // K-Prototypes keeps the categories as they are: only the numeric columns are preprocessed.
        pre.categorical = prototypes ? [] : raw.categoricalNames
        pre.log = c.log ?? autoLogColumns(raw)
        for name in pre.log where !raw.numericNames.contains(name) {
            throw StrataError.invalidSetting("log", "'\(name)' is not a numeric feature; features are \(raw.numericNames.joined(separator: ", "))")
        }
        if pre.impute == .drop {
            let keep = (0..<raw.rows).filter { i in !raw.numeric.contains { $0[i].isNaN } && !raw.categorical.contains { $0[i].isEmpty } }
            raw = raw.subset(keep)
            extras = extras.subset(keep)
        }
        let dropped = inputs.raw.rows - raw.rows
        var categorical: CategoricalColumns? = nil
        if prototypes {
            // Empty cells are a category of their own (as `strata kprototypes` reads them), so
            // profiles, features.csv and predict all see the same value.
            let table = MixedTable.categoricalFrom(raw, numeric: nil)
            for w in table.warnings where !raw.warnings.contains(w) { steps.log("warning: " + w) }
            raw.categorical = raw.categorical.indices.map { s in (0..<raw.rows).map { table.categorical.categories[s][table.categorical.code($0, s)] } }
            categorical = table.categorical
        }
        var fitted = raw
        // The pipeline one-hot encodes every categorical column of its table: K-Prototypes gives
        // it the numeric columns only.
        if prototypes { fitted.categoricalNames = []; fitted.categorical = [] }
        let (pipeline, preprocessed, report) = try steps.run("preprocess") { () -> ((FittedPipeline, Dataset, PreprocessReport), String) in
            // K-Modes (no numeric feature): an empty pipeline and a table without columns.
            let r = prototypes && fitted.numericNames.isEmpty
                ? (FittedPipeline(numericStages: [], categoricalStages: [], dropsMissingRows: pre.impute == .drop, scaling: pre.scale),
                   Dataset(rows: fitted.rows, cols: 0, values: [], columns: [], idColumn: fitted.idColumn, ids: fitted.ids, source: fitted.source),
                   PreprocessReport())
                : try FittedPipeline.fit(fitted, options: pre)
            let imputed = r.2.imputed.values.reduce(0, +), clipped = r.2.clipped.values.reduce(0, +)
            steps.count("features", r.1.cols)
            steps.count("rows", r.1.rows)
            steps.count("imputed", imputed)
            steps.count("clipped", clipped)
            return (r, "\(r.1.cols) model features; log1p on \(pre.log.isEmpty ? "none" : pre.log.joined(separator: ", ")); "
                + "\(imputed) values imputed, \(clipped) clipped, \(dropped) rows dropped")
        }
        if !report.constantColumns.isEmpty {
            steps.log("warning: constant columns left out of the features: \(Excerpt.list(report.constantColumns))")
            // Profiles, rules and features.csv describe the modelled columns only.
            let keep = raw.numericNames.indices.filter { !report.constantColumns.contains(raw.numericNames[$0]) }
            raw.numericNames = keep.map { raw.numericNames[$0] }
            raw.numeric = keep.map { raw.numeric[$0] }
            let keepCategorical = raw.categoricalNames.indices.filter { !report.constantColumns.contains(raw.categoricalNames[$0]) }
            raw.categoricalNames = keepCategorical.map { raw.categoricalNames[$0] }
            raw.categorical = keepCategorical.map { raw.categorical[$0] }
        }
        var stages = FeatureStages(preprocessing: pipeline, pca: nil, report: report)
        var data = preprocessed
        if let p = c.pca {
            data = try steps.run("pca") { () -> (Dataset, String) in
                guard p <= preprocessed.cols else { throw StrataError.invalidSetting("pca", "\(p) exceeds the \(preprocessed.cols) model features") }
                var o = PCAOptions(components: .count(p))
                o.seed = c.seed; o.threads = threads; o.memoryBudget = pre.memoryBudget
                let m = try PCA.fit(preprocessed, options: o)
                stages.pca = PCAModelFile(m, columns: preprocessed.columns)
                let z = try m.transform(preprocessed, threads: threads)
                let d = Dataset(rows: preprocessed.rows, cols: m.count, values: z.storage, columns: (0..<m.count).map { "pc\($0)" },
                                idColumn: preprocessed.idColumn, ids: preprocessed.ids, source: preprocessed.source)
                return (d, String(format: "%d components, %.1f%% of the variance", p, 100 * m.explainedVarianceRatio.reduce(0, +)))
            }
        }
        return SegmentFeatures(raw: raw, extras: extras, pipeline: pipeline, report: report, logColumns: pre.log,
                               preprocessed: preprocessed, data: data, stages: stages, droppedRows: dropped, categorical: categorical)
    }

    /// Non-negative numeric columns with skewness above 1 (spend, counts, CLV): log1p keeps a long
    /// right tail from deciding the segments. Flags and codes (at most 10 distinct values) are
    /// left as they are: a rare 0/1 flag is skewed but has no tail. Missing values are ignored;
    /// O(n d).
    static func autoLogColumns(_ raw: RawTable) -> [String] {
        var out: [String] = []
        for (j, col) in raw.numeric.enumerated() {
            var distinct = Set<Float>()
            for v in col where !v.isNaN { distinct.insert(v); if distinct.count > FittedPipeline.clipMinDistinct { break } }
            if distinct.count <= FittedPipeline.clipMinDistinct { continue }
            var n = 0.0, s = 0.0, s2 = 0.0, s3 = 0.0, minimum = Double.infinity
            for v in col where !v.isNaN { let x = Double(v); n += 1; s += x; minimum = min(minimum, x) }
            guard n > 2, minimum >= 0 else { continue }
            let mean = s / n
            for v in col where !v.isNaN { let d = Double(v) - mean; s2 += d * d; s3 += d * d * d }
            let sd = (s2 / n).squareRoot()
            if sd > 0 && (s3 / n) / (sd * sd * sd) > 1 { out.append(raw.numericNames[j]) }
        }
        return out
    }
}

extension RawTable {
    /// The given rows, in order.
    func subset(_ rows: [Int]) -> RawTable {
        RawTable(source: source, rows: rows.count, numericNames: numericNames, numeric: numeric.map { c in rows.map { c[$0] } },
                 categoricalNames: categoricalNames, categorical: categorical.map { c in rows.map { c[$0] } },
                 idColumn: idColumn, ids: ids.map { ids in rows.map { ids[$0] } }, lines: rows.map { lines[$0] })
    }
}

extension ProfileExtras {
    func subset(_ rows: [Int]) -> ProfileExtras {
        var e = ProfileExtras()
        e.revenue = revenue.map { v in rows.map { v[$0] } }
        e.clv = clv.map { v in rows.map { v[$0] } }
        e.clvP05 = clvP05.map { v in rows.map { v[$0] } }
        e.clvP95 = clvP95.map { v in rows.map { v[$0] } }
        e.rfmSegment = rfmSegment.map { v in rows.map { v[$0] } }
        e.probabilityAlive = probabilityAlive.map { v in rows.map { v[$0] } }
        e.profileOnly = profileOnly.map { c in ProfileOnlyColumn(name: c.name, values: rows.map { c.values[$0] }) }
        return e
    }
}
