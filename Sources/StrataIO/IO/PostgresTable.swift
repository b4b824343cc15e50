import Foundation
import StrataCore
import StrataParquet
import StrataPostgres

/// A PostgreSQL table or query read as a `ColumnarTable`: `postgresql://...?table=schema.name`
/// or `...?query=SELECT...` (`PostgresURL`). Rows stream through `COPY (SELECT the selected
/// columns ...) TO STDOUT` (text format), never the whole result in memory: a row group is a batch
/// of `batchRows` rows. Only the columns a reader selects are sent by the server.
///
/// Types map to Parquet's, so every typed reader treats a PostgreSQL column as it treats the same
/// Parquet column: boolean -> BOOLEAN; smallint, integer -> INT32; bigint, oid -> INT64; real ->
/// FLOAT; double precision, numeric, money-free numerics -> DOUBLE; date -> DATE; timestamp ->
/// TIMESTAMP(micros); timestamptz -> TIMESTAMP(micros, UTC); arrays -> unsupported (named in
/// errors, skipped when not selected); every other type (text, varchar, char, uuid, json, enums,
/// money, time, interval...) -> a string of its text form. NULL is a null (a missing value).
///
/// Determinism: a table is read in its physical order with synchronized scans off; a query's
/// row order is the query's (give it an ORDER BY when results must be repeatable after the table
/// is rewritten). Each pass (`head`, then `forEachRowGroup`) runs the query again.
public final class PostgresTable: ColumnarTable {
    public let path: String
    public let columns: [ParquetColumnInfo]
    let url: PostgresURL
    /// The rows, as SQL (`SELECT * FROM "schema"."name"` or the query without a final semicolon).
    let source: String
    private var observer: ((UnsafeRawBufferPointer) -> Void)?
    /// Rows per row group (batch).
    public var batchRows = 65_536

    /// Connects and describes the table or query (no rows read).
    /// - Throws: `StrataError.invalidArgument` for a URL with neither `table=` nor `query=`,
    ///   `.unreadable` for a connection or SQL error (one line, password masked).
    public init(url text: String) throws {
        url = try PostgresURL.parsed(text)
        let url = url
        path = url.description
        let source: String
        if let t = url.table {
            source = "SELECT * FROM \(t.sql)"
        } else if let q = url.query {
            var q = q.trimmingCharacters(in: .whitespacesAndNewlines)
            while q.hasSuffix(";") { q = String(q.dropLast()).trimmingCharacters(in: .whitespacesAndNewlines) }
            source = q
        } else {
            throw StrataError.invalidArgument("\(url): name the rows with ?table=schema.name or ?query=SELECT... (percent-encoded), or a job file's {url, query}")
        }
        self.source = source
        let fields = try Self.withConnection(url) { try $0.describe(source) }
        var seen = Set<String>()
        for f in fields where !seen.insert(f.name).inserted {
            throw StrataError.badData(file: url.description, line: nil, column: f.name, message: "column name appears twice in the result; rename one (AS)")
        }
        columns = fields.map(PostgresTable.info)
        guard !columns.isEmpty else { throw StrataError.badData(file: url.description, line: nil, column: nil, message: "the result has no columns") }
    }

    /// A connection for one statement; libpq and SQL errors become `StrataError.unreadable`.
    static func withConnection<T>(_ url: PostgresURL, _ body: (PostgresConnection) throws -> T) throws -> T {
        do {
            let c = try PostgresConnection(url: url)
            defer { c.close() }
            return try body(c)
        } catch let e as PostgresError {
            throw StrataError.unreadable(path: url.description, reason: Self.reason(e, url))
        }
    }

    static func reason(_ e: PostgresError, _ url: PostgresURL) -> String {
        let prefix = PostgresURL.mask(url.connection) + ": "
        return e.message.hasPrefix(prefix) ? String(e.message.dropFirst(prefix.count)) : e.message
    }

