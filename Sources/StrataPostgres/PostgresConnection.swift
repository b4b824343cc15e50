import CLibPQ
import Foundation

/// One connection to a PostgreSQL server through libpq (PostgreSQL's own C client, Debian
/// `libpq-dev`): plain statements, result descriptions, and COPY in both directions, streamed.
///
/// Why libpq rather than `vapor/postgres-nio`: libpq has COPY TO STDOUT / FROM STDIN row by row
/// with no event loop, reads `PG*` variables and `~/.pgpass` exactly as `psql` does, and costs
/// nothing to build (a system library), where postgres-nio and SwiftNIO add 2.5-4.5 minutes to
/// every clean build (measured on this machine kind, `env`) for a batch job that holds one
/// connection at a time.
///
/// Sessions are set to `TimeZone = 'UTC'`, `DateStyle = 'ISO, YMD'` and `client_encoding =
/// 'UTF8'`, so dates and timestamps read back as ISO text in UTC, and `application_name` is
/// `strata`. Not thread-safe; one connection per reader or writer.
public final class PostgresConnection {
    private var conn: OpaquePointer?
    /// The URL as shown in messages (password masked).
    public let shown: String

    /// Connects (blocking). The password: written in the URL, else from `url.passwordEnv`'s
    /// environment variable, else libpq's `PGPASSWORD` / `~/.pgpass`.
    /// - Throws: `PostgresError` with libpq's first line (wrong password, no server, unknown
    ///   database), prefixed by the masked URL.
    public init(url: PostgresURL) throws {
        shown = PostgresURL.mask(url.connection)
        var keys = ["dbname", "application_name", "client_encoding"]
        var values = [url.connection, "strata", "UTF8"]
        if let v = url.passwordEnv {
            guard let p = ProcessInfo.processInfo.environment[v] else {
                throw PostgresError("\(shown): password_env names \(v), which is not set")
            }
            keys.append("password"); values.append(p)
        }
        conn = Self.withCStrings(keys) { k in Self.withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let m = conn.map { Self.firstLine(PQerrorMessage($0)) } ?? "out of memory"
            if let c = conn { PQfinish(c) }
            self.conn = nil
            throw PostgresError("\(shown): cannot connect: \(m)")
        }
        try execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET client_min_messages = warning")
    }

    deinit { if let conn { PQfinish(conn) } }

    /// Runs `sql` (one or more statements, no parameters, no result rows kept).
    /// - Throws: `PostgresError` with the server's message.
    public func execute(_ sql: String) throws {
        let r = PQexec(try handle(), sql)
        defer { PQclear(r) }
        let s = PQresultStatus(r)
        guard s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK else { throw error(r) }
    }

    /// The first column of the first row of `sql`'s result (nil: no row or NULL).
    public func scalar(_ sql: String) throws -> String? {
        let r = PQexec(try handle(), sql)
        defer { PQclear(r) }
        guard PQresultStatus(r) == PGRES_TUPLES_OK else { throw error(r) }
        guard PQntuples(r) > 0, PQnfields(r) > 0, PQgetisnull(r, 0, 0) == 0 else { return nil }
        return String(cString: PQgetvalue(r, 0, 0))
    }

    /// A result column: its name and type OID (`pg_type.oid`).
    public struct Field: Sendable, Equatable {
        public var name: String
        public var typeOID: UInt32
        /// `atttypmod`: numeric's ((precision << 16) | scale) + 4, varchar's length + 4; -1 when none.
        public var typeModifier: Int = -1
    }

    /// The columns `query` would return, without running it (prepared, then described).
    /// - Throws: `PostgresError` (a syntax error, an unknown table or column).
    public func describe(_ query: String) throws -> [Field] {
        let c = try handle()
        let p = PQprepare(c, "", query, 0, nil)
        defer { PQclear(p) }
        guard PQresultStatus(p) == PGRES_COMMAND_OK else { throw error(p) }
        let d = PQdescribePrepared(c, "")
        defer { PQclear(d) }
        guard PQresultStatus(d) == PGRES_COMMAND_OK else { throw error(d) }
        return (0..<PQnfields(d)).map { Field(name: String(cString: PQfname(d, $0)), typeOID: UInt32(PQftype(d, $0)), typeModifier: Int(PQfmod(d, $0))) }
    }

    /// Runs `COPY ... TO STDOUT` (`sql`) and calls `row` with each row's bytes as the server sends
    /// them (text format: fields separated by tabs, a final newline), one at a time. Memory: one
    /// row. If `row` throws, the connection is closed (the server cancels the COPY).
    public func copyOut(_ sql: String, row: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let c = try handle()
        let r = PQexec(c, sql)
        let s = PQresultStatus(r)
        guard s == PGRES_COPY_OUT else { defer { PQclear(r) }; throw error(r) }
        PQclear(r)
        while true {
            var buf: UnsafeMutablePointer<CChar>? = nil
            let n = PQgetCopyData(c, &buf, 0)
            if n > 0, let buf {
                defer { PQfreemem(buf) }
                do {
                    try buf.withMemoryRebound(to: UInt8.self, capacity: Int(n)) { try row(UnsafeBufferPointer(start: $0, count: Int(n))) }
                } catch {
                    close()
                    throw error
                }
            } else if n == -1 {
                break
            } else {
                throw PostgresError("\(shown): COPY failed: \(Self.firstLine(PQerrorMessage(c)))")
            }
        }
        try drainResults()
    }

