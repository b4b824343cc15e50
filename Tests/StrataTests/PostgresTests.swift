import Foundation
import Testing
@testable import StrataIO
import StrataParquet
import StrataPostgres
import StrataCore

/// The test server: `Scripts/test` starts one (`Scripts/postgres-test-server`) and exports its
/// URL; with `STRATA_REQUIRE_POSTGRES=1` (as `Scripts/test` sets) a missing server is a failure,
/// otherwise (a bare `swift test`) the server tests are skipped.
enum PG {
    static let url = ProcessInfo.processInfo.environment["STRATA_TEST_PG_URL"]
    static let required = ProcessInfo.processInfo.environment["STRATA_REQUIRE_POSTGRES"] == "1"

    /// A fresh schema for one test (tests run in parallel).
    static func schema() throws -> String {
        let name = "t_\(UInt32.random(in: 0...UInt32.max))"
        try PostgresConnection(url: PostgresURL(url!)).execute("CREATE SCHEMA \(name)")
        return name
    }

    static func at(_ table: String) -> String { url! + "?table=" + table }

    static func scalar(_ sql: String) throws -> String? { try PostgresConnection(url: PostgresURL(url!)).scalar(sql) }
}

@Suite struct PostgresURLTests {
    @Test func serverAvailableWhenRequired() {
        #expect(!PG.required || PG.url != nil, "STRATA_REQUIRE_POSTGRES=1 but no STRATA_TEST_PG_URL: run the tests with Scripts/test")
    }

    @Test func parsesStrataParametersAndMasksPassword() throws {
        let u = try PostgresURL("postgresql://ann:s3cr%40t@db.example:6432/shop?sslmode=require&table=crm.customers")
        #expect(u.table == QualifiedName(schema: "crm", name: "customers"))
        #expect(u.connection == "postgresql://ann:s3cr%40t@db.example:6432/shop?sslmode=require")
        #expect(u.description == "postgresql://ann:***@db.example:6432/shop?sslmode=require&table=crm.customers")
        #expect(!u.description.contains("s3cr"))
        let q = try PostgresURL("postgres://h/db?query=SELECT%20a%2C%20b%20FROM%20t%20WHERE%20x%20%3D%201")
        #expect(q.query == "SELECT a, b FROM t WHERE x = 1" && q.table == nil)
        #expect(throws: PostgresError.self) { try PostgresURL("postgresql://h/db?table=a&query=SELECT%201") }
        #expect(throws: PostgresError.self) { try QualifiedName("a.b.c") }
        #expect(try QualifiedName("\"my.schema\".\"odd\"\"name\"").sql == "\"my.schema\".\"odd\"\"name\"")
        #expect(QualifiedName(schema: nil, name: "x; DROP TABLE y").sql == "\"x; DROP TABLE y\"")
        let composed = PostgresURL.compose(url: "postgresql://h/db", query: "SELECT * FROM t WHERE a = 'x&y'", table: nil, passwordEnv: "PW")
        let back = try PostgresURL(composed)
        #expect(back.query == "SELECT * FROM t WHERE a = 'x&y'" && back.passwordEnv == "PW")
    }

    @Test func passwordMovesToTheEnvironment() throws {
        let s = PostgresURL.hidingPassword("postgresql://ann:p%40ss@h:5/db?table=t")
        #expect(!s.contains("p%40ss") && !s.contains("p@ss"))
        let u = try PostgresURL(s)
        #expect(u.passwordEnv?.hasPrefix("STRATA_PGPASSWORD_") == true)
        #expect(ProcessInfo.processInfo.environment[u.passwordEnv!] == "p@ss")
        #expect(PostgresURL.hidingPassword("orders.csv") == "orders.csv")
        #expect(PostgresURL.hidingPassword("postgresql://ann@h/db?table=t") == "postgresql://ann@h/db?table=t")
        // `--opt=URL`, and libpq's `password=` parameter.
        let inline = PostgresURL.hidingPassword("--customers=postgresql://ann:pw1@h/db?table=t")
        #expect(inline.hasPrefix("--customers=postgresql://ann@h/db?table=t&password_env=") && !inline.contains("pw1"))
        let param = PostgresURL.hidingPassword("postgresql://ann@h/db?password=pw2&table=t")
        #expect(!param.contains("pw2") && param.contains("table=t"))
        #expect(PostgresURL.mask("postgresql://ann@h/db?sslmode=require&password=pw3") == "postgresql://ann@h/db?sslmode=require&password=***")
        // One variable per server and user, whatever the table: a run's tables share a transaction.
        let a = try PostgresURL(PostgresURL.hidingPassword("postgresql://ann:pw@h/db?table=a"))
        let b = try PostgresURL(PostgresURL.hidingPassword("postgresql://ann:pw@h/db?table=b"))
        #expect(a.passwordEnv == b.passwordEnv && a.connection == b.connection)
    }

