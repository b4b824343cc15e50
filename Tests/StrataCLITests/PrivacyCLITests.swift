import Foundation
import Strata
import Testing

/// The privacy guarantees of `strata segment`, end to end through the built binary: a customer
/// table with e-mails, a referrer column of e-mails, a city held by three customers and a tiny
/// segment of six far-away customers; an order log with a bad row carrying an e-mail; a salt in
/// the job file. Nothing of it may reach any output file, stdout or stderr.
@Suite struct PrivacyCLITests {
    static let salt = "pepper-s3cret-salt-7f3a"
    static let tiny = 6
    static let rareCity = "Smallville"

    /// 3 groups of 300 + 6 far-away customers; ids `CUST-...`, e-mails `@example.org`, referrers
    /// `@referrers.example` (20% of customers), cities (one held by 3 customers), and 1-4 orders
    /// each. Returns (customers CSV, orders CSV, ids of the tiny group).
    static func dataset() -> (customers: String, orders: String, tinyIDs: [String]) {
        var rng = SeededRandom(seed: 21)
        func normal() -> Double {
            let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
            return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        }
        // membership_days, discount_share per group; the tiny group is far from all three.
        let centers: [[Double]] = [[2000, 0.05], [600, 0.5], [150, 0.2], [30000, 0.9]]
        let sizes = [300, 300, 300, tiny]
        let cities = ["Springfield", "Shelbyville", "Ogdenville"]
        var customers = "customer_id,email,referrer,city,membership_days,discount_share\n"
        var orders = "customer_id,date,amount\n"
        var tinyIDs: [String] = []
        var n = 0
        for (g, size) in sizes.enumerated() {
            for _ in 0..<size {
                let id = "CUST-\(String(format: "%06d", 100_000 + n * 7))"
                if g == 3 { tinyIDs.append(id) }
                let referrer = rng.nextUnit() < 0.2 ? "friend\(Int(rng.nextUnit() * 5))@referrers.example" : "organic"
                let city = n < 3 ? rareCity : cities[g % 3]
                let tenure = max(1, centers[g][0] * exp(0.1 * normal())), discount = min(1, max(0, centers[g][1] + 0.03 * normal()))
                customers += "\(id),first.last\(n)@example.org,\(referrer),\(city),\(String(format: "%.0f", tenure)),\(String(format: "%.3f", discount))\n"
                for o in 0..<(1 + n % 4) {
                    let amount = g == 3 ? 4000 + 100 * Double(o) : (20 + 30 * Double(g)) * exp(0.2 * normal())
                    orders += "\(id),2024-\(String(format: "%02d", 1 + (n + o) % 12))-\(String(format: "%02d", 1 + (n * 3 + o) % 28)),\(String(format: "%.2f", amount))\n"
                }
                n += 1
            }
        }
        // A bad row whose date field holds an e-mail (a shifted field), and a customer who is in
        // the order log only.
        orders += "CUST-100000,first.last0@example.org,12.50\n"
        orders += "CUST-999999,2024-05-05,10.00\n"
        return (customers, orders, tinyIDs)
    }

