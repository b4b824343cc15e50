import Foundation
import StrataKernels

/// How K-Prototypes / K-Modes pick their starting prototypes (the `kmodes` package's choices).
public enum KPrototypesInit: Sendable, Equatable {
    /// Cao, Liang & Bai 2009 (the `kmodes` package's default): deterministic, by density and
    /// distance over the categorical columns. With numeric columns their starting means are
    /// drawn as mean + N(0, 1) x std per column (kmodes' rule), so restarts still differ.
    case cao
    /// Huang 1998: per categorical column k values drawn in proportion to their frequency, then
    /// each prototype replaced by the nearest row not equal to any current prototype (smallest
    /// row index on ties); numeric part as for `.cao`.
    case huang
    /// k rows drawn uniformly with replacement (categorical part); numeric part as for `.cao`.
    case random
    /// These prototypes: `numeric` k x dn values, `modes` k x dc category codes. `nInit` is 1.
    case centers(numeric: [[Double]], modes: [[Int]])

    public var name: String {
        switch self {
        case .cao: return "cao"
        case .huang: return "huang"
        case .random: return "random"
        case .centers: return "explicit"
        }
    }
}

/// K-Prototypes options. Every default is the `kmodes` package's (0.12.2), so results compare.
public struct KPrototypesOptions: Sendable {
    /// Number of clusters (1...distinct rows).
    public var k: Int
    /// Starting prototypes. Default: Cao (kmodes' default `init='Cao'`).
    public var initialization: KPrototypesInit = .cao
    /// Restarts; the run with the lowest cost wins (first on ties). nil = kmodes' defaults: 10,
    /// except 1 for explicit centers and for Cao without numeric columns (then deterministic;
    /// `KModes` forces n_init = 1 for Cao, `KPrototypes` keeps 10 as its numeric start is random).
    public var nInit: Int? = nil
    /// Passes over the data per run at most. Default 100 (kmodes' `max_iter`).
    public var maxIterations: Int = 100
    /// Weight of one categorical mismatch against squared numeric distance. nil = kmodes'
    /// default: half the mean population standard deviation (ddof 0, unweighted) of the numeric
    /// columns (Huang 1997 suggests a value of that order). Unused without numeric columns.
    public var gamma: Double? = nil
    /// Seed for every random choice (initialization, empty-cluster relocation); restart r uses
    /// the stream `SeededRandom.stream(seed:index: r)`. Results do not depend on `threads`.
    public var seed: UInt64 = 0
    /// Worker threads for the labelling passes. Default: the number of cores.
    public var threads: Int = defaultThreadCount

    public init(k: Int) { self.k = k }

    /// The restart count actually used for data with `numericColumns` numeric columns.
    public func effectiveNInit(numericColumns: Int) -> Int {
        if let n = nInit { return n }
        switch initialization {
        case .centers: return 1
        case .cao: return numericColumns == 0 ? 1 : 10
        case .huang, .random: return 10
        }
    }
}

/// One restart's outcome.
public struct KPrototypesRun: Sendable, Codable, Equatable {
    public var run: Int
    public var cost: Double
    public var nIter: Int
    public var converged: Bool
    enum CodingKeys: String, CodingKey {
        case run, cost, converged
        case nIter = "n_iter"
    }
}

/// The fitted prototypes and the assignment of every training row.
public struct KPrototypesResult: Sendable {
    /// k x dn numeric prototype values (cluster means), columns in input order; empty rows
    /// without numeric columns.
    public var centroids: [[Double]]
    /// k x dc category codes of the modes (index into `CategoricalColumns.categories`).
    public var modes: [[Int]]
    /// Label of every row: its least-dissimilar prototype (first on ties).
    public var labels: [Int32]
    /// Every row's dissimilarity to its prototype (unweighted).
    public var costs: [Double]
    /// Sum of weight x dissimilarity over the rows (kmodes' `cost_`).
    public var cost: Double
    /// Iterations of the winning run (kmodes' `n_iter_`).
    public var nIter: Int
    /// False when the winning run stopped at `maxIterations` with points still moving.
    public var converged: Bool
    /// The gamma used; nil without numeric columns.
    public var gamma: Double?
    /// Cost after the initial assignment and after every iteration (kmodes' `epoch_costs_`).
    public var epochCosts: [Double]
    public var runs: [KPrototypesRun]
    public var bestRun: Int
    /// Rows per cluster (by `labels`) and weight per cluster.
    public var sizes: [Int]
    public var clusterWeights: [Double]
    /// Empty clusters refilled with a random row of the largest cluster, in the winning run.
    public var relocations: Int
    /// What the caller should tell the user; empty when none.
    public var warnings: [String] = []
}

