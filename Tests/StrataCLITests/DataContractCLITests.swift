import Foundation
import Testing

/// The data contract (issue 13) through the commands: exit codes, messages, warnings in the JSON
/// result, and what a failed run leaves behind.
@Suite struct DataContractCLITests {
    /// An order log as Python's csv module writes it: CRLF, names with commas quoted, 200
    /// customers with two or three orders each, and a customer table keyed by the same names.
    func pythonStyleFiles(_ dir: String) {
        var orders = "customer_id,date,amount,product\r\n", customers = "customer_id,region,age\r\n"
        for i in 0..<200 {
            let name = "\"Customer \(i), Ltd\""
            customers += "\(name),\(["north", "south"][i % 2]),\(20 + i % 50)\r\n"
            for j in 0..<(2 + i % 2) {
                orders += "\(name),2024-\(String(format: "%02d", 1 + j * 3))-\(String(format: "%02d", 1 + i % 28)),\(10 + (i * 7 + j * 13) % 90).5,\"Mug, \(["blue", "red"][j % 2])\"\r\n"
            }
        }
        write(orders, "\(dir)/orders.csv")
        write(customers, "\(dir)/customers.csv")
    }

    @Test func segmentReadsEveryQuotedOrderRow() throws {
        let dir = tempDir()
        pythonStyleFiles(dir)
        let r = try CLI.run(["segment", "--customers", "\(dir)/customers.csv", "--transactions", "\(dir)/orders.csv", "--out", "\(dir)/out",
                             "--k", "3", "--json", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "--quiet prints nothing but errors: \(r.stderr)")
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/run.json"))) as! [String: Any]
        let counts = run["counts"] as! [String: Any]
        #expect(counts["transactions"] as? Int == 500 && counts["bad_transaction_rows"] as? Int == 0)
        #expect(counts["customers_without_transactions"] as? Int == 0 && counts["transaction_customers"] as? Int == 200)
        #expect(counts["date_format"] as? String == "ISO 8601 (YYYY-MM-DD)")
    }

    @Test func aJoinThatMatchesNothingFailsEarly() throws {
        let dir = tempDir()
        pythonStyleFiles(dir)
        write("customer_id,age\nX1,30\nX2,40\nX3,50\n", "\(dir)/other.csv")
        let r = try CLI.run(["segment", "--customers", "\(dir)/other.csv", "--transactions", "\(dir)/orders.csv", "--out", "\(dir)/out", "--k", "2"])
        #expect(r.code == 65 && r.stderr.contains("customer ids is in") && r.stderr.contains("'Customer 0, Ltd'"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out"), "a failed run leaves nothing new behind")
    }

    @Test func numericIdsWrittenAsFloatsStillJoin() throws {
        let dir = tempDir()
        var orders = "customer_id,date,amount\n", customers = "customer_id,age\n"
        for i in 0..<60 {
            customers += "\(900 + i).0,\(20 + i % 40)\n"
            orders += "\(900 + i),2024-01-\(String(format: "%02d", 1 + i % 28)),\(10 + i)\n\(900 + i),2024-03-\(String(format: "%02d", 1 + i % 28)),\(12 + i)\n"
        }
        write(orders, "\(dir)/o.csv")
        write(customers, "\(dir)/c.csv")
        let r = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--transactions", "\(dir)/o.csv", "--out", "\(dir)/out", "--k", "2", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/run.json"))) as! [String: Any]
        #expect((run["counts"] as! [String: Any])["customers_without_transactions"] as? Int == 0)
    }

    @Test func nobodyBoughtTwice() throws {
        let dir = tempDir()
        var orders = "customer_id,date,amount\n"
        for i in 0..<120 { orders += "c\(i),2024-01-\(String(format: "%02d", 1 + i % 28)),\(10 + i % 17)\n" }
        write(orders, "\(dir)/o.csv")
        // clv: a data condition, exit 65 (not a usage error).
        let clv = try CLI.run(["clv", "--transactions", "\(dir)/o.csv", "--json"])
        #expect(clv.code == 65 && clv.stderr.contains("two different days"), "\(clv.stderr)")
        // segment: the nightly job degrades, CLV skipped with a warning.
        let seg = try CLI.run(["segment", "--transactions", "\(dir)/o.csv", "--out", "\(dir)/out", "--k", "2", "--json"])
        #expect(seg.code == 0, "\(seg.stderr)")
        let warnings = seg.json?["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.contains("the clv feature was skipped") }, "\(warnings)")
    }

    @Test func textInANumericColumnAndIgnoredTextColumns() throws {
        let dir = tempDir()
        write("a,b\n1,2\n3,hello\n4,5\n6,7\n", "\(dir)/x.csv")
        let r = try CLI.run(["kmeans", "--input", "\(dir)/x.csv", "--k", "2"])
        #expect(r.code == 65 && r.stderr.contains("x.csv, line 3, column 'b': value 'hello' is not a number"), "\(r.stderr)")
        write("id,name,a,b\n1,Ann,1,9\n2,Bob,3,2\n3,Cy,4,7\n4,Di,6,1\n", "\(dir)/n.csv")
        let n = try CLI.run(["kmeans", "--input", "\(dir)/n.csv", "--k", "2", "--json"])
        #expect(n.code == 0 && (n.json?["columns"] as? [String]) == ["a", "b"])
        #expect((n.json?["warnings"] as? [String])?.contains { $0.contains("text columns ignored (not features): name") } == true, "\(n.stdout)")
        // segment: a duplicated header name is a clean error, not a crash.
        write("id,a,a\n1,2,3\n2,3,4\n", "\(dir)/dup.csv")
        let d = try CLI.run(["segment", "--customers", "\(dir)/dup.csv", "--out", "\(dir)/out", "--k", "2"])
        #expect(d.code == 65 && d.stderr.contains("appears twice"), "\(d.stderr)")
    }

    @Test func orderLogOptionsAndReports() throws {
        let dir = tempDir()
        write("customer_id,date,qty,price\na,1/2/2017 8:26,2,\"€1.234,50\"\nb,13/2/2017 9:00,1,\"3,25 €\"\na,15/3/2017,1,\"€10,00\"\nc,1/1/2099,1,5\n",
              "\(dir)/o.csv")
        let r = try CLI.run(["rfm", "--transactions", "\(dir)/o.csv", "--quantity-column", "qty", "--price-column", "price",
                             "--decimal", ",", "--currency", "€", "--json", "--out", "\(dir)/rfm.csv"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        #expect(j["date_format"] as? String == "D/M/YYYY (day first)" && j["date_format_detected"] as? Bool == true)
        #expect(j["excluded_future"] as? Int == 1 && j["as_of"] as? String == "2017-03-15")
        #expect((j["warnings"] as? [String])?.contains { $0.contains("1 row dated after") && $0.contains("was excluded") } == true)
        let csv = try String(contentsOfFile: "\(dir)/rfm.csv", encoding: .utf8)
        #expect(csv.contains("\na,0,2,2479,1239.5,"), "\(csv)")
        // Ambiguous dates: the error asks for --date-format; a bad --date-format is a usage error.
        write("customer_id,date,amount\na,01/02/2017,5\n", "\(dir)/amb.csv")
        let amb = try CLI.run(["rfm", "--transactions", "\(dir)/amb.csv"])
        #expect(amb.code == 65 && amb.stderr.contains("--date-format"))
        #expect(try CLI.run(["rfm", "--transactions", "\(dir)/amb.csv", "--date-format", "%Q"]).code == 64)
        let forced = try CLI.run(["rfm", "--transactions", "\(dir)/amb.csv", "--date-format", "%m/%d/%Y", "--json"])
        #expect(forced.code == 0 && forced.json?["as_of"] as? String == "2017-01-02")
    }

    @Test func segmentReducesKToTheDistinctRows() throws {
        let dir = tempDir()
        var t = "id,a,b\n"
        for i in 1...120 { t += "c\(i),\(i % 3),\(i % 3 * 2)\n" }
        write(t, "\(dir)/three.csv")
        let r = try CLI.run(["segment", "--customers", "\(dir)/three.csv", "--k", "5", "--out", "\(dir)/out", "--json", "--min-segment-size", "40"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect((r.json?["warnings"] as? [String])?.contains("k = 5 but the customers have only 3 distinct feature rows; k reduced to 3") == true)
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/out/run.json"))) as! [String: Any]
        #expect(run["k"] as? Int == 3 && run["segment_sizes"] as? [Int] == [40, 40, 40])
    }

    @Test func predictReadsNonNumbersAsMissingOnlyWhenTheModelImputes() throws {
        let dir = tempDir()
        var t = "id,a,b\n"
        for i in 0..<40 { t += "c\(i),\(i % 4),\(i % 5 * 3)\n" }
        write(t, "\(dir)/train.csv")
        write("id,a,b\nn1,1,oops\nn2,3,6\n", "\(dir)/new.csv")
        #expect(try CLI.run(["kmeans", "--input", "\(dir)/train.csv", "--k", "2", "--impute", "median", "--scale", "standard",
                             "--model-out", "\(dir)/imputing.json"]).code == 0)
        let p = try CLI.run(["predict", "--model", "\(dir)/imputing.json", "--input", "\(dir)/new.csv", "--json"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect((p.json?["warnings"] as? [String])?.contains { $0.contains("column 'b': 1 cell is not a number and read as missing (first: line 2, 'oops')") } == true,
                "\(p.stdout)")
        #expect(try CLI.run(["kmeans", "--input", "\(dir)/train.csv", "--k", "2", "--scale", "standard", "--model-out", "\(dir)/strict.json"]).code == 0)
        let q = try CLI.run(["predict", "--model", "\(dir)/strict.json", "--input", "\(dir)/new.csv"])
        #expect(q.code == 65 && q.stderr.contains("line 2, column 'b': value 'oops' is not a number"), "\(q.stderr)")
    }

    @Test func convertReportsTheRightLineAndTheColumnsItIgnores() throws {
        let dir = tempDir()
        var t = "a,b\n"
        for i in 0..<30_000 { t += "\(i % 7),\(i % 5)\n" }
        t += "3,bad\n"
        write(t, "\(dir)/lg.csv")
        for args in [["convert", "--input", "\(dir)/lg.csv", "--out", "\(dir)/lg.npy"],
                     ["kmeans", "--input", "\(dir)/lg.csv", "--k", "2", "--memory-budget", "64K"]] {
            let r = try CLI.run(args)
            #expect(r.code == 65 && r.stderr.contains("line 30002, column 'b'"), "\(args[0]): \(r.stderr)")
        }
        write("a,name,c\n1,x y,2\n2,zz,3\n3,qq,1\n", "\(dir)/tt.csv")
        let c = try CLI.run(["convert", "--input", "\(dir)/tt.csv", "--out", "\(dir)/tt.npy", "--json"])
        #expect(c.code == 0 && (c.json?["warnings"] as? [String])?.contains { $0.contains("text columns ignored (not features): name") } == true)
    }

    @Test func sweepSkipsKAboveTheDistinctRowsAndWeightsAreNeverFeatures() throws {
        let dir = tempDir()
        var t = "a,b\n"
        for i in 0..<60 { t += "\(i % 3),\(i % 3 * 2)\n" }
        write(t, "\(dir)/k3.csv")
        let s = try CLI.run(["sweep", "--input", "\(dir)/k3.csv", "--k", "2...5", "--json"])
        #expect(s.code == 0 && (s.json?["warnings"] as? [String])?.contains("the data have only 3 distinct rows; k = 4, 5 skipped") == true, "\(s.stdout)\(s.stderr)")
        write("x,w\n1,1\n1,1\n5,1\n5,1\n1000,0\n", "\(dir)/zw.csv")
        let k = try CLI.run(["kmeans", "--input", "\(dir)/zw.csv", "--k", "2", "--weights-column", "w", "--scale", "standard", "--json"])
        #expect(k.code == 0 && k.json?["columns"] as? [String] == ["x"], "\(k.stdout)")
        let centers = (k.json?["centroids_original_units"] as? [[Double]] ?? []).map { $0[0] }.sorted()
        #expect(centers.count == 2 && abs(centers[0] - 1) < 1e-4 && abs(centers[1] - 5) < 1e-4, "\(centers)")
        #expect(try CLI.run(["pca", "--input", "\(dir)/zw.csv", "--weights-column", "w", "--components", "1"]).code == 64)
    }

    @Test func duplicateCustomerIdsAndOrphanIdsFiles() throws {
        let dir = tempDir()
        write("id,a,b\nx,1,2\ny,3,4\nx.0,5,6\nz,1,1\n", "\(dir)/dup.csv")
        write("id,a,b\nx,1,2\ny,3,4\n900.0,5,6\n900,1,1\n", "\(dir)/dupnum.csv")
        let r = try CLI.run(["segment", "--customers", "\(dir)/dupnum.csv", "--k", "2", "--out", "\(dir)/out"])
        #expect(r.code == 65 && r.stderr.contains("line 5, column 'id': customer id '900' appears twice (also on line 4)"), "\(r.stderr)")
        #expect(try CLI.run(["segment", "--customers", "\(dir)/dup.csv", "--k", "2", "--out", "\(dir)/out2"]).code == 0, "x.0 is not x")
        // An ids file without the sidecar that declares it: row numbers, and the run says so.
        write("a,b\n1,2\n3,4\n5,6\n", "\(dir)/p.csv")
        #expect(try CLI.run(["convert", "--input", "\(dir)/p.csv", "--out", "\(dir)/p.npy"]).code == 0)
        try FileManager.default.removeItem(atPath: "\(dir)/p.npy.json")
        write("r1\nr2\nr3\n", "\(dir)/p.npy.ids")
        let k = try CLI.run(["kmeans", "--input", "\(dir)/p.npy", "--k", "2", "--json"])
        #expect(k.code == 0 && (k.json?["warnings"] as? [String])?.contains { $0.contains("p.npy.ids exists but") } == true, "\(k.stdout)\(k.stderr)")
    }
}