    /// Every file under `dir` (recursively), as text.
    static func files(under dir: String) throws -> [(path: String, text: String)] {
        let e = try #require(FileManager.default.enumerator(atPath: dir))
        var out: [(String, String)] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            let path = dir + "/" + rel
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                out.append((rel, String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)))
            }
        }
        return out
    }

    /// Every integer a JSON document gives under a size-like key, or in a size list.
    static func reportedCounts(_ json: Any, key: String? = nil) -> [(String, Int)] {
        let sizeKeys: Set = ["size", "customers", "segment_sizes", "matrix", "rfm_mix", "count"]
        switch json {
        case let d as [String: Any]:
            return d.flatMap { k, v in reportedCounts(v, key: key == "rfm_mix" ? key : k) }
        case let a as [Any]: return a.flatMap { reportedCounts($0, key: key) }
        case let n as Int:
            guard let key, sizeKeys.contains(key) else { return [] }
            return [(key, n)]
        default: return []
        }
    }

    @Test func nothingPersonalOrBelowTheThresholdLeavesTheRun() throws {
        let dir = tempDir()
        let (customers, orders, tinyIDs) = Self.dataset()
        write(customers, "\(dir)/customers.csv")
        write(orders, "\(dir)/orders.csv")
        write("""
            customers: \(dir)/customers.csv
            transactions:
              path: \(dir)/orders.csv
            k: 4
            clip: none
            # Segment on the table's features; the order log still gives revenue, CLV and RFM mix.
            exclude: [recency_days, frequency, monetary_total, monetary_mean, tenure_days, clv]
            min_segment_size: 50
            pseudonymize: true
            salt: \(Self.salt)
            """, "\(dir)/job.yaml")
        // Twice: the second run compares with the first (migration.json and the report's table).
        let first = try CLI.run(["segment", "--config", "\(dir)/job.yaml", "--out", "\(dir)/run1"])
        #expect(first.code == 0, "\(first.stderr)")
        let second = try CLI.run(["segment", "--config", "\(dir)/job.yaml", "--out", "\(dir)/run2", "--previous", "\(dir)/run1"])
        #expect(second.code == 0, "\(second.stderr)")
        let json = try CLI.run(["segment", "--config", "\(dir)/job.yaml", "--out", "\(dir)/run3", "--previous", "\(dir)/run1", "--json"])
        #expect(json.code == 0, "\(json.stderr)")

        // The premise: the six far-away customers are a segment of their own.
        let pseudonyms = Set(tinyIDs.map(Pseudonymizer(salt: Self.salt).pseudonym))
        let ids = try readCSVColumn("\(dir)/run2/assignments.csv", "customer_id")
        let labels = try readCSVColumn("\(dir)/run2/assignments.csv", "segment_id")
        let tinySegments = Set(ids.indices.filter { pseudonyms.contains(ids[$0]) }.map { labels[$0] })
        #expect(tinySegments.count == 1 && labels.filter { $0 == tinySegments.first }.count == Self.tiny, "the planted tiny segment was not found")
        #expect(ids.count == 906)

        // Nothing personal anywhere: raw ids, e-mails (own and referrers'), the salt.
        var texts = try ["run1", "run2", "run3"].flatMap { run in try Self.files(under: "\(dir)/\(run)").map { ("\(run)/\($0.path)", $0.text) } }
        texts += [("stdout 1", first.stdout), ("stderr 1", first.stderr), ("stdout 2", second.stdout), ("stderr 2", second.stderr),
                  ("stdout 3", json.stdout), ("stderr 3", json.stderr)]
        #expect(texts.contains { $0.0 == "run2/migration.json" } && texts.contains { $0.0 == "run2/features.csv" })
        for (name, text) in texts {
            for secret in ["CUST-", "example.org", "referrers.example", Self.salt] {
                #expect(!text.contains(secret), "\(secret) in \(name)")
            }
        }
        // The warnings say what was left out, by column name only.
        // (email, one value per customer, is free text: never a feature in the first place.)
        #expect(first.stderr.contains("'referrer' holds e-mail addresses") && first.stderr.contains("not features): email"), "\(first.stderr)")
        #expect(first.stderr.contains("date does not match"), "the bad row is reported, without its value: \(first.stderr)")

        // Nothing below the threshold leaves the machine (assignments.csv, features.csv and
        // model.json are the per-customer / model files that stay on it).
        let leaving = texts.filter { !$0.0.hasSuffix("assignments.csv") && !$0.0.hasSuffix("features.csv") && !$0.0.hasSuffix("model.json") }
        for (name, text) in leaving {
            #expect(!text.contains(Self.rareCity), "a city held by 3 customers in \(name)")
            // "6 customers", ">6 (0.7%)", "6 (0.7%)" (not "906 customers").
            for pattern in ["(?<![0-9.,])\(Self.tiny) customers", "(?<![0-9.,])\(Self.tiny) \\([0-9.]+%\\)"] {
                let re = try NSRegularExpression(pattern: pattern)
                let hit = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
                #expect(hit == nil, "'\(hit.map { (text as NSString).substring(with: $0.range) } ?? "")' in \(name)")
            }
            if name.hasSuffix(".json") || name == "stdout 3" {
                let doc = try JSONSerialization.jsonObject(with: Data(text.utf8))
                for (key, n) in Self.reportedCounts(doc) { #expect(n == 0 || n >= 50, "\(key) = \(n) in \(name)") }
            }
        }
        let run = try jsonFile("\(dir)/run2/run.json")
        let sizes = try #require(run["segment_sizes"] as? [Any])
        #expect(sizes.count == 4 && sizes.filter { $0 is NSNull }.count == 1)
        #expect(((run["config"] as? [String: Any])?["salt"] as? String) == "***")
        let profiles = try jsonFile("\(dir)/run2/profiles.json")
        #expect(profiles["other"] == nil && profiles["other_suppressed"] as? Bool == true)
        #expect((profiles["population"] as? [String: Any])?["size"] as? Int == 900)
        let revenueShares = (profiles["segments"] as! [[String: Any]]).map { $0["revenue_share"] as! Double }
        #expect(abs(revenueShares.reduce(0, +) - 1) < 1e-9, "shares of the reported customers only: nothing left to subtract")
        // The projection plots none of the six; the migration merges them and hides their cells.
        let report = try String(contentsOfFile: "\(dir)/run2/report.html", encoding: .utf8)
        #expect(report.components(separatedBy: "<circle").count - 1 == 900)
        let migration = try jsonFile("\(dir)/run2/migration.json")
        #expect(migration["rows"] as? [String] == ["before 0", "before 1", "before 2", "before other", "new"])
        #expect(migration["columns"] as? [String] == ["after 0", "after 1", "after 2", "after other", "churned"])
        let matrix = try #require(migration["matrix"] as? [[Any]])
        #expect(matrix[3][3] is NSNull && matrix[0][0] as? Int == 300 && matrix[1][1] as? Int == 300 && matrix[2][2] as? Int == 300)
        #expect(migration["stayed"] as? Int == 900 && migration["moved"] as? Int == 0, "the six are in neither count")
        #expect((migration["mapping"] as? [[String: Any]])?.count == 3)
    }

    @Test func piiColumnsAreLeftOutAndChecked() throws {
        let dir = tempDir()
        var csv = "customer_id,nickname,plan,spend,visits\n"
        for i in 0..<200 { csv += "c\(i),nick\(i % 40),\(["basic", "gold"][i % 2]),\(10 + i % 50),\(i % 7)\n" }
        write(csv, "\(dir)/c.csv")
        // nickname repeats (40 values for 200 customers): a category unless named as personal data.
        let named = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "2", "--out", "\(dir)/o", "--pii-columns", "nickname", "--json",
                                 "--min-segment-size", "20"])
        #expect(named.code == 0, "\(named.stderr)")
        for file in ["model.json", "profiles.json", "report.html"] {
            let text = String(decoding: FileManager.default.contents(atPath: "\(dir)/o/\(file)") ?? Data(), as: UTF8.self)
            #expect(!text.contains("nick"), "\(file)")
        }
        #expect(try String(contentsOfFile: "\(dir)/o/model.json", encoding: .utf8).contains("gold"), "other categories are kept")
        let typo = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "2", "--out", "\(dir)/o2", "--pii-columns", "nickame"])
        #expect(typo.code == 64 && typo.stderr.contains("--pii-columns: 'nickame' is not a column"), "\(typo.stderr)")
        let both = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--out", "\(dir)/o3", "--pii-columns", "plan", "--categorical", "plan"])
        #expect(both.code == 64 && both.stderr.contains("also listed in categorical"), "\(both.stderr)")
    }

    @Test func jobFileErrorsNeverEchoTheFile() throws {
        let dir = tempDir()
        let secret = "hunter2-do-not-print"
        write("customers: c.csv\nsalt: \(secret)\npseudonymize: true\nsalt: other-\(secret)\n", "\(dir)/dup.yaml")
        let dup = try CLI.run(["segment", "--config", "\(dir)/dup.yaml", "--json"])
        #expect(dup.code == 64)   // every job-file mistake is a usage error
        #expect(!dup.stdout.contains(secret) && !dup.stderr.contains(secret), "\(dup.stdout)\(dup.stderr)")
        #expect(dup.stdout.contains("key 'salt' appears more than once"), "\(dup.stdout)")
        write("customers: c.csv\nsalt: \"\(secret)\n", "\(dir)/quote.yaml")
        let quote = try CLI.run(["segment", "--config", "\(dir)/quote.yaml"])
        #expect(quote.code == 64 && quote.stderr.contains("line") && !quote.stderr.contains(secret), "\(quote.stderr)")
        #expect(quote.stderr.split(separator: "\n").count == 1, "one line: \(quote.stderr)")
    }

    @Test func idsThatDifferOnlyInInvalidBytesStayTwoCustomers() throws {
        let dir = tempDir()
        var bytes = Array("customer_id,spend,visits\n".utf8)
        for i in 0..<60 {
            // id-\xff-i and id-\xfe-i: the same text once invalid bytes become U+FFFD.
            for b: UInt8 in [0xFF, 0xFE] { bytes += Array("id-".utf8) + [b] + Array("-\(i),\(10 + i % 9 + Int(b & 1)),\(i % 5)\n".utf8) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/c.csv"))
        let r = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "2", "--out", "\(dir)/o", "--quiet", "--min-segment-size", "5"])
        #expect(r.code == 0, "\(r.stderr)")
        let ids = try readCSVColumn("\(dir)/o/assignments.csv", "customer_id")
        #expect(ids.count == 120 && Set(ids).count == 120)
        #expect(ids.contains("id-\\xff-0") && ids.contains("id-\\xfe-0"))
        // Pseudonyms stay distinct too, and the written ids read back as the same customers.
        let p = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "2", "--out", "\(dir)/p", "--quiet", "--min-segment-size", "5",
                             "--pseudonymize", "--salt", "s"])
        #expect(p.code == 0)
        #expect(Set(try readCSVColumn("\(dir)/p/assignments.csv", "customer_id")).count == 120)
        let again = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "2", "--out", "\(dir)/o2", "--quiet", "--min-segment-size", "5",
                                 "--previous", "\(dir)/o", "--json"])
        #expect(again.code == 0 && (again.json?["migration"] as? [String: Any])?["stayed"] as? Int == 120, "\(again.stdout)")
    }
}
