import Foundation

/// What preprocessing to fit. Defaults are "none" everywhere, so primitive commands stay
/// comparable with other libraries unless asked.
public struct PreprocessOptions: Sendable, Equatable {
    public enum Impute: Sendable, Equatable {
        /// A missing value is an error naming file, line and column.
        case none
        /// Rows with any missing value are dropped (at predict time: the training median fills).
        case drop
        case mean, median, mostFrequent
        /// This value (numeric columns; categorical ones get "missing").
        case constant(Double)
    }
    public enum Clip: Sendable, Equatable {
        case none
        /// Winsorize to these quantiles (e.g. 0.01, 0.99) of the training data.
        case quantiles(Double, Double)
        /// Clip to [Q1 - f IQR, Q3 + f IQR] (Tukey's fences; f = 1.5 is usual).
        case iqr(Double)
    }
    public enum Scale: String, SettingChoice, CaseIterable {
        public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
        public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

        case none, standard, robust, minmax
    }

    public var impute: Impute = .none
    public var clip: Clip = .none
    /// Numeric columns transformed by log1p (heavy-tailed, non-negative: spend, frequency).
    public var log: [String] = []
    /// Categorical columns, one-hot encoded.
    public var categorical: [String] = []
    /// At most this many indicator columns per categorical column, "other" included: the most
    /// frequent categories keep their own column, the rest (and unseen ones at predict) go to other.
    public var oneHotMax: Int = 20
    public var scale: Scale = .none
    /// Working-memory budget in bytes: the dense model table (rows x output columns, float32)
    /// must fit in it.
    public var memoryBudget: Int = MemoryBudget.defaultBytes

    public init() {}

    /// True when nothing is asked for (the table passes through unchanged).
    public var isIdentity: Bool { impute == .none && clip == .none && log.isEmpty && categorical.isEmpty && scale == .none }
}

extension PreprocessOptions.Impute: SettingChoice {
    /// none | drop | mean | median | most_frequent | constant:V.
    public init?(_ s: String) {
        switch s {
        case "none": self = .none
        case "drop": self = .drop
        case "mean": self = .mean
        case "median": self = .median
        case "most_frequent": self = .mostFrequent
        default:
            guard s.hasPrefix("constant:"), let v = Double(s.dropFirst(9)), v.isFinite else { return nil }
            self = .constant(v)
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .drop: return "drop"
        case .mean: return "mean"
        case .median: return "median"
        case .mostFrequent: return "most_frequent"
        case let .constant(v): return "constant:" + shortest(v)
        }
    }

    public static var validForms: [String] { ["none", "drop", "mean", "median", "most_frequent", "constant:V"] }
}

extension PreprocessOptions.Clip: SettingChoice {
    /// none | quantile[:LO:HI] (0 <= LO < HI <= 1; default 0.01:0.99) | iqr[:F] (F >= 0; default 1.5).
    public init?(_ s: String) {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.first {
        case "none" where parts.count == 1: self = .none
        case "quantile":
            if parts.count == 1 { self = .quantiles(0.01, 0.99); return }
            guard parts.count == 3, let lo = Double(parts[1]), let hi = Double(parts[2]), 0 <= lo, lo < hi, hi <= 1 else { return nil }
            self = .quantiles(lo, hi)
        case "iqr":
            if parts.count == 1 { self = .iqr(1.5); return }
            guard parts.count == 2, let f = Double(parts[1]), f >= 0, f.isFinite else { return nil }
            self = .iqr(f)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case let .quantiles(lo, hi): return "quantile:" + shortest(lo) + ":" + shortest(hi)
        case let .iqr(f): return "iqr:" + shortest(f)
        }
    }

    public static var validForms: [String] { ["none", "quantile[:LO:HI]", "iqr[:F]"] }
}

/// Counts of what preprocessing did, per column, for run reports.
public struct PreprocessReport: Sendable, Equatable {
    public var missing: [String: Int] = [:]
    public var imputed: [String: Int] = [:]
    public var clipped: [String: Int] = [:]
    public var droppedRows = 0
    /// Columns left out because they are constant (numeric: before or after imputation and
    /// clipping; categorical: a single category): they carry no information.
    public var constantColumns: [String] = []

    public init() {}
}

/// A fitted preprocessing pipeline: every statistic, category list and choice, so `predict`
/// replays exactly the same transform. Stored in model.json under "preprocessing".
/// Order: impute -> log1p -> clip -> scale (numeric); one-hot (categorical) appended after.
public struct FittedPipeline: Codable, Sendable, Equatable {
    public struct Numeric: Codable, Sendable, Equatable {
        public var name: String
        /// Value that fills a missing entry (nil: missing is an error).
        public var fill: Double?
        public var log1p: Bool
        public var clipLow: Double?
        public var clipHigh: Double?
        /// x_out = (x - center) / scale.
        public var center: Double
        public var scale: Double
    }
    public struct Categorical: Codable, Sendable, Equatable {
        public var name: String
        /// Kept categories, most frequent first; every other value (and unseen ones) is "other".
        public var categories: [String]
        public var fill: String?
    }
    public var numeric: [Numeric]
    public var categorical: [Categorical]
    public var dropsMissingRows: Bool
    public var scaling: PreprocessOptions.Scale

