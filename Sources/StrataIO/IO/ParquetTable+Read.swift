import Foundation
import StrataCore
import StrataParquet

extension ColumnarTable {
    /// Numeric feature columns of a Parquet input straight to float32 rows (`TableReader.read`
    /// for `.parquet` files, directories and globs): the same options, inference and errors as
    /// the CSV reader. Features: `options.columns`, else every numeric column (integers,
    /// decimals, floats, booleans, dates as days, timestamps as epoch seconds) but the id and
    /// weights columns. A null in a feature is an error naming file, row group, row and column
    /// (impute with `strata segment`, or `--impute` where offered).
    /// - Complexity: one pass over the selected columns' chunks; memory: one row group of them
    ///   plus the Float table.
    public func dataset(options: TableReadOptions) throws -> Dataset {
        var values: [Float] = []
        var ids: [String]? = nil
        var weights: [Float]? = nil
        let plan = try datasetBlocks(options: options) { block in
            values.append(contentsOf: block.values)
            if let b = block.ids { if ids == nil { ids = b } else { ids!.append(contentsOf: b) } }
            if let w = block.weights { if weights == nil { weights = w } else { weights!.append(contentsOf: w) } }
        }
        let d = plan.columns.count
        let n = values.count / max(d, 1)
        if n == 0 { throw StrataError.badData(file: path, line: nil, column: nil, message: "the file has no rows") }
        if plan.idColumn != nil && ids == nil { ids = [] }
        if let w = weights, !(w.reduce(0.0) { $0 + Double($1) } > 0) {
            throw StrataError.badData(file: path, line: nil, column: plan.weightsColumn, message: "all weights are zero")
        }
        var notes = plan.notes
        let counters = plan.columns.indices.filter { looksLikeRowNumber(StrideColumn(values: values, column: $0, stride: d)) }.map { plan.columns[$0] }
        if !counters.isEmpty {
            notes.append("\(counters.count == 1 ? "column" : "columns") \(Excerpt.list(counters)) \(counters.count == 1 ? "holds" : "hold") unique increasing integers (a row number or sequential id?) and \(counters.count == 1 ? "is" : "are") used as features; exclude or name the id with --id-column")
        }
        var data = Dataset(rows: n, cols: d, values: values, columns: plan.columns, idColumn: plan.idColumn, ids: ids,
                           weightsColumn: plan.weightsColumn, weights: weights, source: path)
        data.warnings = notes.map { "\(path): " + $0 }
        return data
    }

    /// As `dataset(options:)`, one row group at a time: `body` gets each non-empty row group as a
    /// `Dataset` (float32 rows, ids, weights), in order; memory is one row group (for
    /// `strata convert` and other streaming readers).
    @discardableResult
    public func datasetBlocks(options: TableReadOptions, _ body: (Dataset) throws -> Void) throws -> DatasetPlan {
        let idIndex: Int? = try options.idColumn.map { try index(of: $0, option: "--id-column") }
            ?? columns.firstIndex { TableReadOptions.inferredIdNames.contains($0.name.lowercased()) && $0.unsupported == nil }
        let weightIndex: Int? = try options.weightsColumn.map { try index(of: $0, option: "--weights-column") }
        if let w = weightIndex, w == idIndex { throw StrataError.invalidArgument("\(path): the weights column cannot also be the id column") }
        var notes: [String] = []
        let featureIdx: [Int]
        if let cols = options.columns {
            featureIdx = try cols.map { try index(of: $0, option: "--columns entry") }
            for (c, i) in zip(cols, featureIdx) where i == idIndex || i == weightIndex {
                throw StrataError.invalidArgument("\(path): column '\(c)' is the id or weights column and cannot be a feature")
            }
            for i in featureIdx where !columns[i].isNumeric {
                throw StrataError.badData(file: path, line: nil, column: columns[i].name, message: "the column holds text (\(columns[i].physicalType)), not numbers; feature columns are numeric")
            }
        } else {
            let rest = columns.indices.filter { $0 != idIndex && $0 != weightIndex }
            featureIdx = rest.filter { columns[$0].isNumeric }
            let text = rest.filter { !columns[$0].isNumeric && columns[$0].unsupported == nil }
            let nested = rest.filter { columns[$0].unsupported != nil }
            if !text.isEmpty { notes.append("text columns ignored (not features): \(Excerpt.list(text.map { columns[$0].name })); choose features with --columns") }
            if !nested.isEmpty { notes.append("nested columns ignored: \(Excerpt.list(nested.map { columns[$0].name }))") }
            if featureIdx.isEmpty {
                throw StrataError.badData(file: path, line: nil, column: nil, message: "no numeric feature columns found (columns: \(Excerpt.list(names))); choose them with --columns")
            }
        }
        let d = featureIdx.count
        let names = featureIdx.map { columns[$0].name }
        let selected = featureIdx + [idIndex, weightIndex].compactMap { $0 }
        try forEachRowGroup(columns: selected) { file, g, _, cols in
            let rows = cols.first?.count ?? 0
            if rows == 0 { return }
            func bad(_ row: Int, _ c: ParquetColumn, _ m: String) -> StrataError {
                .badData(file: "\(file), row group \(g)", line: nil, column: c.info.name, message: "row \(row + 1) of the group: " + m)
            }
            var values = [Float](repeating: 0, count: rows * d)
            for s in 0..<d {
                let c = cols[s]
                let column = c.doubles()
                for i in 0..<rows {
                    let f = Float(column[i])
                    guard f.isFinite else {
                        if c.isNull(i) { throw bad(i, c, "missing value (null); fill or drop it before clustering") }
                        throw bad(i, c, "value \(column[i]) is NaN, infinite or outside the Float range")
                    }
                    values[i * d + s] = f
                }
            }
            var ids: [String]? = nil
            if idIndex != nil { let c = cols[d]; ids = (0..<rows).map { c.text($0) ?? "" } }
            var weights: [Float]? = nil
            if weightIndex != nil {
                let c = cols[selected.count - 1]
                weights = try (0..<rows).map { i in
                    guard let v = c.double(i), v >= 0, Float(v).isFinite else { throw bad(i, c, "weight is missing, negative or not finite; weights must be >= 0") }
                    return Float(v)
                }
            }
            try body(Dataset(rows: rows, cols: d, values: values, columns: names, idColumn: idIndex.map { columns[$0].name }, ids: ids,
                             weightsColumn: weightIndex.map { columns[$0].name }, weights: weights, source: path))
        }
        return DatasetPlan(columns: names, idColumn: idIndex.map { columns[$0].name }, weightsColumn: weightIndex.map { columns[$0].name }, notes: notes)
    }

