import StrataCore
import Foundation
import StrataKernels
import StrataLinalg

extension PCAModelFile {
    /// The model the stored file describes.
    public var pcaModel: PCAModel {
        PCAModel(mean: mean, components: components.flatMap { $0 }, explainedVariance: explainedVariance,
                 explainedVarianceRatio: explainedVarianceRatio, singularValues: singularValues, noiseVariance: noiseVariance,
                 whiten: whiten, samples: trainingRows, solver: solver)
    }
}

extension RawTable {
    /// A numeric dataset (e.g. from .npy) as a raw table without missing values.
    public init(_ d: Dataset) {
        self.init(source: d.source, rows: d.rows, numericNames: d.columns,
                  numeric: d.withRows { x, _ in (0..<d.cols).map { j in (0..<d.rows).map { x.base[$0 * d.cols + j] } } },
                  categoricalNames: [], categorical: [], idColumn: d.idColumn, ids: d.ids, lines: Array(1...max(1, d.rows)).map { $0 + 1 })
        warnings = d.warnings
        weightsColumn = d.weightsColumn
        weights = d.weights
    }
}

/// The feature stages in front of a model: preprocessing, then optional PCA. Fitted once on the
/// training input, stored in model.json, and replayed by `predict` on new input.
public struct FeatureStages: Sendable, Equatable {
    public var preprocessing: FittedPipeline?
    public var pca: PCAModelFile?
    public var report: PreprocessReport?
    /// The training distribution of the input columns (without `distance`), when `fit` was
    /// asked for it (`profile: true`): see `TrainingProfile`.
    public var profile: TrainingProfile?

    public init(preprocessing: FittedPipeline? = nil, pca: PCAModelFile? = nil, report: PreprocessReport? = nil) {
        self.preprocessing = preprocessing
        self.pca = pca
        self.report = report
    }

    public var isEmpty: Bool { preprocessing == nil && pca == nil }

    /// Reads `path` and fits the stages: with identity preprocessing and no PCA this is the plain
    /// reader. PCA (`pcaComponents`) is fitted on the preprocessed features. With `profile`, the
    /// model's input columns are profiled for drift monitoring (`TrainingProfile`, on the rows
    /// read, in input units).
    public static func fit(path: String, read: TableReadOptions, preprocess: PreprocessOptions, pcaComponents: Int?,
                           seed: UInt64, threads: Int, profile: Bool = false) throws -> (Dataset, FeatureStages) {
        var stages = FeatureStages()
        var data: Dataset
        if preprocess.isIdentity {
            data = try TableReader.read(path: path, options: read)
            if profile { stages.profile = TrainingProfile.fit(data, seed: seed) }
        } else {
            let raw: RawTable
            if path.lowercased().hasSuffix(".npy") {
                guard preprocess.categorical.isEmpty else { throw StrataError.invalidArgument("\(path): .npy files have no categorical columns") }
                raw = RawTable(try TableReader.read(path: path, options: read))
            } else {
                raw = try RawTable.read(path: path, numeric: read.columns, categorical: preprocess.categorical, idColumn: read.idColumn,
                                        delimiter: read.delimiter, unparsable: preprocess.impute == .none ? .error : .missing,
                                        weightsColumn: read.weightsColumn)
            }
            var preprocess = preprocess
            preprocess.memoryBudget = read.memoryBudget
            let (pipeline, d, report) = try FittedPipeline.fit(raw, options: preprocess)
            if profile { stages.profile = try TrainingProfile.fit(raw, numeric: pipeline.inputNumeric, categorical: pipeline.inputCategorical, seed: seed) }
            stages.preprocessing = pipeline
            stages.report = report
            data = d
            data.warnings = raw.warnings
            if !report.constantColumns.isEmpty {
                data.warnings.append("\(path): constant columns left out of the features: \(Excerpt.list(report.constantColumns))")
            }
        }
        if let c = pcaComponents {
            var o = PCAOptions(components: .count(c))
            o.seed = seed
            o.threads = threads
            let m = try PCA.fit(data, options: o)
            let file = PCAModelFile(m, columns: data.columns)
            let z = try m.transform(data, threads: threads)
            let warnings = data.warnings
            data = Dataset(rows: data.rows, cols: m.count, values: z.storage, columns: (0..<m.count).map { "pc\($0)" },
                           idColumn: data.idColumn, ids: data.ids, weightsColumn: data.weightsColumn, weights: data.weights, source: data.source)
            data.warnings = warnings
            stages.pca = file
        }
        return (data, stages)
    }

    /// Reads new input and applies the stored stages; `modelColumns` are the plain columns when
    /// there is no preprocessing.
    public func apply(path: String, idColumn: String?, modelColumns: [String], threads: Int,
                      memoryBudget: Int = MemoryBudget.defaultBytes) throws -> Dataset {
        var budget = TableReadOptions()
        budget.memoryBudget = memoryBudget
        var data: Dataset
        if let p = preprocessing {
            let raw: RawTable
            if path.lowercased().hasSuffix(".npy") {
                raw = RawTable(try TableReader.read(path: path, options: budget))
            } else {
                // With imputation in the model, a non-number is a missing value (filled as in
                // training, counted in the warnings); without, an error naming line and column.
                let imputes = p.numeric.allSatisfy { $0.fill != nil }
                raw = try RawTable.read(path: path, numeric: p.inputNumeric, categorical: p.inputCategorical, idColumn: idColumn,
                                        unparsable: imputes ? .missing : .error)
            }
            data = try p.transform(raw)
            data.warnings = raw.warnings
        } else {
            let isNPY = path.lowercased().hasSuffix(".npy")
            let cols = pca?.columns ?? modelColumns
            var o = TableReadOptions(columns: isNPY ? nil : cols, idColumn: idColumn)
            o.memoryBudget = memoryBudget
            data = try TableReader.read(path: path, options: o)
        }
        return try projected(data, threads: threads)
    }

