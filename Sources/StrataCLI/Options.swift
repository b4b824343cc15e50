import ArgumentParser
import Foundation
import Strata
import StrataKernels
import StrataLinalg

/// Input selection shared by every command that reads a feature table.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: "Input table: CSV with a header row, NumPy .npy (2-D float32/float64, C order), or Parquet (a .parquet file, a directory of them, or a glob).")
    var input: String

    @Option(name: .long, help: "Feature columns, comma-separated (default: every numeric column except the id and weights columns).")
    var columns: String?

    @OptionGroup var id: IDColumnOption

    @Option(name: .customLong("weights-column"), help: "Column of non-negative sample weights.")
    var weightsColumn: String?

    @OptionGroup var memory: MemoryBudgetOption

    var idColumn: String? { id.idColumn }

    var readOptions: TableReadOptions {
        var o = TableReadOptions(columns: columns.map(commaList), idColumn: idColumn, weightsColumn: weightsColumn)
        o.memoryBudget = memory.bytes
        return o
    }
}

/// Where `kmeans` and `gmm` write the fitted model and the per-row labels.
struct ModelOutputOptions: ParsableArguments {
    @Option(name: .customLong("model-out"), help: "Write the model (JSON, for `strata predict`) here.")
    var modelOut: String?

    @Option(name: .customLong("labels-out"), help: "Write id,segment,score per row here ('-': stdout); the score column is the command's: distance (kmeans, hierarchical), probability (gmm, hdbscan), core (dbscan).")
    var labelsOut: String?
}

/// `--id-column`, for every command that reads customer rows.
struct IDColumnOption: ParsableArguments {
    @Option(name: .customLong("id-column"), help: "Column holding customer ids (default: a column named id or customer_id, else row numbers).")
    var idColumn: String?
}

/// `--memory-budget`: working memory; bigger inputs are streamed.
struct MemoryBudgetOption: ParsableArguments {
    @Option(name: .customLong("memory-budget"), help: "Working memory, e.g. 4G, 512M or bytes (default: half the RAM). Bigger inputs are streamed: .npy pages are released after each pass window; a bigger CSV is converted to a temporary .npy block by block.")
    var memoryBudget: ByteCount?

    var bytes: Int { memoryBudget?.bytes ?? MemoryBudget.defaultBytes }
}

/// A size such as 4G, 512M, 1.5g or a byte count (`MemoryBudget.parse`).
struct ByteCount: ExpressibleByArgument {
    let bytes: Int
    init?(argument: String) {
        guard let b = MemoryBudget.parse(argument) else { return nil }
        bytes = b
    }
}

/// `--seed`, for every command that samples or initializes at random.
struct SeedOption: ParsableArguments {
    @Option(name: .long, help: "Random seed; results do not depend on --threads.")
    var seed: UInt64 = 0
}


/// Options every compute command has.
struct RunOptions: ParsableArguments {
    @Option(name: .long, help: "Worker threads (default: number of cores). Results do not depend on it.")
    var threads: Int = defaultThreadCount

    @Flag(name: .long, help: "Print exactly one JSON object on stdout instead of a human summary.")
    var json = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// Applies --threads to OpenBLAS too (it governs LAPACK as well): Strata's own parallel loops
    /// hold BLAS at 1 thread inside them, and standalone BLAS/LAPACK calls get `threads`.
    func applyThreads() { BLASThreads.set(threads) }
}


/// K-Means fitting options shared by `kmeans` and `sweep` (scikit-learn's defaults).
struct FitOptions: ParsableArguments {
    @Option(name: .customLong("n-init"), help: "Restarts, best inertia kept (default: 1 for k-means++ and a centers file, 10 for random).")
    var nInit: Int?

    @Option(name: .customLong("max-iter"), help: "Lloyd iterations per restart at most.")
    var maxIter: Int = 300

    @Option(name: .long, help: "Stop when the total squared center shift <= tol x mean feature variance.")
    var tol: Double = 1e-4

    @OptionGroup var seedOption: SeedOption

    var seed: UInt64 { seedOption.seed }

    func validate() throws {
        if maxIter < 1 { throw ValidationError("--max-iter must be at least 1") }
        if !(tol >= 0) { throw ValidationError("--tol must be >= 0") }
        if let n = nInit, n < 1 { throw ValidationError("--n-init must be at least 1") }
    }

    func apply(to o: inout KMeansOptions) {
        o.nInit = nInit
        o.maxIterations = maxIter
        o.tolerance = tol
        o.seed = seed
    }
}

/// Preprocessing and PCA stages for `kmeans` and `gmm`; all off by default, so results stay
/// comparable with other libraries. The fitted stages are saved in model.json and `predict`
/// replays them.
struct PreprocessArguments: ParsableArguments {
    @Option(name: .long, help: "Missing values: none (error), drop, mean, median, most_frequent, constant:V.")
    var impute: PreprocessOptions.Impute = .none

    @Option(name: .long, help: "Outliers: none, quantile[:LO:HI] (default 0.01:0.99), iqr[:F] (default 1.5).")
    var clip: PreprocessOptions.Clip = .none

    @Option(name: .long, help: "Numeric columns to transform with log1p (comma-separated).")
    var log: String?

    @Option(name: .long, help: "Scaling: none, standard, robust (median/IQR), minmax.")
    var scale: PreprocessOptions.Scale = .none

    @Option(name: .long, help: "Categorical columns to one-hot encode (comma-separated).")
    var categorical: String?

    @Option(name: .customLong("one-hot-max"), help: "Indicator columns per categorical column, 'other' included.")
    var oneHotMax: Int = 20

    @Option(name: .long, help: "Project onto this many principal components before the model.")
    var pca: Int?

    var options: PreprocessOptions {
        var o = PreprocessOptions()
        o.impute = impute
        o.clip = clip
        o.log = log.map(commaList) ?? []
        o.scale = scale
        o.categorical = categorical.map(commaList) ?? []
        o.oneHotMax = oneHotMax
        return o
    }

    func validate() throws {
        if oneHotMax < 1 { throw ValidationError("--one-hot-max must be at least 1") }
        if let p = pca, p < 1 { throw ValidationError("--pca must be at least 1") }
    }
}
