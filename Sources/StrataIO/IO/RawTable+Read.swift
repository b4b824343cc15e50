import Foundation
import StrataCore

extension RawTable {
    /// What to do with a cell of a numeric column that is not a number.
    public enum UnparsableCells: Sendable {
        /// An error naming file, line and column (the default, and without imputation).
        case error
        /// A missing value, counted and reported in `warnings` (with an imputation set).
        case missing
    }

    /// Reads a CSV with a header. Numeric columns: `numeric` if given, else every column (other
    /// than id and categorical ones) that is numeric by `ColumnSniff` (at least half of its
    /// sampled values are numbers). Empty fields are missing values; a non-numeric value in a
    /// numeric column is an error naming line and column, or with `.missing` a missing value.
    /// A Parquet input (file, directory, glob) or a PostgreSQL URL is read by
    /// `ColumnarTable.rawTable` (nulls are missing values).
    public static func read(path: String, numeric wanted: [String]?, categorical: [String], idColumn: String?,
                            delimiter: UInt8 = UInt8(ascii: ","), unparsable: UnparsableCells = .error,
                            weightsColumn: String? = nil) throws -> RawTable {
        if let table = try ColumnarInput.open(path) {
            return try table.rawTable(numeric: wanted, categorical: categorical, idColumn: idColumn, weightsColumn: weightsColumn,
                                                         unparsable: unparsable)
        }
        let bytes = try readFileBytes(path)
        return try bytes.withUnsafeBufferPointer { buf in
            try read(bytes: buf, path: path, numeric: wanted, categorical: categorical, idColumn: idColumn, delimiter: delimiter,
                     unparsable: unparsable, weightsColumn: weightsColumn)
        }
    }

    /// As `read(path:...)`, over the bytes of a file already in memory (`path` names it in errors).
    public static func read(bytes buf: UnsafeBufferPointer<UInt8>, path: String, numeric wanted: [String]?, categorical: [String],
                            idColumn: String?, delimiter: UInt8 = UInt8(ascii: ","), unparsable: UnparsableCells = .error,
                            weightsColumn: String? = nil) throws -> RawTable {
        var tok = CSVTokenizer(bytes: buf, delimiter: delimiter, file: path)
        var fields: [FieldSpan] = []
        guard try tok.next(into: &fields) != nil else {
            throw StrataError.badData(file: path, line: nil, column: nil, message: "the file is empty; a header row naming the columns is required")
        }
        let header = try CSVHeader.names(fields, tokenizer: tok, file: path)
        func index(_ name: String, _ option: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else {
                throw StrataError.invalidArgument("\(path): \(option) '\(name)' is not a column; columns are: \(Excerpt.list(header))")
            }
            return i
        }
        let idIndex = try idColumn.map { try index($0, "--id-column") }
            ?? header.firstIndex { TableReadOptions.inferredIdNames.contains($0.lowercased()) }
        let catIdx = try categorical.map { try index($0, "--categorical") }
        let weightIndex = try weightsColumn.map { try index($0, "--weights-column") }
        let start = tok
        var numIdx: [Int]
        var warnings: [String] = []
        if let wanted {
            numIdx = try wanted.map { try index($0, "--columns") }
            if let w = weightIndex, numIdx.contains(w) {
                throw StrataError.invalidArgument("\(path): column '\(header[w])' is the weights column and cannot be a feature")
            }
        } else {
            let sniff = try ColumnSniff(header: header, from: start)
            numIdx = (0..<header.count).filter { sniff.isNumeric($0) && $0 != idIndex && $0 != weightIndex && !catIdx.contains($0) }
        }
        var t = RawTable(source: path, rows: 0, numericNames: numIdx.map { header[$0] }, numeric: numIdx.map { _ in [] },
                         categoricalNames: catIdx.map { header[$0] }, categorical: catIdx.map { _ in [] },
                         idColumn: idIndex.map { header[$0] }, ids: idIndex == nil ? nil : [], lines: [])
        if let w = weightIndex { t.weightsColumn = header[w]; t.weights = [] }
        var unparsed = [Int](repeating: 0, count: numIdx.count)
        var firstUnparsed = [(Int, String)?](repeating: nil, count: numIdx.count)
        tok = start
        while let line = try tok.next(into: &fields) {
            guard fields.count == header.count else {
                throw StrataError.badData(file: path, line: line, column: nil, message: "row has \(fields.count) fields but the header has \(header.count)")
            }
            for (s, j) in numIdx.enumerated() {
                switch tok.number(fields[j]) {
                case let .value(v): t.numeric[s].append(v)
                case .empty: t.numeric[s].append(.nan)
                case .nonFinite:
                    throw StrataError.badData(file: path, line: line, column: header[j], message: "value '\(Excerpt.of(tok.string(fields[j])))' is NaN, infinite or outside the Float range")
                case .notANumber:
                    guard unparsable == .missing else {
                        throw StrataError.badData(file: path, line: line, column: header[j],
                                                  message: "value '\(Excerpt.of(tok.string(fields[j])))' is not a number; fix the cell, or set an imputation to read it as missing")
                    }
                    t.numeric[s].append(.nan)
                    unparsed[s] += 1
                    if firstUnparsed[s] == nil { firstUnparsed[s] = (line, tok.string(fields[j])) }
                }
            }
            for (s, j) in catIdx.enumerated() { t.categorical[s].append(trimmedCell(tok.string(fields[j]))) }
            if let i = idIndex { t.ids!.append(tok.idString(fields[i])) }
            if let w = weightIndex {
                guard case let .value(v) = tok.number(fields[w]), v >= 0 else {
                    throw StrataError.badData(file: path, line: line, column: header[w],
                                              message: "weight '\(Excerpt.of(tok.string(fields[w])))' is not a non-negative number")
                }
                t.weights!.append(v)
            }
            t.lines.append(line)
            t.rows += 1
        }
        if t.rows == 0 { throw StrataError.badData(file: path, line: nil, column: nil, message: "the file has a header but no data rows") }
        if let w = t.weights, !(w.reduce(0.0) { $0 + Double($1) } > 0) {
            throw StrataError.badData(file: path, line: nil, column: t.weightsColumn, message: "all weights are zero")
        }
        for (s, n) in unparsed.enumerated() where n > 0 {
            let (line, value) = firstUnparsed[s]!
            warnings.append("\(path): column '\(t.numericNames[s])': \(n) cell\(n == 1 ? " is" : "s are") not a number and read as missing (first: line \(line), '\(Excerpt.of(value))')")
        }
        let counters = t.numericNames.indices.filter { looksLikeRowNumber(t.numeric[$0]) }.map { t.numericNames[$0] }
        if !counters.isEmpty {
            warnings.append("\(path): \(counters.count == 1 ? "column" : "columns") \(Excerpt.list(counters)) \(counters.count == 1 ? "holds" : "hold") unique increasing integers (a row number or sequential id?) and \(counters.count == 1 ? "is" : "are") used as features; exclude or make it the id column")
        }
        t.warnings = warnings
        return t
    }
}

/// `s.trimmingCharacters(in: .whitespaces)`, without Foundation's cost when `s` neither starts
/// nor ends with a space, a tab or a non-ASCII byte (the only bytes that can begin or end a
/// Unicode whitespace character): the common cell is returned as it is.
@inline(__always)
func trimmedCell(_ s: String) -> String {
    guard let first = s.utf8.first, let last = s.utf8.last else { return s }
    func plain(_ b: UInt8) -> Bool { b != 0x20 && b != 0x09 && b < 0x80 }
    return plain(first) && plain(last) ? s : s.trimmingCharacters(in: .whitespaces)
}
