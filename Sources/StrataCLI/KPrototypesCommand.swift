import ArgumentParser
import Foundation
import Strata

/// K-Prototypes / K-Modes starts by their command-line names (a centers file otherwise).
enum PrototypeInitMethod: String, CaseIterable {
    case cao, huang
}

/// Options `kprototypes` and `kmodes` share.
struct PrototypeFitArguments: ParsableArguments {
    @Option(name: .long, help: "Number of clusters (1...distinct rows).")
    var k: Int

    @Option(name: .long, help: "cao (default; deterministic for the categorical part), huang, or a CSV file of initial prototypes (header naming the numeric and categorical columns, k rows).")
    var `init` = InitArgument<PrototypeInitMethod>(.cao)

    @Option(name: .customLong("n-init"), help: "Restarts, lowest cost kept (default as the kmodes package: 10; 1 for a centers file, and for kmodes with cao).")
    var nInit: Int?

    @Option(name: .customLong("max-iter"), help: "Passes over the rows per restart at most.")
    var maxIter: Int = 100

    @OptionGroup var seedOption: SeedOption

    @OptionGroup var outputs: ModelOutputOptions

    func validate() throws {
        if k < 1 { throw ValidationError("--k must be at least 1 (got \(k))") }
        if maxIter < 1 { throw ValidationError("--max-iter must be at least 1") }
        if let n = nInit, n < 1 { throw ValidationError("--n-init must be at least 1") }
    }
}

struct KPrototypesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kprototypes",
        abstract: "K-Prototypes (Huang 1998) for numeric + categorical columns, as the kmodes package.",
        discussion: """
            Dissimilarity: squared Euclidean distance on the numeric columns + gamma x categorical \
            mismatches. --columns picks the numeric columns (default: every numeric column that is \
            not categorical, the id or the weights). An empty categorical cell is the category \
            '(missing)' (counted in a warning); a missing numeric cell is an error. Deterministic \
            for a --seed whatever --threads is. Labels file: id,segment,cost (the row's dissimilarity \
            to its prototype).
            """
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Categorical columns, comma-separated.")
    var categorical: String

    @Option(name: .long, help: "Weight of one categorical mismatch (default as kmodes: half the mean population standard deviation of the numeric columns, after --scale).")
    var gamma: Double?

    @OptionGroup var numeric: NumericPreprocessArguments

    @OptionGroup var fit: PrototypeFitArguments

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        try Report.checkStdout([fit.outputs.labelsOut, fit.outputs.modelOut], json: runOptions.json)
        if let g = gamma, !(g >= 0 && g.isFinite) { throw ValidationError("--gamma must be a finite number >= 0") }
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            try PrototypeRun(input: input, categorical: commaList(categorical), gamma: gamma, fit: fit, runOptions: runOptions, kmodes: false,
                             preprocess: numeric.options).run()
        }
    }
}

struct KModesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kmodes",
        abstract: "K-Modes (Huang 1998) for categorical columns, as the kmodes package.",
        discussion: """
            Dissimilarity: the number of mismatching categories. An empty cell is the category \
            '(missing)' (counted in a warning). Deterministic for a --seed whatever --threads is \
            (with the default cao start, whatever the seed). Labels file: id,segment,cost (mismatches \
            with the row's mode).
            """
    )

    @OptionGroup var id: IDColumnOption

    @Option(name: .long, help: "Input table: CSV with a header row.")
    var input: String

    @Option(name: .long, help: "Categorical columns, comma-separated (default: every column but the id and weights columns).")
    var categorical: String?

    @Option(name: .customLong("weights-column"), help: "Column of non-negative sample weights.")
    var weightsColumn: String?

    @OptionGroup var fit: PrototypeFitArguments

    @OptionGroup var runOptions: RunOptions

    func validate() throws {
        try Report.checkStdout([fit.outputs.labelsOut, fit.outputs.modelOut], json: runOptions.json)
    }

    func run() throws {
        runOptions.applyThreads()
        try Report.run(json: runOptions.json) {
            var options = InputOptions()
            options.input = input
            options.id = id
            options.weightsColumn = weightsColumn
            try PrototypeRun(input: options, categorical: categorical.map(commaList), gamma: nil, fit: fit, runOptions: runOptions, kmodes: true).run()
        }
    }
}

/// One `kprototypes` / `kmodes` run: read, fit, write, report.
struct PrototypeRun {
    let input: InputOptions
    let categorical: [String]?
    let gamma: Double?
    let fit: PrototypeFitArguments
    let runOptions: RunOptions
    let kmodes: Bool
    /// kprototypes: the numeric columns' preprocessing (identity by default); the categories
    /// are never encoded.
    var preprocess = PreprocessOptions()