    /// Reads new input as the raw table the stages start from (input units, NaN / "" missing),
    /// with the same rules as `apply(path:)`: with imputation in the model a non-number is a
    /// missing value, else an error naming file, line and column.
    /// - Throws: `.badData` naming file and column for an input column the file lacks (line 1,
    ///   the header), and the readers' errors.
    public func readInput(path: String, idColumn: String?, modelColumns: [String], memoryBudget: Int = MemoryBudget.defaultBytes) throws -> RawTable {
        let inputs = TrainingProfile.inputColumns(stages: self, modelColumns: modelColumns)
        if path.lowercased().hasSuffix(".npy") {
            var o = TableReadOptions(columns: nil, idColumn: idColumn)
            o.memoryBudget = memoryBudget
            return RawTable(try TableReader.read(path: path, options: o).materialized())
        }
        let header = try CSVHeader.read(path: path)
        for name in inputs.numeric + inputs.categorical where !header.contains(name) {
            throw StrataError.badData(file: path, line: 1, column: name,
                                      message: "the model's column '\(Excerpt.of(name))' is missing; the input needs every column the model was fitted on (\(Excerpt.list(inputs.numeric + inputs.categorical)))")
        }
        let imputes = preprocessing.map { p in p.numeric.allSatisfy { $0.fill != nil } } ?? false
        return try RawTable.read(path: path, numeric: inputs.numeric, categorical: inputs.categorical, idColumn: idColumn,
                                 unparsable: imputes ? .missing : .error)
    }

    /// The stages applied to a raw table read by `readInput`: the model's features, n x d.
    /// - Throws: as `FittedPipeline.transform` (a missing value without imputation, a negative
    ///   value under log1p: file, line and column), and `.badData` for a missing value when there
    ///   is no preprocessing to fill it.
    public func apply(_ raw: RawTable, modelColumns: [String], threads: Int) throws -> Dataset {
        var data: Dataset
        if let p = preprocessing {
            data = try p.transform(raw)
        } else {
            let cols = pca?.columns ?? modelColumns
            let idx = try cols.map { name -> Int in
                guard let j = raw.numericNames.firstIndex(of: name) else {
                    throw StrataError.badData(file: raw.source, line: 1, column: name, message: "the model's column '\(Excerpt.of(name))' is missing")
                }
                return j
            }
            if raw.numericNames.count != cols.count && raw.source.lowercased().hasSuffix(".npy") {
                throw StrataError.invalidArgument("\(raw.source) has \(raw.numericNames.count) columns; the model needs \(cols.count) (\(Excerpt.list(cols)))")
            }
            var values = [Float](repeating: 0, count: raw.rows * cols.count)
            for (c, j) in idx.enumerated() {
                for i in 0..<raw.rows {
                    let v = raw.numeric[j][i]
                    if v.isNaN { throw StrataError.badData(file: raw.source, line: raw.lines[i], column: cols[c], message: "missing value; the model was fitted without --impute") }
                    values[i * cols.count + c] = v
                }
            }
            data = Dataset(rows: raw.rows, cols: cols.count, values: values, columns: cols, idColumn: raw.idColumn, ids: raw.ids, source: raw.source)
        }
        data.warnings = raw.warnings
        return try projected(data, threads: threads)
    }

    /// `data` projected on the fitted PCA (columns pc0, pc1, ...; ids, source and warnings kept),
    /// or `data` itself without PCA.
    func projected(_ data: Dataset, threads: Int) throws -> Dataset {
        guard let f = pca else { return data }
        let m = f.pcaModel
        let z = try m.transform(data, threads: threads)
        var out = Dataset(rows: data.rows, cols: m.count, values: z.storage, columns: (0..<m.count).map { "pc\($0)" },
                          idColumn: data.idColumn, ids: data.ids, source: data.source)
        out.warnings = data.warnings
        return out
    }

    /// A centroid or mean in model space, back in original units for the numeric input columns
    /// (undoes PCA, scaling and log1p); nil when there are no stages to undo.
    public func originalUnits(_ point: [Double]) -> [Double]? {
        if isEmpty { return nil }
        var v = point
        if let f = pca {
            let m = f.pcaModel
            let z = Matrix<Float>(rows: 1, cols: v.count, storage: v.map { Float($0) })
            v = m.inverseTransform(z).storage
        }
        if let p = preprocessing { v = Array(p.inverseTransform(v).prefix(p.numeric.count)) }
        return v
    }

    /// JSON summary for run output.
    public var summary: [String: Any] {
        var out: [String: Any] = [:]
        if let p = preprocessing {
            out["output_columns"] = p.outputColumns
            out["scale"] = p.scaling.rawValue
        }
        if let r = report {
            out["missing"] = r.missing
            out["imputed"] = r.imputed
            out["clipped"] = r.clipped
            out["dropped_rows"] = r.droppedRows
        }
        if let f = pca {
            out["pca_components"] = f.components.count
            out["pca_explained_variance_ratio"] = f.explainedVarianceRatio
        }
        return out
    }
}
