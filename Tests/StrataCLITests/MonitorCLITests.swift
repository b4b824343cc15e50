import Foundation
import Strata
import Testing

/// `strata monitor` and the segment job's `monitor:` block, through the built binary, on the
/// fixtures of Scripts/make-monitor-fixtures.py (PSI values computed there with numpy).
@Suite struct MonitorCLITests {
    static let dir = fixtures + "/monitor"

    /// A K-Means model of train.csv with its training profile (preprocessing, a categorical column).
    static func model(_ tmp: String) throws -> String {
        let path = "\(tmp)/model.json"
        let r = try CLI.run(["kmeans", "--input", "\(dir)/train.csv", "--k", "3", "--columns", "recency_days,frequency,monetary",
                             "--categorical", "region", "--impute", "median", "--scale", "standard", "--model-out", path, "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        return path
    }

    static func monitor(_ model: String, _ batch: String, _ extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["monitor", "--model", model, "--input", "\(dir)/\(batch).csv", "--json"] + extra)
    }

    static func alerts(_ j: [String: Any]) -> [(String, String)] {
        (j["alerts"] as? [[String: Any]] ?? []).map { a in
            (a["kind"] as! String, (a["feature"] as? String) ?? (a["segment"] as? Int).map(String.init) ?? "")
        }
    }

    @Test func psiPerFeatureEqualsNumpyAndTheContractKeysAreThere() throws {
        let tmp = tempDir()
        let m = try Self.model(tmp)
        let expected = try jsonFile("\(Self.dir)/expected.json")["batches"] as! [String: [String: [String: Any]]]
        for (batch, features) in expected {
            let r = try Self.monitor(m, batch)
            #expect(r.code == 0, "\(r.stderr)")
            let j = try #require(r.json)
            for key in ["psi", "share_drift", "distance", "unseen_categories", "alerts", "warnings", "rows", "thresholds", "moderate_drift"] {
                #expect(j[key] != nil, "missing \(key)")
            }
            let psi = try #require(j["psi"] as? [String: Double])
            for (name, want) in features {
                let ref = want["psi"] as! Double
                #expect(abs(psi[name]! - ref) <= 1e-12 * max(1, ref), "\(batch) \(name): \(psi[name]!) vs numpy \(ref)")
            }
            let d = try #require(j["distance"] as? [String: Any])
            for key in ["training_p50", "training_p95", "new_p50", "new_p95", "share_beyond_training_p99"] { #expect(d[key] is Double, "distance.\(key)") }
            #expect(j["rows"] as? Int == 1500 && j["rows_with_missing"] as? Int == 9)
            // Missing values are counted, never dropped silently.
            #expect((j["missing"] as? [String: Int])?["monetary"] == 6)
            #expect((j["warnings"] as? [String])?.contains { $0.contains("9 of 1500 rows have missing values") } == true)
        }
    }

    @Test func theSameDistributionGivesNoAlertAndAShiftedFeatureGivesExactlyItsPSIAlert() throws {
        let tmp = tempDir()
        let m = try Self.model(tmp)
        let same = try Self.monitor(m, "same", ["--fail-on-drift"])
        #expect(same.code == 0, "\(same.stderr)")
        let sj = try #require(same.json)
        #expect(Self.alerts(sj).isEmpty && sj["drift"] as? Bool == false && sj["alerts_total"] as? Int == 0)
        let share = try #require(sj["distance"] as? [String: Any])["share_beyond_training_p99"] as! Double
        #expect(share < 0.03)   // about the 1% expected
        for (_, v) in try #require(sj["share_drift"] as? [String: Double]) { #expect(abs(v) < 0.05) }

        let shifted = try Self.monitor(m, "shifted")
        #expect(shifted.code == 0, "alerts never change the exit code without --fail-on-drift")
        let j = try #require(shifted.json)
        #expect(Self.alerts(j).filter { $0.0 == "psi" }.map(\.1) == ["frequency"])
        let a = try #require((j["alerts"] as? [[String: Any]])?.first { $0["kind"] as? String == "psi" })
        #expect(a["threshold"] as? Double == 0.25 && (a["value"] as? Double ?? 0) > 4)
        #expect(j["significant_drift"] as? [String] == ["frequency"])

        // --fail-on-drift: exit 3 only when an alert fires; the JSON result is still printed.
        let failing = try Self.monitor(m, "shifted", ["--fail-on-drift"])
        #expect(failing.code == 3 && failing.json?["drift"] as? Bool == true)
        #expect(failing.stderr.contains("exit 3 (--fail-on-drift)"))
        // A threshold option moves the line: nothing alerts at PSI 10 and generous limits.
        let relaxed = try Self.monitor(m, "shifted", ["--fail-on-drift", "--psi-threshold", "10", "--distance-threshold", "1"])
        #expect(relaxed.code == 0 && Self.alerts(relaxed.json ?? [:]).isEmpty, "\(relaxed.stdout)")
    }

    @Test func aNewCloudRaisesTheDistanceAlertAndShareDrift() throws {
        let tmp = tempDir()
        let m = try Self.model(tmp)
        let j = try #require(try Self.monitor(m, "cloud").json)
        let kinds = Self.alerts(j).map(\.0)
        #expect(kinds.contains("distance") && kinds.contains("share_drift"))
        let d = try #require(j["distance"] as? [String: Any])
        // 300 of 1500 rows are the far cloud: all of them (and ~1% of the rest) beyond the p99.
        let share = d["share_beyond_training_p99"] as! Double
        #expect(share >= 0.2 && share < 0.22)
        #expect((d["new_p95"] as! Double) > 50 * (d["training_p95"] as! Double))
        let drift = try #require(j["share_drift"] as? [String: Double])
        #expect(drift.values.contains { $0 > 0.1 })
    }

    @Test func unseenCategoriesRaiseTheirAlert() throws {
        let tmp = tempDir()
        let m = try Self.model(tmp)
        let j = try #require(try Self.monitor(m, "unseen").json)
        let want = (try jsonFile("\(Self.dir)/expected.json")["batches"] as! [String: [String: [String: Any]]])["unseen"]!["region"]!["unseen_share_of_values"] as! Double
        let u = try #require(j["unseen_categories"] as? [String: Any])
        #expect(abs((u["columns"] as! [String: Double])["region"]! - want) < 1e-12 && abs((u["overall"] as! Double) - want) < 1e-12)
        #expect((u["counts"] as? [String: Int])?["region"] == 75)
        #expect(Self.alerts(j).contains { $0 == ("unseen_categories", "region") })
        let none = try #require(try Self.monitor(m, "same").json)
        #expect(((none["unseen_categories"] as? [String: Any])?["overall"] as? Double) == 0)
    }

    @Test func metricsAreParseablePrometheusTextAndOutputsAreWritten() throws {
        let tmp = tempDir()
        let m = try Self.model(tmp)
        let r = try Self.monitor(m, "shifted", ["--metrics-out", "\(tmp)/drift.prom", "--out", "\(tmp)/mon"])
        #expect(r.code == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: "\(tmp)/drift.prom", encoding: .utf8)
        // The exposition format: # HELP and # TYPE before each family's samples, then
        // name{label="value",...} number lines.
        var declared: [String: (help: Bool, type: String?)] = [:]
        var samples: [String: Double] = [:]
        let sample = try Regex(#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)\})? (\S+)$"#)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# HELP ") { declared[String(line.split(separator: " ")[2]), default: (false, nil)].help = true; continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 4 && ["gauge", "counter"].contains(parts[3]))
                declared[String(parts[2]), default: (false, nil)].type = String(parts[3])
                continue
            }
            let match = try #require(try sample.wholeMatch(in: String(line)), "not a sample line: \(line)")
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            #expect(declared[name]?.help == true && declared[name]?.type != nil, "\(name) sampled before its HELP/TYPE")
            let value = try #require(Double(String(line.split(separator: " ").last!)), "\(line)")
            _ = match
            samples[String(line.split(separator: " ").dropLast().joined(separator: " "))] = value
        }
        #expect(samples["strata_monitor_alerts_total"] == Double(Self.alerts(r.json!).count))
        #expect(samples["strata_monitor_psi{feature=\"frequency\"}"].map { $0 > 4 } == true)
        #expect(samples["strata_monitor_alert{kind=\"psi\",feature=\"frequency\"}"] == 1)
        #expect(samples.keys.contains { $0.hasPrefix("strata_monitor_share_drift{segment=") })
        // monitor.json: the result's keys; the outputs are named.
        let file = try jsonFile("\(tmp)/mon/monitor.json")
        #expect(file["psi"] != nil && file["alerts"] != nil && file["warnings"] != nil)
        #expect((r.json?["outputs"] as? [String: String])?["monitor"] == "\(tmp)/mon/monitor.json")
        // --previous: the previous monitor directory is a second baseline for the shares.
        let again = try Self.monitor(m, "shifted", ["--previous", "\(tmp)/mon"])
        let vsPrevious = try #require(again.json?["share_drift_previous"] as? [String: Double])
        #expect(vsPrevious.count == 3 && vsPrevious.values.allSatisfy { $0 == 0 })
        let prevShares = try #require((again.json?["segment_shares"] as? [String: Any])?["previous"] as? [String: Double])
        #expect(prevShares == (again.json?["segment_shares"] as? [String: Any])?["new"] as? [String: Double])
    }

    @Test func sameResultForAnyThreadCount() throws {
        let tmp = tempDir()
        let m = try Self.model(tmp)
        func strip(_ r: CLI.Result) -> String {
            var j = r.json ?? [:]
            j["peak_memory_bytes"] = nil
            return String(decoding: try! JSONSerialization.data(withJSONObject: j, options: [.sortedKeys]), as: UTF8.self)
        }
        #expect(strip(try Self.monitor(m, "cloud", ["--threads", "1"])) == strip(try Self.monitor(m, "cloud", ["--threads", "2"])))
    }

    @Test func anOldModelWithoutATrainingProfileAndBadInputsGiveClearErrors() throws {
        let tmp = tempDir()
        let m = try Self.model(tmp)
        var model = try jsonFile(m)
        model["training_profile"] = nil
        try JSONSerialization.data(withJSONObject: model).write(to: URL(fileURLWithPath: "\(tmp)/old.json"))
        let old = try Self.monitor("\(tmp)/old.json", "same")
        #expect(old.code == 65)
        #expect(old.stderr.contains("\(tmp)/old.json has no training profile") && old.stderr.contains("Re-fit the model"), "\(old.stderr)")
        // The old model still predicts (the block is optional).
        let predict = try CLI.run(["predict", "--model", "\(tmp)/old.json", "--input", "\(Self.dir)/same.csv"])
        #expect(predict.code == 0, "\(predict.stderr)")

        write("customer_id,recency_days,monetary,region\nc1,10,100,north\n", "\(tmp)/nofreq.csv")
        let missing = try CLI.run(["monitor", "--model", m, "--input", "\(tmp)/nofreq.csv"])
        #expect(missing.code == 65 && missing.stderr.contains("\(tmp)/nofreq.csv, line 1, column 'frequency': the model's column 'frequency' is missing"), "\(missing.stderr)")
        write("customer_id,recency_days,frequency,monetary,region\nc1,10,2,100,north\nc2,10,2\n", "\(tmp)/ragged.csv")
        let ragged = try CLI.run(["monitor", "--model", m, "--input", "\(tmp)/ragged.csv"])
        #expect(ragged.code == 65 && ragged.stderr.contains("ragged.csv, line 3: row has 3 fields but the header has 5"), "\(ragged.stderr)")
        let badThreshold = try CLI.run(["monitor", "--model", m, "--input", "\(Self.dir)/same.csv", "--share-drift-threshold", "5"])
        #expect(badThreshold.code == 64 && badThreshold.stderr.contains("--share-drift-threshold"))
    }

    @Test func segmentJobMonitorBlockWritesMonitorJSONAndTheReportSection() throws {
        let tmp = tempDir()
        let first = try CLI.run(["segment", "--customers", "\(Self.dir)/train.csv", "--k", "3", "--out", "\(tmp)/run1", "--quiet"])
        #expect(first.code == 0, "\(first.stderr)")
        let model = try jsonFile("\(tmp)/run1/model.json")
        #expect((model["training_profile"] as? [String: Any])?["distance"] != nil)
        write("""
            customers: \(Self.dir)/shifted.csv
            k: 3
            out: \(tmp)/run2
            monitor:
              model: \(tmp)/run1
              psi_moderate_threshold: 0.05
            """, "\(tmp)/job.yaml")
        let r = try CLI.run(["segment", "--config", "\(tmp)/job.yaml", "--json", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        let file = try jsonFile("\(tmp)/run2/monitor.json")
        let psi = try #require(file["psi"] as? [String: Double])
        #expect(psi["frequency"].map { $0 > 4 } == true && psi.count == 4)
        #expect(Self.alerts(file).filter { $0.0 == "psi" }.map(\.1) == ["frequency"])
        #expect((file["thresholds"] as? [String: Double])?["psi_moderate"] == 0.05)
        #expect((r.json?["monitor"] as? [String: Any])?["alerts_total"] as? Int == (file["alerts"] as? [Any])?.count)
        let html = try String(contentsOfFile: "\(tmp)/run2/report.html", encoding: .utf8)
        #expect(html.contains("<h2>Drift monitoring</h2>") && html.contains("chart-monitor-psi") && html.contains("id=\"monitor-alerts\""))
        // The same from flags: --monitor-model and a threshold flag.
        let flags = try CLI.run(["segment", "--customers", "\(Self.dir)/shifted.csv", "--k", "3", "--out", "\(tmp)/run3", "--quiet",
                                 "--monitor-model", "\(tmp)/run1/model.json", "--monitor-psi-threshold", "5"])
        #expect(flags.code == 0, "\(flags.stderr)")
        let relaxed = try jsonFile("\(tmp)/run3/monitor.json")
        #expect(Self.alerts(relaxed).filter { $0.0 == "psi" }.isEmpty && (relaxed["moderate_drift"] as? [String]) == ["frequency"])
        // Without a monitor block, no monitor.json (the link of the earlier run is removed).
        let plain = try CLI.run(["segment", "--customers", "\(Self.dir)/same.csv", "--k", "3", "--out", "\(tmp)/run2", "--quiet"])
        #expect(plain.code == 0 && !FileManager.default.fileExists(atPath: "\(tmp)/run2/monitor.json"))
        // A typo in the block is refused with a suggestion.
        write("customers: \(Self.dir)/same.csv\nmonitor:\n  psi_treshold: 0.2\n  model: \(tmp)/run1\n", "\(tmp)/typo.yaml")
        let typo = try CLI.run(["segment", "--config", "\(tmp)/typo.yaml", "--quiet"])
        #expect(typo.code == 64 && typo.stderr.contains("monitor.psi_treshold") && typo.stderr.contains("monitor.psi_threshold"), "\(typo.stderr)")
    }
}