    /// Output feature names: numeric columns, then "column=category" and "column=other".
    public var outputColumns: [String] {
        numeric.map(\.name) + categorical.flatMap { c in c.categories.map { "\(c.name)=\($0)" } + ["\(c.name)=other"] }
    }

    /// The raw input columns this pipeline reads.
    public var inputNumeric: [String] { numeric.map(\.name) }
    public var inputCategorical: [String] { categorical.map(\.name) }

    /// Columns with at most this many distinct values (each seen at least twice on average:
    /// flags and codes, not a tiny sample) are never clipped.
    public static let clipMinDistinct = 10

    // MARK: fit

    /// Fits the pipeline on `t` and transforms it.
    ///
    /// - Parameters:
    ///   - t: the raw table: numeric columns (NaN = missing), categorical columns ("" = missing).
    ///   - o: imputation, clipping (quantiles or Tukey fences), log1p columns, scaling, one-hot
    ///     columns and their cap.
    /// - Returns: the fitted pipeline (saved in model.json, replayed by `predict`), the n x d'
    ///   model features (numeric columns, then one-hot indicators) and counts of what was done
    ///   per column (missing, imputed, clipped, dropped rows).
    ///   Constant numeric columns (also those made constant by imputation) are left out and
    ///   listed in the report's `constantColumns`; columns with at most `clipMinDistinct`
    ///   distinct values, each repeated, are not clipped.
    /// - Throws: `StrataError.badData` naming file, line and column (a missing value with
    ///   `impute: none`, a negative value under log1p, a column with no values at all, every
    ///   column constant),
    ///   `.invalidSetting("log")` for a log1p column that is not a numeric feature.
    /// - Complexity: O(n d log n) (quantiles sort each column), memory O(n d).
    /// - Source: scikit-learn `SimpleImputer`, `StandardScaler`, `RobustScaler`, `MinMaxScaler`,
    ///   `OneHotEncoder(max_categories=)` semantics.
    public static func fit(_ t: RawTable, options o: PreprocessOptions) throws -> (FittedPipeline, Dataset, PreprocessReport) {
        var report = PreprocessReport()
        for name in o.log where !t.numericNames.contains(name) {
            throw StrataError.invalidSetting("log", "'\(name)' is not a numeric feature column of \(t.source)")
        }
        // Rows kept (drop strategy).
        var keep = [Bool](repeating: true, count: t.rows)
        for (c, col) in t.numeric.enumerated() {
            let missing = col.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
            if missing > 0 { report.missing[t.numericNames[c]] = missing }
            if missing == t.rows {
                throw StrataError.badData(file: t.source, line: nil, column: t.numericNames[c],
                                          message: "the column has no values at all; leave it out of --columns")
            }
            if missing > 0 && o.impute == .none {
                let i = col.firstIndex { $0.isNaN }!
                throw StrataError.badData(file: t.source, line: t.lines[i], column: t.numericNames[c],
                                          message: "missing value; choose --impute (drop, mean, median, most_frequent, constant:V)")
            }
            if o.impute == .drop { for i in 0..<t.rows where col[i].isNaN { keep[i] = false } }
        }
        for (c, col) in t.categorical.enumerated() {
            let missing = col.reduce(0) { $0 + ($1.isEmpty ? 1 : 0) }
            if missing > 0 { report.missing[t.categoricalNames[c]] = missing }
            if missing == t.rows {
                throw StrataError.badData(file: t.source, line: nil, column: t.categoricalNames[c], message: "the column has no values at all; leave it out of --categorical")
            }
            if missing > 0 && o.impute == .none {
                let i = col.firstIndex { $0.isEmpty }!
                throw StrataError.badData(file: t.source, line: t.lines[i], column: t.categoricalNames[c],
                                          message: "missing category; choose --impute (drop, most_frequent, constant:V)")
            }
            if o.impute == .drop { for i in 0..<t.rows where col[i].isEmpty { keep[i] = false } }
        }
        let rows = (0..<t.rows).filter { keep[$0] }
        report.droppedRows = t.rows - rows.count
        guard !rows.isEmpty else { throw StrataError.badData(file: t.source, line: nil, column: nil, message: "every row has a missing value; no row is left to fit") }

        var numeric: [Numeric] = []
        for (c, name) in t.numericNames.enumerated() {
            let present = rows.compactMap { t.numeric[c][$0].isNaN ? nil : Double(t.numeric[c][$0]) }
            var fill: Double? = nil
            switch o.impute {
            case .none: fill = nil
            case .drop, .median: fill = quantile(present.sorted(), 0.5)
            case .mean: fill = present.reduce(0, +) / Double(present.count)
            case .mostFrequent: fill = mostFrequent(present)
            case let .constant(v): fill = v
            }
            let log = o.log.contains(name)
            var values = rows.map { i -> Double in let v = t.numeric[c][i]; return v.isNaN ? fill! : Double(v) }
            if log {
                if let bad = values.firstIndex(where: { $0 < 0 }) {
                    throw StrataError.badData(file: t.source, line: t.lines[rows[bad]], column: name,
                                              message: "negative value \(values[bad]) cannot take log1p; leave the column out of --log")
                }
                values = values.map { Foundation.log1p($0) }
            }
            var lo: Double? = nil, hi: Double? = nil
            let sorted = values.sorted()
            // Binary flags and low-cardinality codes are never clipped: winsorizing a 0/1 column
            // with two 1s in 300 rows would turn it into a constant.
            var distinct = 0
            for k in sorted.indices where k == 0 || sorted[k] != sorted[k - 1] { distinct += 1; if distinct > Self.clipMinDistinct { break } }
            let lowCardinality = distinct <= Self.clipMinDistinct && distinct * 2 <= sorted.count
            switch lowCardinality ? .none : o.clip {
            case .none: break
            case let .quantiles(a, b): lo = quantile(sorted, a); hi = quantile(sorted, b)
            case let .iqr(f):
                let q1 = quantile(sorted, 0.25), q3 = quantile(sorted, 0.75)
                lo = q1 - f * (q3 - q1); hi = q3 + f * (q3 - q1)
            }
            if let lo, let hi {
                let n = values.reduce(0) { $0 + ($1 < lo || $1 > hi ? 1 : 0) }
                if n > 0 { report.clipped[name] = n }
                values = values.map { min(max($0, lo), hi) }
            }
            var center = 0.0, scale = 1.0
            switch o.scale {
            case .none: break
            case .standard:
                center = values.reduce(0, +) / Double(values.count)
                scale = (values.reduce(0) { $0 + ($1 - center) * ($1 - center) } / Double(values.count)).squareRoot()
            case .robust:
                let s = values.sorted()
                center = quantile(s, 0.5)
                scale = quantile(s, 0.75) - quantile(s, 0.25)
            case .minmax:
                center = values.min()!
                scale = values.max()! - center
            }
            if values.allSatisfy({ $0 == values[0] }) || (o.scale != .none && !(scale > 0)) {
                report.constantColumns.append(name)
                continue
            }
            let imputed = rows.reduce(0) { $0 + (t.numeric[c][$1].isNaN ? 1 : 0) }
            if imputed > 0 && o.impute != .drop { report.imputed[name] = imputed }
            numeric.append(Numeric(name: name, fill: fill, log1p: log, clipLow: lo, clipHigh: hi, center: center, scale: scale))
        }
        var categorical: [Categorical] = []
        for (c, name) in t.categoricalNames.enumerated() {
            var counts: [String: Int] = [:]
            for i in rows where !t.categorical[c][i].isEmpty { counts[t.categorical[c][i], default: 0] += 1 }
            var fill: String? = nil
            switch o.impute {
            case .none: fill = nil
            case .constant: fill = "missing"
            default: fill = counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
            }
            let ordered = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
            // One category (after filling missing ones with it): constant indicators, no information.
            let anyMissing = rows.contains { t.categorical[c][$0].isEmpty }
            if ordered.isEmpty || (ordered.count == 1 && (!anyMissing || fill == ordered[0])) {
                report.constantColumns.append(name)
                continue
            }
            let imputed = rows.reduce(0) { $0 + (t.categorical[c][$1].isEmpty ? 1 : 0) }
            if imputed > 0 && fill != nil && o.impute != .drop { report.imputed[name] = imputed }
            let keepCount = max(0, min(ordered.count, o.oneHotMax - 1))
            categorical.append(Categorical(name: name, categories: Array(ordered.prefix(keepCount)), fill: fill))
        }
        if numeric.isEmpty && categorical.isEmpty {
            throw StrataError.badData(file: t.source, line: nil, column: nil,
                                      message: "every feature column is constant (\(Excerpt.list(report.constantColumns))); nothing is left to cluster on")
        }
        let pipeline = FittedPipeline(numeric: numeric, categorical: categorical, dropsMissingRows: o.impute == .drop, scaling: o.scale)
        // The dense table is checked before it is allocated: one-hot columns multiply it.
        let width = pipeline.outputColumns.count
        let bytes = Double(rows.count) * Double(width) * 4
        if bytes > Double(o.memoryBudget) {
            throw StrataError.invalidSetting("one_hot_max", "the model table would be \(rows.count) rows x \(width) columns (\(MemoryBudget.describe(Int(min(bytes, 9e18))))), beyond the memory budget of \(MemoryBudget.describe(o.memoryBudget)); lower one_hot_max (now \(o.oneHotMax)), list fewer categorical columns, or raise the memory budget")
        }
        let data = try pipeline.apply(t, rows: rows)
        return (pipeline, data, report)
    }

