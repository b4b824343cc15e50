import Foundation

/// A PostgreSQL source or sink as Strata's options name it: a libpq connection URI plus Strata's
/// own query parameters, which are removed before libpq sees the URI.
///
///     postgresql://[user[:password]@][host][:port][/dbname][?param=value&...]
///
/// Strata's parameters: `table=schema.name` (or `name`: the search path's schema), `query=SELECT ...`
/// (percent-encoded; a source only; instead of `table`), `password_env=VAR` (the password is read
/// from the environment variable VAR). Every other parameter (`sslmode`, `connect_timeout`, ...)
/// goes to libpq unchanged, and so do the standard `PG*` environment variables and `~/.pgpass`.
/// Source: PostgreSQL documentation, "Connection URIs" (libpq, section 34.1.1).
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// The URI libpq connects with (Strata's parameters removed; the password, if written, kept).
    public var connection: String
    /// `table=`: the table read or written.
    public var table: QualifiedName?
    /// `query=`: the rows read (a source only).
    public var query: String?
    /// `password_env=`: the environment variable holding the password.
    public var passwordEnv: String?

    /// True for `postgresql://...` and `postgres://...`.
    public static func isURL(_ s: String) -> Bool {
        let l = s.lowercased()
        return l.hasPrefix("postgresql://") || l.hasPrefix("postgres://")
    }

    /// - Throws: `PostgresError` for a value that is not such a URI, both or neither of `table`
    ///   and `query`... (checked by the caller: a sink needs `table`, a source either).
    public init(_ s: String) throws {
        guard Self.isURL(s) else { throw PostgresError("'\(s)' is not a postgresql:// URL") }
        var base = s
        var params: [(String, String)] = []
        if let q = s.firstIndex(of: "?") {
            base = String(s[..<q])
            for part in s[s.index(after: q)...].split(separator: "&", omittingEmptySubsequences: true) {
                let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0])
                let raw = kv.count > 1 ? String(kv[1]) : ""
                guard let value = raw.removingPercentEncoding else { throw PostgresError("\(Self.mask(s)): parameter \(key) is not valid percent-encoding") }
                params.append((key, value))
            }
        }
        var rest: [String] = []
        for (k, v) in params {
            switch k {
            case "table":
                guard !v.isEmpty else { throw PostgresError("\(Self.mask(s)): table= is empty") }
                table = try QualifiedName(v)
            case "query":
                guard !v.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw PostgresError("\(Self.mask(s)): query= is empty") }
                query = v
            case "password_env": passwordEnv = v
            default:
                rest.append(k + "=" + (v.addingPercentEncoding(withAllowedCharacters: Self.valueAllowed) ?? v))
            }
        }
        if table != nil && query != nil { throw PostgresError("\(Self.mask(s)): give table= or query=, not both") }
        connection = rest.isEmpty ? base : base + "?" + rest.joined(separator: "&")
    }

    /// The URL with Strata's parameters put back, for a source read with `query` (job files'
    /// `{url, query, password_env}` mappings become this one string).
    public static func compose(url: String, query: String?, table: String?, passwordEnv: String?) -> String {
        var extra: [String] = []
        if let table { extra.append("table=" + (table.addingPercentEncoding(withAllowedCharacters: valueAllowed) ?? table)) }
        if let query { extra.append("query=" + (query.addingPercentEncoding(withAllowedCharacters: valueAllowed) ?? query)) }
        if let passwordEnv { extra.append("password_env=" + passwordEnv) }
        guard !extra.isEmpty else { return url }
        return url + (url.contains("?") ? "&" : "?") + extra.joined(separator: "&")
    }

    static let valueAllowed: CharacterSet = {
        var c = CharacterSet.urlQueryAllowed
        c.remove(charactersIn: "&=+#%")
        return c
    }()

    /// The URL as printed and recorded (`run.json`): a password written in it replaced by `***`,
    /// a query shortened to its first 60 characters.
    public var description: String {
        var s = Self.mask(connection)
        if let table { s += (s.contains("?") ? "&" : "?") + "table=" + table.written }
        if let query {
            let q = query.replacingOccurrences(of: "\n", with: " ")
            s += (s.contains("?") ? "&" : "?") + "query=" + (q.count > 60 ? q.prefix(60) + "..." : q)
        }
        return s
    }

    /// A password written in a `postgresql://` URL moved out of it: into the environment variable
    /// `STRATA_PGPASSWORD_<hash of the masked URL>` of this process, the URL naming it with
    /// `password_env=` instead. The CLI applies it to every argument and job-file path first, so
    /// no message, JSON output or `run.json` can carry the password. Other strings are returned
    /// unchanged.
    public static func hidingPassword(_ s: String) -> String {
        // `--customers=postgresql://...`: the value after the first `=`.
        if s.hasPrefix("--"), let eq = s.firstIndex(of: "="), isURL(String(s[s.index(after: eq)...])) {
            return String(s[...eq]) + hidingPassword(String(s[s.index(after: eq)...]))
        }
        guard isURL(s) else { return s }
        let (stripped, password) = withoutPassword(s)
        guard let password else { return s }
        // One variable per server and user (not per table), so a run's tables share a connection.
        let server = stripped.split(separator: "?", maxSplits: 1).first.map(String.init) ?? stripped
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in server.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        let name = "STRATA_PGPASSWORD_" + String(hash, radix: 16, uppercase: true)
        setenv(name, password, 1)
        return stripped + (stripped.contains("?") ? "&" : "?") + "password_env=" + name
    }

    /// `s` without its password (the `user:password@` part's, or a `password=` parameter's,
    /// percent-decoded), and that password.
    static func withoutPassword(_ s: String) -> (String, String?) {
        var out = s, password: String? = nil
        if let scheme = out.range(of: "://") {
            let afterScheme = out[scheme.upperBound...]
            let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            let authority = afterScheme[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                let raw = String(authority[authority.index(after: colon)..<at])
                password = raw.removingPercentEncoding ?? raw
                out = String(out[..<colon]) + String(out[at...])
            }
        }
        if let q = out.firstIndex(of: "?") {
            var kept: [Substring] = []
            for part in out[out.index(after: q)...].split(separator: "&") {
                if part.hasPrefix("password=") {
                    let raw = String(part.dropFirst(9))
                    password = raw.removingPercentEncoding ?? raw
                } else { kept.append(part) }
            }
            out = String(out[..<q]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
        }
        return (out, password)
    }

    /// `s` with any password (`user:password@`, `password=`) replaced by `***`.
    public static func mask(_ s: String) -> String {
        guard s.contains("://") else { return s }
        var out = s
        if let scheme = out.range(of: "://") {
            let afterScheme = out[scheme.upperBound...]
            let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            let authority = afterScheme[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out = String(out[..<authority.index(after: colon)]) + "***" + String(out[at...])
            }
        }
        if let q = out.firstIndex(of: "?") {
            let parts = out[out.index(after: q)...].split(separator: "&").map { $0.hasPrefix("password=") ? "password=***" : String($0) }
            out = String(out[..<q]) + "?" + parts.joined(separator: "&")
        }
        return out
    }
}

