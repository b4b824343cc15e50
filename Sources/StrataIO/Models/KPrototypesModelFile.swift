import StrataCore
import StrataKernels
import Foundation

/// The on-disk K-Prototypes / K-Modes model (`"model": "kprototypes"` or `"kmodes"`):
/// everything `strata predict` needs (columns, gamma, numeric prototypes, modes as category
/// strings, the training categories) plus the training summary.
public struct KPrototypesModelFile: Codable, Sendable, Equatable, ModelFileEncodable {
    public var formatVersion: Int
    /// "kprototypes" (numeric and categorical columns) or "kmodes" (categorical only).
    public var model: String
    public var strataVersion: String
    public var numericColumns: [String]
    public var categoricalColumns: [String]
    public var idColumn: String?
    public var k: Int
    /// Weight of one categorical mismatch; absent for K-Modes (a mismatch counts 1).
    public var gamma: Double?
    /// k arrays of numeric prototype values (numeric_columns order); absent for K-Modes.
    public var centroids: [[Double]]?
    /// k arrays of modal categories (categorical_columns order).
    public var modes: [[String]]
    /// The training categories of every categorical column (UTF-8 byte order): `predict`
    /// counts values outside them as unseen (they simply mismatch every mode).
    public var categories: [[String]]
    public var cost: Double
    public var nIter: Int
    public var converged: Bool
    public var clusterSizes: [Int]
    public var trainingRows: Int
    public var seed: UInt64
    public var initMethod: String
    public var nInit: Int
    public var maxIter: Int
    /// The category an empty categorical cell is read as.
    public var missingCategory: String
    /// The numeric preprocessing (impute, log1p, clip, scale; no one-hot) fitted by
    /// `strata segment`: `predict` reads `numeric_columns` raw and replays it before assigning;
    /// absent: the numeric columns are used as read (`strata kprototypes`).
    public var preprocessing: FittedPipeline?
    /// Segment names by segment id (`strata segment`).
    public var segmentNames: [String]?

    enum CodingKeys: String, CodingKey {
        case model, k, gamma, centroids, modes, categories, cost, converged, seed
        case formatVersion = "format_version"
        case strataVersion = "strata_version"
        case numericColumns = "numeric_columns"
        case categoricalColumns = "categorical_columns"
        case idColumn = "id_column"
        case nIter = "n_iter"
        case clusterSizes = "cluster_sizes"
        case trainingRows = "training_rows"
        case initMethod = "init"
        case nInit = "n_init"
        case maxIter = "max_iter"
        case missingCategory = "missing_category"
        case preprocessing
        case segmentNames = "segment_names"
    }

    public init(result r: KPrototypesResult, table: MixedTable, options: KPrototypesOptions) {
        formatVersion = KMeansModelFile.currentFormatVersion
        let numeric = table.numeric?.columns ?? []
        model = numeric.isEmpty ? "kmodes" : "kprototypes"
        strataVersion = Strata.version
        numericColumns = numeric
        categoricalColumns = table.categorical.names
        idColumn = table.idColumn
        k = r.modes.count
        gamma = numeric.isEmpty ? nil : r.gamma
        centroids = numeric.isEmpty ? nil : r.centroids
        modes = r.modes.map { row in row.enumerated().map { table.categorical.categories[$0.offset][$0.element] } }
        categories = table.categorical.categories
        cost = r.cost
        nIter = r.nIter
        converged = r.converged
        clusterSizes = r.sizes
        trainingRows = table.rows
        seed = options.seed
        initMethod = options.initialization.name
        nInit = r.runs.count
        maxIter = options.maxIterations
        missingCategory = MixedTable.missingCategory
    }

    /// A model fitted on features already made: `numericColumns` (n x dn model units, the
    /// result's centroid columns; empty for K-Modes) and `categorical` (the codes the result's
    /// modes index), `trainingRows` rows.
    public init(result r: KPrototypesResult, numericColumns numeric: [String], categorical: CategoricalColumns, idColumn: String?,
                trainingRows: Int, options: KPrototypesOptions) {
        formatVersion = KMeansModelFile.currentFormatVersion
        model = numeric.isEmpty ? "kmodes" : "kprototypes"
        strataVersion = Strata.version
        numericColumns = numeric
        categoricalColumns = categorical.names
        self.idColumn = idColumn
        k = r.modes.count
        gamma = numeric.isEmpty ? nil : r.gamma
        centroids = numeric.isEmpty ? nil : r.centroids
        modes = r.modes.map { row in row.enumerated().map { categorical.categories[$0.offset][$0.element] } }
        categories = categorical.categories
        cost = r.cost
        nIter = r.nIter
        converged = r.converged
        clusterSizes = r.sizes
        self.trainingRows = trainingRows
        seed = options.seed
        initMethod = options.initialization.name
        nInit = r.runs.count
        maxIter = options.maxIterations
        missingCategory = MixedTable.missingCategory
    }

    /// Reads `path` (CSV) as this model's input: without `preprocessing`, `MixedTable.read` of
    /// the model's columns; with it, the raw numeric columns (a non-number is a missing value
    /// when the pipeline imputes, else an error naming line and column) through the stored
    /// pipeline, and the categorical columns as text (empty = `missing_category`).
    /// - Throws: `.badData` / `.invalidArgument` from the reader and the pipeline.
    public func readInput(path: String, idColumn: String?) throws -> MixedTable {
        guard let p = preprocessing else {
            return try MixedTable.read(path: path, numeric: numericColumns, categorical: categoricalColumns, idColumn: idColumn, weightsColumn: nil)
        }
        let imputes = p.numeric.allSatisfy { $0.fill != nil }
        let raw = try RawTable.read(path: path, numeric: p.inputNumeric, categorical: categoricalColumns, idColumn: idColumn,
                                    unparsable: imputes ? .missing : .error)
        let numeric = p.numeric.isEmpty ? nil : try p.transform(raw)
        return MixedTable.categoricalFrom(raw, numeric: numeric)
    }

