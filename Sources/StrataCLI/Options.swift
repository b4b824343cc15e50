import ArgumentParser
import Foundation
import Strata
import StrataKernels
import StrataLinalg

/// Input selection shared by every command that reads a feature table.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: "Input table: CSV with a header row, or NumPy .npy (2-D float32/float64, C order).")
    var input: String

    @Option(name: .long, help: "Feature columns, comma-separated (default: every numeric column except the id and weights columns).")
    var columns: String?

    @Option(name: .customLong("id-column"), help: "Column holding customer ids (default: a column named id or customer_id, else row numbers).")
    var idColumn: String?

    @Option(name: .customLong("weights-column"), help: "Column of non-negative sample weights.")
    var weightsColumn: String?

    var readOptions: TableReadOptions {
        TableReadOptions(columns: columns.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
                         idColumn: idColumn, weightsColumn: weightsColumn)
    }
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

    @Option(name: .long, help: "Random seed; results do not depend on --threads.")
    var seed: UInt64 = 0

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