    /// A raw table of numeric and categorical columns (`RawTable.read` for Parquet inputs):
    /// nulls and NaN in numeric columns are missing values (NaN), the preprocessing pipeline's
    /// imputation applies; categorical cells are the values' text (`ParquetColumn.text`), a null
    /// is the empty cell. `lines` holds 1-based row numbers (over all files).
    /// - Parameter wanted: numeric columns; nil: every column whose first 1,000 values are mostly
    ///   numbers (`ColumnSniff`, typed or text) but the id, weights and categorical ones.
    ///   A numeric column stored as text (BYTE_ARRAY) is parsed as the CSV reader parses its
    ///   cells: a non-number is an error naming file, row group, row and column, or with
    ///   `unparsable: .missing` a missing value counted in `warnings`.
    public func rawTable(numeric wanted: [String]?, categorical: [String], idColumn: String?, weightsColumn: String? = nil,
                         unparsable: RawTable.UnparsableCells = .error) throws -> RawTable {
        let idIndex = try idColumn.map { try index(of: $0, option: "--id-column") }
            ?? columns.firstIndex { TableReadOptions.inferredIdNames.contains($0.name.lowercased()) && $0.unsupported == nil }
        let catIdx = try categorical.map { try index(of: $0, option: "--categorical") }
        let weightIndex = try weightsColumn.map { try index(of: $0, option: "--weights-column") }
        let numIdx: [Int]
        if let wanted {
            numIdx = try wanted.map { try index(of: $0, option: "--columns") }
            if let w = weightIndex, numIdx.contains(w) {
                throw StrataError.invalidArgument("\(path): column '\(columns[w].name)' is the weights column and cannot be a feature")
            }
        } else {
            // As for a CSV: the columns whose first 1,000 values are mostly numbers (typed or text).
            let sniff = try ColumnSniff(parquet: self)
            numIdx = columns.indices.filter { sniff.isNumeric($0) && $0 != idIndex && $0 != weightIndex && !catIdx.contains($0) }
        }
        var t = RawTable(source: path, rows: 0, numericNames: numIdx.map { columns[$0].name }, numeric: numIdx.map { _ in [] },
                         categoricalNames: catIdx.map { columns[$0].name }, categorical: catIdx.map { _ in [] },
                         idColumn: idIndex.map { columns[$0].name }, ids: idIndex == nil ? nil : [], lines: [])
        if let w = weightIndex { t.weightsColumn = columns[w].name; t.weights = [] }
        let selected = numIdx + catIdx + [idIndex, weightIndex].compactMap { $0 }
        var unparsed = [Int](repeating: 0, count: numIdx.count)
        var firstUnparsed = [(Int, String)?](repeating: nil, count: numIdx.count)
        try forEachRowGroup(columns: selected) { file, g, offset, cols in
            let rows = cols.first?.count ?? 0
            for s in numIdx.indices {
                let c = cols[s]
                let column: [Double]
                if c.info.isNumeric { column = c.doubles() } else {
                    column = try (0..<rows).map { i in
                        guard let text = c.text(i) else { return .nan }
                        switch parsedText(text) {
                        case let .value(v): return Double(v)
                        case .empty: return .nan
                        case .nonFinite:
                            throw StrataError.badData(file: "\(file), row group \(g)", line: nil, column: c.info.name,
                                                      message: "row \(i + 1) of the group: value '\(Excerpt.of(text))' is NaN, infinite or outside the Float range")
                        case .notANumber:
                            guard unparsable == .missing else {
                                throw StrataError.badData(file: "\(file), row group \(g)", line: nil, column: c.info.name,
                                                          message: "row \(i + 1) of the group: value '\(Excerpt.of(text))' is not a number; fix the cell, or set an imputation to read it as missing")
                            }
                            unparsed[s] += 1
                            if firstUnparsed[s] == nil { firstUnparsed[s] = (offset + i + 1, text) }
                            return .nan
                        }
                    }
                }
                for i in 0..<rows {
                    let v = column[i]
                    guard !v.isNaN else { t.numeric[s].append(.nan); continue }
                    let f = Float(v)
                    guard f.isFinite else {
                        throw StrataError.badData(file: "\(file), row group \(g)", line: nil, column: c.info.name, message: "row \(i + 1) of the group: value \(v) is infinite or outside the Float range")
                    }
                    t.numeric[s].append(f)
                }
            }
            for s in catIdx.indices {
                let c = cols[numIdx.count + s]
                for i in 0..<rows { t.categorical[s].append(trimmedCell(c.text(i) ?? "")) }
            }
            var k = numIdx.count + catIdx.count
            if idIndex != nil { let c = cols[k]; k += 1; for i in 0..<rows { t.ids!.append(c.text(i) ?? "") } }
            if weightIndex != nil {
                let c = cols[k]
                for i in 0..<rows {
                    guard let v = c.double(i), v >= 0, Float(v).isFinite else {
                        throw StrataError.badData(file: "\(file), row group \(g)", line: nil, column: c.info.name, message: "row \(i + 1) of the group: weight is not a non-negative number")
                    }
                    t.weights!.append(Float(v))
                }
            }
            t.lines.append(contentsOf: (offset + 1)...(offset + max(rows, 1)))
            if rows == 0 { t.lines.removeLast() }
            t.rows += rows
        }
        if t.rows == 0 { throw StrataError.badData(file: path, line: nil, column: nil, message: "the file has no rows") }
        if let w = t.weights, !(w.reduce(0.0) { $0 + Double($1) } > 0) {
            throw StrataError.badData(file: path, line: nil, column: t.weightsColumn, message: "all weights are zero")
        }
        for (s, n) in unparsed.enumerated() where n > 0 {
            let (row, value) = firstUnparsed[s]!
            t.warnings.append("\(path): column '\(t.numericNames[s])': \(n) cell\(n == 1 ? " is" : "s are") not a number and read as missing (first: row \(row), '\(Excerpt.of(value))')")
        }
        let counters = t.numericNames.indices.filter { looksLikeRowNumber(t.numeric[$0]) }.map { t.numericNames[$0] }
        if !counters.isEmpty {
            t.warnings.append("\(path): \(counters.count == 1 ? "column" : "columns") \(Excerpt.list(counters)) \(counters.count == 1 ? "holds" : "hold") unique increasing integers (a row number or sequential id?) and \(counters.count == 1 ? "is" : "are") used as features; exclude or make it the id column")
        }
        return t
    }
}

