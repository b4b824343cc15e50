import ArgumentParser
import Foundation
import Strata

struct MonitorCommand: ParsableCommand {
    /// `--fail-on-drift`: the exit code when an alert fires (no other outcome uses it).
    static let driftExitCode: Int32 = 3

    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Drift monitoring: compare new data with a K-Means model's training profile (PSI, segment shares, distances, unseen categories) and raise alerts.",
        discussion: """
            --input holds the model's input columns (as for `strata predict`). Per input feature: the \
            population stability index against the training deciles stored in the model \
            (PSI = sum (new% - train%) ln(new% / train%), missing values their own bin, an empty bin \
            counted as 1e-4). Per segment: the share of new rows assigned to it (as predict assigns) \
            minus its training share. The squared distance to the assigned centroid: training \
            p50/p95/p99, new p50/p95 and the share of new rows beyond the training p99. Categories \
            unseen in training, per column and overall. Alerts (defaults): PSI > 0.25 (0.1-0.25 is \
            moderate, reported without an alert), |share drift| > 0.05, share beyond the training \
            p99 > 0.05, unseen categories > 0.01. --previous DIR adds the share drift against a \
            previous run (a `strata monitor --out` directory, or a `strata segment` output \
            directory or assignments CSV of the same model). --out DIR writes monitor.json; \
            --metrics-out FILE the Prometheus text format. Alerts never change the exit code \
            unless --fail-on-drift: then exit 3 when any alert fires.
            """
    )

    @Option(name: .long, help: "A K-Means model.json with a training profile (strata kmeans --model-out, or strata segment).") var model: String
    @Option(name: .long, help: "New rows: CSV with the model's input columns, or .npy.") var input: String
    @OptionGroup var id: IDColumnOption
    @Option(name: .long, help: "Second baseline for the segment shares: a previous monitor --out directory, or a previous segment output directory or assignments CSV.") var previous: String?
    @Option(name: .long, help: "Write monitor.json into this directory (created if missing).") var out: String?
    @Option(name: .customLong("metrics-out"), help: "Write the metrics here in the Prometheus text exposition format.") var metricsOut: String?
    @Option(name: .customLong("psi-threshold"), help: "Alert when a feature's PSI is above this.") var psiThreshold = DriftThresholds().psi
    @Option(name: .customLong("psi-moderate-threshold"), help: "Report moderate drift above this PSI (no alert).") var psiModerateThreshold = DriftThresholds().psiModerate
    @Option(name: .customLong("share-drift-threshold"), help: "Alert when a segment's share moves by more than this (0.05 = 5 points).") var shareDriftThreshold = DriftThresholds().shareDrift
    @Option(name: .customLong("distance-threshold"), help: "Alert when more than this share of new rows is beyond the training p99 distance.") var distanceThreshold = DriftThresholds().distance
    @Option(name: .customLong("unseen-threshold"), help: "Alert when more than this share of a column's values is unseen in training.") var unseenThreshold = DriftThresholds().unseenCategories
    @Flag(name: .customLong("fail-on-drift"), help: "Exit 3 when any alert fires (for schedulers that retrain on drift).") var failOnDrift = false
    @OptionGroup var memory: MemoryBudgetOption
    @OptionGroup var runOptions: RunOptions

    var thresholds: DriftThresholds {
        var t = DriftThresholds()
        t.psi = psiThreshold
        t.psiModerate = psiModerateThreshold
        t.shareDrift = shareDriftThreshold
        t.distance = distanceThreshold
        t.unseenCategories = unseenThreshold
        return t
    }

    func validate() throws {
        try Report.checkStdout([metricsOut], json: runOptions.json)
        do { try thresholds.validate() } catch let StrataError.invalidSetting(key, message) {
            throw ValidationError("--\(key.replacingOccurrences(of: "_", with: "-")): \(message)")
        }
    }

    func run() throws {
        runOptions.applyThreads()
        var alerts = 0
        try Report.run(json: runOptions.json) {
            let m = try MonitoredModel.load(path: model)
            var idColumn = id.idColumn
            if idColumn == nil, !input.lowercased().hasSuffix(".npy"), let mid = m.model.idColumn, try CSVHeader.read(path: input).contains(mid) {
                idColumn = mid
            }
            let stages = FeatureStages(preprocessing: m.model.preprocessing, pca: m.model.pca)
            let raw = try stages.readInput(path: input, idColumn: idColumn, modelColumns: m.model.columns, memoryBudget: memory.bytes)
            raw.warnings.forEach(Report.warn)
            let baseline = try previous.map { p -> MonitorBaseline in
                let (b, warnings) = try MonitorBaseline.load(p, k: m.k)
                warnings.forEach(Report.warn)
                return b
            }
            let a = try DriftAnalysis.analyze(m, raw: raw, previous: baseline, thresholds: thresholds, threads: runOptions.threads)
            a.warnings.forEach(Report.warn)
            let record = MonitorRecord(a)
            var batch = OutputBatch()
            var written: String? = nil
            if let dir = out {
                try OutputDirectory.ensure(dir)
                written = (dir.hasSuffix("/") && dir.count > 1 ? String(dir.dropLast()) : dir) + "/monitor.json"
                try batch.stage(try JSONOutput.pretty(MonitorFile(record: record, warnings: Report.warnings.all)), to: written!)
            }
            let metrics = Data(MonitorMetrics.text(a).utf8)
            if let path = metricsOut, path != "-" { try batch.stage(metrics, to: path) }
            try batch.commit()
            if metricsOut == "-" { Report.writeStdout(metrics); OutputBatch.divertLaterPrintsToStderr() }
            alerts = a.alerts.count
            if runOptions.json {
                Report.json(RecordWithOutputs(record, outputs: ["monitor": written, "metrics": metricsOut]))
            } else if metricsOut != "-" {
                printSummary(a, written: written)
            } else {
                a.alertLines.forEach { Report.stderr("drift alert: " + $0) }
            }
        }
        if failOnDrift && alerts > 0 {
            Report.stderr("strata: drift: \(alerts) alert\(alerts == 1 ? "" : "s") fired; exit \(Self.driftExitCode) (--fail-on-drift)")
            Foundation.exit(Self.driftExitCode)
        }
    }

    func printSummary(_ a: DriftAnalysis, written: String?) {
        print("Drift of \(input) (\(a.rows) rows) against \(model) (k=\(a.segments.count), trained on \(a.trainingRows) rows): \(a.alerts.count) alert\(a.alerts.count == 1 ? "" : "s")")
        print("\nPSI per feature (moderate > \(fmt(a.thresholds.psiModerate)), alert > \(fmt(a.thresholds.psi))):")
        for f in a.features { print("  \(f.name): " + String(format: "%.4f", f.psi) + (f.level == .none ? "" : " (\(f.level.rawValue))")) }
        print("\nSegment shares (training -> new, drift in points; alert beyond \(fmt(100 * a.thresholds.shareDrift))):")
        for s in a.segments {
            let prev = s.previousDrift.map { String(format: "; vs previous %+.2f", 100 * $0) } ?? ""
            print(String(format: "  %d %@: %.2f%% -> %.2f%% (%+.2f)", s.id, s.name, 100 * s.trainingShare, 100 * s.share, 100 * s.drift) + prev)
        }
        let d = a.distance
        print("\nDistance to the assigned centroid (squared, model space): training p50 \(fmt(d.training.p50)), p95 \(fmt(d.training.p95)), p99 \(fmt(d.training.p99)); "
              + "new p50 \(fmt(d.newP50)), p95 \(fmt(d.newP95)); " + String(format: "%.2f%%", 100 * d.shareBeyondTrainingP99) + " of new rows beyond the training p99")
        if !a.unseen.isEmpty {
            print("Unseen categories: " + a.unseen.map { "\($0.column) " + String(format: "%.2f%%", 100 * $0.share) }.joined(separator: ", ")
                  + String(format: "; overall %.2f%%", 100 * a.unseenOverall))
        }
        print(a.alerts.isEmpty ? "\nNo alert." : "\nAlerts:")
        for line in a.alertLines { print("  " + line) }
        if let written { print("\nwritten: \(written)") }
        if let m = metricsOut { print("metrics: \(m)") }
    }
}

/// Creates an output directory (`--out DIR`) when missing.
enum OutputDirectory {
    static func ensure(_ dir: String) throws {
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                throw StrataError.unwritable(path: dir, reason: "cannot create the directory")
            }
        } else if !isDir.boolValue {
            throw StrataError.unwritable(path: dir, reason: "it is not a directory; --out names a directory")
        }
    }
}
