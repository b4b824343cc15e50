import Foundation
import StrataCore
import StrataIO
import StrataPostgres
import StrataCustomers
import StrataKernels

/// `strata segment`: from raw customer data to named, profiled segments and a report.
///
/// A pipeline of typed stages, each in its own file and testable in-process:
/// `SegmentInputs` (read once, hashed while read) -> `SegmentFeatures` (RFM/CLV join, row
/// dropping, log1p choice, preprocessing, optional PCA) -> `KSelection` -> `SegmentModel` ->
/// `SegmentDescription` (profiles, names, rules, ABC, projection) -> `Migration` (with a previous
/// run) -> `CampaignAnalysis` (with a campaign) -> `SegmentOutputs` (every file, committed together).
public enum SegmentJob {
    public static let outputFiles = ["assignments.csv", "model.json", "profiles.json", "report.html", "run.json"]

    /// Runs the job described by `c`; `log` receives one line per step (with its time).
    ///
    /// - Returns: run.json's record (steps and seconds completed with the write step), the
    ///   migration, and the segment descriptions for a human summary.
    /// - Throws: `StrataError` (`.invalidSetting` naming the job key, `.badData` naming file,
    ///   line and column, `.unreadable`, `.unwritable`: earlier outputs are then left intact),
    ///   `LinalgError` from a factorization the data made impossible.
    /// - Complexity: dominated by the k sweep (on at most `sweep_sample` customers) and the final
    ///   fit, O(n d k) per Lloyd iteration; memory O(n d) floats plus the customer table.
    /// - Determinism: for a config and seed, outputs are identical whatever `threads` (seeded
    ///   sampling, thread-count independent fits, segments renumbered by size, names a pure
    ///   function of the profiles).
    public static func run(_ c: SegmentConfig, log: @escaping (String) -> Void, onStep: ((SegmentStep) -> Void)? = nil) throws -> SegmentRunResult {
        try c.validate()
        let started = Date()
        let threads = c.threads ?? defaultThreadCount
        let steps = SegmentSteps(log: log, onStep: onStep)
        // Fail fast on an unusable output directory or previous run, before any work (without
        // creating anything: a failed run leaves nothing new behind).
        try checkWritable(directory: c.out)
        // The output directory is locked for the whole run (a second run on it fails fast with
        // exit 75); a directory this run created is removed again if the run fails.
        let directory = try RunDirectory(path: c.out)
        do { return try run(c, directory: directory, started: started, threads: threads, steps: steps, log: log) } catch {
            directory.abandon()
            throw error
        }
    }