    // MARK: transform

    /// The pipeline's output for every row of `t` (missing values filled with the training values).
    public func transform(_ t: RawTable) throws -> Dataset { try apply(t, rows: Array(0..<t.rows)) }

    func apply(_ t: RawTable, rows: [Int]) throws -> Dataset {
        let numIdx = try numeric.map { n -> Int in
            guard let i = t.numericNames.firstIndex(of: n.name) else {
                throw StrataError.invalidArgument("\(t.source) has no numeric column '\(n.name)' that the model needs")
            }
            return i
        }
        let catIdx = try categorical.map { c -> Int in
            guard let i = t.categoricalNames.firstIndex(of: c.name) else {
                throw StrataError.invalidArgument("\(t.source) has no categorical column '\(c.name)' that the model needs")
            }
            return i
        }
        let width = numeric.count + categorical.reduce(0) { $0 + $1.categories.count + 1 }
        // Category -> indicator position, one hash lookup per cell (not a scan of the categories).
        let categoryIndex = categorical.map { c in Dictionary(c.categories.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) }
        var values = [Float](repeating: 0, count: rows.count * width)
        for (r, i) in rows.enumerated() {
            var o = r * width
            for (n, j) in zip(numeric, numIdx) {
                var v = Double(t.numeric[j][i])
                if v.isNaN {
                    guard let f = n.fill else {
                        throw StrataError.badData(file: t.source, line: t.lines[i], column: n.name, message: "missing value; the model was fitted without --impute")
                    }
                    v = f
                }
                if n.log1p {
                    guard v >= 0 else {
                        throw StrataError.badData(file: t.source, line: t.lines[i], column: n.name, message: "negative value \(v) cannot take log1p")
                    }
                    v = Foundation.log1p(v)
                }
                if let lo = n.clipLow, let hi = n.clipHigh { v = min(max(v, lo), hi) }
                values[o] = Float((v - n.center) / n.scale)
                o += 1
            }
            for (ci, (c, j)) in zip(categorical, catIdx).enumerated() {
                var v = t.categorical[j][i]
                if v.isEmpty {
                    guard let f = c.fill else {
                        throw StrataError.badData(file: t.source, line: t.lines[i], column: c.name, message: "missing category; the model was fitted without --impute")
                    }
                    v = f
                }
                let k = categoryIndex[ci][v] ?? c.categories.count   // unseen or rare -> other
                values[o + k] = 1
                o += c.categories.count + 1
            }
        }
        return Dataset(rows: rows.count, cols: width, values: values, columns: outputColumns, idColumn: t.idColumn,
                       ids: t.ids.map { ids in rows.map { ids[$0] } }, weightsColumn: t.weightsColumn,
                       weights: t.weights.map { w in rows.map { w[$0] } }, source: t.source)
    }