    @Test func copyTextEscapes() {
        var out: [UInt8] = []
        CopyText.appendEscaped(Array("a\tb\nc\\d\re".utf8), to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "a\\tb\\nc\\\\d\\re")
        var scratch: [UInt8] = []
        var fields: [String?] = []
        let row = Array("x\\tz\t\\N\t\\101\\x42\t\n".utf8)
        row.withUnsafeBufferPointer { b in
            CopyText.fields(b, scratch: &scratch) { _, v in fields.append(v.map { String(decoding: $0, as: UTF8.self) }) }
        }
        #expect(fields == ["x\tz", nil, "AB", ""])
    }
}

@Suite(.enabled(if: PG.url != nil, "no test server (STRATA_TEST_PG_URL); Scripts/test starts one"))
struct PostgresServerTests {
    /// Every mapped type, NULLs and text that needs escaping, read through `PostgresTable`.
    @Test func typeMappingAndNulls() throws {
        let s = try PG.schema()
        try PostgresConnection(url: PostgresURL(PG.url!)).execute("""
            CREATE TABLE \(s).t (b boolean, i2 smallint, i4 integer, i8 bigint, r real, d double precision, n numeric(12,2),
                                 dt date, ts timestamp, tz timestamptz, tx text, vc varchar(10), u uuid, arr integer[], nid numeric(10,0), inf date);
            INSERT INTO \(s).t VALUES
              (true, -3, 2147483647, -9223372036854775808, 1.5, 0.1, 12345.67, '2017-01-01', '2017-01-01 11:53:26.5', '2017-01-01 11:53:26+02',
               E'tab\\there\\nnew \\\\ \u{e9}', 'v', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2}', 1001, 'infinity'),
              (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            """)
        let t = try PostgresTable(url: PG.at("\(s).t"))
        #expect(t.names == ["b", "i2", "i4", "i8", "r", "d", "n", "dt", "ts", "tz", "tx", "vc", "u", "arr", "nid", "inf"])
        // numeric(10,0) is an integer (an id reads 1001, not 1001.0); an infinite date is a null.
        let extra = try t.head(columns: [14, 15], limit: 10)
        #expect(t.columns[14].physicalType == .int64 && extra[0].text(0) == "1001" && extra[1].isNull(0))
        #expect(t.columns.map(\.physicalType) == [.boolean, .int32, .int32, .int64, .float, .double, .double, .int32, .int64, .int64, .byteArray, .byteArray, .byteArray, .byteArray, .int64, .int32])
        #expect(t.columns[7].kind == .date && t.columns[9].kind == .timestamp(unit: .micros, utc: true))
        #expect(t.columns[13].unsupported != nil && t.columns[12].unsupported == nil)
        #expect(throws: StrataError.self) { try t.index(of: "arr", option: "--columns") }
        let cols = try t.head(columns: Array(0..<13), limit: 10)
        #expect(cols.allSatisfy { $0.count == 2 && $0.isNull(1) && !$0.isNull(0) })
        #expect(cols[0].text(0) == "true" && cols[1].double(0) == -3 && cols[2].double(0) == 2_147_483_647)
        #expect(cols[3].text(0) == "-9223372036854775808" && cols[4].double(0) == 1.5 && cols[5].double(0) == 0.1 && cols[6].double(0) == 12345.67)
        #expect(cols[7].day(0) == 17167 && cols[7].text(0) == "2017-01-01")
        #expect(cols[8].text(0) == "2017-01-01 11:53:26.5")
        #expect(cols[9].text(0) == "2017-01-01 09:53:26")   // +02 to UTC
        #expect(cols[10].text(0) == "tab\there\nnew \\ \u{e9}" && cols[11].text(0) == "v" && cols[12].text(0) == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    }

    /// 100,000 rows out through `PostgresTableWriter` and back through `PostgresTable` (two
    /// row groups of 65,536): every value and null identical; a second write replaces the table.
    @Test func roundTrip100kRows() throws {
        let s = try PG.schema()
        let n = 100_000
        var rng = SplitMix(seed: 7)
        let ids = (0..<n).map { i in i % 997 == 0 ? nil : "c\(i)\(i % 13 == 0 ? "\t\\x\n" : "")" as String? }
        let xs = (0..<n).map { i in i % 501 == 0 ? nil : Double(rng.next() % 1_000_000) / 7.0 - 5000 }
        let ks = (0..<n).map { i in i % 777 == 0 ? nil : Int64(rng.next() % 1000) - 500 }
        let days = (0..<n).map { Int32(10_000 + $0 % 5000) }
        let cols: [ParquetWriteColumn] = [.strings("id", ids), .doubles("x", xs), .int64s("k", ks),
                                          ParquetWriteColumn(name: "day", type: .date, values: .int32(days))]
        let target = PG.at("\(s).big")
        try PostgresTableWriter.replace([PostgresTableOutput(url: try PostgresURL(target), columns: cols)])
        let t = try PostgresTable(url: target)
        var got: [ParquetColumn] = []
        var groups = 0
        try t.forEachRowGroup(columns: [0, 1, 2, 3]) { _, _, offset, c in
            #expect(offset == groups * 65_536)
            groups += 1
            if got.isEmpty { got = c } else {
                for j in 0..<4 {
                    let before = got[j].valid ?? [Bool](repeating: true, count: got[j].count)
                    try got[j].values.appendValues(c[j].values)
                    got[j].valid = before + (c[j].valid ?? [Bool](repeating: true, count: c[j].count))
                }
            }
        }
        #expect(groups == 2 && got[0].count == n)
        #expect((0..<n).allSatisfy { got[0].text($0) == ids[$0] })
        #expect((0..<n).allSatisfy { got[1].double($0) == xs[$0] })
        #expect((0..<n).allSatisfy { got[2].double($0) == ks[$0].map(Double.init) })
        #expect((0..<n).allSatisfy { got[3].day($0) == Int(days[$0]) })
        try PostgresTableWriter.replace([PostgresTableOutput(url: try PostgresURL(target), columns: [.int64s("only", [1, 2, 3])])])
        #expect(try PG.scalar("SELECT string_agg(\"only\"::text, ',' ORDER BY \"only\") FROM \(s).big") == "1,2,3")
        #expect(try PG.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = '\(s)'") == "1")
    }

    /// Rewriting a table with the same columns keeps what the database hangs on it (an index, a
    /// grant, a dependent view); a write that changes the columns while a view depends on the
    /// table fails after its COPY and rolls back: the previous table intact, no staging table left.
    /// An unqualified name is written in the schema the table is in, not search_path's first.
    @Test func rewritesKeepTheTableAndFailuresLeaveItAlone() throws {
        let s = try PG.schema(), other = try PG.schema()
        let target = PG.at("\(s).seg")
        try PostgresTableWriter.replace([PostgresTableOutput(url: try PostgresURL(target), columns: [.int64s("v", [7, 8])])])
        let c = try PostgresConnection(url: PostgresURL(PG.url!))
        try c.execute("CREATE INDEX seg_v ON \(s).seg (v); CREATE VIEW \(s).v AS SELECT * FROM \(s).seg; COMMENT ON TABLE \(s).seg IS 'kept'")
        try PostgresTableWriter.replace([PostgresTableOutput(url: try PostgresURL(target), columns: [.int64s("v", [1, 2, 3])])])
        #expect(try PG.scalar("SELECT string_agg(v::text, ',' ORDER BY v) FROM \(s).v") == "1,2,3")
        #expect(try PG.scalar("SELECT count(*) FROM pg_indexes WHERE schemaname = '\(s)' AND indexname = 'seg_v'") == "1")
        #expect(try PG.scalar("SELECT obj_description('\(s).seg'::regclass)") == "kept")
        #expect(throws: StrataError.self) {
            try PostgresTableWriter.replace([PostgresTableOutput(url: try PostgresURL(target), columns: [.strings("w", ["x"])])])
        }
        #expect(try PG.scalar("SELECT string_agg(v::text, ',' ORDER BY v) FROM \(s).seg") == "1,2,3")
        #expect(try PG.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = '\(s)'") == "1")
        // Unqualified, with search_path listing another schema first: the table stays in its schema.
        let unqualified = PG.url! + "?options=-csearch_path%3D\(other),\(s)&table=seg"
        try PostgresTableWriter.replace([PostgresTableOutput(url: try PostgresURL(unqualified), columns: [.int64s("v", [9])])])
        #expect(try PG.scalar("SELECT string_agg(v::text, ',') FROM \(s).seg") == "9")
        #expect(try PG.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = '\(other)'") == "0")
    }

    @Test func wrongPasswordAndUnknownTableAreOneLine() throws {
        var u = try PostgresURL(PG.url!)
        u.connection = u.connection.replacingOccurrences(of: "strata-test", with: "wrong")
        let bad = PostgresURL.compose(url: u.connection, query: nil, table: "x", passwordEnv: nil)
        do { _ = try PostgresTable(url: bad); Issue.record("connected with a wrong password") } catch let e as StrataError {
            let m = "\(e)"
            #expect(m.contains("password authentication failed") && !m.contains("\n") && !m.contains("wrong"))
        }
        do { _ = try PostgresTable(url: PG.at("public.no_such_table")); Issue.record("read a missing table") } catch let e as StrataError {
            #expect("\(e)".contains("no_such_table") && "\(e)".contains("does not exist"))
        }
    }
}

/// SplitMix64 (deterministic test data).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
