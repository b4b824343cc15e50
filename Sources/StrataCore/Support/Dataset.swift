import StrataKernels
import StrataLinalg

/// A numeric table ready for the algorithms: n rows x d feature columns stored row-major as
/// Float (memory bandwidth is the limit), with optional ids and sample weights.
///
/// Memory: 4*n*d bytes for values, plus ids (when the input has an id column) and 4*n for weights.
public struct Dataset: Sendable {
    public let rows: Int
    public let cols: Int
    /// Row-major values, `rows * cols` of them.
    public var values: [Float]
    /// Feature column names, in input order.
    public var columns: [String]
    /// The id column's name and per-row values; nil means ids are 0-based row numbers.
    public var idColumn: String?
    public var ids: [String]?
    /// Sample weights column name and values (non-negative, finite); nil means all 1.
    public var weightsColumn: String?
    public var weights: [Float]?
    /// Where the data came from (for messages).
    public var source: String
    /// Set when the rows live in a memory-mapped file (float32 `.npy`); `values` is then empty
    /// and every pass reads through `withRows`. Use `materialized()` where a copy is needed.
    public var mapping: MappedRows? = nil
    /// What the reader noticed and the user should hear (text columns ignored, a row-number
    /// column used as a feature); the CLI prints them as warnings.
    public var warnings: [String] = []

    public init(rows: Int, cols: Int, values: [Float], columns: [String]? = nil, idColumn: String? = nil, ids: [String]? = nil,
                weightsColumn: String? = nil, weights: [Float]? = nil, source: String = "<memory>") {
        precondition(values.count == rows * cols, "values has \(values.count) elements, expected \(rows * cols)")
        precondition(ids == nil || ids!.count == rows)
        precondition(weights == nil || weights!.count == rows)
        self.rows = rows
        self.cols = cols
        self.values = values
        self.columns = columns ?? (0..<cols).map { "x\($0)" }
        self.idColumn = idColumn
        self.ids = ids
        self.weightsColumn = weightsColumn
        self.weights = weights
        self.source = source
    }

    /// Rows in a mapped file.
    public init(rows: Int, cols: Int, mapping: MappedRows, columns: [String], source: String) {
        self.rows = rows
        self.cols = cols
        self.values = []
        self.columns = columns
        self.source = source
        self.mapping = mapping
    }

    /// The same data with `values` filled (a copy of a mapped file; self when already in memory).
    public func materialized() -> Dataset {
        guard mapping != nil else { return self }
        var d = Dataset(rows: rows, cols: cols, values: withRows { r, _ in Array(UnsafeBufferPointer(start: r.base, count: rows * cols)) },
                        columns: columns, idColumn: idColumn, ids: ids, weightsColumn: weightsColumn, weights: weights, source: source)
        d.mapping = nil
        d.warnings = warnings
        return d
    }

    public init(_ matrix: Matrix<Float>, columns: [String]? = nil) {
        self.init(rows: matrix.rows, cols: matrix.cols, values: matrix.storage, columns: columns)
    }

    /// The id of row `i`: the id column's value, else the 0-based row number.
    public func id(_ i: Int) -> String { ids?[i] ?? String(i) }

    public var matrix: Matrix<Float> { Matrix(rows: rows, cols: cols, storage: materialized().values) }

    /// Runs `body` with the rows as a `RowBlockSource` (valid only inside the call).
    public func withRows<R>(_ body: (DenseRows, UnsafePointer<Float>?) throws -> R) rethrows -> R {
        if let m = mapping { return try body(m.rows(rows: rows, cols: cols), nil) }
        return try values.withUnsafeBufferPointer { v in
            let base = v.baseAddress ?? UnsafePointer(bitPattern: 16)!
            if let w = weights {
                return try w.withUnsafeBufferPointer { try body(DenseRows(base, rows: rows, cols: cols), $0.baseAddress) }
            }
            return try body(DenseRows(base, rows: rows, cols: cols), nil)
        }
    }

    /// These rows (in the given order), with their ids and weights.
    public func subset<C: Collection>(rows: C) -> Dataset where C.Element == Int {
        var v = [Float]()
        v.reserveCapacity(rows.count * cols)
        withRows { x, _ in for r in rows { v.append(contentsOf: UnsafeBufferPointer(start: x.base + r * cols, count: cols)) } }
        return Dataset(rows: rows.count, cols: cols, values: v, columns: columns, idColumn: idColumn, ids: ids.map { i in rows.map { i[$0] } },
                       weightsColumn: weightsColumn, weights: weights.map { w in rows.map { w[$0] } }, source: source)
    }
}
