import Foundation
import StrataCore
import StrataParquet
import StrataPostgres

/// How a command writes a table (a closed choice): CSV, or Parquet (`ParquetWriter`: ZSTD,
/// dictionary-encoded strings, typed columns).
public enum TableFormat: String, SettingChoice, CaseIterable {
    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

    case csv, parquet

    /// `explicit` when given, else Parquet for a path ending in `.parquet`, else CSV.
    public static func of(path: String, explicit: TableFormat? = nil) -> TableFormat {
        explicit ?? (path.lowercased().hasSuffix(".parquet") ? .parquet : .csv)
    }

    /// The file name `base` with this format's extension (`assignments` -> `assignments.parquet`).
    public func fileName(_ base: String) -> String { base + "." + rawValue }
}

/// Tables Strata writes, as CSV or as Parquet from the same rows: the CSV text every command
/// already produces is the single source, so both formats hold the same values. In Parquet each
/// column gets a type from its name and cells, the same on every run (a nightly dataset keeps one
/// schema): the columns named in `textColumns` (ids, names) are strings ("007" keeps its zeros);
/// those in `integerColumns` (counts, segment ids, scores) `int64`; other columns whose
/// non-empty cells are all numbers `double`, all `YYYY-MM-DD` `date`, else `string`. An empty
/// cell is a null.
public enum TableOutput {
    /// Columns that stay text in Parquet whatever they hold.
    public static let textColumns: Set<String> = ["customer_id", "id", "product", "segment_name", "rfm_segment", "class"]

    /// Columns written as int64 (when every cell is an integer; else double).
    public static let integerColumns: Set<String> = ["segment_id", "segment", "frequency", "btyd_frequency", "r_score", "f_score", "m_score",
                                                      "purchase_days", "orders", "customers", "products"]

    /// Options of the Parquet writer for outputs (ZSTD, 1M-row groups unless `rowGroupRows`).
    public static func writerOptions(rowGroupRows: Int? = nil) -> ParquetWriter.Options {
        var o = ParquetWriter.Options(codec: .zstd)
        if let r = rowGroupRows { o.rowGroupRows = r }
        return o
    }

    /// Typed Parquet columns from CSV text (a header row, RFC 4180 quoting). O(bytes).
    /// - Throws: `StrataError.badData` for a ragged row (a bug in the caller's CSV).
    public static func parquetColumns(csv: Data, textColumns: Set<String> = textColumns, file: String) throws -> [ParquetWriteColumn] {
        let bytes = [UInt8](csv)
        return try bytes.withUnsafeBufferPointer { buf -> [ParquetWriteColumn] in
            var tok = CSVTokenizer(bytes: buf, file: file)
            var fields: [FieldSpan] = []
            guard try tok.next(into: &fields) != nil else { return [] }
            let header = fields.map { tok.string($0) }
            var cells = [[String]](repeating: [], count: header.count)
            while let line = try tok.next(into: &fields) {
                guard fields.count == header.count else {
                    throw StrataError.badData(file: file, line: line, column: nil, message: "row has \(fields.count) fields but the header has \(header.count)")
                }
                for j in fields.indices { cells[j].append(tok.string(fields[j])) }
            }
            return header.indices.map { j in column(header[j], cells[j], text: textColumns.contains(header[j])) }
        }
    }

    static func column(_ name: String, _ cells: [String], text: Bool) -> ParquetWriteColumn {
        let present = cells.filter { !$0.isEmpty }
        if !text && !present.isEmpty {
            if integerColumns.contains(name) && present.allSatisfy({ Int64($0) != nil }) { return .int64s(name, cells.map { Int64($0) }) }
            if present.allSatisfy({ Double($0) != nil }) { return .doubles(name, cells.map { Double($0) }) }
            let days = cells.map(isoDay)
            if zip(cells, days).allSatisfy({ $0.isEmpty || $1 != nil }) {
                return ParquetWriteColumn(name: name, type: .date, values: .int32(days.map { Int32($0 ?? 0) }),
                                          valid: days.contains(nil) ? days.map { $0 != nil } : nil)
            }
        }
        return .strings(name, cells.map { $0.isEmpty ? nil : $0 })
    }

    /// Days since 1970-01-01 of `YYYY-MM-DD`, nil otherwise.
    static func isoDay(_ s: String) -> Int32? {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let y = Int(s.prefix(4)), let m = Int(s.dropFirst(5).prefix(2)), let d = Int(s.suffix(2)),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return Int32(era * 146_097 + doe - 719_468)
    }

    /// The bytes of a Parquet file holding `columns` (the writer's options `options`).
    public static func parquet(_ columns: [ParquetWriteColumn], options: ParquetWriter.Options = writerOptions()) throws -> Data {
        var out = Data()
        let w = try ParquetWriter(schema: columns.map { ($0.name, $0.type) }, options: options) { out.append(contentsOf: $0) }
        try w.write(columns)
        try w.close()
        return out
    }
}

extension OutputBatch {
    /// Stages a table given as CSV text at `path`: as it is for CSV, or converted to typed
    /// Parquet columns (`TableOutput`) for `format` `.parquet` (nil: chosen by `path`'s
    /// extension). Atomic like every staged output. A `postgresql://...?table=schema.name` path
    /// replaces that table on `commit()` (`PostgresTableWriter`; the same typed columns).
    public mutating func stageTable(csv: Data, to path: String, format: TableFormat? = nil,
                                    textColumns: Set<String> = TableOutput.textColumns, rowGroupRows: Int? = nil) throws {
        if PostgresURL.isURL(path) {
            let url: PostgresURL
            do { url = try PostgresURL.parsed(path) } catch { discard(); throw error }
            guard url.table != nil, url.query == nil else { discard(); throw StrataError.invalidArgument("\(url): an output names its table with ?table=schema.name") }
            stageDatabaseTable(PostgresTableOutput(url: url, columns: try TableOutput.parquetColumns(csv: csv, textColumns: textColumns, file: url.description)))
            return
        }
        switch TableFormat.of(path: path, explicit: format) {
        case .csv:
            try stage(csv, to: path)
        case .parquet:
            let columns = try TableOutput.parquetColumns(csv: csv, textColumns: textColumns, file: path)
            try stageStreaming(to: path) { write in
                try withoutActuallyEscaping(write) { write in
                    let w = try ParquetWriter(schema: columns.map { ($0.name, $0.type) }, options: TableOutput.writerOptions(rowGroupRows: rowGroupRows)) { try write(Data($0)) }
                    try w.write(columns)
                    try w.close()
                }
            }
        }
    }

    public mutating func stageTable(csv: String, to path: String, format: TableFormat? = nil,
                                    textColumns: Set<String> = TableOutput.textColumns, rowGroupRows: Int? = nil) throws {
        try stageTable(csv: Data(csv.utf8), to: path, format: format, textColumns: textColumns, rowGroupRows: rowGroupRows)
    }
}
