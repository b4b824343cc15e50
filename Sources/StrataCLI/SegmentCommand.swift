import ArgumentParser
import Foundation
import Strata

struct SegmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "The main job: from raw customer data to named, profiled segments and a report.",
        discussion: """
            Reads a customer table and/or an order log, derives RFM and CLV features, preprocesses, \
            chooses k (unless --k), fits K-Means or a Gaussian mixture, profiles and names the segments, \
            and writes into --out: assignments.csv, model.json (for `strata predict`), profiles.json, \
            report.html and run.json (plus migration.json with --previous, campaign.json with --campaign, monitor.json with --monitor-model or a monitor block). Options come from --config \
            (YAML or JSON; keys as in brackets below) and flags, flags winning. Every output is staged and \
            renamed into place together, so a failed run leaves the previous outputs untouched.

            Job settings (each is also a job-file key, shown in brackets):
            \(SegmentSettings.helpText)
            """
    )

    @Option(name: .long, help: "Job file (YAML or JSON).") var config: String?
    @Flag(name: .long, help: "Run on built-in demo data (customers + orders), written to OUT/demo-data/.") var demo = false
    @Option(name: .customLong("demo-customers"), help: "Customers in the demo data.") var demoCustomers: Int = 20_000
    @Flag(name: .long, help: "Print exactly one JSON object (the run summary) on stdout.") var json = false
    @OptionGroup var scheduler: SchedulerOptions
    @Argument(parsing: .allUnrecognized, help: "Job settings as flags (listed below), e.g. --k-max 8 --transactions orders.csv.")
    var settings: [String] = []

    func validate() throws {
        if demoCustomers < 100 { throw ValidationError("--demo-customers must be at least 100") }
    }

    func run() throws {
        let jobLog = JobLog(job: "segment", options: scheduler)
        try jobLog.run(json: json) {
            let job = try SegmentSettings.resolve(jobFile: config, flags: settings)
            var c = job.config
            BLASThreads.set(c.threads ?? defaultThreadCount)
            // Warnings are listed in the JSON result; with --quiet they are not printed.
            let log: (String) -> Void = { line in
                if line.hasPrefix("warning: ") { Report.warn(String(line.dropFirst(9))) } else { jobLog.line(line) }
            }
            if demo { try DemoData.writeSegmentDemo(into: &c, customers: demoCustomers, log: log) }
            let result: SegmentRunResult
            do {
                result = try SegmentJob.run(c, log: log) { jobLog.step($0.step, seconds: $0.seconds, detail: $0.detail, counts: $0.counts) }
            } catch let StrataError.invalidSetting(key, message) {
                throw job.settingError(key, message)
            }
            if json { Report.json(result) } else if !scheduler.quiet { printSummary(result, config: c) }
            return SegmentMetrics.gauges(result.record)
        }
    }

    func printSummary(_ r: SegmentRunResult, config c: SegmentConfig) {
        let s = r.record
        print("Segmented \(s.counts.customersModelled) customers into k = \(s.k) segments (\(c.algorithm), seed \(c.seed)) in \(String(format: "%.1f", s.seconds)) s")
        print("")
        for g in r.groups {
            print("  \(g.id.map(String.init) ?? "-")  \(g.name)")
            print("     \(g.description)")
        }
        // Small segments whose merged group is itself below the threshold are reported nowhere.
        if !s.mergedIntoOther.isEmpty && !r.groups.contains(where: { $0.id == nil }) {
            print("  -  \(s.mergedIntoOther.count) segment(s) smaller than \(c.minSegmentSize) customers, together still too few to report (see profiles.json other_suppressed)")
        }
        print(String(format: "\nRules (depth %d decision tree, %.1f%% of customers classified correctly):", r.rulesDepth, 100 * r.rulesAccuracy))
        for line in r.rules.prefix(12) { print("  " + line) }
        if let m = r.migration {
            print("\nMigration since \(c.previous ?? ""): \(m.stayed) stayed, \(m.moved) moved, \(m.churned) churned, \(m.new) new")
        }
        if let a = r.campaign {
            print("\nCampaign \(c.campaign?.path ?? ""): \(a.counts.matched) customers matched")
            for line in a.verdicts { print("  " + line) }
        }
        if let m = r.monitor {
            print("\nDrift vs \(m.model): \(m.alertsTotal) alert\(m.alertsTotal == 1 ? "" : "s")" + String(format: ", %.1f%% of customers beyond the training p99 distance", 100 * m.distance.shareBeyondTrainingP99))
        }
        // The files this run wrote (run.json lists them), not a fixed list.
        let written = s.outputs.values.filter { !PostgresURL.isURL($0) }.map { ($0 as NSString).lastPathComponent }
        print("\nOutputs in \(c.out)/: " + SegmentJob.outputFiles.filter(written.contains).joined(separator: ", ")
              + written.filter { !SegmentJob.outputFiles.contains($0) }.sorted().map { ", " + $0 }.joined())
        for (kind, table) in s.outputs.sorted(by: { $0.key < $1.key }) where PostgresURL.isURL(table) { print("\(kind): \(table)") }
    }
}