    /// All feature columns: numeric, then categorical.
    public var columns: [String] { numericColumns + categoricalColumns }

    /// The checks `AnyModelFile.load` runs: shapes, finite numbers, modes among the categories.
    public func validated(path: String) throws -> KPrototypesModelFile {
        let check = ModelCheck(path: path)
        guard model == "kprototypes" || model == "kmodes" else { throw check.fail("model", "'\(model)' is not kprototypes or kmodes") }
        guard k >= 1 else { throw check.fail("k", "is \(k); it must be at least 1") }
        guard !categoricalColumns.isEmpty else { throw check.fail("categorical_columns", "is empty") }
        try check.count(modes, k, "modes", "k = \(k)")
        try check.count(categories, categoricalColumns.count, "categories", "one list per categorical column")
        for (c, row) in modes.enumerated() {
            try check.count(row, categoricalColumns.count, "modes", "every categorical column")
            for (a, v) in row.enumerated() where !categories[a].contains(v) {
                throw check.fail("modes", "cluster \(c)'s mode '\(v)' is not a category of column '\(categoricalColumns[a])'")
            }
        }
        try check.count(clusterSizes, k, "cluster_sizes", "k = \(k)")
        if let p = preprocessing {
            guard p.categorical.isEmpty, p.outputColumns == numericColumns else {
                throw check.fail("preprocessing", "its output columns \(p.outputColumns) are not numeric_columns \(numericColumns)")
            }
        }
        if let names = segmentNames { try check.count(names, k, "segment_names", "k = \(k)") }
        if numericColumns.isEmpty {
            if centroids != nil { throw check.fail("centroids", "a K-Modes model has no numeric columns") }
        } else {
            guard let cen = centroids else { throw check.fail("centroids", "is missing; K-Prototypes needs the numeric prototypes") }
            guard let g = gamma else { throw check.fail("gamma", "is missing") }
            try check.nonNegative([g], "gamma")
            try check.count(cen, k, "centroids", "k = \(k)")
            for row in cen {
                try check.count(row, numericColumns.count, "centroids", "every numeric column")
                try check.finite(row, "centroids", float: true)
            }
        }
        return self
    }

    /// The assignment of new rows: labels, dissimilarities, their sum, and the rows per
    /// categorical column whose category the training data did not have.
    public struct Prediction: Sendable {
        public var labels: [Int32]
        public var costs: [Double]
        public var cost: Double
        public var unseen: [Int]
    }

    /// Assigns every row of `table` (read with this model's columns) to the prototype with the
    /// least squared numeric distance + gamma x mismatches (first on ties); an unseen category
    /// mismatches every mode.
    public func predict(_ table: MixedTable, threads: Int) throws -> Prediction {
        let dn = numericColumns.count, dc = categoricalColumns.count, n = table.rows
        guard table.categorical.names == categoricalColumns, (table.numeric?.columns ?? []) == numericColumns else {
            throw StrataError.invalidArgument("\(table.source): the columns do not match the model's")
        }
        // Input category index -> model code (-1: unseen).
        var unseen = [Int](repeating: 0, count: dc)
        var remap: [[Int32]] = []
        for a in 0..<dc {
            let index = Dictionary(categories[a].enumerated().map { (ByteString($0.element), Int32($0.offset)) }, uniquingKeysWith: { a, _ in a })
            remap.append(table.categorical.categories[a].map { index[ByteString($0)] ?? -1 })
        }
        var codes = [Int32](repeating: 0, count: n * dc)
        for i in 0..<n {
            for a in 0..<dc {
                let c = remap[a][table.categorical.code(i, a)]
                codes[i * dc + a] = c
                if c < 0 { unseen[a] += 1 }
            }
        }
        let modeCodes: [Int32] = modes.flatMap { row in row.enumerated().map { a, v in Int32(categories[a].firstIndex(of: v) ?? -2) } }
        let cen: [Double] = (centroids ?? []).flatMap { $0 }
        let x: [Float] = table.numeric?.values ?? []
        var labels = [Int32](repeating: 0, count: n)
        var costs = [Double](repeating: 0, count: n)
        let g = gamma ?? 1
        x.withUnsafeBufferPointer { xp in
            codes.withUnsafeBufferPointer { cp in
                cen.withUnsafeBufferPointer { ep in
                    modeCodes.withUnsafeBufferPointer { mp in
                        labels.withUnsafeMutableBufferPointer { lp in
                            costs.withUnsafeMutableBufferPointer { sp in
                                let zero = UnsafePointer<Double>(bitPattern: 8)!
                                PrototypeKernels.assignAll(n: n, numeric: dn > 0 ? xp.baseAddress : nil, codes: cp.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                           centroids: ep.baseAddress ?? zero, modes: mp.baseAddress!, k: k, dn: dn, dc: dc,
                                                           gamma: g, threads: threads, labels: lp.baseAddress!, costs: sp.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        return Prediction(labels: labels, costs: costs, cost: costs.reduce(0, +), unseen: unseen)
    }
}

extension CSVOutput {
    /// The K-Prototypes / K-Modes labels file: `id,segment,cost`, cost = the row's
    /// dissimilarity to its prototype.
    public static func prototypeLabels(ids: (Int) -> String, labels: [Int32], costs: [Double]) -> Data {
        var out = "id,segment,cost\n"
        out.reserveCapacity(labels.count * 24)
        for i in 0..<labels.count {
            out += field(ids(i)); out += ","; out += String(labels[i]); out += ","; out += "\(costs[i])\n"
        }
        return Data(out.utf8)
    }
}