    /// PostgreSQL type OIDs (`pg_type.oid`, stable across versions) to Parquet's types.
    static func info(_ f: PostgresConnection.Field) -> ParquetColumnInfo {
        switch f.typeOID {
        case 16: return ParquetColumnInfo(name: f.name, physicalType: .boolean, kind: .none)
        case 21: return ParquetColumnInfo(name: f.name, physicalType: .int32, kind: .integer(bits: 16, signed: true))
        case 23: return ParquetColumnInfo(name: f.name, physicalType: .int32, kind: .integer(bits: 32, signed: true))
        case 20: return ParquetColumnInfo(name: f.name, physicalType: .int64, kind: .integer(bits: 64, signed: true))
        case 26: return ParquetColumnInfo(name: f.name, physicalType: .int64, kind: .integer(bits: 64, signed: true))
        case 700: return ParquetColumnInfo(name: f.name, physicalType: .float, kind: .none)
        case 1700 where f.typeModifier >= 4 && (f.typeModifier - 4) & 0xFFFF == 0 && (f.typeModifier - 4) >> 16 <= 18:
            // numeric(p, 0), p <= 18: exact integers (ids stay `1001`, not `1001.0`).
            return ParquetColumnInfo(name: f.name, physicalType: .int64, kind: .integer(bits: 64, signed: true))
        case 701, 1700: return ParquetColumnInfo(name: f.name, physicalType: .double, kind: .none)
        case 1082: return ParquetColumnInfo(name: f.name, physicalType: .int32, kind: .date)
        case 1114: return ParquetColumnInfo(name: f.name, physicalType: .int64, kind: .timestamp(unit: .micros, utc: false))
        case 1184: return ParquetColumnInfo(name: f.name, physicalType: .int64, kind: .timestamp(unit: .micros, utc: true))
        case 1000, 1005, 1007, 1016, 1021, 1022, 1009, 1015, 1014, 1182, 1115, 1185, 1231, 199, 3807, 2951:
            return ParquetColumnInfo(name: f.name, physicalType: .byteArray, kind: .string,
                                     unsupported: "column '\(f.name)' is an array; Strata reads flat columns only (unnest it in the query)")
        default: return ParquetColumnInfo(name: f.name, physicalType: .byteArray, kind: .string)
        }
    }

    public func observeInput(_ observe: @escaping (UnsafeRawBufferPointer) -> Void) throws { observer = observe }

    public func forEachRowGroup(columns indices: [Int], _ body: (_ source: String, _ group: Int, _ rowOffset: Int, [ParquetColumn]) throws -> Void) throws {
        try stream(columns: indices, limit: nil, observe: observer, body)
    }

    public func head(columns indices: [Int], limit: Int) throws -> [ParquetColumn] {
        var out: [ParquetColumn]? = nil
        try stream(columns: indices, limit: limit, observe: nil) { _, _, _, cols in if out == nil { out = cols } }
        return out ?? indices.map { ParquetColumn(info: columns[$0], values: ParquetValues.empty(columns[$0].physicalType), valid: nil) }
    }

    /// Runs the COPY of the selected columns and hands out batches of `batchRows` rows.
    private func stream(columns indices: [Int], limit: Int?, observe: ((UnsafeRawBufferPointer) -> Void)?,
                        _ body: (_ source: String, _ group: Int, _ rowOffset: Int, [ParquetColumn]) throws -> Void) throws {
        let list = indices.isEmpty ? "1" : indices.map { QualifiedName.quote(columns[$0].name) }.joined(separator: ", ")
        let sql = "COPY (SELECT \(list) FROM (\n\(source)\n) AS strata_source\(limit.map { " LIMIT \($0)" } ?? "")) TO STDOUT"
        let infos = indices.map { columns[$0] }
        var batch = infos.map(ColumnBuilder.init)
        var rows = 0, offset = 0, group = 0
        var scratch: [UInt8] = [], number: [CChar] = []
        func flush() throws {
            let cols = batch.map { $0.column() }
            try body(path, group, offset, cols)
            offset += rows
            rows = 0
            group += 1
            batch = infos.map(ColumnBuilder.init)
        }
        var failure: StrataError? = nil
        do {
            try Self.withConnection(url) { c in
                try c.execute("SET synchronize_seqscans = off")
                try c.copyOut(sql) { row in
                    observe?(UnsafeRawBufferPointer(row))
                    do {
                        var count = 0
                        try CopyText.fields(row, scratch: &scratch) { j, value in
                            guard j < batch.count else { return }
                            try batch[j].append(value, number: &number)
                            count += 1
                        }
                        guard count == batch.count || indices.isEmpty else { throw ColumnBuilder.Bad("the row has \(count) fields, not \(batch.count)", column: nil) }
                    } catch let e as ColumnBuilder.Bad {
                        failure = .badData(file: path, line: nil, column: e.column.map { batch[$0].info.name }, message: "row \(offset + rows + 1): " + e.message)
                        throw e
                    }
                    rows += 1
                    if rows == batchRows { try flush() }
                }
            }
        } catch is ColumnBuilder.Bad {
            throw failure!
        }
        if rows > 0 || group == 0 { try flush() }
    }
}

/// One column of a batch being read from COPY text.
struct ColumnBuilder {
    struct Bad: Error {
        var message: String
        var column: Int?
        init(_ message: String, column: Int?) { self.message = message; self.column = column }
    }

    let info: ParquetColumnInfo
    var values: ParquetValues
    var valid: [Bool] = []
    var nulls = 0

    init(_ info: ParquetColumnInfo) {
        self.info = info
        values = ParquetValues.empty(info.physicalType)
    }

    func column() -> ParquetColumn { ParquetColumn(info: info, values: values, valid: nulls > 0 ? valid : nil) }