/// K-Prototypes (Huang 1998) for mixed numeric and categorical data, and K-Modes (Huang 1998)
/// when there are no numeric columns: the `kmodes` package's algorithm (0.12.2), step for step.
///
/// Dissimilarity: squared Euclidean distance on the numeric columns plus gamma x the number of
/// categorical mismatches. Each run: initial prototypes; every row to its least-dissimilar
/// prototype (first on ties), then means and modes of the clusters (a mode tie picks the
/// smallest code, i.e. the first category in UTF-8 byte order); then passes over the rows in
/// order, each row moved at once to its least-dissimilar *current* prototype, updating the two
/// clusters' sums, category counts and prototypes incrementally (Huang's online update, not
/// Lloyd's batch step); after each pass the cost is recomputed, and the run stops when no row
/// moved or the cost did not decrease, or after `maxIterations` passes.
///
/// Where Strata departs from kmodes (documented, deliberate): sample weights move the
/// membership sums by the row's weight (kmodes 0.12.2 moves them by 1 after weighting them
/// initially, so its weighted numeric means drift); a cluster emptied by a move is refilled with
/// a row of the largest cluster chosen by Strata's seeded RNG, moved with its own weight (kmodes
/// uses numpy's RNG and the weight of the row that just left); random draws use `SeededRandom`
/// (so only runs without random draws -- Cao K-Modes, explicit centers -- match kmodes
/// exactly); when the data have exactly k distinct rows those rows (in first-occurrence order)
/// are the prototypes and no iteration runs (kmodes: the same rows in set order).
///
/// Complexity: O(n k (dn + dc)) per pass; the move pass is sequential by definition (each move
/// changes the prototypes the next row sees), the cost pass runs on `threads` workers.
/// Memory: the data (4 bytes per numeric value, 1-4 per category code) plus ~24 bytes per row.
/// Numerics: values Float, distances, sums, means and costs in Double.
/// Determinism: the same result for a seed whatever `threads` is.
/// - Source: Huang, Z. (1998) Extensions to the k-means algorithm for clustering large data sets
///   with categorical values, DMKD 2(3); Cao, Liang & Bai (2009) A new initialization method
///   for categorical data clustering, Expert Systems with Applications 36(7); the `kmodes`
///   package 0.12.2 (`kmodes/kprototypes.py`, `kmodes/kmodes.py`, `util/init_methods.py`).
public enum KPrototypes {
    /// Fits K-Prototypes (K-Modes when `numeric` is nil or has no columns).
    ///
    /// - Parameters:
    ///   - numeric: n x dn numeric columns (Float, finite), or nil.
    ///   - categorical: n x dc category codes (dc >= 1).
    ///   - weights: sample weights (non-negative, finite); nil: `numeric?.weights`, else all 1.
    /// - Throws: `StrataError.invalidArgument` for k < 1, k above the distinct rows, row counts
    ///   that disagree, non-finite numbers, bad explicit centers; `.numerical` when no start
    ///   without empty clusters is found in 100 tries (kmodes' limit).
    public static func fit(numeric: Dataset?, categorical: CategoricalColumns, weights: [Float]? = nil,
                           options: KPrototypesOptions) throws -> KPrototypesResult {
        let num = numeric?.materialized()
        let dn = num?.cols ?? 0
        let n = categorical.rows
        if let num, num.rows != n {
            throw StrataError.invalidArgument("the numeric part has \(num.rows) rows but the categorical part \(n)")
        }
        let w = (weights ?? num?.weights).map { $0.map(Double.init) }
        let x = dn > 0 ? num!.values : []
        switch categorical.codes {
        case let .u8(c): return try Fit(x: x, codes: c, dn: dn, categorical: categorical, weights: w, options: options, source: num?.source).run()
        case let .u16(c): return try Fit(x: x, codes: c, dn: dn, categorical: categorical, weights: w, options: options, source: num?.source).run()
        case let .u32(c): return try Fit(x: x, codes: c, dn: dn, categorical: categorical, weights: w, options: options, source: num?.source).run()
        }
    }

    /// kmodes' default gamma: 0.5 x the mean over numeric columns of the population standard
    /// deviation (ddof 0, unweighted). `x` is n x dn row-major.
    public static func defaultGamma(_ x: [Float], rows n: Int, cols dn: Int) -> Double {
        guard dn > 0, n > 0 else { return 0 }
        let std = columnMeanStd(x, rows: n, cols: dn).1
        return 0.5 * (std.reduce(0, +) / Double(dn))
    }

    /// Per numeric column mean and population standard deviation (two passes, in Double).
    static func columnMeanStd(_ x: [Float], rows n: Int, cols dn: Int) -> ([Double], [Double]) {
        var mean = [Double](repeating: 0, count: dn)
        for i in 0..<n { for j in 0..<dn { mean[j] += Double(x[i * dn + j]) } }
        for j in 0..<dn { mean[j] /= Double(n) }
        var v = [Double](repeating: 0, count: dn)
        for i in 0..<n { for j in 0..<dn { let t = Double(x[i * dn + j]) - mean[j]; v[j] += t * t } }
        return (mean, v.map { ($0 / Double(n)).squareRoot() })
    }
}

/// K-Modes: K-Prototypes without numeric columns (`KPrototypes.fit(numeric: nil, ...)`), which
/// is the `kmodes` package's `KModes` exactly (matching dissimilarity, Cao default with one run).
public enum KModes {
    public static func fit(_ categorical: CategoricalColumns, weights: [Float]? = nil, options: KPrototypesOptions) throws -> KPrototypesResult {
        try KPrototypes.fit(numeric: nil, categorical: categorical, weights: weights, options: options)
    }
}
