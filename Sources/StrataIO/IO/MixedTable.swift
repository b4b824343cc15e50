import Foundation
import StrataCore

/// A table of numeric and categorical columns for K-Prototypes / K-Modes, read from a CSV with a
/// header through `RawTable.read` (the same tokenizer, id and weights rules as every reader).
public struct MixedTable: Sendable {
    /// The numeric columns (with ids and weights); nil when there are none.
    public var numeric: Dataset?
    public var categorical: CategoricalColumns
    public var idColumn: String?
    public var ids: [String]?
    public var weightsColumn: String?
    public var weights: [Float]?
    public var rows: Int
    public var source: String
    /// Empty categorical cells per categorical column (read as `missingCategory`).
    public var missing: [Int]
    public var warnings: [String]

    /// The category an empty categorical cell is read as (counted, and reported in `warnings`).
    public static let missingCategory = "(missing)"

    public func id(_ i: Int) -> String { ids?[i] ?? String(i) }

    /// Reads `path`.
    /// - Parameters:
    ///   - numeric: numeric columns; nil: every numeric column (by `ColumnSniff`) that is not the
    ///     id, weights or a categorical column. `[]`: none (K-Modes).
    ///   - categorical: categorical columns; nil: every column but the id and weights columns.
    /// - Throws: `StrataError.badData` naming file, line and column for a missing or
    ///   non-numeric numeric cell; `.invalidArgument` for unknown column names or a column both
    ///   numeric and categorical.
    public static func read(path: String, numeric: [String]?, categorical: [String]?, idColumn: String?,
                            weightsColumn: String?) throws -> MixedTable {
        let t = try raw(path: path, numeric: numeric, categorical: categorical, idColumn: idColumn, weightsColumn: weightsColumn)
        // Numeric cells must be present (no imputation here).
        for (s, column) in t.numeric.enumerated() {
            if let i = column.firstIndex(where: { $0.isNaN }) {
                throw StrataError.badData(file: path, line: t.lines[i], column: t.numericNames[s],
                                          message: "numeric value is missing; fill it, list the column with --categorical, or choose --impute")
            }
        }
        let dn = t.numericNames.count
        var data: Dataset? = nil
        if dn > 0 {
            var values = [Float](repeating: 0, count: t.rows * dn)
            for j in 0..<dn { for i in 0..<t.rows { values[i * dn + j] = t.numeric[j][i] } }
            data = Dataset(rows: t.rows, cols: dn, values: values, columns: t.numericNames, idColumn: t.idColumn, ids: t.ids,
                           weightsColumn: t.weightsColumn, weights: t.weights, source: path)
        }
        return categoricalFrom(t, numeric: data)
    }

    /// The raw columns `read` resolves (same parameters), categorical cells as read (empty
    /// included) and numbers as `RawTable.read` gives them with `unparsable`: for a caller that
    /// preprocesses the numeric part itself (imputation included) and then calls `categoricalFrom`.
    public static func raw(path: String, numeric: [String]?, categorical: [String]?, idColumn: String?,
                           weightsColumn: String?, unparsable: RawTable.UnparsableCells = .error) throws -> RawTable {
        var categoricalNames = categorical
        if categoricalNames == nil {
            let header = try CSVHeader.read(path: path)
            let idName = idColumn ?? header.first { TableReadOptions.inferredIdNames.contains($0.lowercased()) }
            categoricalNames = header.filter { $0 != idName && $0 != weightsColumn && !(numeric ?? []).contains($0) }
        }
        let cats = categoricalNames!
        if let both = numeric?.first(where: cats.contains) {
            throw StrataError.invalidArgument("\(path): column '\(both)' is given as both numeric and categorical")
        }
        let t = try RawTable.read(path: path, numeric: numeric, categorical: cats, idColumn: idColumn, unparsable: unparsable, weightsColumn: weightsColumn)
        if let wc = t.weightsColumn, cats.contains(wc) {
            throw StrataError.invalidArgument("\(path): column '\(wc)' is the weights column and cannot be categorical")
        }
        if let id = t.idColumn, cats.contains(id) || t.numericNames.contains(id) {
            throw StrataError.invalidArgument("\(path): column '\(id)' is the id column and cannot be a feature")
        }
        return t
    }

    /// A mixed table from a raw table's categorical columns (empty cells read as
    /// `missingCategory`, counted in `missing` and `warnings`) and numeric features already made
    /// (e.g. preprocessed; nil for none). `numeric`, when given, has `raw.rows` rows.
    public static func categoricalFrom(_ raw: RawTable, numeric: Dataset?) -> MixedTable {
        var values = raw.categorical
        var missing = [Int](repeating: 0, count: values.count)
        var warnings = raw.warnings
        for s in values.indices {
            for i in 0..<raw.rows where values[s][i].isEmpty { values[s][i] = missingCategory; missing[s] += 1 }
            if missing[s] > 0 {
                warnings.append("\(raw.source): column '\(raw.categoricalNames[s])': \(missing[s]) empty cell\(missing[s] == 1 ? " is" : "s are") read as the category '\(missingCategory)'")
            }
        }
        return MixedTable(numeric: numeric, categorical: CategoricalColumns(names: raw.categoricalNames, values: values), idColumn: raw.idColumn,
                          ids: raw.ids, weightsColumn: raw.weightsColumn, weights: raw.weights, rows: raw.rows, source: raw.source,
                          missing: missing, warnings: warnings)
    }
}