    var labelsOut: String? { fit.outputs.labelsOut }
    var modelOut: String? { fit.outputs.modelOut }

    func run() throws {
        if input.input.lowercased().hasSuffix(".npy") {
            throw StrataError.invalidArgument("\(input.input): \(kmodes ? "kmodes" : "kprototypes") reads a CSV (categories are text); give a CSV file")
        }
        let t0 = Date()
        let numericNames = kmodes ? [] : input.columns.map(commaList)
        let table: MixedTable
        var pipeline: FittedPipeline? = nil
        if !kmodes && !preprocess.isIdentity {
            // The numeric columns go through the pipeline (as `kmeans --scale ...`, imputation
            // included); the categorical ones stay categories. Rows are never dropped, so both parts
            // stay aligned.
            let raw = try MixedTable.raw(path: input.input, numeric: numericNames, categorical: categorical, idColumn: input.idColumn,
                                         weightsColumn: input.weightsColumn, unparsable: preprocess.impute != .none ? .missing : .error)
            var numericOnly = raw
            numericOnly.categoricalNames = []; numericOnly.categorical = []
            var data: Dataset? = nil
            if !raw.numericNames.isEmpty {
                let (p, d, report) = try FittedPipeline.fit(numericOnly, options: preprocess)
                if !report.constantColumns.isEmpty { Report.warn("constant columns left out of the numeric part: \(Excerpt.list(report.constantColumns))") }
                for (what, counts) in [("imputed", report.imputed), ("clipped", report.clipped)] where counts.values.reduce(0, +) > 0 {
                    Report.warn("\(input.input): \(counts.values.reduce(0, +)) numeric value(s) \(what): " + counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", "))
                }
                pipeline = p
                data = d.cols == 0 ? nil : d
            }
            table = MixedTable.categoricalFrom(raw, numeric: data)
        } else {
            table = try MixedTable.read(path: input.input, numeric: numericNames, categorical: categorical,
                                        idColumn: input.idColumn, weightsColumn: input.weightsColumn)
        }
        table.warnings.forEach(Report.warn)
        if !kmodes && table.numeric == nil {
            throw StrataError.invalidArgument("\(input.input): no numeric columns besides the categorical ones; use `strata kmodes` for categorical data")
        }
        let readSeconds = Date().timeIntervalSince(t0)
        var options = KPrototypesOptions(k: fit.k)
        switch fit.`init`.value {
        case .method(.cao): options.initialization = .cao
        case .method(.huang): options.initialization = .huang
        case let .file(path): options.initialization = try centers(path: path, table: table)
        }
        options.nInit = fit.nInit
        options.maxIterations = fit.maxIter
        options.seed = fit.seedOption.seed
        options.gamma = gamma
        options.threads = runOptions.threads
        let t1 = Date()
        let result = try KPrototypes.fit(numeric: table.numeric, categorical: table.categorical, weights: table.weights, options: options)
        let fitSeconds = Date().timeIntervalSince(t1)
        result.warnings.forEach(Report.warn)
        let t2 = Date()
        var model = KPrototypesModelFile(result: result, table: table, options: options)
        model.preprocessing = pipeline
        var batch = OutputBatch()
        if let path = modelOut { try batch.stage(try model.encoded(), to: path) }
        let labels = labelsOut.map { _ in CSVOutput.prototypeLabels(ids: table.id, labels: result.labels, costs: result.costs) }
        if let path = labelsOut, path != "-", let d = labels { try batch.stage(d, to: path) }
        try batch.commit()
        if labelsOut == "-", let d = labels { Report.writeStdout(d); OutputBatch.divertLaterPrintsToStderr() }
        let seconds = Result.Seconds(read: readSeconds, fit: fitSeconds, write: Date().timeIntervalSince(t2))
        let r = Result(result, model: model, table: table, options: options, run: self, seconds: seconds)
        if runOptions.json { Report.json(r) } else if labelsOut != "-" { printSummary(r, model: model) }
    }

    /// Initial prototypes from a CSV with a header naming the numeric and categorical columns.
    func centers(path: String, table: MixedTable) throws -> KPrototypesInit {
        let numericNames = table.numeric?.columns ?? []
        let raw: RawTable
        do {
            raw = try RawTable.read(path: path, numeric: numericNames, categorical: table.categorical.names, idColumn: nil)
        } catch let StrataError.unreadable(p, reason) {
            throw StrataError.unreadable(path: p, reason: reason + "; --init takes cao, huang or a CSV file of initial prototypes")
        }
        var numeric: [[Double]] = []
        var modes: [[Int]] = []
        for r in 0..<raw.rows {
            var row: [Double] = []
            for (j, name) in numericNames.enumerated() {
                let v = raw.numeric[j][r]
                if !v.isFinite { throw StrataError.badData(file: path, line: raw.lines[r], column: name, message: "an initial prototype needs a number here") }
                row.append(Double(v))
            }
            numeric.append(row)
            var m: [Int] = []
            for (a, name) in table.categorical.names.enumerated() {
                let v = raw.categorical[a][r].isEmpty ? MixedTable.missingCategory : raw.categorical[a][r]
                guard let code = table.categorical.code(of: v, column: a) else {
                    throw StrataError.badData(file: path, line: raw.lines[r], column: name, message: "category '\(Excerpt.of(v))' does not occur in \(table.source)")
                }
                m.append(code)
            }
            modes.append(m)
        }
        return .centers(numeric: numeric, modes: modes)
    }

    func printSummary(_ r: Result, model: KPrototypesModelFile) {
        print("\(kmodes ? "K-Modes" : "K-Prototypes"): k=\(r.k) on \(r.rows) rows (\(r.numericColumns.count) numeric, \(r.categoricalColumns.count) categorical columns) of \(input.input)")
        print("\(r.converged ? "converged" : "stopped at --max-iter") after \(r.nIter) iterations (best of \(r.runs.count) restart\(r.runs.count == 1 ? "" : "s")); cost \(fmt(model.cost, 8))" + (r.gamma.map { ", gamma \(fmt($0, 6))" } ?? ""))
        let total = max(1, r.clusterSizes.reduce(0, +))
        print((["segment", "size", "share"] + r.numericColumns + r.categoricalColumns).joined(separator: "\t"))
        for c in 0..<r.k {
            let share = String(format: "%.1f%%", 100 * Double(r.clusterSizes[c]) / Double(total))
            print(([String(c), String(r.clusterSizes[c]), share] + (r.centroids?[c].map { fmt($0) } ?? []) + r.modes[c]).joined(separator: "\t"))
        }
        if let m = modelOut { print("model:  \(m)") }
        if let l = labelsOut { print("labels: \(l)") }
        print(String(format: "time: read %.2fs, fit %.2fs, write %.2fs", r.seconds.read, r.seconds.fit, r.seconds.write))
    }

    /// `strata kprototypes --json` / `strata kmodes --json` (`gamma` and `centroids` left out for K-Modes).
    struct Result: Encodable {
        struct Outputs: Encodable { var model, labels: String? }
        struct Seconds: Encodable { var read, fit, write: Double }
        var k: Int
        var rows: Int
        var numericColumns: [String]
        var categoricalColumns: [String]
        var cost: FiniteOrNull
        var nIter: Int
        var converged: Bool
        var gamma: Double?
        var centroids: [[Double]]?
        var modes: [[String]]
        var clusterSizes: [Int]
        var clusterWeights: [Double]
        var runs: [KPrototypesRun]
        var bestRun: Int
        var initMethod: String
        var seed: Int
        var threads: Int
        var idColumn: OrNull<String>
        var missingCategories: [String: Int]
        var outputs: Outputs
        var seconds: Seconds
        enum CodingKeys: String, CodingKey {
            case k, rows, cost, converged, gamma, centroids, modes, runs, seed, threads, outputs, seconds
            case numericColumns = "numeric_columns"
            case categoricalColumns = "categorical_columns"
            case nIter = "n_iter"
            case clusterSizes = "cluster_sizes"
            case clusterWeights = "cluster_weights"
            case bestRun = "best_run"
            case initMethod = "init"
            case idColumn = "id_column"
            case missingCategories = "missing_categories"
        }

        init(_ r: KPrototypesResult, model: KPrototypesModelFile, table: MixedTable, options: KPrototypesOptions, run: PrototypeRun, seconds: Seconds) {
            k = model.k
            rows = table.rows
            numericColumns = model.numericColumns
            categoricalColumns = model.categoricalColumns
            cost = FiniteOrNull(r.cost)
            nIter = r.nIter
            converged = r.converged
            gamma = model.gamma
            centroids = model.centroids
            modes = model.modes
            clusterSizes = r.sizes
            clusterWeights = r.clusterWeights
            runs = r.runs
            bestRun = r.bestRun
            initMethod = options.initialization.name
            seed = Int(truncatingIfNeeded: options.seed)
            threads = options.threads
            idColumn = OrNull(table.idColumn)
            missingCategories = Dictionary(uniqueKeysWithValues: zip(table.categorical.names, table.missing).filter { $0.1 > 0 })
            outputs = Outputs(model: run.modelOut, labels: run.labelsOut)
            self.seconds = seconds
        }
    }
}

