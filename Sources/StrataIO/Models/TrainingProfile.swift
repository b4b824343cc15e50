import Foundation
import StrataCore
import StrataKernels

/// The training distribution a model keeps for drift monitoring (`strata monitor`), stored in
/// model.json under `training_profile`:
///
/// ```json
/// "training_profile": {
///   "version": 1, "rows": 20000, "binning": "deciles",
///   "numeric": [{"name": "recency_days", "edges": [9 inner edges], "proportions": [10 shares], "missing": 0.0}],
///   "categorical": [{"name": "region", "categories": ["north", ...], "proportions": [...], "missing": 0.0}],
///   "distance": {"metric": "squared_euclidean", "p50": 1.2, "p95": 4.1, "p99": 6.3}
/// }
/// ```
///
/// Features are the model's input columns in input units (before imputation, log1p, clipping,
/// scaling, one-hot and PCA), profiled on every training row read (rows later dropped for a
/// missing value included); `proportions` + `missing` are shares of those rows. `distance` holds
/// quantiles of each training row's squared Euclidean distance to its centroid in the model's
/// transformed space (what `predict` writes as `distance`). Unweighted, like the preprocessing
/// statistics. Models written before this block have none; they still load, and `strata
/// monitor` asks for a re-fit.
public struct TrainingProfile: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public struct NumericFeature: Codable, Sendable, Equatable {
        public var name: String
        public var distribution: BinnedDistribution
        public init(name: String, distribution: BinnedDistribution) { self.name = name; self.distribution = distribution }
        enum CodingKeys: String, CodingKey { case name, edges, proportions, missing }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            distribution = BinnedDistribution(edges: try c.decode([Double].self, forKey: .edges),
                                              proportions: try c.decode([Double].self, forKey: .proportions),
                                              missing: try c.decode(Double.self, forKey: .missing))
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(distribution.edges, forKey: .edges)
            try c.encode(distribution.proportions, forKey: .proportions)
            try c.encode(distribution.missing, forKey: .missing)
        }
    }

    public struct CategoricalFeature: Codable, Sendable, Equatable {
        public var name: String
        public var distribution: CategoryDistribution
        public init(name: String, distribution: CategoryDistribution) { self.name = name; self.distribution = distribution }
        enum CodingKeys: String, CodingKey { case name, categories, proportions, missing }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            distribution = CategoryDistribution(categories: try c.decode([String].self, forKey: .categories),
                                                proportions: try c.decode([Double].self, forKey: .proportions),
                                                missing: try c.decode(Double.self, forKey: .missing))
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(distribution.categories, forKey: .categories)
            try c.encode(distribution.proportions, forKey: .proportions)
            try c.encode(distribution.missing, forKey: .missing)
        }
    }

    /// Quantiles of the training rows' squared Euclidean distance to their assigned centroid,
    /// in model space.
    public struct Distance: Codable, Sendable, Equatable {
        public var metric: String
        public var p50: Double
        public var p95: Double
        public var p99: Double
        public init(metric: String = "squared_euclidean", p50: Double, p95: Double, p99: Double) {
            self.metric = metric; self.p50 = p50; self.p95 = p95; self.p99 = p99
        }

        /// The p50, p95 and p99 of `distances` (linear interpolation, numpy's default); above
        /// `BinnedDistribution.edgeSampleLimit` rows, of a seeded sample of that many.
        /// O(n log n). Nil for no rows.
        public static func of(_ distances: [Float], seed: UInt64 = 0) -> Distance? {
            guard !distances.isEmpty else { return nil }
            var d = distances
            if d.count > BinnedDistribution.edgeSampleLimit {
                d = SeededRandom.sampleIndices(d.count, BinnedDistribution.edgeSampleLimit, seed: seed, stream: 0x4449_5354).map { distances[$0] }
            }
            let q = PopulationStability.quantiles(d, [0.5, 0.95, 0.99])
            return Distance(p50: q[0], p95: q[1], p99: q[2])
        }
    }

    public var version: Int
    /// Training rows profiled.
    public var rows: Int
    /// How the numeric bins were made ("deciles").
    public var binning: String
    public var numeric: [NumericFeature]
    public var categorical: [CategoricalFeature]
    public var distance: Distance?

    public init(rows: Int, numeric: [NumericFeature], categorical: [CategoricalFeature], distance: Distance? = nil) {
        version = Self.currentVersion
        self.rows = rows
        binning = "deciles"
        self.numeric = numeric
        self.categorical = categorical
        self.distance = distance
    }

    /// Profiles the model's input columns `numeric` and `categorical` of `raw` (input units,
    /// NaN / "" missing).
    /// - Throws: `.invalidArgument` when a column is not in `raw` (an internal mismatch).
    /// - Complexity: O(n d log n) (one sort per numeric column; a seeded sample of 1M values
    ///   above that), memory O(n) doubles at a time.
    public static func fit(_ raw: RawTable, numeric: [String], categorical: [String], seed: UInt64 = 0) throws -> TrainingProfile {
        let num = try numeric.map { name -> NumericFeature in
            guard let j = raw.numericNames.firstIndex(of: name) else {
                throw StrataError.invalidArgument("\(raw.source): no numeric column '\(name)' to profile")
            }
            return NumericFeature(name: name, distribution: BinnedDistribution.fit(raw.numeric[j], seed: seed))
        }
        let cat = try categorical.map { name -> CategoricalFeature in
            guard let j = raw.categoricalNames.firstIndex(of: name) else {
                throw StrataError.invalidArgument("\(raw.source): no categorical column '\(name)' to profile")
            }
            return CategoricalFeature(name: name, distribution: CategoryDistribution.fit(raw.categorical[j]))
        }
        return TrainingProfile(rows: raw.rows, numeric: num, categorical: cat)
    }

    /// Profiles every column of a plain numeric dataset (no preprocessing: the columns are the
    /// input units, without missing values): edges from a seeded sample of at most
    /// `BinnedDistribution.edgeSampleLimit` rows, then one pass over every row counts the bins,
    /// in blocks (a memory-mapped .npy is never materialized).
    /// - Complexity: O(n d log 10) for the pass, O(s d log s) for the sample's edges.
    public static func fit(_ data: Dataset, seed: UInt64 = 0) -> TrainingProfile {
        let n = data.rows, d = data.cols
        let sample = n > BinnedDistribution.edgeSampleLimit
            ? SeededRandom.sampleIndices(n, BinnedDistribution.edgeSampleLimit, seed: seed, stream: 0x5053_4921).sorted() : Array(0..<n)
        var dists: [BinnedDistribution] = []
        var counts: [[Int]] = []
        data.withRows { x, _ in
            for j in 0..<d {
                let column = sample.map { x.base[$0 * d + j] }
                let edges = BinnedDistribution.edges(column)
                dists.append(BinnedDistribution(edges: edges, proportions: [], missing: 0))
                counts.append([Int](repeating: 0, count: edges.count + 1))
            }
            let block = 65_536
            for start in stride(from: 0, to: n, by: block) {
                let r = start..<min(n, start + block)
                x.withRows(r) { p in
                    for i in 0..<r.count { for j in 0..<d { counts[j][dists[j].bin(Double(p[i * d + j]))] += 1 } }
                }
            }
        }
        for j in 0..<d { dists[j].setShares(counts[j], missing: 0, rows: n) }
        return TrainingProfile(rows: n, numeric: zip(data.columns, dists).map { NumericFeature(name: $0, distribution: $1) }, categorical: [])
    }

    /// The model's input columns: the preprocessing's inputs, else PCA's, else the model's.
    public static func inputColumns(stages: FeatureStages, modelColumns: [String]) -> (numeric: [String], categorical: [String]) {
        if let p = stages.preprocessing { return (p.inputNumeric, p.inputCategorical) }
        return (stages.pca?.columns ?? modelColumns, [])
    }

    /// Checks the block of a loaded model: shapes agree and shares are finite.
    func validate(path: String) throws {
        func bad(_ m: String) -> StrataError { .badData(file: path, line: nil, column: "training_profile", message: m) }
        for f in numeric {
            let d = f.distribution
            if d.proportions.count != d.edges.count + 1 { throw bad("feature '\(f.name)': \(d.edges.count) edges need \(d.edges.count + 1) proportions, not \(d.proportions.count)") }
            if zip(d.edges, d.edges.dropFirst()).contains(where: { !($0 < $1) }) { throw bad("feature '\(f.name)': edges must be strictly ascending") }
            if !(d.proportions + [d.missing]).allSatisfy({ $0 >= 0 && $0 <= 1 }) { throw bad("feature '\(f.name)': proportions must be between 0 and 1") }
        }
        for f in categorical where f.distribution.proportions.count != f.distribution.categories.count {
            throw bad("column '\(f.name)': one proportion per category")
        }
        if let d = distance, !([d.p50, d.p95, d.p99].allSatisfy { $0.isFinite && $0 >= 0 }) { throw bad("distance quantiles must be finite and >= 0") }
    }
}