/// The columns `dataset(options:)` reads and what it noticed (text or nested columns ignored).
public struct DatasetPlan: Sendable {
    public var columns: [String]
    public var idColumn: String?
    public var weightsColumn: String?
    public var notes: [String]
}

/// A text cell read as the CSV reader reads it (the same number parser).
func parsedText(_ s: String) -> ParsedNumber {
    var s = s
    return s.withUTF8 { b in b.count == 0 ? .empty : NumberParser.parse(b.baseAddress!, b.count) }
}

extension ColumnSniff {
    /// What the first `sampleRows` rows of a Parquet input say about each column, as for a CSV:
    /// numeric-typed columns count their non-null values as numbers, text columns as text (with
    /// their distinct values); nested columns count as empty.
    package init(parquet t: ColumnarTable) throws {
        header = t.names
        let n = header.count
        numbers = [Int](repeating: 0, count: n)
        texts = [Int](repeating: 0, count: n)
        distinct = [Set<String>](repeating: [], count: n)
        firstText = [(line: Int, value: String)?](repeating: nil, count: n)
        let readable = t.columns.indices.filter { t.columns[$0].unsupported == nil }
        let head = try t.head(columns: readable, limit: Self.sampleRows)
        sampledRows = min(head.first?.count ?? 0, Self.sampleRows)
        for (k, j) in readable.enumerated() {
            let c = head[k]
            for i in 0..<min(c.count, Self.sampleRows) {
                guard let s = c.text(i) else { continue }
                if t.columns[j].isNumeric { numbers[j] += 1 } else {
                    // A text column is classified by its values, as a CSV column is ("12" is a number).
                    switch parsedText(s) {
                    case .value, .nonFinite: numbers[j] += 1
                    case .empty: continue
                    case .notANumber:
                        texts[j] += 1
                        if firstText[j] == nil { firstText[j] = (i + 1, s) }
                    }
                }
                if distinct[j].count <= 50 { distinct[j].insert(s.trimmingCharacters(in: .whitespaces)) }
            }
        }
    }
}
