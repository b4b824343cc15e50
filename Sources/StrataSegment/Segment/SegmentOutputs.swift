import Foundation
import StrataCore
import StrataIO

/// Stage 6 of `strata segment`: renders every output file and commits them together.
///
/// Files (in `out`): assignments.csv, model.json (for `strata predict`), profiles.json,
/// report.html (unless `report: false`), run.json; migration.json with a previous run;
/// features.csv with an order log (`format: parquet`: assignments.parquet, features.parquet); campaign.json with a campaign; monitor.json with a monitor block. They are written into a staging directory and published as one
/// unit by `RunDirectory` (one rename(2) of `out/current`), so a failed or killed run leaves the
/// previous outputs intact, and the output set is exactly what the run wrote.
enum SegmentOutputs {
    /// Everything the files are rendered from.
    struct Inputs {
        var config: SegmentConfig
        var features: SegmentFeatures
        var selection: KSelection
        var model: SegmentModel
        var description: SegmentDescription
        var migration: Migration?
        var clvModel: CLVModelSummary?
        /// Customer ids as written (pseudonymized when asked).
        var ids: [String]
        /// With a `campaign` block: written to campaign.json and the report.
        var campaign: CampaignAnalysis? = nil
        /// With a `monitor` block: written to monitor.json and the report.
        var monitor: DriftAnalysis? = nil
    }

    /// Stages and commits the files; `record` is completed with the outputs and written as run.json.
    /// - Returns: output kind ("assignments", "model", ...) -> path, run.json included.
    /// - Throws: `StrataError.unwritable` (nothing is replaced then), encoding errors.
    static func write(_ x: Inputs, record: inout SegmentRunRecord, directory locked: RunDirectory? = nil) throws -> [String: String] {
        let c = x.config, out = c.out, k = x.selection.k
        // Created (and locked) only now when it did not exist: a run that fails earlier leaves
        // no new directory behind.
        let directory = try locked ?? RunDirectory(path: out)
        let staging = try directory.stagingDirectory()
        var batch = OutputBatch()
        var files: [String: String] = [:]
        var names: [String] = []
        func stage(_ name: String, _ data: Data) throws {
            try batch.stage(data, to: staging + "/" + name)
            files[String(name.split(separator: ".").first!)] = out + "/" + name
            names.append(name)
        }
        /// A table output (`assignments`, `features`) in the run's format.
        let format = c.format ?? .csv
        func stageTable(_ base: String, _ csv: Data) throws {
            let name = format.fileName(base)
            try batch.stageTable(csv: csv, to: staging + "/" + name, format: format)
            files[base] = out + "/" + name
            names.append(name)
        }
        do {
            try stageTable("assignments", assignmentsCSV(ids: x.ids, labels: x.model.labels, names: x.description.names, model: x.model))
            try stage("model.json", try x.model.encoded(data: x.features.data, stages: x.features.stages, names: x.description.names,
                                                         profile: x.model.trainingProfile(x.features, seed: c.seed)))
            try stage("profiles.json", try x.description.profilesFile(k: k, minSegmentSize: c.minSegmentSize).encoded())
            if let m = x.migration { try stage("migration.json", try JSONOutput.pretty(m.record)) }
            if let a = x.campaign { try stage("campaign.json", try JSONOutput.pretty(a.record)) }
            if let a = x.monitor { try stage("monitor.json", try JSONOutput.pretty(MonitorFile(record: MonitorRecord(a), warnings: a.warnings))) }
            // With an order log, the joined feature table: `strata predict --model model.json
            // --input features.csv` scores customers exactly as this run did.
            if c.transactions != nil { try stageTable("features", featuresCSV(x.features.raw, ids: x.ids)) }
            if c.report {
                let d = x.description
                let html = SegmentReport.html(SegmentReport.Context(
                    title: "Customer segments", source: [c.customers, c.transactions?.path].compactMap { $0 }.joined(separator: " + "),
                    algorithm: c.algorithm.rawValue, k: k, rows: x.features.data.rows, minSegmentSize: c.minSegmentSize,
                    profiles: d.profiles, roles: d.roles, sweep: x.selection.sweep, projection: d.projection, rules: d.rules, abc: d.abc,
                    migration: x.migration, clvModel: x.clvModel, preprocessReport: x.features.report, logColumns: x.features.logColumns,
                    pca: c.pca, modelDetail: x.model.detail, dendrogram: x.model.dendrogram(names: d.names), campaign: x.campaign,
                    monitor: x.monitor))
                try stage("report.html", Data(html.utf8))
            }
            record.outputs = files.merging(["run": out + "/run.json"]) { a, _ in a }
            try stage("run.json", try JSONOutput.pretty(record))
            FailurePoint.hit("outputs:written")
            try batch.commit()
            try directory.publish(staging: staging, names: names, knownNames: knownNames)
        } catch {
            batch.discard()
            try? FileManager.default.removeItem(atPath: staging)
            TemporaryFiles.shared.unregister(staging)
            throw error
        }
        return files
    }

    /// Every file a segment run may write (links to those a run did not write are removed).
    static let knownNames = ["assignments.csv", "model.json", "profiles.json", "report.html", "run.json", "migration.json", "features.csv", "campaign.json", "monitor.json",
                             "assignments.parquet", "features.parquet"]

    /// customer_id, segment_id, segment_name, then distance (K-Means) or probability (GMM).
    static func assignmentsCSV(ids: [String], labels: [Int32], names: [String], model: SegmentModel) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(labels.count * 48)
        out += Array("customer_id,segment_id,segment_name,\(model.scoreColumn)\n".utf8)
        let quoted = names.map { Array(CSVOutput.field($0).utf8) }
        for i in 0..<labels.count {
            out += Array(CSVOutput.field(ids[i]).utf8)
            out.append(UInt8(ascii: ","))
            out += Array(String(labels[i]).utf8)
            out.append(UInt8(ascii: ","))
            out += quoted[Int(labels[i])]
            out.append(UInt8(ascii: ","))
            out += Array("\(Float(model.score(i)))".utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return Data(out)
    }

    /// customer_id, then the modelled columns in original units (missing values empty).
    static func featuresCSV(_ raw: RawTable, ids: [String]) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(raw.rows * (16 + 10 * (raw.numeric.count + raw.categorical.count)))
        out += Array((["customer_id"] + raw.numericNames + raw.categoricalNames).map(CSVOutput.field).joined(separator: ",").utf8)
        out.append(UInt8(ascii: "\n"))
        for i in 0..<raw.rows {
            out += Array(CSVOutput.field(ids[i]).utf8)
            for col in raw.numeric {
                out.append(UInt8(ascii: ","))
                if !col[i].isNaN { out += Array("\(col[i])".utf8) }
            }
            for col in raw.categorical { out.append(UInt8(ascii: ",")); out += Array(CSVOutput.field(col[i]).utf8) }
            out.append(UInt8(ascii: "\n"))
        }
        return Data(out)
    }
}
