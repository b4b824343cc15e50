import Foundation
import StrataCore
import StrataParquet
import StrataPostgres

/// A table output bound for PostgreSQL: the target (`postgresql://...?table=schema.name`), its
/// typed columns (`TableOutput`'s typing, as for Parquet) and which string columns are JSON.
public struct PostgresTableOutput {
    public var url: PostgresURL
    public var columns: [ParquetWriteColumn]
    /// String columns written as `jsonb`.
    public var jsonColumns: Set<String>

    public init(url: PostgresURL, columns: [ParquetWriteColumn], jsonColumns: Set<String> = []) {
        self.url = url
        self.columns = columns
        self.jsonColumns = jsonColumns
    }
}

/// Replaces PostgreSQL tables atomically, in one transaction per server and user (the tables of
/// one run on one server commit together). The target is looked up where it is (an unqualified
/// name: in the schema search_path finds it in; a new table: in the first schema of search_path).
/// When it already has exactly the output's columns and types, it is TRUNCATEd and the rows are
/// COPYed into it, so its grants, indexes, comments and dependent views stay. Otherwise the rows go
/// into a new table `NAME__strata_new` in the same schema, the old table is dropped and the new one
/// renamed into place (a schema change: grants and indexes are not carried over; a dependent view
/// makes the DROP fail, and nothing changes). Until COMMIT nothing is visible to other sessions, so
/// a failed or killed run (the server rolls back when the connection drops) leaves every previous
/// table intact, and a reader sees the old rows or the new ones, never a mix (TRUNCATE and DROP
/// hold an exclusive lock to the commit).
///
/// Column types: int64 -> bigint, double -> double precision, float -> real, boolean ->
/// boolean, date -> date, string -> text (jsonb for `jsonColumns`); every column nullable.
/// Names are quoted identifiers; values travel only through COPY, never interpolated into SQL.
/// Memory: the rows in 1 MB COPY buffers.
public enum PostgresTableWriter {
    /// Writes `tables` (grouped by connection URI, each group one transaction, in order).
    /// - Throws: `StrataError.unwritable` naming the masked URL and the server's message.
    public static func replace(_ tables: [PostgresTableOutput]) throws {
        var groups: [(String, [PostgresTableOutput])] = []
        for t in tables {
            if let i = groups.firstIndex(where: { $0.0 == t.url.connection && $0.1[0].url.passwordEnv == t.url.passwordEnv }) { groups[i].1.append(t) }
            else { groups.append((t.url.connection, [t])) }
        }
        for (_, group) in groups {
            let url = group[0].url
            do {
                let c = try PostgresConnection(url: url)
                defer { c.close() }
                try c.execute("BEGIN")
                for t in group { try write(t, on: c) }
                FailurePoint.hit("postgres:before-commit")
                try c.execute("COMMIT")
            } catch let e as PostgresError {
                throw StrataError.unwritable(path: url.description, reason: PostgresTable.reason(e, url) + "; the table was not changed")
            }
        }
    }

    static func sqlType(_ c: ParquetWriteColumn, json: Bool) -> String {
        switch c.type {
        case .int64: return "bigint"
        case .double: return "double precision"
        case .float: return "real"
        case .boolean: return "boolean"
        case .date: return "date"
        case .string: return json ? "jsonb" : "text"
        }
    }

    static func write(_ t: PostgresTableOutput, on c: PostgresConnection) throws {
        guard let named = t.url.table else { throw PostgresError("\(t.url): name the table to write with ?table=schema.name") }
        // The schema the target is in now (an unqualified name: as search_path finds it), else the
        // first schema of search_path: staging and target are then always in one schema.
        let schema = try named.schema ?? c.scalar("SELECT n.nspname FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = to_regclass(\(literal(named.sql)))")
            ?? c.scalar("SELECT current_schema()")
        guard let schema else { throw PostgresError("\(t.url): no schema to create \(named.written) in (search_path is empty); write schema.name") }
        let target = QualifiedName(schema: schema, name: named.name)
        let defs = t.columns.map { QualifiedName.quote($0.name) + " " + sqlType($0, json: t.jsonColumns.contains($0.name)) }
        let list = t.columns.map { QualifiedName.quote($0.name) }.joined(separator: ", ")
        // Same columns as the table there: TRUNCATE and COPY into it (grants, indexes, comments
        // and dependent views stay). Otherwise a new table swapped in (drop + rename).
        let existing = try c.scalar("""
            SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), E'\\n' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = to_regclass(\(literal(target.sql))) AND attnum > 0 AND NOT attisdropped
            """)
        let wanted = t.columns.map { $0.name + " " + sqlType($0, json: t.jsonColumns.contains($0.name)) }.joined(separator: "\n")
        if existing == wanted {
            try c.execute("TRUNCATE \(target.sql)")
            try copy(t, into: target, list: list, on: c)
            return
        }
        var stagingName = target.name + "__strata_new"
        while stagingName.utf8.count > 63 { stagingName.removeFirst() }
        let staging = target.sibling(stagingName)
        try c.execute("DROP TABLE IF EXISTS \(staging.sql); CREATE TABLE \(staging.sql) (\(defs.joined(separator: ", ")))")
        try copy(t, into: staging, list: list, on: c)
        try c.execute("DROP TABLE IF EXISTS \(target.sql); ALTER TABLE \(staging.sql) RENAME TO \(QualifiedName.quote(target.name))")
    }

    /// A SQL string literal.
    static func literal(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    /// The rows by `COPY ... FROM STDIN` in 1 MB buffers.
    static func copy(_ t: PostgresTableOutput, into table: QualifiedName, list: String, on c: PostgresConnection) throws {
        let rows = t.columns.first?.values.count ?? 0
        try c.copyIn("COPY \(table.sql) (\(list)) FROM STDIN") { send in
            var buf: [UInt8] = []
            buf.reserveCapacity(1 << 20)
            for i in 0..<rows {
                for (j, col) in t.columns.enumerated() {
                    if j > 0 { buf.append(0x09) }
                    appendField(col, i, to: &buf)
                }
                buf.append(0x0A)
                if buf.count >= 1 << 20 {
                    try buf.withUnsafeBytes { try send($0) }
                    buf.removeAll(keepingCapacity: true)
                }
            }
            try buf.withUnsafeBytes { try send($0) }
            // Tests kill the process here: rows sent, COPY not ended, transaction open.
            FailurePoint.hit("postgres:copy")
        }
    }

    /// One value in COPY text format (`\N` for a null).
    static func appendField(_ c: ParquetWriteColumn, _ i: Int, to buf: inout [UInt8]) {
        if let v = c.valid, !v[i] { buf.append(0x5C); buf.append(UInt8(ascii: "N")); return }
        switch c.values {
        case let .int64(a): buf.append(contentsOf: String(a[i]).utf8)
        case let .int32(a):
            if c.type == .date { buf.append(contentsOf: ParquetColumn.isoDate(Int(a[i])).utf8) } else { buf.append(contentsOf: String(a[i]).utf8) }
        case let .double(a): buf.append(contentsOf: number(a[i]).utf8)
        case let .float(a): buf.append(contentsOf: number(Double(a[i])).utf8)
        case let .boolean(a): buf.append(a[i] ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case let .bytes(b): CopyText.appendEscaped(b[i], to: &buf)
        }
    }

    /// Shortest round-trip text, with PostgreSQL's spellings of the non-finite values.
    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
        return v.description
    }
}