    mutating func append(_ v: UnsafeBufferPointer<UInt8>?, number: inout [CChar]) throws {
        valid.append(v != nil)
        if v == nil { nulls += 1 }
        let b = v ?? UnsafeBufferPointer(start: nil, count: 0)
        func bad(_ what: String) -> Bad { Bad("'\(String(decoding: b.prefix(40), as: UTF8.self))' is not \(what)", column: nil) }
        switch values {
        case var .boolean(a):
            values = .int32([])
            a.append(v != nil && b.count >= 1 && b[0] == UInt8(ascii: "t"))
            values = .boolean(a)
        case var .int32(a):
            values = .int32([])
            if v == nil { a.append(0) } else if info.kind == .date {
                // infinity, -infinity and BC dates: a null (a bad row in an order log, a missing value
                // in a customer table), as an unreadable date cell is in a CSV.
                if let d = TableOutput.isoDay(String(decoding: b, as: UTF8.self)) { a.append(d) } else { a.append(0); valid[valid.count - 1] = false; nulls += 1 }
            } else {
                guard let x = Self.integer(b), let y = Int32(exactly: x) else { throw bad("an integer") }
                a.append(y)
            }
            values = .int32(a)
        case var .int64(a):
            values = .int32([])
            if v == nil { a.append(0) } else if case .timestamp = info.kind {
                if let t = Self.timestampMicros(b) { a.append(t) } else { a.append(0); valid[valid.count - 1] = false; nulls += 1 }
            } else {
                guard let x = Self.integer(b) else { throw bad("an integer") }
                a.append(x)
            }
            values = .int64(a)
        case var .float(a):
            values = .int32([])
            if v == nil { a.append(0) } else { guard let x = Self.double(b, &number) else { throw bad("a number") }; a.append(Float(x)) }
            values = .float(a)
        case var .double(a):
            values = .int32([])
            if v == nil { a.append(0) } else { guard let x = Self.double(b, &number) else { throw bad("a number") }; a.append(x) }
            values = .double(a)
        case var .bytes(a):
            values = .int32([])
            a.append(b)
            values = .bytes(a)
        }
    }

    static func integer(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0, neg = false
        if i < b.count && (b[i] == UInt8(ascii: "-") || b[i] == UInt8(ascii: "+")) { neg = b[i] == UInt8(ascii: "-"); i += 1 }
        guard i < b.count else { return nil }
        var x: Int64 = 0
        while i < b.count {
            let d = Int64(b[i]) - 48
            guard (0...9).contains(d) else { return nil }
            let (m, o1) = x.multipliedReportingOverflow(by: 10)
            let (s, o2) = neg ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            guard !o1 && !o2 else { return nil }
            x = s
            i += 1
        }
        return x
    }

    static func double(_ b: UnsafeBufferPointer<UInt8>, _ scratch: inout [CChar]) -> Double? {
        scratch.removeAll(keepingCapacity: true)
        for c in b { scratch.append(CChar(bitPattern: c)) }
        scratch.append(0)
        return scratch.withUnsafeBufferPointer { p -> Double? in
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtod(p.baseAddress!, &end)
            guard let end, end - UnsafeMutablePointer(mutating: p.baseAddress!) == b.count, b.count > 0 else { return nil }
            return v
        }
    }

    /// Microseconds since 1970-01-01 UTC of `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]]` (the
    /// ISO output of timestamp and, in a UTC session, timestamptz).
    static func timestampMicros(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard b.count >= 19, b[10] == UInt8(ascii: " "),
              let day = TableOutput.isoDay(String(decoding: UnsafeBufferPointer(rebasing: b[0..<10]), as: UTF8.self)) else { return nil }
        func two(_ i: Int) -> Int? {
            guard i + 1 < b.count, (48...57).contains(b[i]), (48...57).contains(b[i + 1]) else { return nil }
            return Int(b[i] - 48) * 10 + Int(b[i + 1] - 48)
        }
        guard let h = two(11), b[13] == UInt8(ascii: ":"), let m = two(14), b[16] == UInt8(ascii: ":"), let s = two(17) else { return nil }
        var micros = (Int64(day) * 86_400 + Int64(h * 3600 + m * 60 + s)) * 1_000_000
        var i = 19
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            var frac: Int64 = 0, digits = 0
            while i < b.count, (48...57).contains(b[i]) { if digits < 6 { frac = frac * 10 + Int64(b[i] - 48); digits += 1 }; i += 1 }
            while digits < 6 { frac *= 10; digits += 1 }
            micros += frac
        }
        if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) {
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = two(i + 1) else { return nil }
            var offset = oh * 3600
            i += 3
            if i < b.count && b[i] == UInt8(ascii: ":") { guard let om = two(i + 1) else { return nil }; offset += om * 60; i += 3 }
            if i < b.count && b[i] == UInt8(ascii: ":") { guard let os = two(i + 1) else { return nil }; offset += os; i += 3 }
            micros -= sign * Int64(offset) * 1_000_000
        }
        return i == b.count ? micros : nil
    }
}