    /// The job's stages, with the output directory locked.
    static func run(_ c: SegmentConfig, directory: RunDirectory, started: Date, threads: Int, steps: SegmentSteps,
                    log: @escaping (String) -> Void) throws -> SegmentRunResult {
        var c = c
        let previous = try c.previous.map { try SegmentRunFiles.load(directory: $0) }
        let campaignFile = try c.campaign.map { try readCampaign($0, config: c) }
        let monitored = try c.monitor.map { try loadMonitoredModel($0, config: c) }

        let inputs = try steps.run("read") { () -> (SegmentInputs, String) in
            let i = try SegmentInputs.read(c, threads: threads, log: log)
            steps.count("customers", i.raw.rows)
            steps.count("numeric_columns", i.raw.numericNames.count)
            steps.count("categorical_columns", i.raw.categoricalNames.count)
            if let t = i.counts.transactions { steps.count("transactions", t) }
            if let b = i.counts.badTransactionRows { steps.count("bad_transactions", b) }
            return (i, "\(SegmentNaming.grouped(i.raw.rows)) customers, features: \(i.raw.numericNames.joined(separator: ", "))"
                + (i.raw.categoricalNames.isEmpty ? "" : "; categorical: \(i.raw.categoricalNames.joined(separator: ", "))"))
        }
        // kprototypes without a categorical column is K-Means on the same features (documented);
        // run.json records the algorithm actually used.
        if c.algorithm == .kprototypes && inputs.raw.categoricalNames.isEmpty {
            steps.log("warning: algorithm kprototypes but no categorical column: fitting kmeans instead")
            c.algorithm = .kmeans
            c.gamma = nil
        }
        let features = try SegmentFeatures.build(inputs, config: c, threads: threads, steps: steps)
        // The device (job key `device`), opened once: the sweep's and the model's K-Means fits.
        let gpu = try c.device.value.open()
        var selection = try KSelection.choose(features.data, categorical: features.categorical, config: c, threads: threads, steps: steps, gpu: gpu)
        let model = try steps.run("fit") { () -> (SegmentModel, String) in
            // The sweep's agglomerative tree, when it was built on every customer, is cut again.
            let tree = selection.sweep.flatMap { $0.trainingRows == features.data.rows ? $0.agglomerativeTree : nil }
            let m = try SegmentModel.fit(features.data, k: selection.k, config: c, threads: threads, categorical: features.categorical, tree: tree, gpu: gpu)
            if case let .clusters(f) = m { f.warnings.forEach { steps.log("warning: " + $0) } }
            if case let .kprototypes(r, _, _) = m { r.warnings.forEach { steps.log("warning: " + $0) } }
            let s = m.summary
            steps.count("customers", features.data.rows)
            steps.count("k", m.k)
            steps.count("iterations", s.nIter)
            let what = c.algorithm.takesK ? "k = \(selection.k)" : "\(m.k - (m.noiseSegment == nil ? 0 : 1)) clusters" + (m.noiseSegment.map { " + noise (segment \($0))" } ?? "")
            let kind = c.algorithm == .kprototypes && features.data.cols == 0 ? "kprototypes (K-Modes: no numeric feature)" : "\(c.algorithm)"
            return (m, "\(kind) \(what) on \(SegmentNaming.grouped(features.data.rows)) customers"
                + (c.algorithm == .kprototypes ? m.summary.gamma.map { String(format: ", gamma %.4g", $0) } ?? "" : "")
                + (c.algorithm == .kmeans || c.algorithm == .gmm || c.algorithm == .kprototypes ? ", \(s.nIter) iterations" + (s.converged ? ", converged" : ", NOT converged (raise max_iter)") : ""))
        }
        // DBSCAN/HDBSCAN: k is what the fit found (the noise segment included).
        if !c.algorithm.takesK { selection.k = model.k }
        let k = selection.k
        let pseudonym = c.pseudonymize ? Pseudonymizer(salt: c.resolvedSalt!) : nil
        let ids = (0..<features.data.rows).map { features.data.id($0) }.map { pseudonym?.pseudonym($0) ?? $0 }
        let centersOriginal = features.data.cols == 0 ? nil : model.centers.map { features.stages.originalUnits($0) ?? $0 }
        func thisRun(names: [String], profiles: SegmentProfiler.Output) -> SegmentRunFiles {
            SegmentRunFiles(ids: ids, labels: model.labels, k: k, names: names, centersOriginal: centersOriginal,
                            features: features.pipeline.inputNumeric, profiles: profiles)
        }
        // With a previous run, matched segments keep their names while their profiles support them.
        let previousNames: ((SegmentProfiler.Output) throws -> [Int: String])? = previous.map { before in
            { profiles in
                let m = try Migration.compute(before: before, after: thisRun(names: [String](repeating: "", count: k), profiles: profiles))
                var out: [Int: String] = [:]
                for (from, to) in m.mapping.enumerated() { if let to, from < before.names.count { out[to] = before.names[from] } }
                return out
            }
        }
        let description = try SegmentDescription.describe(features, labels: model.labels, k: k, noiseSegment: model.noiseSegment,
                                                          config: c, threads: threads, steps: steps, previousNames: previousNames,
                                                          asOfDay: inputs.counts.asOf.flatMap { CivilDate.parse(Substring($0), format: nil) })
        for change in description.nameChanges {
            steps.log("warning: segment \(change.segment) renamed from '\(change.previousName)' to '\(change.name)': \(change.reason)")
        }
        let migration = try previous.map { before in
            try steps.run("migration") { () -> (Migration, String) in
                let after = thisRun(names: description.names, profiles: description.profiles)
                let m = try Migration.compute(before: before, after: after)
                let r = m.record   // the counts as migration.json gives them (under min_segment_size)
                return (m, "vs \(c.previous!): \(r.stayed) stayed, \(r.moved) moved, \(r.churned) churned, \(r.new) new")
            }
        }
        let campaign = try campaignFile.map { file in
            try steps.run("campaign") { () -> (CampaignAnalysis, String) in
                // Joined on the raw ids (the campaign file has them), whatever the outputs write.
                let rawIDs = (0..<features.data.rows).map { features.data.id($0) }
                let membership = SegmentMembership(ids: rawIDs, labels: model.labels, profiles: description.profiles, source: "this run's customers")
                let a = try CampaignAnalysis.analyze(membership, file)
                a.warnings.forEach { steps.log("warning: " + $0) }
                let significant = a.segments.filter { $0.conclusion == .increase || $0.conclusion == .decrease }.count
                return (a, "\(a.matched) of \(a.campaignRows) campaign customers matched; a significant effect in \(significant) of \(a.segments.count) segments")
            }
        }
        let monitor = try monitored.map { m in
            try steps.run("monitor") { () -> (DriftAnalysis, String) in
                // This run's customers (input units) against the previous model's training profile.
                let a = try DriftAnalysis.analyze(m, raw: features.raw, thresholds: c.monitor!.thresholds, minSegmentSize: c.minSegmentSize, threads: threads)
                a.warnings.forEach { steps.log("warning: " + $0) }
                a.alertLines.forEach { steps.log("warning: drift alert: " + $0) }
                let worst = a.features.max { $0.psi < $1.psi }
                return (a, "vs \(m.path): \(a.alerts.count) alert\(a.alerts.count == 1 ? "" : "s")"
                    + (worst.map { String(format: ", largest PSI %.3f (%@)", $0.psi, $0.name) } ?? "")
                    + String(format: ", %.1f%% beyond the training p99 distance", 100 * a.distance.shareBeyondTrainingP99))
            }
        }
        var record = runRecord(c, started: started, threads: threads, steps: steps.steps, inputs: inputs, features: features,
                               selection: selection, model: model, description: description)
        if case let .kmeans(r, _) = model { record.device = r.gpu }
        if case let .gmm(r, _, _) = model { record.device = r.gpu }
        let outputs = SegmentOutputs.Inputs(config: c, features: features, selection: selection, model: model, description: description,
                                            migration: migration, clvModel: inputs.clvModel, ids: ids, campaign: campaign,
                                            monitor: monitor, counts: c.transactions == nil ? nil : inputs.counts, customersRead: inputs.raw.rows)
        try steps.run("write") { () -> (Void, String) in
            let files = try SegmentOutputs.write(outputs, record: &record, directory: directory)
            let tables = files.values.filter(PostgresURL.isURL).count
            steps.count("files", files.count - tables)
            steps.count("tables", tables)
            return ((), "\(files.count - tables) files in \(c.out)/" + (tables > 0 ? ", \(tables) PostgreSQL table\(tables == 1 ? "" : "s")" : ""))
        }
        record.steps = steps.steps
        record.seconds = Date().timeIntervalSince(started)
        let d = description
        let groups = (d.profiles.segments + (d.profiles.other.map { [$0] } ?? [])).map { SegmentRunResult.Group(id: $0.id, name: $0.name, description: $0.description) }
        return SegmentRunResult(record: record, migration: migration?.record, groups: groups, rules: d.rules.rules.map(\.text),
                                rulesDepth: d.rules.depth, rulesAccuracy: d.rules.tree.accuracy, campaign: campaign?.record,
                                monitor: monitor.map(MonitorRecord.init))
    }

