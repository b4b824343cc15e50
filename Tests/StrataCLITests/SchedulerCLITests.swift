import Foundation
import Testing

/// What a scheduler watches: `--log-format json` (one JSON object per stderr line: step,
/// progress, warning, log, error, done), `--metrics-out` (Prometheus text, written on success and
/// on failure, keeping the last success time), `--quiet` (nothing but errors).
@Suite struct SchedulerCLITests {
    /// Every non-comment line of a Prometheus text file: `name{labels} value`.
    static func samples(_ text: String) -> [(name: String, labels: String, value: Double)] {
        text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let parts = line.split(separator: " ")
            let head = String(parts[0])
            let name = head.split(separator: "{").first.map(String.init) ?? head
            return (name, head.contains("{") ? String(head.drop { $0 != "{" }) : "", Double(parts[1]) ?? .nan)
        }
    }

    @Test func jsonLogMetricsAndQuiet() throws {
        let dir = tempDir()
        let r = try CLI.run(["segment", "--demo", "--demo-customers", "3000", "--out", dir + "/out", "--log-format", "json",
                             "--metrics-out", dir + "/job.prom", "--json", "--no-report"])
        #expect(r.code == 0, "\(r.stderr)")
        let events = r.stderr.split(separator: "\n").map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(!events.isEmpty && events.allSatisfy { $0 != nil }, "every stderr line is a JSON object: \(r.stderr)")
        let kinds = events.compactMap { $0?["event"] as? String }
        #expect(Set(kinds).isSubset(of: ["step", "progress", "warning", "log", "error", "done"]))
        #expect(events.allSatisfy { $0?["job"] as? String == "segment" && $0?["time"] is String })
        let steps = events.compactMap { $0 }.filter { $0["event"] as? String == "step" }.map { $0["step"] as! String }
        // The --json result's steps (run.json's, plus the write step).
        #expect(steps == (r.json?["steps"] as! [[String: Any]]).map { $0["step"] as! String } && steps.last == "write")
        #expect(kinds.last == "done")
        // Steps carry their counts as numbers.
        let read = try #require(events.compactMap { $0 }.first { $0["event"] as? String == "step" && $0["step"] as? String == "read" })
        #expect((read["counts"] as? [String: Any])?["customers"] as? Int == 3000)
        let fit = try #require(events.compactMap { $0 }.first { $0["event"] as? String == "step" && $0["step"] as? String == "fit" })
        #expect((fit["counts"] as? [String: Any])?["k"] as? Int == r.json?["k"] as? Int)
        // The order log takes seconds to read and fit in a debug build: progress events name it.
        #expect(events.contains { $0?["event"] as? String == "progress" && $0?["step"] as? String == "read" })
        let warnings = (r.json?["warnings"] as? [String]) ?? []
        #expect(kinds.filter { $0 == "warning" }.count == warnings.count)

        let m = Self.samples(try String(contentsOfFile: dir + "/job.prom", encoding: .utf8))
        func value(_ name: String, _ labels: String = "{strata_job=\"segment\"}") -> Double? { m.first { $0.name == name && $0.labels == labels }?.value }
        #expect(value("strata_job_success") == 1 && value("strata_job_exit_code") == 0)
        #expect(value("strata_segment_k") == Double(r.json?["k"] as! Int))
        #expect(value("strata_segment_rows", "{strata_job=\"segment\",stage=\"read\"}") == 3000)
        #expect(value("strata_job_warnings") == Double(warnings.count))
        #expect(m.filter { $0.name == "strata_segment_step_seconds" }.count == steps.count)
        #expect(value("strata_segment_inertia").map { $0 > 0 } == true)
        let success = try #require(value("strata_job_last_success_timestamp_seconds"))

        // A failed run: success 0, its exit code, the last success kept; one JSON error event.
        let bad = try CLI.run(["segment", "--customers", dir + "/missing.csv", "--out", dir + "/out", "--log-format", "json", "--metrics-out", dir + "/job.prom"])
        #expect(bad.code == 66)
        let e = try #require((try? JSONSerialization.jsonObject(with: Data(bad.stderr.utf8))) as? [String: Any])
        #expect(e["event"] as? String == "error" && e["exit_code"] as? Int == 66 && (e["message"] as? String)?.contains("missing.csv") == true)
        let after = Self.samples(try String(contentsOfFile: dir + "/job.prom", encoding: .utf8))
        #expect(after.first { $0.name == "strata_job_success" }?.value == 0 && after.first { $0.name == "strata_job_exit_code" }?.value == 66)
        #expect(after.first { $0.name == "strata_job_last_success_timestamp_seconds" }?.value == success)

        // --quiet: nothing on stderr for a run with warnings; rfm takes the same options.
        let q = try CLI.run(["rfm", "--transactions", dir + "/out/demo-data/transactions.csv", "--customer-column", "customer_id", "--date-column", "date",
                             "--amount-column", "amount", "--quiet", "--metrics-out", dir + "/rfm.prom", "--out", dir + "/rfm.csv"])
        #expect(q.code == 0 && q.stderr.isEmpty && q.stdout.isEmpty, "\(q.stderr)")
        let rfm = Self.samples(try String(contentsOfFile: dir + "/rfm.prom", encoding: .utf8))
        #expect(rfm.first { $0.name == "strata_rfm_customers" }?.value == 3000)
        let abc = try CLI.run(["abc", "--transactions", dir + "/out/demo-data/transactions.csv", "--customer-column", "customer_id", "--date-column", "date",
                               "--amount-column", "amount", "--product-column", "product", "--quiet", "--metrics-out", dir + "/abc.prom"])
        #expect(abc.code == 0 && abc.stderr.isEmpty && abc.stdout.isEmpty, "\(abc.stderr)")
        let classes = Self.samples(try String(contentsOfFile: dir + "/abc.prom", encoding: .utf8)).filter { $0.name == "strata_abc_products" }
        #expect(classes.count == 3 && classes.map(\.value).reduce(0, +) > 0)
    }

    /// A run stopped by SIGTERM (a scheduler's timeout) still writes its metrics: success 0,
    /// exit code 143.
    @Test func metricsWhenStoppedBySignal() throws {
        let dir = tempDir()
        let input = dir + "/c.csv"
        try ("customer_id,a,b\n" + (0..<200).map { "\($0),\($0 % 7),\($0 % 5)" }.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["segment", "--customers", input, "--k", "2", "--out", dir + "/out", "--quiet", "--metrics-out", dir + "/m.prom"]
        p.environment = ProcessInfo.processInfo.environment.merging(["STRATA_TEST_PAUSE_AT": "outputs:written"]) { _, n in n }
        p.standardError = FileHandle.nullDevice
        try p.run()
        var staged = false
        for _ in 0..<300 where !staged {
            usleep(50_000)
            let tmp = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/out/.generations")) ?? []).filter { $0.hasPrefix(".tmp-") }
            staged = tmp.contains { d in ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/out/.generations/" + d)) ?? []).contains { $0.contains("run.json") } }
        }
        #expect(staged)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 143)
        let m = Self.samples(try String(contentsOfFile: dir + "/m.prom", encoding: .utf8))
        #expect(m.first { $0.name == "strata_job_success" }?.value == 0 && m.first { $0.name == "strata_job_exit_code" }?.value == 143)
    }
}