    /// Runs `COPY ... FROM STDIN` (`sql`); `body` gets a `send` function taking bytes in COPY
    /// text format (whole rows or parts, in order). If `body` throws, the COPY is aborted (the
    /// server discards every row) and the error rethrown.
    public func copyIn(_ sql: String, _ body: (_ send: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let c = try handle()
        let r = PQexec(c, sql)
        let s = PQresultStatus(r)
        guard s == PGRES_COPY_IN else { defer { PQclear(r) }; throw error(r) }
        PQclear(r)
        do {
            try body { bytes in
                guard bytes.count > 0 else { return }
                let ok = PQputCopyData(c, bytes.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
                if ok != 1 { throw PostgresError("\(self.shown): COPY failed: \(Self.firstLine(PQerrorMessage(c)))") }
            }
        } catch {
            _ = PQputCopyEnd(c, "aborted by strata")
            try? drainResults()
            throw error
        }
        guard PQputCopyEnd(c, nil) == 1 else { throw PostgresError("\(shown): COPY failed: \(Self.firstLine(PQerrorMessage(c)))") }
        try drainResults()
    }

    /// Closes the connection (an open transaction is rolled back by the server).
    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    private func drainResults() throws {
        let c = try handle()
        var failure: PostgresError? = nil
        while let r = PQgetResult(c) {
            let s = PQresultStatus(r)
            if s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && failure == nil { failure = error(r) }
            PQclear(r)
        }
        if let failure { throw failure }
    }

    private func handle() throws -> OpaquePointer {
        guard let conn else { throw PostgresError("\(shown): the connection is closed") }
        return conn
    }

    private func error(_ r: OpaquePointer?) -> PostgresError {
        let m = r.flatMap { PQresultErrorMessage($0) }.map { Self.firstLine($0) } ?? ""
        return PostgresError("\(shown): " + (m.isEmpty ? Self.firstLine(PQerrorMessage(conn)) : m))
    }

    static func firstLine(_ p: UnsafePointer<CChar>?) -> String {
        guard let p else { return "unknown error" }
        let s = String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines)
        let first = s.split(separator: "\n").first.map(String.init) ?? s
        return first.hasPrefix("ERROR:  ") ? String(first.dropFirst(8)) : (first.hasPrefix("FATAL:  ") ? String(first.dropFirst(8)) : first)
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let dup = strings.map { strdup($0) }
        defer { for p in dup { free(p) } }
        var ptrs: [UnsafePointer<CChar>?] = dup.map { UnsafePointer($0) }
        ptrs.append(nil)
        return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// COPY text format (PostgreSQL documentation, COPY, "Text Format"): rows end in a newline,
/// fields are separated by tabs, `\N` is NULL, and backslash escapes `\\ \t \n \r \b \f \v`,
/// octal `\ddd` and hex `\xhh` stand for bytes.
public enum CopyText {
    /// Calls `field` with each field of one row (`row` without or with its final newline): the
    /// field's decoded bytes, or nil for NULL. `scratch` is reused for fields holding escapes.
    public static func fields(_ row: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8],
                              _ field: (_ index: Int, _ value: UnsafeBufferPointer<UInt8>?) throws -> Void) rethrows {
        var end = row.count
        if end > 0 && row[end - 1] == 0x0A { end -= 1 }
        var start = 0, index = 0
        while true {
            var i = start, escaped = false
            while i < end && row[i] != 0x09 { if row[i] == 0x5C { escaped = true; i += 1 }; i += 1 }
            i = min(i, end)
            let len = i - start
            if len == 2 && row[start] == 0x5C && row[start + 1] == 0x4E {
                try field(index, nil)
            } else if !escaped {
                try field(index, UnsafeBufferPointer(rebasing: row[start..<i]))
            } else {
                decode(UnsafeBufferPointer(rebasing: row[start..<i]), into: &scratch)
                try scratch.withUnsafeBufferPointer { try field(index, $0) }
            }
            index += 1
            if i >= end { break }
            start = i + 1
        }
    }

    static func decode(_ s: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var i = 0
        while i < s.count {
            let b = s[i]
            guard b == 0x5C, i + 1 < s.count else { out.append(b); i += 1; continue }
            let e = s[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = Int(e - 48), n = 1
                while n < 3, i < s.count, (48...55).contains(s[i]) { v = v * 8 + Int(s[i] - 48); i += 1; n += 1 }
                out.append(UInt8(truncatingIfNeeded: v))
            case UInt8(ascii: "x"):
                var v = 0, n = 0
                while n < 2, i < s.count, let h = hex(s[i]) { v = v * 16 + h; i += 1; n += 1 }
                if n == 0 { out.append(e) } else { out.append(UInt8(v)) }
            default: out.append(e)
            }
        }
    }

    static func hex(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: return Int(b - 48)
        case 65...70: return Int(b - 55)
        case 97...102: return Int(b - 87)
        default: return nil
        }
    }

    /// Appends `value` escaped for a COPY text field (backslash, tab, newline, carriage return).
    public static func appendEscaped<S: Sequence>(_ value: S, to out: inout [UInt8]) where S.Element == UInt8 {
        for b in value {
            switch b {
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            default: out.append(b)
            }
        }
    }
}
