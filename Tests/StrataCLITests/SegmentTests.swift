import Foundation
import Strata
import Testing

/// Planted customer data: four well separated groups in five features (natural units, skewed
/// spend), a categorical column tied to the group, and ~2% missing values.
func plantedCustomers(rows: Int = 2400, seed: UInt64 = 7) -> (csv: String, truth: [Int]) {
    var rng = SeededRandom(seed: seed)
    func normal() -> Double {
        let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
    // recency_days, orders_per_year, avg_spend, tenure_days, discount_share
    let centers: [[Double]] = [[10, 30, 150, 2000, 0.05], [200, 3, 40, 1500, 0.1], [20, 12, 30, 1200, 0.6], [15, 2, 60, 40, 0.2]]
    let spread: [Double] = [0.25, 0.2, 0.2, 0.15, 0.04]
    let shares = [0.2, 0.3, 0.3, 0.2]
    let plans = ["gold", "basic", "basic", "trial"]
    var csv = "customer_id,plan,recency_days,orders_per_year,avg_spend,tenure_days,discount_share\n"
    var truth: [Int] = []
    for i in 0..<rows {
        let u = rng.nextUnit()
        let g = u < shares[0] ? 0 : u < shares[0] + shares[1] ? 1 : u < 0.8 ? 2 : 3
        truth.append(g)
        var fields = ["P\(100000 + i)", rng.nextUnit() < 0.9 ? plans[g] : plans[(g + 1) % 4]]
        for j in 0..<5 {
            let v = j == 4 ? max(0, centers[g][j] + spread[j] * normal()) : centers[g][j] * exp(spread[j] * normal())
            fields.append(rng.nextUnit() < 0.02 ? "" : String(format: j == 4 ? "%.3f" : "%.1f", v))
        }
        csv += fields.joined(separator: ",") + "\n"
    }
    return (csv, truth)
}

func readCSVColumn(_ path: String, _ column: String) throws -> [String] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let lines = text.split(separator: "\n").map(String.init)
    let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let j = try #require(header.firstIndex(of: column), "no column \(column) in \(path)")
    return lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)[j] }
}

func jsonFile(_ path: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
}

func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