extension PredictCommand {
    /// `strata predict` with a K-Prototypes / K-Modes model: each row to the prototype with the
    /// least squared numeric distance + gamma x mismatches; unseen categories mismatch every
    /// mode and are counted in a warning.
    func predictPrototypes(_ m: KPrototypesModelFile, idColumn: String?) throws {
        if probaOut != nil { throw StrataError.invalidArgument("--proba-out needs a Gaussian-mixture model; \(model) is \(m.model == "kmodes" ? "K-Modes" : "K-Prototypes")") }
        if input.lowercased().hasSuffix(".npy") { throw StrataError.invalidArgument("\(input): a \(m.model) model predicts from a CSV (categories are text)") }
        let table = try m.readInput(path: input, idColumn: idColumn)
        table.warnings.forEach(Report.warn)
        let p = try m.predict(table, threads: runOptions.threads)
        for (a, count) in p.unseen.enumerated() where count > 0 {
            Report.warn("\(input): column '\(m.categoricalColumns[a])': \(count) row\(count == 1 ? " has a category" : "s have categories") not seen in training (counted as a mismatch with every mode)")
        }
        let labels = labelsOut.map { _ in CSVOutput.prototypeLabels(ids: table.id, labels: p.labels, costs: p.costs) }
        var batch = OutputBatch()
        if let path = labelsOut, path != "-", let d = labels { try batch.stage(d, to: path) }
        try batch.commit()
        if labelsOut == "-", let d = labels { Report.writeStdout(d); OutputBatch.divertLaterPrintsToStderr(); return }
        let result = PrototypePrediction(cost: FiniteOrNull(p.cost), rows: table.rows, k: m.k, columns: m.columns,
                                         clusterSizes: ClusterLabels.counts(p.labels, k: m.k),
                                         unseenCategories: Dictionary(uniqueKeysWithValues: zip(m.categoricalColumns, p.unseen)),
                                         outputs: .init(labels: labelsOut))
        if runOptions.json { Report.json(result) } else {
            print("predicted \(result.rows) rows of \(input) with \(model) (k=\(m.k), \(m.model)); cost \(fmt(p.cost, 8))")
            for c in 0..<m.k { print("segment \(c): \(result.clusterSizes[c])") }
            if let l = labelsOut { print("labels: \(l)") } else { print("(write the labels with --labels-out FILE)") }
        }
    }

