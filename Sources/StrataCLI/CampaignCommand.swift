import ArgumentParser
import Foundation
import Strata

struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Campaign feedback per segment: treatment vs control response rates and revenue, uplift with intervals and tests.",
        discussion: """
            --assignments is a segment assignments CSV (customer_id, segment_id, optionally \
            segment_name) or a `strata segment` output directory. --campaign is a CSV with one row \
            per customer: id, group (treatment or control), and a 0/1 response and/or revenue. Per \
            segment and overall: response rates, absolute uplift (treatment - control) with a 95% \
            Wald interval (unpooled), relative uplift, two-proportion z-test (pooled, two-sided) \
            with p-values adjusted across segments by Benjamini-Hochberg; revenue per customer with \
            Welch's interval and t-test; the customers per group needed for the observed effect to \
            be significant: n = (z(1-alpha/2) + z(power))^2 (var_T + var_C) / uplift^2, alpha 0.05 \
            two-sided, power 0.8. Customers in one file but not the other are counted and warned \
            about. --out DIR writes campaign.json and campaign.csv (one row per segment, then \
            overall), renamed into place together.
            """
    )

    @Option(name: .long, help: "Segment assignments CSV or `strata segment` output directory.") var assignments: String
    @Option(name: .long, help: "Campaign results CSV: customer id, group, response and/or revenue.") var campaign: String
    @Option(name: .customLong("id-column"), help: "Campaign file: customer id column.") var idColumn = "customer_id"
    @Option(name: .customLong("group-column"), help: "Campaign file: treatment/control column.") var groupColumn = "group"
    @Option(name: .customLong("response-column"), help: "Campaign file: 0/1 response column (default: response, when present).") var responseColumn: String?
    @Option(name: .customLong("revenue-column"), help: "Campaign file: revenue per customer (default: revenue, when present).") var revenueColumn: String?
    @Option(name: .customLong("treatment-value"), help: "Group value of treated customers (case-insensitive).") var treatmentValue = "treatment"
    @Option(name: .customLong("control-value"), help: "Group value of control customers (case-insensitive).") var controlValue = "control"
    @Option(name: .long, help: "Two-sided significance level; intervals are at 1 - alpha.") var alpha = 0.05
    @Option(name: .long, help: "Power for the customers needed per group.") var power = 0.8
    @Option(name: .long, help: "Write campaign.json and campaign.csv into this directory (created if missing).") var out: String?
    @Flag(name: .long, help: "Print exactly one JSON object on stdout.") var json = false

    func validate() throws {
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must be between 0 and 1") }
        if !(power > 0 && power < 1) { throw ValidationError("--power must be between 0 and 1") }
    }

    var settings: CampaignSettings {
        var s = CampaignSettings(path: campaign)
        s.idColumn = idColumn
        s.groupColumn = groupColumn
        s.responseColumn = responseColumn
        s.revenueColumn = revenueColumn
        s.treatmentValue = treatmentValue
        s.controlValue = controlValue
        return s
    }

    func run() throws {
        try Report.run(json: json) {
            let run = try SegmentRunFiles.load(directory: assignments)
            let file = try CampaignFile.read(settings)
            var options = CampaignAnalysis.Options()
            options.alpha = alpha
            options.power = power
            let analysis = try CampaignAnalysis.analyze(SegmentMembership(run: run), file, options: options)
            analysis.warnings.forEach(Report.warn)
            let written = try out.map { try write(analysis, into: $0) }
            if json {
                Report.json(RecordWithOutputs(analysis.record, outputs: ["json": written?.json, "csv": written?.csv]))
            } else {
                printSummary(analysis, written: written)
            }
        }
    }

    /// Stages campaign.json and campaign.csv and renames both into place (neither changes if
    /// either cannot be written).
    func write(_ a: CampaignAnalysis, into dir: String) throws -> (json: String, csv: String) {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw StrataError.unwritable(path: dir, reason: "cannot create the directory")
            }
        } else if !isDir.boolValue {
            throw StrataError.unwritable(path: dir, reason: "it is not a directory; --out names a directory")
        }
        let paths = (json: dir + "/campaign.json", csv: dir + "/campaign.csv")
        var batch = OutputBatch()
        try batch.stage(try JSONOutput.pretty(a.record), to: paths.json)
        try batch.stage(a.csv, to: paths.csv)
        try batch.commit()
        return paths
    }

    func printSummary(_ a: CampaignAnalysis, written: (json: String, csv: String)?) {
        print("Campaign \(campaign) on the segments of \(assignments): \(a.matched) customers matched (\(a.overall.treated) treated, \(a.overall.control) control)")
        let metrics = [a.responseColumn.map { "response '\($0)'" }, a.revenueColumn.map { "revenue '\($0)'" }].compactMap { $0 }
        print("metrics: \(metrics.joined(separator: ", ")); \(Int((100 * (1 - a.options.alpha)).rounded()))% intervals, p-values adjusted across segments (Benjamini-Hochberg)")
        print("")
        for line in a.verdicts { print("  " + line) }
        if let written { print("\nwritten: \(written.json), \(written.csv)") }
    }
}
