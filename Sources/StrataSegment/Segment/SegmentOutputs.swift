import Foundation
import StrataCore
import StrataIO
import StrataPostgres
import StrataParquet

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
        /// Order-log counts (the report's data period) and customers read.
        var counts: InputCounts? = nil
        var customersRead: Int? = nil
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
            // Output kind: the file name without its extension; profiles.csv beside profiles.json
            // is "profiles_csv".
            let parts = name.split(separator: ".")
            let kind = files[String(parts[0])] == nil ? String(parts[0]) : parts.joined(separator: "_")
            files[kind] = out + "/" + name
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
            let assignments = assignmentsCSV(ids: x.ids, labels: x.model.labels, names: x.description.names, model: x.model)
            try stageTable("assignments", assignments)
            try stage("model.json", try x.model.encoded(data: x.features.data, stages: x.features.stages, names: x.description.names,
                                                         profile: x.model.trainingProfile(x.features, seed: c.seed)))
            try stage("profiles.json", try x.description.profilesFile(k: k, minSegmentSize: c.minSegmentSize).encoded())
            if let m = x.migration { try stage("migration.json", try JSONOutput.pretty(m.record)) }
            if let a = x.campaign { try stage("campaign.json", try JSONOutput.pretty(a.record)) }
            if let a = x.monitor { try stage("monitor.json", try JSONOutput.pretty(MonitorFile(record: MonitorRecord(a), warnings: a.warnings))) }
            // With an order log, the joined feature table: `strata predict --model model.json
            // --input features.csv` scores customers exactly as this run did.
            let features = c.transactions != nil || c.featuresTable != nil ? featuresCSV(x.features.raw, ids: x.ids) : nil
            if c.transactions != nil, let features { try stageTable("features", features) }
            try stage("profiles.csv", profilesCSV(x.description.profiles))
            if let a = x.description.affinity { try stage("affinity.csv", a.csv()) }
            // One customer list per reported segment (and other), for CRM imports.
            let lists = segmentLists(ids: x.ids, labels: x.model.labels, profiles: x.description.profiles)
            if !lists.isEmpty {
                try FileManager.default.createDirectory(atPath: staging + "/segments", withIntermediateDirectories: true)
                for (file, data) in lists {
                    let name = format == .csv ? file : format.fileName(String(file.dropLast(4)))
                    try batch.stageTable(csv: data, to: staging + "/segments/" + name, format: format)
                }
                files["segments"] = out + "/segments"
                names.append("segments")
            }
            if c.report {
                let d = x.description
                let html = SegmentReport.html(SegmentReport.Context(
                    title: "Customer segments", source: [c.customers, c.transactions?.path].compactMap { $0 }.joined(separator: " + "),
                    algorithm: c.algorithm.rawValue, k: k, rows: x.features.data.rows, minSegmentSize: c.minSegmentSize,
                    profiles: d.profiles, roles: d.roles, sweep: x.selection.sweep, projection: d.projection, rules: d.rules, abc: d.abc,
                    migration: x.migration, clvModel: x.clvModel, preprocessReport: x.features.report, logColumns: x.features.logColumns,
                    pca: c.pca, modelDetail: x.model.detail, dendrogram: x.model.dendrogram(names: d.names), campaign: x.campaign,
                    monitor: x.monitor, counts: x.counts, currency: c.currency ?? c.transactions?.currency, customersRead: x.customersRead,
                    affinity: d.affinity))
                try stage("report.html", Data(html.utf8))
            }
            // PostgreSQL sinks: replaced in one transaction per server on commit, before any file.
            if let t = c.assignmentsTable { try batch.stageTable(csv: assignments, to: t); files["assignments_table"] = shownTable(t) }
            if let t = c.featuresTable, let features { try batch.stageTable(csv: features, to: t); files["features_table"] = shownTable(t) }
            if let t = c.profilesTable {
                batch.stageDatabaseTable(try profilesTable(x.description.profilesFile(k: k, minSegmentSize: c.minSegmentSize), url: t))
                files["profiles_table"] = shownTable(t)
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

    /// A database sink as recorded and printed (password masked; the table named).
    static func shownTable(_ url: String) -> String { (try? PostgresURL(url).description) ?? PostgresURL.mask(url) }

    /// profiles_table: one row per reported segment (and other): `segment_id` (null for other),
    /// `segment_name`, `customers`, `share`, and `profile`, the segment's profiles.json entry as jsonb.
    static func profilesTable(_ file: ProfilesFile, url text: String) throws -> PostgresTableOutput {
        let url = try PostgresURL.parsed(text)
        let groups = file.segments + (file.other.map { [$0] } ?? [])
        let json = try groups.map { String(decoding: try JSONOutput.line($0), as: UTF8.self).trimmingCharacters(in: .newlines) }
        return PostgresTableOutput(url: url, columns: [
            .int64s("segment_id", groups.map { $0.id.map(Int64.init) }),
            .strings("segment_name", groups.map(\.name)),
            .int64s("customers", groups.map { Int64($0.size) }),
            .doubles("share", groups.map(\.share)),
            .strings("profile", json),
        ], jsonColumns: ["profile"])
    }

    /// Every file a segment run may write (links to those a run did not write are removed).
    static let knownNames = ["assignments.csv", "model.json", "profiles.json", "report.html", "run.json", "migration.json", "features.csv", "campaign.json",
                             "monitor.json", "profiles.csv", "affinity.csv", "segments", "assignments.parquet", "features.parquet"]

    /// A file-name slug of a segment name: lower-case ASCII letters and digits, other runs as
    /// one '-', at most 40 characters ("At-risk customers (discount share 2.1x)" ->
    /// "at-risk-customers-discount-share-2-1x").
    static func slug(_ name: String) -> String {
        var out = ""
        for ch in name.lowercased().unicodeScalars {
            if (ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9") { out.unicodeScalars.append(ch) }
            else if !out.isEmpty && !out.hasSuffix("-") { out.append("-") }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out.isEmpty ? "segment" : String(out.prefix(40)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// segments/<segment_id>-<slug>.csv per reported segment and segments/other.csv for the
    /// merged small segments when reported (customer_id, segment_id, segment_name, action); a
    /// segment below `min_segment_size` gets no list of its own. Ids as the outputs write them.
    static func segmentLists(ids: [String], labels: [Int32], profiles p: SegmentProfiler.Output) -> [(String, Data)] {
        var groups: [(file: String, members: Set<Int32>, name: String, action: String)] = p.segments.map {
            ("\($0.id!)-\(slug($0.name)).csv", [Int32($0.id!)], $0.name, $0.action ?? "")
        }
        if let o = p.other { groups.append(("other.csv", Set(o.mergedSegments!.map(Int32.init)), o.name, "")) }
        var byLabel: [Int32: Int] = [:]
        for (g, group) in groups.enumerated() { for l in group.members { byLabel[l] = g } }
        var bodies = groups.map { _ in [UInt8](Array("customer_id,segment_id,segment_name,action\n".utf8)) }
        let tails = groups.map { g in Array(("," + CSVOutput.field(g.name) + "," + CSVOutput.field(g.action) + "\n").utf8) }
        for i in labels.indices {
            guard let g = byLabel[labels[i]] else { continue }
            bodies[g] += Array((CSVOutput.field(ids[i]) + "," + String(labels[i])).utf8)
            bodies[g] += tails[g]
        }
        return zip(groups, bodies).map { ($0.file, Data($1)) }
    }

    /// profiles.csv for BI tools: one row per group x feature (modelled features, then the
    /// profile-only columns; a category column one row per category shown): segment_id (empty
    /// for other and the population), segment_name, customers, share, feature, kind (feature,
    /// rate, number, category), mean (a rate or share for those kinds), median, q1, q3, p10,
    /// p90, population_mean, lift, standardized_difference.
    static func profilesCSV(_ p: SegmentProfiler.Output) -> Data {
        var lines = ["segment_id,segment_name,customers,share,feature,kind,mean,median,q1,q3,p10,p90,population_mean,lift,standardized_difference"]
        func num(_ x: Double?) -> String { x.map { $0.isFinite ? "\($0)" : "" } ?? "" }
        func q(_ x: Double?) -> String { x.map { $0.isFinite ? "\(Float($0))" : "" } ?? "" }
        let population = Dictionary(p.population.features.map { ($0.feature, $0.mean) }, uniquingKeysWith: { a, _ in a })
        for g in p.segments + (p.other.map { [$0] } ?? []) + [p.population] {
            let head = [g.id.map(String.init) ?? "", CSVOutput.field(g.name), String(g.size), num(g.share)]
            for f in g.features {
                // Quantiles are stored values (float32): written as such, without float noise.
                lines.append((head + [CSVOutput.field(f.feature), "feature", num(f.mean), q(f.median), q(f.q1), q(f.q3), q(f.p10), q(f.p90),
                                      num(population[f.feature] ?? nil), num(f.lift), num(f.standardizedDifference)]).joined(separator: ","))
            }
            for o in g.profileOnly ?? [] {
                switch o.kind {
                case .rate:
                    lines.append((head + [CSVOutput.field(o.column), "rate", num(o.rate), "", "", "", "", "", num(o.populationRate), num(o.lift), ""]).joined(separator: ","))
                case .number:
                    let f = o.stats
                    lines.append((head + [CSVOutput.field(o.column), "number", num(f?.mean), num(f?.median), num(f?.q1), num(f?.q3), num(f?.p10), num(f?.p90),
                                          "", num(o.lift), ""]).joined(separator: ","))
                case .categories:
                    for c in o.categories ?? [] {
                        lines.append((head + [CSVOutput.field(o.column + "=" + c.category), "category", num(c.share), "", "", "", "", "", num(c.populationShare),
                                              num(c.lift), ""]).joined(separator: ","))
                    }
                }
            }
        }
        return Data((lines.joined(separator: "\n") + "\n").utf8)
    }

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