    /// `strata predict --json` for K-Prototypes / K-Modes.
    struct PrototypePrediction: Encodable {
        struct Outputs: Encodable { var labels: String? }
        var cost: FiniteOrNull
        var rows: Int
        var k: Int
        var columns: [String]
        var clusterSizes: [Int]
        var unseenCategories: [String: Int]
        var outputs: Outputs
        enum CodingKeys: String, CodingKey {
            case cost, rows, k, columns, outputs
            case clusterSizes = "cluster_sizes"
            case unseenCategories = "unseen_categories"
        }
    }
}

/// `kprototypes`' numeric preprocessing: the `kmeans` flags that apply to numbers (the
/// categorical columns are categories, never one-hot encoded). Stored in the model; `predict`
/// replays it.
struct NumericPreprocessArguments: ParsableArguments {
    @Option(name: .long, help: "Missing numbers: none (error), mean, median, most_frequent, constant:V.")
    var impute: PreprocessOptions.Impute = .none

    @Option(name: .long, help: "Outliers: none, quantile[:LO:HI], iqr[:F].")
    var clip: PreprocessOptions.Clip = .none

    @Option(name: .long, help: "Numeric columns to transform with log1p (comma-separated).")
    var log: String?

    @Option(name: .long, help: "Scaling of the numeric columns: none, standard, robust, minmax (gamma's default follows it).")
    var scale: PreprocessOptions.Scale = .none

    var options: PreprocessOptions {
        var o = PreprocessOptions()
        o.impute = impute
        o.clip = clip
        o.log = log.map(commaList) ?? []
        o.scale = scale
        return o
    }

    func validate() throws {
        if impute == .drop { throw ValidationError("--impute drop is not offered by kprototypes (rows must stay aligned with their categories); use mean, median, most_frequent or constant:V") }
    }
}
