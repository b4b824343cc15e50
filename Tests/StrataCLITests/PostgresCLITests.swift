import Foundation
import Strata
import Testing

/// PostgreSQL through the binary, against the server `Scripts/test` starts: `segment` from
/// PostgreSQL customers and orders gives the same assignments as from the same data in CSV and
/// writes them (and profiles, features) to tables; a job file's `{url, query}` source; a writer
/// killed mid-COPY leaves the previous table intact; the password never reaches any output.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["STRATA_TEST_PG_URL"] != nil, "no test server (STRATA_TEST_PG_URL); Scripts/test starts one"))
struct PostgresCLITests {
    static let url = ProcessInfo.processInfo.environment["STRATA_TEST_PG_URL"] ?? ""
    static var password: String { (try? PostgresURL(url).connection).flatMap { c in c.split(separator: ":").dropFirst(2).first.map { String($0.split(separator: "@")[0]) } } ?? "" }

    static func sql(_ s: String) throws -> String? { try PostgresConnection(url: PostgresURL(url)).scalar(s) }

    /// A fresh schema holding `customers` and `orders` (deterministic), and the same two tables as
    /// CSV files in `dir`. Loaded through the product's own sink (`OutputBatch.stageTable`).
    static func fixture(_ dir: String) throws -> String {
        let schema = "cli_\(UInt32.random(in: 0...UInt32.max))"
        _ = try sql("CREATE SCHEMA \(schema); SELECT 1")
        var state: UInt64 = 42
        func next(_ n: UInt64) -> Int { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return Int((state >> 33) % n) }
        var customers = "customer_id,age,income,region\n"
        var orders = "customer_id,order_date,amount,product\n"
        for c in 0..<1200 {
            let kind = c % 3
            customers += "C\(String(format: "%05d", c)),\(25 + next(40)),\(20_000 + 1000 * next(80)),\(["north", "south", "east"][next(3)])\n"
            for _ in 0..<(1 + next(kind == 0 ? 3 : 12)) {
                let day = 1 + next(28), month = 1 + next(kind == 2 ? 4 : 12)
                orders += "C\(String(format: "%05d", c)),2024-\(String(format: "%02d", month))-\(String(format: "%02d", day)),\(next(kind == 1 ? 40_000 : 9_000)).\(String(format: "%02d", next(100))),P\(next(30))\n"
            }
        }
        try customers.write(toFile: dir + "/customers.csv", atomically: true, encoding: .utf8)
        try orders.write(toFile: dir + "/orders.csv", atomically: true, encoding: .utf8)
        var batch = OutputBatch()
        try batch.stageTable(csv: customers, to: url + "?table=\(schema).customers")
        try batch.stageTable(csv: orders, to: url + "?table=\(schema).orders")
        try batch.commit()
        return schema
    }

    static let orderColumns = ["--customer-column", "customer_id", "--date-column", "order_date", "--amount-column", "amount", "--product-column", "product"]

    @Test func segmentFromPostgresEqualsCSVAndWritesTables() throws {
        let dir = tempDir()
        let s = try Self.fixture(dir)
        let common = ["--id-column", "customer_id", "--k", "4", "--no-report", "--quiet", "--as-of", "2025-01-01"] + Self.orderColumns
        let a = try CLI.run(["segment", "--customers", dir + "/customers.csv", "--transactions", dir + "/orders.csv", "--out", dir + "/csv"] + common)
        #expect(a.code == 0, "\(a.stderr)")
        let b = try CLI.run(["segment", "--customers", Self.url + "?table=\(s).customers", "--transactions", Self.url + "?table=\(s).orders",
                             "--assignments-table", Self.url + "?table=\(s).assignments", "--profiles-table", Self.url + "?table=\(s).profiles",
                             "--features-table", Self.url + "?table=\(s).features", "--out", dir + "/pg", "--json"] + common)
        #expect(b.code == 0, "\(b.stderr)")
        let csv = try String(contentsOfFile: dir + "/csv/assignments.csv", encoding: .utf8)
        #expect(try String(contentsOfFile: dir + "/pg/assignments.csv", encoding: .utf8) == csv)
        #expect(try String(contentsOfFile: dir + "/pg/features.csv", encoding: .utf8) == (try String(contentsOfFile: dir + "/csv/features.csv", encoding: .utf8)))
        // The table holds exactly assignments.csv's rows.
        let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = csv.split(separator: "\n")[0].split(separator: ",")
        let seg = header.firstIndex(of: "segment_id")!
        let expected = rows.map { "\($0[0]):\($0[seg])" }.sorted().joined(separator: ",")
        #expect(try Self.sql("SELECT string_agg(customer_id || ':' || segment_id, ',' ORDER BY customer_id || ':' || segment_id) FROM \(s).assignments") == expected)
        #expect(try Self.sql("SELECT count(*) FROM \(s).features") == "1200")
        let p = try jsonFile(dir + "/pg/profiles.json")
        let groups = (p["segments"] as! [[String: Any]]) + ((p["other"] as? [String: Any]).map { [$0] } ?? [])
        #expect(try Self.sql("SELECT count(*) FROM \(s).profiles") == "\(groups.count)")
        #expect(try Self.sql("SELECT profile->>'name' FROM \(s).profiles WHERE segment_id = \(groups[0]["id"] as! Int)") == groups[0]["name"] as? String)
        // The password is in no output: stdout, stderr, run.json.
        let pw = Self.password
        #expect(pw.count > 8)
        let runJSON = try String(contentsOfFile: dir + "/pg/run.json", encoding: .utf8)
        #expect(!b.stdout.contains(pw) && !b.stderr.contains(pw) && !runJSON.contains(pw))
        let outputs = try #require(b.json?["outputs"] as? [String: Any])
        #expect((outputs["assignments_table"] as? String)?.contains("table=\(s).assignments") == true)
    }