@Suite struct SegmentTests {
    @Test func plantedSegmentsAreRecoveredNamedExplainedAndReplayedByPredict() throws {
        let dir = tempDir()
        let (csv, truth) = plantedCustomers()
        write(csv, "\(dir)/customers.csv")
        let r = try CLI.run(["segment", "--customers", "\(dir)/customers.csv", "--out", "\(dir)/out", "--json", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        #expect(j["k"] as? Int == 4, "the sweep should find the 4 planted segments")
        let labels = try readCSVColumn("\(dir)/out/assignments.csv", "segment_id").map { Int($0)! }
        #expect(labels.count == truth.count)
        let ari = try PartitionAgreement.adjustedRandIndex(labels, truth)
        #expect(ari >= 0.9, "ARI \(ari)")
        // Ids are renumbered by size: segment 0 is the largest.
        let sizes = (0..<4).map { s in labels.filter { $0 == s }.count }
        #expect(sizes == sizes.sorted(by: >))
        // Profiles: sizes add up, sizes are means-consistent, names unique, rules accurate.
        let p = try jsonFile("\(dir)/out/profiles.json")
        let segs = try #require(p["segments"] as? [[String: Any]])
        #expect(segs.map { $0["size"] as! Int }.reduce(0, +) == truth.count)
        let names = segs.map { $0["name"] as! String }
        #expect(Set(names).count == names.count, "\(names)")
        #expect(names.contains("New customers") || names.contains("New low-spend") || names.contains("New high-spend"), "\(names)")
        let pop = try #require(p["population"] as? [String: Any])
        let popStats = try #require(pop["features"] as? [[String: Any]])
        for (f, st) in popStats.enumerated() {
            // The population mean is the size-weighted mean of segment means (present values only).
            let count = st["count"] as! Int, mean = st["mean"] as! Double
            var total = 0.0, n = 0
            for s in segs { let fs = (s["features"] as! [[String: Any]])[f]; total += (fs["mean"] as! Double) * Double(fs["count"] as! Int); n += fs["count"] as! Int }
            #expect(n == count)
            #expect(abs(total / Double(n) - mean) <= 1e-9 * max(1, abs(mean)), "\(st["feature"]!)")
            let q1 = st["q1"] as! Double, med = st["median"] as! Double, q3 = st["q3"] as! Double
            #expect(q1 <= med && med <= q3)
        }
        let rules = try #require(p["rules"] as? [String: Any])
        #expect((rules["accuracy"] as! Double) >= 0.85)
        #expect((rules["rules"] as! [[String: Any]]).allSatisfy { ($0["text"] as! String).contains("-> segment") })
        // Run record.
        let run = try jsonFile("\(dir)/out/run.json")
        let counts = try #require(run["counts"] as? [String: Any])
        #expect((counts["imputed_total"] as! Int) > 0)
        let inputs = try #require(run["inputs"] as? [[String: Any]])
        #expect((inputs.first?["sha256"] as? String)?.count == 64)
        #expect((run["steps"] as! [[String: Any]]).map { $0["step"] as! String }.starts(with: ["read", "preprocess", "choose k", "fit", "profile"]))
        // model.json carries the preprocessing: predict on the raw table reproduces the assignments.
        let pr = try CLI.run(["predict", "--model", "\(dir)/out/model.json", "--input", "\(dir)/customers.csv", "--labels-out", "\(dir)/pred.csv"])
        #expect(pr.code == 0, "\(pr.stderr)")
        #expect(try readCSVColumn("\(dir)/pred.csv", "segment").map { Int($0)! } == labels)
    }

    @Test func resultsDoNotDependOnThreadsAndRepeatForASeed() throws {
        let dir = tempDir()
        write(plantedCustomers(rows: 1500).csv, "\(dir)/c.csv")
        for (name, threads) in [("a", "1"), ("b", "2")] {
            let r = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--out", "\(dir)/\(name)", "--threads", threads, "--quiet", "--algorithm", "gmm", "--k-max", "5"])
            #expect(r.code == 0, "\(r.stderr)")
        }
        for f in ["assignments.csv", "model.json", "profiles.json", "report.html"] {
            #expect(bytes("\(dir)/a/\(f)") == bytes("\(dir)/b/\(f)"), "\(f) differs between 1 and 2 threads")
        }
    }

    /// The order-log job (k by the sweep with gap statistic and bootstrap, affinity, exports):
    /// every output byte-identical at 1 and 2 threads, in two separate processes (so Dictionary
    /// order, which changes per process, cannot reach an output either).
    @Test func orderLogOutputsDoNotDependOnThreads() throws {
        let dir = tempDir()
        for (name, threads) in [("a", "1"), ("b", "2")] {
            let r = try CLI.run(["segment", "--demo", "--demo-customers", "1500", "--out", "\(dir)/\(name)", "--threads", threads, "--quiet"])
            #expect(r.code == 0, "\(r.stderr)")
        }
        let lists = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/a/segments").sorted()
        let listsB = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/b/segments").sorted()
        #expect(!lists.isEmpty && lists == listsB)
        for f in ["assignments.csv", "model.json", "profiles.json", "profiles.csv", "affinity.csv", "features.csv"] + lists.map({ "segments/" + $0 }) {
            #expect(bytes("\(dir)/a/\(f)") == bytes("\(dir)/b/\(f)"), "\(f) differs between 1 and 2 threads")
        }
        // The report names its input files, which the demo writes inside each output directory.
        let reportA = try String(contentsOfFile: "\(dir)/a/report.html", encoding: .utf8).replacingOccurrences(of: "\(dir)/a/", with: "\(dir)/b/")
        #expect(reportA == (try String(contentsOfFile: "\(dir)/b/report.html", encoding: .utf8)))
    }

    @Test func aFailedRunLeavesThePreviousOutputsIntact() throws {
        let dir = tempDir()
        write(plantedCustomers(rows: 800).csv, "\(dir)/c.csv")
        #expect(try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--out", "\(dir)/out", "--k", "4", "--quiet"]).code == 0)
        let keep = ["assignments.csv", "model.json", "profiles.json", "run.json"]
        let before = keep.map { bytes("\(dir)/out/\($0)") }
        // Bad input: the error names file, line and column; nothing changes.
        write("customer_id,a,b\n1,1.0,2.0\n2,x,3.0\n", "\(dir)/bad.csv")
        let bad = try CLI.run(["segment", "--customers", "\(dir)/bad.csv", "--columns", "a,b", "--impute", "none", "--out", "\(dir)/out", "--quiet"])
        #expect(bad.code == 65)
        #expect(bad.stderr.contains("bad.csv") && bad.stderr.contains("line 3") && bad.stderr.contains("'a'"), "\(bad.stderr)")
        #expect(keep.map { bytes("\(dir)/out/\($0)") } == before)
        // Injected failure while committing: report.html cannot be replaced (a directory holds its
        // name), after assignments.csv and model.json were already renamed: they are rolled back.
        try FileManager.default.removeItem(atPath: "\(dir)/out/report.html")
        try FileManager.default.createDirectory(atPath: "\(dir)/out/report.html/blocker", withIntermediateDirectories: true)
        let failed = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--out", "\(dir)/out", "--k", "3", "--seed", "9", "--quiet"])
        #expect(failed.code == 73, "\(failed.stderr)")
        #expect(keep.map { bytes("\(dir)/out/\($0)") } == before, "a failed commit changed earlier outputs")
        // The run-directory protocol's own entries (.generations, .strata.lock) are not leftovers.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out")
            .filter { $0.hasPrefix(".") && $0 != ".generations" && $0 != ".strata.lock" }
        #expect(leftovers.isEmpty, "temporaries left: \(leftovers)")
    }

    @Test func migrationOnARelabelledCopyIsTheIdentity() throws {
        let dir = tempDir()
        write(plantedCustomers(rows: 1200).csv, "\(dir)/c.csv")
        #expect(try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--out", "\(dir)/run1", "--k", "4", "--quiet"]).code == 0)
        // Relabel: segment s becomes (s + 1) % 4, in assignments and in the model's centroid order.
        let perm = [1, 2, 3, 0]
        try FileManager.default.createDirectory(atPath: "\(dir)/run2", withIntermediateDirectories: true)
        let text = try String(contentsOfFile: "\(dir)/run1/assignments.csv", encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        for i in 1..<lines.count {
            var f = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            f[1] = String(perm[Int(f[1])!])
            lines[i] = f.joined(separator: ",")
        }
        write(lines.joined(separator: "\n") + "\n", "\(dir)/run2/assignments.csv")
        var model = try jsonFile("\(dir)/run1/model.json")
        let centroids = model["centroids"] as! [Any], names = model["segment_names"] as! [Any]
        var newC = centroids, newN = names
        for s in 0..<4 { newC[perm[s]] = centroids[s]; newN[perm[s]] = names[s] }
        model["centroids"] = newC; model["segment_names"] = newN
        try JSONSerialization.data(withJSONObject: model).write(to: URL(fileURLWithPath: "\(dir)/run2/model.json"))
        try FileManager.default.copyItem(atPath: "\(dir)/run1/profiles.json", toPath: "\(dir)/run2/profiles.json")

        for (before, after, method) in [("\(dir)/run1", "\(dir)/run2", "centroid"), ("\(dir)/run1/assignments.csv", "\(dir)/run2/assignments.csv", "overlap")] {
            let r = try CLI.run(["migrate", "--before", before, "--after", after, "--json", "--moves-out", "\(dir)/moves.csv"])
            #expect(r.code == 0, "\(r.stderr)")
            let j = try #require(r.json)
            #expect((j["method"] as! String).contains(method))
            #expect(j["stayed"] as? Int == 1200 && j["moved"] as? Int == 0 && j["churned"] as? Int == 0 && j["new"] as? Int == 0)
            let mapping = (j["mapping"] as! [[String: Any]]).map { $0["after"] as! Int }
            #expect(mapping == perm)
            #expect((j["share_drift"] as! [Double]).allSatisfy { abs($0) < 1e-12 })
            #expect(try readCSVColumn("\(dir)/moves.csv", "status").allSatisfy { $0 == "stayed" })
        }
        // Customers who leave, arrive and move are counted as such.
        var fewer = lines
        fewer.remove(at: 1)                                  // first customer churned
        fewer.append("NEW1,0,x,0.5")                         // a new customer
        var f = fewer[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        f[1] = String((Int(f[1])! + 1) % 4)                   // second customer moved
        fewer[1] = f.joined(separator: ",")
        write(fewer.joined(separator: "\n") + "\n", "\(dir)/run2/assignments.csv")
        let r = try CLI.run(["migrate", "--before", "\(dir)/run1", "--after", "\(dir)/run2", "--json"])
        let j = try #require(r.json)
        #expect(j["stayed"] as? Int == 1198 && j["moved"] as? Int == 1 && j["churned"] as? Int == 1 && j["new"] as? Int == 1, "\(j)")
        // segment --previous on the same data: nobody moves, and the report has the chart.
        let again = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--out", "\(dir)/run3", "--k", "4", "--quiet", "--previous", "\(dir)/run1", "--json"])
        #expect(again.code == 0, "\(again.stderr)")
        let m = try jsonFile("\(dir)/run3/migration.json")
        #expect(m["stayed"] as? Int == 1200 && m["moved"] as? Int == 0)
        #expect(try String(contentsOfFile: "\(dir)/run3/report.html", encoding: .utf8).contains("id=\"chart-migration\""))
    }

    @Test func cdnowTransactionsEndToEnd() throws {
        let dir = tempDir()
        let r = try CLI.run(["segment", "--transactions", "\(fixtures)/cdnow/CDNOW_sample.txt", "--delimiter", "whitespace", "--no-header",
                             "--customer-column", "1", "--date-column", "3", "--amount-column", "5", "--date-format", "%Y%m%d",
                             "--out", "\(dir)/out", "--json", "--quiet", "--k-max", "6"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        let counts = try #require(j["counts"] as? [String: Any])
        #expect(counts["customers_modelled"] as? Int == 2357)   // every CDNOW sample customer
        #expect(counts["transactions"] as? Int == 6919)
        let p = try jsonFile("\(dir)/out/profiles.json")
        let groups = (p["segments"] as! [[String: Any]]) + ((p["other"] as? [String: Any]).map { [$0] } ?? [])
        #expect(groups.map { $0["size"] as! Int }.reduce(0, +) == 2357)
        // Revenue shares partition the revenue; CLV totals partition the population's.
        let shares = groups.map { $0["revenue_share"] as! Double }
        #expect(abs(shares.reduce(0, +) - 1) < 1e-9)
        let pop = p["population"] as! [String: Any]
        #expect(abs(groups.map { $0["clv_total"] as! Double }.reduce(0, +) - (pop["clv_total"] as! Double)) < 1e-6 * (pop["clv_total"] as! Double))
        // RFM mix covers every customer of each segment.
        for g in groups { #expect((g["rfm_mix"] as! [String: Int]).values.reduce(0, +) == g["size"] as! Int) }
        let clv = try #require((try jsonFile("\(dir)/out/run.json"))["clv_model"] as? [String: Any])
        #expect(((clv["bgnbd"] as! [String: Any])["converged"] as? Bool) == true)
        // features.csv + model.json replay the assignments.
        let pr = try CLI.run(["predict", "--model", "\(dir)/out/model.json", "--input", "\(dir)/out/features.csv", "--labels-out", "\(dir)/pred.csv"])
        #expect(pr.code == 0, "\(pr.stderr)")
        #expect(try readCSVColumn("\(dir)/pred.csv", "segment") == (try readCSVColumn("\(dir)/out/assignments.csv", "segment_id")))
        // predict names the segments of a segment model; abc --segments takes assignments.csv as written
        // (CDNOW has no product column: the CD count stands in for one, to test the join).
        #expect(try readCSVColumn("\(dir)/pred.csv", "segment_name") == (try readCSVColumn("\(dir)/out/assignments.csv", "segment_name")))
        let abc = try CLI.run(["abc", "--transactions", "\(fixtures)/cdnow/CDNOW_sample.txt", "--delimiter", "whitespace", "--no-header",
                               "--customer-column", "1", "--product-column", "4", "--date-column", "3", "--amount-column", "5", "--date-format", "%Y%m%d",
                               "--segments", "\(dir)/out/assignments.csv", "--json"])
        #expect(abc.code == 0, "\(abc.stderr)")
        let bySegment = try #require((abc.json?["segments"] as? [String: Any])?.keys.sorted())
        #expect(Set(bySegment) == Set(try readCSVColumn("\(dir)/out/assignments.csv", "segment_name")), "\(bySegment)")
        try expectNamesAgreeWithProfiles("\(dir)/out")
    }

    /// transactions.calibration_end: features and CLV as of the calibration end, the CLV fit checked
    /// on the later orders (run.json clv_model.holdout: CDNOW's 1,882 holdout repeat purchases to
    /// 1998-06-30, the last order day), parameter standard errors, and CLV ranges per segment.
    @Test func cdnowCalibrationEndEvaluatesTheCLVFit() throws {
        let dir = tempDir()
        let args = ["segment", "--transactions", "\(fixtures)/cdnow/CDNOW_sample.txt", "--delimiter", "whitespace", "--no-header",
                    "--customer-column", "1", "--date-column", "3", "--amount-column", "5", "--date-format", "%Y%m%d",
                    "--json", "--quiet", "--k-max", "4"]
        let r = try CLI.run(args + ["--calibration-end", "1997-09-30", "--out", "\(dir)/out"])
        #expect(r.code == 0, "\(r.stderr)")
        let clv = try #require((try jsonFile("\(dir)/out/run.json"))["clv_model"] as? [String: Any])
        let h = try #require(clv["holdout"] as? [String: Any])
        #expect(h["calibration_end"] as? String == "1997-09-30" && h["period_end"] as? String == "1998-06-30")
        #expect(h["actual_repeat_purchases"] as? Int == 1882 && h["customers"] as? Int == 2357)
        #expect(abs((h["predicted_repeat_purchases"] as? Double ?? 0) - 1653.4) < 8)
        #expect((clv["bgnbd"] as? [String: Any])?["r_se"] is Double)
        let pop = try #require((try jsonFile("\(dir)/out/profiles.json"))["population"] as? [String: Any])
        let (lo, total, hi) = (pop["clv_p05_total"] as! Double, pop["clv_total"] as! Double, pop["clv_p95_total"] as! Double)
        #expect(lo < total && total < hi, "\(lo) \(total) \(hi)")
        // as_of and calibration_end together are refused, naming the keys.
        let both = try CLI.run(args + ["--calibration-end", "1997-09-30", "--as-of", "1997-09-30", "--out", "\(dir)/both"])
        #expect(both.code != 0 && both.stderr.contains("calibration_end"), "\(both.stderr)")
    }

    @Test func jobFilesInYAMLAndJSONWithFlagsWinning() throws {
        let dir = tempDir()
        write(plantedCustomers(rows: 900).csv, "\(dir)/c.csv")
        write("""
            # nightly job
            customers: \(dir)/c.csv
            k: 3
            seed: 5
            min_segment_size: 10
            names:
              "0": Core
            """, "\(dir)/job.yaml")
        let y = try CLI.run(["segment", "--config", "\(dir)/job.yaml", "--out", "\(dir)/y", "--json", "--quiet", "--k", "4"])
        #expect(y.code == 0, "\(y.stderr)")
        #expect(y.json?["k"] as? Int == 4, "the flag wins over the file")
        #expect(try readCSVColumn("\(dir)/y/assignments.csv", "segment_name").contains("Core"))
        write("{\"customers\": \"\(dir)/c.csv\", \"k\": 3, \"out\": \"\(dir)/j\"}", "\(dir)/job.json")
        let js = try CLI.run(["segment", "--config", "\(dir)/job.json", "--json", "--quiet"])
        #expect(js.code == 0, "\(js.stderr)")
        #expect(js.json?["k"] as? Int == 3)
        write("customers: \(dir)/c.csv\nk_mx: 5\n", "\(dir)/typo.yaml")
        let typo = try CLI.run(["segment", "--config", "\(dir)/typo.yaml", "--quiet"])
        #expect(typo.code == 64)
        #expect(typo.stderr.contains("typo.yaml") && typo.stderr.contains("k_mx") && typo.stderr.contains("k_max"), "\(typo.stderr)")
        write("customers: \(dir)/c.csv\nk: three\n", "\(dir)/type.yaml")
        let type = try CLI.run(["segment", "--config", "\(dir)/type.yaml", "--quiet"])
        #expect(type.code == 64 && type.stderr.contains("k"), "\(type.stderr)")
    }

    @Test func privacyThresholdAndPseudonyms() throws {
        let dir = tempDir()
        write(plantedCustomers(rows: 1000).csv, "\(dir)/c.csv")
        let env = ["STRATA_TEST_SALT": "pepper"]
        let r = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--out", "\(dir)/out", "--k", "6", "--min-segment-size", "150",
                             "--pseudonymize", "--salt-env", "STRATA_TEST_SALT", "--quiet", "--json"], environment: env)
        #expect(r.code == 0, "\(r.stderr)")
        let ids = try readCSVColumn("\(dir)/out/assignments.csv", "customer_id")
        #expect(ids.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) })
        #expect(Set(ids).count == ids.count)
        #expect(ids[0] == Pseudonymizer(salt: "pepper").pseudonym("P100000"))
        let p = try jsonFile("\(dir)/out/profiles.json")
        let segs = p["segments"] as! [[String: Any]]
        #expect(segs.allSatisfy { ($0["size"] as! Int) >= 150 })
        let labels = try readCSVColumn("\(dir)/out/assignments.csv", "segment_id").map { Int($0)! }
        let merged = try #require(try jsonFile("\(dir)/out/run.json")["merged_into_other"] as? [Int])
        #expect(!merged.isEmpty, "k = 6 on four planted groups should leave a segment under 150")
        let smallTotal = labels.filter { merged.contains($0) }.count
        if let other = p["other"] as? [String: Any] {
            // Other is reported only when the merged group reaches the threshold itself.
            #expect(other["size"] as? Int == smallTotal && smallTotal >= 150 && other["merged_segments"] as? [Int] == merged)
        } else {
            #expect(p["other_suppressed"] as? Bool == true && smallTotal < 150)
            #expect((p["population"] as! [String: Any])["size"] as? Int == labels.count - smallTotal)
        }
        let report = try String(contentsOfFile: "\(dir)/out/report.html", encoding: .utf8)
        for id in ["P100000", "P100001", ids[0]] { #expect(!report.contains(id), "customer id \(id) in the report") }
        for s in merged {
            let name = try readCSVColumn("\(dir)/out/assignments.csv", "segment_name")[labels.firstIndex(of: s)!]
            #expect(!report.contains(">\(s) · \(name)<"), "small segment \(s) shown on its own")
        }
        let noSalt = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--out", "\(dir)/o2", "--pseudonymize", "--quiet"])
        #expect(noSalt.code == 64 && noSalt.stderr.contains("salt"))
    }
}

/// Headless Chromium (Debian's `chromium`), for the report test. `Scripts/test` installs it and
/// sets STRATA_REQUIRE_BROWSER=1, so in CI a missing browser fails the test instead of skipping it.
enum Browser {
    static let path: String? = {
        let candidates = [ProcessInfo.processInfo.environment["STRATA_CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
    static let required = ProcessInfo.processInfo.environment["STRATA_REQUIRE_BROWSER"] == "1"

    static func run(_ args: [String]) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(path, "chromium is not installed (apt-get install chromium)"))
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                       "--user-data-dir=" + tempDir()] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLI.Result(code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

@Suite struct ReportBrowserTests {
    @Test(.enabled(if: Browser.path != nil || Browser.required, "chromium not installed; Scripts/test installs it"))
    func demoReportRendersInAHeadlessBrowserWithEveryChart() throws {
        let dir = tempDir()
        let first = try CLI.run(["segment", "--demo", "--demo-customers", "1500", "--out", "\(dir)/run1", "--quiet"])
        #expect(first.code == 0, "\(first.stderr)")
        let r = try CLI.run(["segment", "--demo", "--demo-customers", "1500", "--seed", "43", "--out", "\(dir)/run2", "--previous", "\(dir)/run1", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        let page = "\(dir)/run2/report.html"
        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Self-contained: no scripts, no remote resources.
        #expect(!html.contains("<script") && !html.contains("http://www.w3.org/1999/xhtml\" src") && !html.contains("src=\"http"))
        let expected = ["chart-sizes", "chart-heatmap", "chart-dist-0", "chart-projection", "chart-k-selection", "chart-rfm", "chart-clv",
                        "chart-clv-distribution", "chart-affinity", "chart-abc", "chart-migration"]
        // Rendered: a screenshot, no console messages at all (errors or otherwise).
        let shot = "\(dir)/report.png"
        let s = try Browser.run(["--enable-logging=stderr", "--v=0", "--hide-scrollbars", "--window-size=1200,6000", "--screenshot=\(shot)", "file://\(page)"])
        #expect(s.code == 0, "\(s.stderr)")
        let console = s.stderr.split(separator: "\n").filter { $0.contains(":CONSOLE") || $0.contains("Uncaught") }
        #expect(console.isEmpty, "console output: \(console)")
        let png = try #require(FileManager.default.contents(atPath: shot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 50_000, "screenshot \(png.count) bytes")
        // The DOM after parsing holds every chart as an SVG element with content.
        let dom = try Browser.run(["--dump-dom", "file://\(page)"])
        #expect(dom.code == 0)
        let meta = try #require(html.range(of: "name=\"strata-charts\" content=\"").map { html[$0.upperBound...].prefix { $0 != "\"" } })
        let listed = meta.split(separator: ",").map(String.init)
        for id in Set(expected).union(listed) {
            #expect(dom.stdout.contains("<svg id=\"\(id)\""), "chart \(id) missing from the rendered page")
        }
        #expect(listed.count >= expected.count + 5, "one distribution chart per feature: \(listed)")
        #expect(dom.stdout.components(separatedBy: "<rect").count > 100)
        // No text overflows its chart: a copy of the page with a checking script (the report
        // itself has none) compares every text's rendered box with its SVG's.
        let check = "\(dir)/check.html"
        let script = """
            <script>
            const bad = [];
            document.querySelectorAll('svg.chart').forEach(svg => { const r = svg.getBoundingClientRect();
              svg.querySelectorAll('text').forEach(t => { const b = t.getBoundingClientRect();
                if (b.width > 0 && (b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1)) bad.push(svg.id + ': ' + t.textContent); }); });
            document.body.setAttribute('data-overflow', bad.length + '|' + bad.slice(0, 5).join(' ; '));
            </script>
            """
        try html.replacingOccurrences(of: "</body>", with: script + "</body>").write(toFile: check, atomically: true, encoding: .utf8)
        let checked = try Browser.run(["--window-size=1200,6000", "--dump-dom", "file://\(check)"])
        #expect(checked.code == 0)
        let overflow = checked.stdout.range(of: "data-overflow=\"").map { checked.stdout[$0.upperBound...].prefix { $0 != "\"" } } ?? "missing"
        #expect(overflow == "0|", "text outside its chart: \(overflow)")
    }
}

@Suite struct OutOfCoreTests {
    /// 20,000 rows x 8 features in 5 groups, as CSV with ids.
    func table(_ dir: String) -> String {
        var rng = SeededRandom(seed: 21)
        var csv = "customer_id," + (0..<8).map { "f\($0)" }.joined(separator: ",") + "\n"
        for i in 0..<20_000 {
            let g = Double(i % 5) * 4
            csv += "C\(i)," + (0..<8).map { j in String(format: "%.4f", g * Double(j % 3 + 1) + rng.nextUnit()) }.joined(separator: ",") + "\n"
        }
        let path = "\(dir)/t.csv"
        write(csv, path)
        return path
    }

    @Test func convertedNPYAndStreamedCSVGiveTheInMemoryResultsExactly() throws {
        let dir = tempDir()
        let csv = table(dir)
        let c = try CLI.run(["convert", "--input", csv, "--out", "\(dir)/t.npy", "--json"])
        #expect(c.code == 0, "\(c.stderr)")
        #expect(c.json?["rows"] as? Int == 20_000)
        #expect(FileManager.default.fileExists(atPath: "\(dir)/t.npy.json") && FileManager.default.fileExists(atPath: "\(dir)/t.npy.ids"))
        var outputs: [Data?] = []
        var inertias: [Double] = []
        for input in [[csv], ["\(dir)/t.npy"], [csv, "--memory-budget", "2M"], ["\(dir)/t.npy", "--memory-budget", "256K"]] {
            let r = try CLI.run(["kmeans", "--input"] + input + ["--k", "5", "--seed", "3", "--json", "--labels-out", "\(dir)/l.csv", "--model-out", "\(dir)/m.json"])
            #expect(r.code == 0, "\(r.stderr)")
            inertias.append(try #require(r.json?["inertia"] as? Double))
            outputs.append(bytes("\(dir)/l.csv"))
            var model = try jsonFile("\(dir)/m.json")
            #expect((model["columns"] as? [String])?.first == "f0", "column names come from the sidecar")
            model["strata_version"] = nil
        }
        #expect(Set(inertias).count == 1, "\(inertias)")
        #expect(Set(outputs.map { $0 ?? Data() }).count == 1, "labels differ between in-memory, .npy and streamed inputs")
        let ids = try readCSVColumn("\(dir)/l.csv", "id")
        #expect(ids.first == "C0" && ids.last == "C19999")
        // GMM, PCA and predict read the mapped file the same way.
        for cmd in [["gmm", "--k", "3", "--covariance", "diag"], ["pca", "--components", "2"]] {
            let a = try CLI.run([cmd[0], "--input", csv] + cmd.dropFirst() + ["--json", "--seed", "1"])
            let b = try CLI.run([cmd[0], "--input", "\(dir)/t.npy", "--memory-budget", "256K"] + cmd.dropFirst() + ["--json", "--seed", "1"])
            #expect(a.code == 0 && b.code == 0, "\(a.stderr) \(b.stderr)")
            for key in ["lower_bound", "explained_variance"] where a.json?[key] != nil {
                #expect("\(a.json![key]!)" == "\(b.json![key]!)", "\(cmd[0]) \(key)")
            }
        }
        // A bad value in a CSV streamed block by block is reported with its real line.
        var text = try String(contentsOfFile: csv, encoding: .utf8)
        text += "BAD,1,2,x,4,5,6,7,8\n"
        write(text, "\(dir)/bad.csv")
        let bad = try CLI.run(["kmeans", "--input", "\(dir)/bad.csv", "--k", "3", "--memory-budget", "2M"])
        #expect(bad.code == 65 && bad.stderr.contains("line 20002") && bad.stderr.contains("'f2'"), "\(bad.stderr)")
    }

    @Test func streamingKeepsResidentMemoryFarBelowTheData() throws {
        // 1.5M x 16 float32 = 96 MB: in memory the whole file becomes resident; with a 16 MB
        // budget only windows of it are (labels and distances, 8 bytes a row, stay).
        let dir = tempDir()
        let n = 1_500_000, d = 16
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(n), \(d)), }"
        header += String(repeating: " ", count: 117 - header.utf8.count) + "\n"
        var file = Data([0x93] + Array("NUMPY".utf8) + [1, 0, 118, 0] + Array(header.utf8))
        var values = [Float](repeating: 0, count: n * d)
        var rng = SeededRandom(seed: 5)
        for i in 0..<n { let g = Float(i % 4) * 5; for j in 0..<d { values[i * d + j] = g + Float(rng.nextUnit()) } }
        values.withUnsafeBytes { file.append(contentsOf: $0) }
        try file.write(to: URL(fileURLWithPath: "\(dir)/big.npy"))
        values = []
        func peak(_ budget: String) throws -> (Int, Double) {
            // One thread: which windows are resident at once then depends on the data alone.
            let r = try CLI.run(["kmeans", "--input", "\(dir)/big.npy", "--k", "4", "--seed", "1", "--max-iter", "5", "--json", "--memory-budget", budget,
                                 "--threads", "1"])
            #expect(r.code == 0, "\(r.stderr)")
            return (try #require(r.json?["peak_memory_bytes"] as? Int), try #require(r.json?["inertia"] as? Double))
        }
        let (inMemory, a) = try peak("8G"), (streamed, b) = try peak("16M")
        #expect(a == b)
        #expect(inMemory - streamed > 40 << 20, "in memory \(inMemory >> 20) MB, streamed \(streamed >> 20) MB")
    }
}

@Suite struct UpdateCommandTests {
    @Test func updateWritesANewModelAndReportsShifts() throws {
        let dir = tempDir()
        let (csv, _) = plantedCustomers(rows: 1200, seed: 3)
        write(csv, "\(dir)/a.csv")
        write(plantedCustomers(rows: 600, seed: 4).csv, "\(dir)/b.csv")
        let fit = try CLI.run(["kmeans", "--input", "\(dir)/a.csv", "--k", "4", "--impute", "median", "--log", "avg_spend,orders_per_year",
                               "--scale", "standard", "--model-out", "\(dir)/m.json", "--json", "--init", "k-means||"])
        #expect(fit.code == 0, "\(fit.stderr)")
        #expect(fit.json?["init"] as? String == "k-means||")
        let before = try jsonFile("\(dir)/m.json")
        let u = try CLI.run(["update", "--model", "\(dir)/m.json", "--input", "\(dir)/b.csv", "--half-life", "2", "--model-out", "\(dir)/m2.json", "--json"])
        #expect(u.code == 0, "\(u.stderr)")
        let j = try #require(u.json)
        #expect(j["rows"] as? Int == 600)
        #expect(abs((j["decay"] as! Double) - pow(0.5, 0.5)) < 1e-12)
        #expect((j["assigned"] as! [Int]).reduce(0, +) == 600)
        #expect((j["max_shift"] as! Double) < 0.2, "same distribution: centers barely move (\(j["shift"]!))")
        let after = try jsonFile("\(dir)/m2.json")
        #expect(after["updates"] as? Int == 1)
        #expect((after["preprocessing"] as? [String: Any]) != nil, "the preprocessing stays with the model")
        #expect((before["centroids"] as! [[Double]]) != (after["centroids"] as! [[Double]]))
        // The updated model still predicts.
        #expect(try CLI.run(["predict", "--model", "\(dir)/m2.json", "--input", "\(dir)/b.csv", "--json"]).code == 0)
        let gmm = try CLI.run(["gmm", "--input", "\(dir)/a.csv", "--k", "2", "--impute", "median", "--model-out", "\(dir)/g.json"])
        #expect(gmm.code == 0)
        let wrong = try CLI.run(["update", "--model", "\(dir)/g.json", "--input", "\(dir)/b.csv"])
        #expect(wrong.code == 64 && wrong.stderr.contains("K-Means"))
    }
}

@Suite struct PartialStatsTests {
    @Test func binaryProtocolGivesTheSufficientStatistics() throws {
        // 3 centers in 2-D and rows whose nearest center is known.
        let centers: [Float] = [0, 0, 10, 0, 0, 10]
        var rows: [Float] = []
        for i in 0..<30_000 { let c = i % 3; rows += [centers[2 * c] + Float(i % 7) * 0.1, centers[2 * c + 1] - Float(i % 5) * 0.1] }
        var input = Data("STRP".utf8)
        withUnsafeBytes(of: UInt32(3).littleEndian) { input.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(2).littleEndian) { input.append(contentsOf: $0) }
        centers.withUnsafeBytes { input.append(contentsOf: $0) }
        rows.withUnsafeBytes { input.append(contentsOf: $0) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["partial-stats", "--block-rows", "4096"]
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        try p.run()
        let payload = input
        DispatchQueue.global().async { inPipe.fileHandleForWriting.write(payload); try? inPipe.fileHandleForWriting.close() }
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(out.prefix(4) == Data("STRS".utf8) && out.count == 20 + 8 * (6 + 3 + 1))
        let v = out.dropFirst(20).withUnsafeBytes { raw in (0..<10).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) } }
        #expect(out.dropFirst(12).prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } == 30_000)
        #expect(Array(v[6..<9]) == [10_000, 10_000, 10_000])
        var sums = [Double](repeating: 0, count: 6), inertia = 0.0
        for i in 0..<30_000 {
            let c = i % 3
            sums[2 * c] += Double(rows[2 * i]); sums[2 * c + 1] += Double(rows[2 * i + 1])
            let dx = rows[2 * i] - centers[2 * c], dy = rows[2 * i + 1] - centers[2 * c + 1]
            inertia += Double(dx * dx + dy * dy)
        }
        for j in 0..<6 { #expect(abs(v[j] - sums[j]) < 1e-6 * max(1, abs(sums[j]))) }
        #expect(abs(v[9] - inertia) < 1e-6 * inertia)
    }
}

@Suite struct SegmentNameStabilityTests {
    /// With --previous, matched segments keep their names while the profile supports them; a
    /// name it no longer supports changes, and run.json says why.
    @Test func namesAreKeptWhileSupportedAndChangesAreExplained() throws {
        let dir = tempDir()
        let first = try CLI.run(["segment", "--demo", "--demo-customers", "3000", "--k", "5", "--out", "\(dir)/run1", "--quiet"])
        #expect(first.code == 0, "\(first.stderr)")
        let names1 = try #require(try jsonFile("\(dir)/run1/model.json")["segment_names"] as? [String])
        // Same data again: every name kept, nothing to explain.
        let again = try CLI.run(["segment", "--demo", "--demo-customers", "3000", "--k", "5", "--out", "\(dir)/run2", "--previous", "\(dir)/run1", "--quiet"])
        #expect(again.code == 0, "\(again.stderr)")
        #expect(try jsonFile("\(dir)/run2/model.json")["segment_names"] as? [String] == names1)
        #expect((try jsonFile("\(dir)/run2/run.json")["name_changes"] as? [Any])?.isEmpty == true)
        // A previous name the profile contradicts: segment 0 (the largest) was "New high-value".
        let modelPath = "\(dir)/run1/model.json"
        var model = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: modelPath))) as? [String: Any])
        var bogus = names1
        let victim = try #require(names1.firstIndex { !$0.hasPrefix("New") })
        bogus[victim] = "New high-value"
        model["segment_names"] = bogus
        try JSONSerialization.data(withJSONObject: model).write(to: URL(fileURLWithPath: modelPath))
        let third = try CLI.run(["segment", "--demo", "--demo-customers", "3000", "--k", "5", "--out", "\(dir)/run3", "--previous", "\(dir)/run1", "--quiet"])
        #expect(third.code == 0, "\(third.stderr)")
        let names3 = try #require(try jsonFile("\(dir)/run3/model.json")["segment_names"] as? [String])
        #expect(names3 == names1, "the unsupported name is replaced by what the profile supports; the others are kept")
        let changes = try #require(try jsonFile("\(dir)/run3/run.json")["name_changes"] as? [[String: Any]])
        #expect(changes.count == 1)
        #expect(changes.first?["segment"] as? Int == victim && changes.first?["previous_name"] as? String == "New high-value")
        #expect((changes.first?["reason"] as? String)?.contains("needs tenure lift <= 0.5") == true, "\(changes)")
        // Every segment carries its persona and the playbook's action.
        let segs = try #require(try jsonFile("\(dir)/run3/profiles.json")["segments"] as? [[String: Any]])
        #expect(segs.allSatisfy { ($0["persona"] as? String) != nil && (($0["action"] as? String)?.count ?? 0) > 10 })
    }
}

@Suite struct SegmentProfileOnlyTests {
    /// Outcome and attribute columns kept out of the model are profiled per segment: rates for
    /// yes/no columns (equal to a direct count from assignments.csv), category shares, numbers.
    @Test func profileOnlyColumnsAreProfiledNotModelled() throws {
        let dir = tempDir()
        var rng = SeededRandom(seed: 5)
        var csv = "customer_id,spend,visits,has_app,churned,region,satisfaction\n"
        var churned: [String: Bool] = [:]
        for i in 0..<1200 {
            let g = i % 3
            let spend = [50.0, 400.0, 1500.0][g] * (0.8 + 0.4 * rng.nextUnit())
            let visits = [2.0, 10.0, 30.0][g] * (0.8 + 0.4 * rng.nextUnit())
            let churn = rng.nextUnit() < [0.6, 0.2, 0.05][g]
            let region = rng.nextUnit() < (g == 2 ? 0.8 : 0.3) ? "north" : "south"
            let id = String(format: "C%04d", i)
            churned[id] = churn
            csv += "\(id),\(spend),\(visits),\(rng.nextUnit() < [0.2, 0.5, 0.9][g] ? 1 : 0),\(churn ? "yes" : "no"),\(region),\(i % 7 == 0 ? "" : String(1 + i % 5))\n"
        }
        write(csv, "\(dir)/c.csv")
        let r = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "3", "--profile-only", "churned,region,satisfaction",
                             "--out", "\(dir)/out", "--quiet", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        // Not modelled: the model's features are spend and visits only.
        let model = try String(contentsOfFile: "\(dir)/out/model.json", encoding: .utf8)
        #expect(model.contains("\"spend\"") && !model.contains("churned") && !model.contains("north"))
        let ids = try readCSVColumn("\(dir)/out/assignments.csv", "customer_id")
        let labels = try readCSVColumn("\(dir)/out/assignments.csv", "segment_id").map { Int($0)! }
        let segs = try #require(try jsonFile("\(dir)/out/profiles.json")["segments"] as? [[String: Any]])
        #expect(segs.count == 3)
        var seen = Set<Double>()
        for s in segs {
            let id = s["id"] as! Int
            let members = zip(ids, labels).filter { $0.1 == id }.map(\.0)
            let expected = Double(members.filter { churned[$0]! }.count) / Double(members.count)
            let po = try #require(s["profile_only"] as? [[String: Any]])
            #expect(po.map { $0["column"] as! String } == ["churned", "region", "satisfaction"])
            let churn = po[0]
            #expect(churn["kind"] as? String == "rate")
            #expect(abs((churn["rate"] as! Double) - expected) < 1e-12, "segment \(id)")
            #expect(abs((churn["population_rate"] as! Double) - Double(churned.values.filter { $0 }.count) / 1200) < 1e-12)
            #expect((churn["adjusted_p_value"] as! Double) < 0.05, "planted rates differ")
            seen.insert((expected * 10).rounded())
            #expect(po[1]["kind"] as? String == "categories" && (po[1]["categories"] as? [[String: Any]])?.isEmpty == false)
            let sat = po[2]
            #expect(sat["kind"] as? String == "number" && (sat["missing"] as! Int) > 0)
        }
        #expect(seen == [6, 2, 1] || seen.count == 3, "three distinct churn rates near 60%, 20%, 5%")
        // A modelled 0/1 column is a rate everywhere: flagged binary, charted as rates, not boxes.
        let hasApp = try #require((segs[0]["features"] as? [[String: Any]])?.first { $0["feature"] as? String == "has_app" })
        #expect(hasApp["binary"] as? Bool == true)
        let html = try String(contentsOfFile: "\(dir)/out/report.html", encoding: .utf8)
        #expect(html.contains("Rate of has_app") && html.contains("id=\"chart-outcome-0\""))
        // A profile-only column that is also a feature, or missing, is a one-line error.
        let bad = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "3", "--profile-only", "churn", "--out", "\(dir)/bad", "--quiet"])
        #expect(bad.code == 64 && bad.stderr.contains("--profile-only: 'churn' is not a column of"), "\(bad.stderr)")
        let both = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "3", "--profile-only", "spend", "--columns", "spend,visits",
                                "--out", "\(dir)/bad2", "--quiet"])
        #expect(both.code != 0 && both.stderr.contains("also a model feature"), "\(both.stderr)")
    }
}

@Suite struct SegmentAffinityExportTests {
    /// affinity.csv's figures equal a direct count from the order log and assignments.csv;
    /// segments/<id>-<slug>.csv lists exactly each segment's customers; profiles.csv has one row
    /// per group x feature.
    @Test func affinityAndExportsMatchADirectCount() throws {
        let dir = tempDir()
        let r = try CLI.run(["segment", "--demo", "--demo-customers", "3000", "--k", "5", "--out", "\(dir)/out", "--quiet", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let ids = try readCSVColumn("\(dir)/out/assignments.csv", "customer_id")
        let labels = try readCSVColumn("\(dir)/out/assignments.csv", "segment_id").map { Int($0)! }
        let segmentOf = Dictionary(uniqueKeysWithValues: zip(ids, labels))
        // Buyers per (segment, product) from the order log itself.
        let tx = try String(contentsOfFile: "\(dir)/out/demo-data/transactions.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let header = tx[0]
        let ci = header.firstIndex(of: "customer_id")!, pi = header.firstIndex(of: "product")!
        var pairs = Set<String>()
        for row in tx.dropFirst() where segmentOf[row[ci]] != nil { pairs.insert(row[ci] + "|" + row[pi]) }
        var buyers: [String: [Int: Int]] = [:]
        for p in pairs {
            let parts = p.split(separator: "|").map(String.init)
            buyers[parts[1], default: [:]][segmentOf[parts[0]]!, default: 0] += 1
        }
        let sizes = Dictionary(grouping: labels, by: { $0 }).mapValues(\.count)
        let rows = try String(contentsOfFile: "\(dir)/out/affinity.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(rows[0] == ["segment", "segment_name", "level", "item", "direction", "buyers", "segment_share", "population_share", "lift", "p_value", "adjusted_p_value",
                            "spend_share_lift", "categories"])
        #expect(rows.count > 20)
        for row in rows.dropFirst().prefix(40) {
            let s = Int(row[0])!, item = row[3]
            let b = buyers[item]![s] ?? 0, all = buyers[item]!.values.reduce(0, +)
            #expect(Int(row[5]) == b)
            #expect(abs(Double(row[6])! - Double(b) / Double(sizes[s]!)) < 1e-12)
            #expect(abs(Double(row[7])! - Double(all) / 3000) < 1e-12)
            #expect(abs(Double(row[8])! - (Double(b) / Double(sizes[s]!)) / (Double(all) / 3000)) < 1e-9)
            #expect((row[4] == "over") == (Double(row[8])! > 1) && Double(row[10])! < 0.05 && b >= 50)
        }
        // profiles.json carries the highlights and the spend shares across the global classes.
        let segs = try #require(try jsonFile("\(dir)/out/profiles.json")["segments"] as? [[String: Any]])
        for s in segs {
            let a = try #require(s["affinity"] as? [String: Any])
            let shares = try #require(a["abc_spend_shares"] as? [String: Double])
            #expect(abs(shares.values.reduce(0, +) - 1) < 1e-9)
        }
        #expect(Set(segs.map { ($0["affinity"] as! [String: Any])["abc_spend_shares"] as! [String: Double] }.map { ($0["A"]! * 100).rounded() }).count > 1,
                "global classes: segments differ in their A share")
        // Customer lists: one file per reported segment, exactly its customers.
        let files = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/out/segments").sorted()
        #expect(files.count == 5)
        for f in files {
            let s = Int(f.split(separator: "-").first!)!
            #expect(try Set(readCSVColumn("\(dir)/out/segments/\(f)", "customer_id")) == Set(zip(ids, labels).filter { $0.1 == s }.map(\.0)))
        }
        let profiles = try String(contentsOfFile: "\(dir)/out/profiles.csv", encoding: .utf8).split(separator: "\n")
        let features = segs[0]["features"] as! [Any]
        #expect(profiles.count == 1 + (segs.count + 1) * features.count)
        let run = try jsonFile("\(dir)/out/run.json")
        let outputs = try #require(run["outputs"] as? [String: String])
        #expect(outputs["profiles"]?.hasSuffix("profiles.json") == true && outputs["profiles_csv"]?.hasSuffix("profiles.csv") == true)
        #expect(outputs["affinity"] != nil && outputs["segments"] != nil)
        try expectNamesAgreeWithProfiles("\(dir)/out")
    }
}

/// Recomputes each segment's lifts from features.csv and assignments.csv (independently of the
/// profiler) and checks that the persona its name claims holds by the documented thresholds
/// (SegmentPersona): no name contradicts its profile.
func expectNamesAgreeWithProfiles(_ dir: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let rows = try String(contentsOfFile: "\(dir)/features.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = rows[0]
    let labels = Dictionary(uniqueKeysWithValues: zip(try readCSVColumn("\(dir)/assignments.csv", "customer_id"),
                                                      try readCSVColumn("\(dir)/assignments.csv", "segment_id").map { Int($0)! }))
    func lifts(_ column: String) -> [Int: Double] {
        let j = header.firstIndex(of: column)!
        var sum: [Int: Double] = [:], count: [Int: Int] = [:], all = 0.0, n = 0
        for r in rows.dropFirst() { guard let v = Double(r[j]), let s = labels[r[0]] else { continue }; sum[s, default: 0] += v; count[s, default: 0] += 1; all += v; n += 1 }
        return sum.mapValues { $0 }.reduce(into: [:]) { $0[$1.key] = ($1.value / Double(count[$1.key]!)) / (all / Double(n)) }
    }
    let recency = lifts("recency_days"), frequency = lifts("frequency"), tenure = lifts("tenure_days")
    let prior = lifts("monetary_total"), clv = header.contains("clv") ? lifts("clv") : prior
    let value = prior.merging(clv) { max($0, $1) }
    let segs = try #require(try jsonFile("\(dir)/profiles.json")["segments"] as? [[String: Any]], sourceLocation: sourceLocation)
    for s in segs {
        let id = s["id"] as! Int, persona = s["persona"] as! String
        let r = recency[id]!, f = frequency[id]!, t = tenure[id]!, v = value[id]!, pv = prior[id]!
        // Both runs fit CLV, so P(alive) exists: a missing one fails the lapsed claims.
        let alive = (s["probability_alive_mean"] as? Double) ?? 1
        let holds: Bool
        switch persona {
        case "lapsed_high_value": holds = r >= 2.5 && alive < 0.5 && v >= 1.25
        case "lapsed": holds = r >= 2.5 && alive < 0.5
        case "at_risk_high_value": holds = r >= 1.5 && v >= 1.25
        case "at_risk": holds = r >= 1.5 && pv >= 1
        case "inactive": holds = r >= 1.5 && pv > 0.75 && pv < 1
        case "inactive_low_value": holds = r >= 1.5 && pv <= 0.75
        case "new_high_value": holds = t <= 0.5 && v >= 1.25
        case "new": holds = t <= 0.5
        case "high_value_loyal": holds = v >= 1.25 && f > 1 && t > 1
        case "high_value": holds = v >= 1.25
        case "loyal": holds = f > 1 && t > 1
        case "frequent": holds = f >= 1.25
        case "low_value_occasional": holds = v <= 0.75 && f <= 0.75
        case "low_spenders": holds = v <= 0.75
        case "occasional": holds = f <= 0.75
        case "distinctive":
            // "High <feature>" / "Low <feature>": the feature's recomputed lift on that side.
            let name = s["name"] as! String, high = name.hasPrefix("High ")
            let column = header.first { $0.replacingOccurrences(of: "_", with: " ") == String(name.dropFirst(high ? 5 : 4)).components(separatedBy: " (")[0] }!
            let l = lifts(column)[id]!
            holds = high ? l > 1 : l < 1
        default: holds = true   // typical: no claim
        }
        #expect(holds, "segment \(id) '\(s["name"]!)' (\(persona)): recency \(r), frequency \(f), tenure \(t), value \(v), P(alive) \(alive)", sourceLocation: sourceLocation)
    }
    #expect(Set(segs.map { $0["name"] as! String }).count == segs.count, "names are unique", sourceLocation: sourceLocation)
}

@Suite struct PlantedPersonaNamingTests {
    /// The demo customer table plants five personas (loyal high spenders 15%, bargain hunters 25%,
    /// lapsed 20%, new 15%, occasional 25%); with k = 5 the names match them and their sizes.
    @Test func namesMatchThePlantedPersonas() throws {
        let dir = tempDir()
        try DemoData.csv(DemoData.generate(rows: 4000, seed: 7)).write(to: URL(fileURLWithPath: "\(dir)/c.csv"))
        let r = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "5", "--out", "\(dir)/out", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        let segs = try #require(try jsonFile("\(dir)/out/profiles.json")["segments"] as? [[String: Any]])
        let share = Dictionary(uniqueKeysWithValues: segs.map { ($0["name"] as! String, $0["share"] as! Double) })
        let planted = ["High-value loyal": 0.15, "Frequent buyers": 0.25, "Lapsed customers": 0.20, "New customers": 0.15, "Occasional buyers": 0.25]
        #expect(Set(share.keys) == Set(planted.keys), "\(share)")
        for (name, expected) in planted { #expect(abs((share[name] ?? 0) - expected) < 0.03, "\(name): \(share[name] ?? 0) vs planted \(expected)") }
    }
}

@Suite struct StdinTransactionsTests {
    /// `--transactions -` streams the order log from standard input: the same RFM table as from
    /// the file; the segment job refuses it where it would read the log twice (affinity).
    @Test func orderLogFromStandardInput() throws {
        let dir = tempDir()
        let file = "\(fixtures)/cdnow/CDNOW_sample.txt"
        let args = ["--delimiter", "whitespace", "--no-header", "--customer-column", "2", "--date-column", "3", "--amount-column", "5", "--date-format", "%Y%m%d"]
        let direct = try CLI.run(["rfm", "--transactions", file] + args + ["--out", "\(dir)/file.csv"])
        #expect(direct.code == 0, "\(direct.stderr)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["rfm", "--transactions", "-"] + args + ["--out", "\(dir)/stdin.csv"]
        let inPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let payload = try Data(contentsOf: URL(fileURLWithPath: file))
        DispatchQueue.global().async { inPipe.fileHandleForWriting.write(payload); try? inPipe.fileHandleForWriting.close() }
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(FileManager.default.contents(atPath: "\(dir)/file.csv") == FileManager.default.contents(atPath: "\(dir)/stdin.csv"))
        let twice = try CLI.run(["segment", "--transactions", "-", "--product-column", "4"] + args + ["--out", "\(dir)/seg"])
        #expect(twice.code == 64 && twice.stderr.contains("can be read once"), "\(twice.stderr)")
    }
}