/// A table name, optionally schema-qualified (`schema.name`), written into SQL only as quoted
/// identifiers (`"schema"."name"`, embedded quotes doubled): nothing from a URL or from data is
/// interpolated into SQL otherwise.
public struct QualifiedName: Sendable, Equatable {
    public var schema: String?
    public var name: String

    /// `schema.name` or `name`; a part may be double-quoted to hold a dot (`"my.schema".t`).
    /// - Throws: `PostgresError` for an empty part or more than two parts.
    public init(_ s: String) throws {
        var parts: [String] = []
        var cur = "", quoted = false, i = s.startIndex
        while i < s.endIndex {
            let ch = s[i]
            if ch == "\"" {
                let next = s.index(after: i)
                if quoted && next < s.endIndex && s[next] == "\"" { cur.append("\""); i = s.index(after: next); continue }
                quoted.toggle()
            } else if ch == "." && !quoted {
                parts.append(cur); cur = ""
            } else { cur.append(ch) }
            i = s.index(after: i)
        }
        parts.append(cur)
        guard !quoted, (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw PostgresError("table '\(s)' is not a table name (name or schema.name)")
        }
        schema = parts.count == 2 ? parts[0] : nil
        name = parts.last!
    }

    public init(schema: String?, name: String) { self.schema = schema; self.name = name }

    /// `"schema"."name"` for SQL.
    public var sql: String { (schema.map { Self.quote($0) + "." } ?? "") + Self.quote(name) }

    /// As written: `schema.name`.
    public var written: String { (schema.map { $0 + "." } ?? "") + name }

    /// The same schema, another name.
    public func sibling(_ other: String) -> QualifiedName { QualifiedName(schema: schema, name: other) }

    /// An identifier quoted for SQL.
    public static func quote(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// A one-line PostgreSQL error (connection, SQL, COPY), without any password.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