    @Test func jobFileQuerySource() throws {
        let dir = tempDir()
        let s = try Self.fixture(dir)
        let job = """
            customers:
              url: "\(Self.url)"
              query: "SELECT customer_id, age, income FROM \(s).customers WHERE age >= 40 ORDER BY customer_id;"
            id_column: customer_id
            k: 3
            report: false
            out: "\(dir)/q"
            """
        try job.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["segment", "--config", dir + "/job.yaml", "--json", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        let counts = try #require(r.json?["counts"] as? [String: Any])
        #expect("\(counts["customers_read"]!)" == (try Self.sql("SELECT count(*) FROM \(s).customers WHERE age >= 40")))
        #expect(!(try String(contentsOfFile: dir + "/q/run.json", encoding: .utf8)).contains(Self.password))
        let bad = try CLI.run(["kmeans", "--input", Self.url + "?query=SELECT%20nope%20FROM%20\(s).customers", "--k", "2"])
        #expect(bad.code == 66 && bad.stderr.split(separator: "\n").count == 1 && bad.stderr.contains("nope"))
    }

    /// `rfm --out postgresql://...` killed after its rows were sent (COPY not ended): the table
    /// written before is unchanged and nothing else appears in the schema.
    @Test func writerKilledMidCopyLeavesThePreviousTable() throws {
        let dir = tempDir()
        let s = try Self.fixture(dir)
        let args = ["rfm", "--transactions", dir + "/orders.csv", "--as-of", "2025-01-01"] + Self.orderColumns.prefix(6) + ["--out", Self.url + "?table=\(s).rfm"]
        let first = try CLI.run(Array(args))
        #expect(first.code == 0, "\(first.stderr)")
        let before = try Self.sql("SELECT md5(string_agg(t::text, '|' ORDER BY customer_id)) FROM \(s).rfm t")
        #expect(try Self.sql("SELECT count(*) FROM \(s).rfm") == "1200")
        let killed = try CLI.run(Array(args) + ["--as-of", "2025-06-01"], environment: ["STRATA_TEST_KILL_AT": "postgres:copy"])
        #expect(killed.code != 0)
        // The server notices the dropped connection and rolls back; wait for that backend to go.
        for _ in 0..<100 where (try Self.sql("SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND query LIKE '%\(s)%rfm%'")) != "0" { usleep(50_000) }
        #expect(try Self.sql("SELECT md5(string_agg(t::text, '|' ORDER BY customer_id)) FROM \(s).rfm t") == before)
        #expect(try Self.sql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = '\(s)'") == "customers,orders,rfm")
        let again = try CLI.run(Array(args) + ["--as-of", "2025-06-01"])
        #expect(again.code == 0)
        #expect(try Self.sql("SELECT md5(string_agg(t::text, '|' ORDER BY customer_id)) FROM \(s).rfm t") != before)
    }

    @Test func wrongPasswordIsOneLine() throws {
        let pw = Self.password
        let wrong = Self.url.replacingOccurrences(of: pw, with: "not-the-password")
        let r = try CLI.run(["rfm", "--transactions", wrong + "?table=public.orders", "--customer-column", "a", "--date-column", "b", "--amount-column", "c"])
        #expect(r.code == 66)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("password authentication failed") && !r.stderr.contains("not-the-password"))
    }
}