    /// Numeric features back in original units (undo scale, clip cannot be undone, expm1 for log
    /// columns); one-hot columns are returned as they are (shares).
    public func inverseTransform(_ row: [Double]) -> [Double] {
        var out = row
        for (j, n) in numeric.enumerated() {
            var v = row[j] * n.scale + n.center
            if n.log1p { v = Foundation.expm1(v) }
            out[j] = v
        }
        return out
    }

    // MARK: helpers

    /// Linear-interpolation quantile of sorted values (numpy's default, as scikit-learn uses).
    package static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        if sorted.isEmpty { return .nan }
        let pos = q * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
    }

    static func mostFrequent(_ values: [Double]) -> Double {
        var counts: [Double: Int] = [:]
        for v in values { counts[v, default: 0] += 1 }
        return counts.max { ($0.value, $1.key) < ($1.value, $0.key) }!.key   // ties: smallest value, as scikit-learn
    }
}

extension FittedPipeline {
    /// A pipeline from its parts (e.g. the empty numeric pipeline of a K-Modes segmentation).
    public init(numericStages numeric: [Numeric], categoricalStages categorical: [Categorical], dropsMissingRows: Bool, scaling: PreprocessOptions.Scale) {
        self.numeric = numeric
        self.categorical = categorical
        self.dropsMissingRows = dropsMissingRows
        self.scaling = scaling
    }
}