    /// The job's campaign file, read before any work (a bad file fails fast); its setting
    /// errors name the job key (`campaign.id_column`), its messages quote ids as the outputs do.
    static func readCampaign(_ settings: CampaignSettings, config c: SegmentConfig) throws -> CampaignFile {
        do { return try CampaignFile.read(settings, quoteID: c.quotedID) } catch let StrataError.invalidSetting(key, message) {
            throw StrataError.invalidSetting("campaign." + key, message)
        }
    }

    /// The `monitor` block's model, loaded before any work (a model without a training profile
    /// fails fast); setting errors name the job key (`monitor.model`).
    static func loadMonitoredModel(_ settings: MonitorSettings, config c: SegmentConfig) throws -> MonitoredModel {
        do { return try MonitoredModel.load(path: try settings.modelPath(previous: c.previous)) } catch let StrataError.invalidSetting(key, message) {
            throw StrataError.invalidSetting("monitor." + key, message)
        }
    }

    /// Throws `.unwritable` unless `directory` is a writable directory, or does not exist yet and
    /// its nearest existing ancestor is a writable directory (so it can be created at the end).
    static func checkWritable(directory: String) throws {
        var path = directory.isEmpty ? "." : directory
        var isDir: ObjCBool = false
        while !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            // The parent by hand: NSString.deletingLastPathComponent traps on one-character paths.
            let trimmed = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
            if let slash = trimmed.lastIndex(of: "/") {
                path = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
            } else {
                path = "."
            }
        }
        guard isDir.boolValue else { throw StrataError.unwritable(path: directory, reason: "'\(path)' is not a directory") }
        guard access(path, W_OK | X_OK) == 0 else { throw StrataError.unwritable(path: directory, reason: "'\(path)' is not writable") }
    }

    /// run.json's record, before the write step.
    static func runRecord(_ c: SegmentConfig, started: Date, threads: Int, steps: [SegmentStep], inputs: SegmentInputs,
                          features: SegmentFeatures, selection: KSelection, model: SegmentModel,
                          description: SegmentDescription) -> SegmentRunRecord {
        let r = features.report
        let counts = SegmentRunRecord.Counts(inputs: inputs.counts, customersRead: inputs.raw.rows, customersModelled: features.data.rows,
                                             droppedRows: r.droppedRows, missing: r.missing, imputed: r.imputed, clipped: r.clipped)
        return SegmentRunRecord(config: c.recorded, seed: c.seed, threads: threads, startedAt: ISO8601DateFormatter().string(from: started),
                                seconds: Date().timeIntervalSince(started), inputs: inputs.files, steps: steps, counts: counts,
                                k: selection.k, kChosenBy: !c.algorithm.takesK ? "density" : selection.sweep == nil ? "fixed" : "sweep", model: model.summary,
                                segmentSizes: SegmentRunRecord.reportable(ClusterLabels.counts(model.labels, k: selection.k), minSize: c.minSegmentSize),
                                reportableSegments: description.profiles.segments.count,
                                mergedIntoOther: description.profiles.smallSegments,
                                clvModel: inputs.clvModel, kSelection: selection.record, nameChanges: description.nameChanges)
    }
}
