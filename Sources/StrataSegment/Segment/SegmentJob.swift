import StrataCore
import StrataCustomers
import StrataIO
import Foundation
import StrataKernels
import StrataLinalg

/// `strata segment`: from raw customer data to named, profiled segments and a report.
///
/// Steps (each logged with its time and counts, and recorded in run.json): read customers and/or
/// transactions -> derive RFM and CLV features -> preprocess -> optional PCA -> choose k by a
/// sweep (unless fixed) -> fit K-Means or GMM on every customer -> assign -> profile, name,
/// explain -> write outputs. Outputs are staged as temporaries and renamed into place together
/// at the end (`OutputBatch`, with rollback), so a failed run leaves the previous outputs intact.
///
/// Deterministic for a config and seed: sampling is seeded, model fits are thread-count
/// independent, segment ids are renumbered by size, and names are a pure function of profiles.
public enum SegmentJob {
    public static let outputFiles = ["assignments.csv", "model.json", "profiles.json", "report.html", "run.json"]

    /// Runs the job; `log` receives one line per step. Returns the run summary (run.json's content).
    @discardableResult
    public static func run(_ c: SegmentConfig, log: @escaping (String) -> Void) throws -> [String: Any] {
        try c.validate()
        let started = Date()
        let threads = c.threads ?? defaultThreadCount
        var steps: [[String: Any]] = []
        func step<T>(_ name: String, _ body: () throws -> (T, String)) throws -> T {
            let t0 = Date()
            let (value, detail) = try body()
            let s = Date().timeIntervalSince(t0)
            steps.append(["step": name, "seconds": s, "detail": detail])
            log(String(format: "%@: %@ (%.2f s)", name, detail, s))
            return value
        }
        // Fail fast on an unusable output directory or previous run, before any work.
        let out = c.out
        do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
            throw StrataError.unwritable(path: out, reason: "cannot create the output directory")
        }
        let previous = try c.previous.map { try SegmentRunFiles.load(directory: $0) }

        // 1. Inputs.
        let inputs = try step("read") { () -> (SegmentInputs, String) in
            let i = try SegmentInputs.load(c, threads: threads, log: log)
            return (i, "\(SegmentNaming.grouped(i.raw.rows)) customers, features: \(i.raw.numericNames.joined(separator: ", "))"
                + (i.raw.categoricalNames.isEmpty ? "" : "; categorical: \(i.raw.categoricalNames.joined(separator: ", "))"))
        }
        var raw = inputs.raw
        var extras = inputs.extras
        guard !raw.numericNames.isEmpty || !raw.categoricalNames.isEmpty else {
            throw StrataError.invalidArgument("\(raw.source): no feature columns left to segment on (check columns / exclude)")
        }

        // 2. Preprocessing (sensible defaults for customer data, see SegmentConfig).
        var pre = c.preprocessOptions
        pre.categorical = raw.categoricalNames
        pre.log = try c.log ?? autoLogColumns(raw)
        for name in pre.log where !raw.numericNames.contains(name) {
            throw StrataError.invalidArgument("log: '\(name)' is not a numeric feature; features are \(raw.numericNames.joined(separator: ", "))")
        }
        if pre.impute == .drop {
            let keep = (0..<raw.rows).filter { i in !raw.numeric.contains { $0[i].isNaN } && !raw.categorical.contains { $0[i].isEmpty } }
            raw = raw.subset(keep)
            extras = extras.subset(keep)
        }
        let (pipeline, preprocessed, report) = try step("preprocess") { () -> ((FittedPipeline, Dataset, PreprocessReport), String) in
            let r = try FittedPipeline.fit(raw, options: pre)
            let imputed = r.2.imputed.values.reduce(0, +), clipped = r.2.clipped.values.reduce(0, +)
            return (r, "\(r.1.cols) model features; log1p on \(pre.log.isEmpty ? "none" : pre.log.joined(separator: ", ")); "
                + "\(imputed) values imputed, \(clipped) clipped, \(inputs.raw.rows - raw.rows) rows dropped")
        }
        var stages = FeatureStages(preprocessing: pipeline, pca: nil, report: report)
        var data = preprocessed
        if let p = c.pca {
            data = try step("pca") { () -> (Dataset, String) in
                guard p <= preprocessed.cols else { throw StrataError.invalidArgument("pca \(p) exceeds the \(preprocessed.cols) model features") }
                var o = PCAOptions(components: .count(p))
                o.seed = c.seed; o.threads = threads
                let m = try PCA.fit(preprocessed, options: o)
                stages.pca = PCAModelFile(m, columns: preprocessed.columns)
                let z = try m.transform(preprocessed, threads: threads)
                let d = Dataset(rows: preprocessed.rows, cols: m.count, values: z.storage, columns: (0..<m.count).map { "pc\($0)" },
                                idColumn: preprocessed.idColumn, ids: preprocessed.ids, source: preprocessed.source)
                return (d, String(format: "%d components, %.1f%% of the variance", p, 100 * m.explainedVarianceRatio.reduce(0, +)))
            }
        }

        // 3. Choose k.
        var sweep: SweepResult? = nil
        let k: Int
        if let fixed = c.k {
            guard fixed <= data.rows else { throw StrataError.invalidArgument("k = \(fixed) exceeds the \(data.rows) customers") }
            k = fixed
        } else {
            let kMax = min(c.kMax, data.rows - 1)
            guard kMax >= c.kMin else { throw StrataError.invalidArgument("too few customers (\(data.rows)) to choose k in \(c.kMin)...\(c.kMax)") }
            sweep = try step("choose k") { () -> (SweepResult, String) in
                let sample = data.rows > c.sweepSample ? data.subset(rows: sampleRows(data.rows, c.sweepSample, seed: c.seed, stream: 0x5357)) : data
                var o = SweepOptions(ks: Array(c.kMin...kMax))
                o.algorithm = c.algorithm == "gmm" ? .gmm : .kmeans
                o.kmeans.seed = c.seed; o.kmeans.nInit = c.nInit; o.kmeans.maxIterations = c.maxIter; o.kmeans.threads = threads
                o.gmm.covarianceType = CovarianceType(rawValue: c.covariance) ?? .full
                o.gmm.maxIterations = c.maxIter
                let r = try Sweep.run(sample, options: o)
                return (r, "k = \(r.recommendedK) of \(c.kMin)...\(kMax) on \(SegmentNaming.grouped(sample.rows)) customers: \(r.reason)")
            }
            k = sweep!.recommendedK
        }

        // 4. Fit on every customer and assign.
        let model = try step("fit") { () -> (SegmentModel, String) in
            let m = try SegmentModel.fit(data, k: k, config: c, threads: threads)
            let s = m.summary
            return (m, "\(c.algorithm) k = \(k) on \(SegmentNaming.grouped(data.rows)) customers, \(s["n_iter"]!) iterations"
                + ((s["converged"] as? Bool) == true ? ", converged" : ", NOT converged (raise max_iter)"))
        }
        let labels = model.labels

        // 5. Profiles, names, rules.
        let roles = try SegmentRoles.infer(features: raw.numericNames, explicit: c.roles)
        let (profiles, names, tree) = try step("profile") { () -> ((SegmentProfiler.Output, [String], SegmentRules), String) in
            var p = SegmentProfiler.profile(raw: raw, model: preprocessed, labels: labels, k: k, minSize: c.minSegmentSize,
                                            extras: extras, threads: threads)
            let names = segmentNames(p, roles: roles, features: raw.numericNames, overrides: c.names, k: k)
            for i in p.segments.indices {
                let s = p.segments[i]
                p.segments[i].name = names[s.id!]
                let top = s.distinguishing.map { (feature: $0.feature, lift: $0.lift, z: $0.standardizedDifference) }
                p.segments[i].description = SegmentNaming.describe(size: s.size, share: s.share, top: top, revenueShare: s.revenueShare)
            }
            if let o = p.other {
                p.other!.description = "\(SegmentNaming.grouped(o.size)) customers in \(o.mergedSegments!.count) segment(s) smaller than "
                    + "\(c.minSegmentSize) customers, merged so that no small group is reported on its own."
            }
            p.population.description = "All \(SegmentNaming.grouped(p.population.size)) modelled customers."
            let rules = SegmentRules.fit(raw: raw, preprocessed: preprocessed, pipeline: pipeline, labels: labels, k: k, profiles: p,
                                         depth: c.treeDepth, seed: c.seed)
            return ((p, names, rules), "\(p.segments.count) reportable segments" + (p.other.map { ", \($0.mergedSegments!.count) merged into other" } ?? "")
                + String(format: "; rules explain %.0f%% of customers", 100 * rules.tree.accuracy))
        }

        // 6. ABC product classes (a second pass over the order log) and migration.
        var abc: ABCSummary? = nil
        if let t = c.transactions, t.productColumn != nil {
            abc = try step("abc") { () -> (ABCSummary, String) in
                let ids = raw.ids ?? []
                var seg: [String: String] = [:]
                let reportable = Set(profiles.segments.map { $0.id! })
                for (i, id) in ids.enumerated() { let l = Int(labels[i]); seg[id] = reportable.contains(l) ? names[l] : "Other (small segments)" }
                let r = try ABC.run(path: t.path, transactions: t.options, measure: .revenue, segments: seg, a: 0.8, b: 0.95)
                let s = ABCSummary(overall: r.classes, bySegment: r.bySegment.mapValues { ABCSummary.classShares($0) }, products: r.overall.count)
                return (s, "\(r.overall.count) products: A \(r.classes["A"]?.products ?? 0), B \(r.classes["B"]?.products ?? 0), C \(r.classes["C"]?.products ?? 0)")
            }
        }
        let pseudonym = c.pseudonymize ? Pseudonymizer(salt: c.resolvedSalt!) : nil
        let outIds: [String] = (0..<data.rows).map { data.id($0) }.map { pseudonym?.pseudonym($0) ?? $0 }
        let current = SegmentRunFiles(ids: outIds, labels: labels, k: k, names: names,
                                      centersOriginal: model.centers.map { stages.originalUnits($0) ?? $0 },
                                      features: stages.preprocessing?.inputNumeric ?? data.columns, profiles: profiles)
        var migration: Migration? = nil
        if let previous {
            migration = try step("migration") { () -> (Migration, String) in
                let m = try Migration.compute(before: previous, after: current)
                return (m, "vs \(c.previous!): \(m.stayed) stayed, \(m.moved) moved, \(m.churned) churned, \(m.new) new")
            }
        }

        // 7. Report inputs: 2-D projection of a sample.
        let projection = try step("project") { () -> (Projection, String) in
            let p = try Projection.make(preprocessed, labels: labels, profiles: profiles, k: k, sample: c.scatterSample, seed: c.seed, threads: threads)
            return (p, "\(p.points.count) sampled customers on 2 principal components")
        }

        // 8. Outputs, all staged then renamed together.
        var record: [String: Any] = [:]
        let outputs = try step("write") { () -> ([String: String], String) in
            var batch = OutputBatch()
            var files: [String: String] = [:]
            func stage(_ name: String, _ data: Data) throws {
                try batch.stage(data, to: out + "/" + name)
                files[String(name.split(separator: ".").first!)] = out + "/" + name
            }
            do {
                try stage("assignments.csv", assignmentsCSV(ids: outIds, labels: labels, names: names, model: model))
                try stage("model.json", try model.encoded(data: data, stages: stages, names: names))
                try stage("profiles.json", try profilesJSON(profiles, names: names, roles: roles, rules: tree, config: c, k: k))
                if let migration { try stage("migration.json", try jsonData(migration.json)) }
                // With an order log, the joined feature table: `strata predict --model model.json
                // --input features.csv` scores customers exactly as this run did.
                if c.transactions != nil { try stage("features.csv", featuresCSV(raw, ids: outIds)) }
                if c.report {
                    let html = SegmentReport.html(SegmentReport.Context(
                        title: "Customer segments", source: [c.customers, c.transactions?.path].compactMap { $0 }.joined(separator: " + "),
                        algorithm: c.algorithm, k: k, rows: data.rows, minSegmentSize: c.minSegmentSize, profiles: profiles, roles: roles,
                        sweep: sweep, projection: projection, rules: tree, abc: abc, migration: migration, clvModel: inputs.clvModel,
                        preprocessReport: report, logColumns: pre.log, pca: c.pca))
                    try stage("report.html", Data(html.utf8))
                }
                var run = runSummary(c, started: started, threads: threads, steps: steps, inputs: inputs, report: report, rows: data.rows,
                                     k: k, sweep: sweep, model: model, profiles: profiles)
                run["outputs"] = files.merging(["run": out + "/run.json"]) { a, _ in a }
                try stage("run.json", try jsonData(run))
                try batch.commit()
                record = run
            } catch {
                batch.discard()
                throw error
            }
            return (files, "\(files.count) files in \(out)/")
        }
        // run.json's content, plus the write step's own timing.
        var summary = record
        summary["steps"] = steps
        summary["seconds"] = Date().timeIntervalSince(started)
        if summary["outputs"] == nil { summary["outputs"] = outputs }
        if let migration { summary["migration"] = migration.json }
        return summary
    }

    // MARK: helpers

    /// Non-negative numeric columns with skewness above 1 (spend, counts, CLV): log1p keeps a long
    /// right tail from deciding the segments.
    static func autoLogColumns(_ raw: RawTable) throws -> [String] {
        var out: [String] = []
        for (j, col) in raw.numeric.enumerated() {
            var n = 0.0, s = 0.0, s2 = 0.0, s3 = 0.0, minimum = Double.infinity
            for v in col where !v.isNaN { let x = Double(v); n += 1; s += x; minimum = min(minimum, x) }
            guard n > 2, minimum >= 0 else { continue }
            let mean = s / n
            for v in col where !v.isNaN { let d = Double(v) - mean; s2 += d * d; s3 += d * d * d }
            let sd = (s2 / n).squareRoot()
            if sd > 0 && (s3 / n) / (sd * sd * sd) > 1 { out.append(raw.numericNames[j]) }
        }
        return out
    }

    /// `count` distinct row indices out of `n`, sorted; seeded (partial Fisher-Yates).
    static func sampleRows(_ n: Int, _ count: Int, seed: UInt64, stream: UInt64) -> [Int] {
        if count >= n { return Array(0..<n) }
        var rng = SeededRandom.stream(seed: seed, index: stream)
        var pool = Array(0..<n)
        for i in 0..<count { pool.swapAt(i, i + Int(rng.next() % UInt64(n - i))) }
        return pool[0..<count].sorted()
    }

    static func segmentNames(_ p: SegmentProfiler.Output, roles: SegmentRoles, features: [String], overrides: [String: String], k: Int) -> [String] {
        let ranked: [[(String, Double)]] = p.allZ.map { z in
            zip(features, z).sorted { (abs($0.1), $1.0) > (abs($1.1), $0.0) }.map { ($0.0, $0.1) }
        }
        let generated = (0..<k).map { s in
            SegmentNaming.name(z: Dictionary(uniqueKeysWithValues: zip(features, p.allZ[s])), ranked: ranked[s], roles: roles)
        }
        var names = SegmentNaming.disambiguate(generated, ranked: ranked)
        for (key, name) in overrides { if let i = Int(key), i >= 0, i < k { names[i] = name } }
        return names
    }

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

    static func profilesJSON(_ p: SegmentProfiler.Output, names: [String], roles: SegmentRoles, rules: SegmentRules,
                             config c: SegmentConfig, k: Int) throws -> Data {
        struct File: Encodable {
            var format_version = 1
            var k: Int
            var rows: Int
            var min_segment_size: Int
            var roles: [String: String]
            var population: GroupProfile
            var segments: [GroupProfile]
            var other: GroupProfile?
            var rules: SegmentRules.JSON
        }
        let f = File(k: k, rows: p.population.size, min_segment_size: c.minSegmentSize,
                     roles: Dictionary(uniqueKeysWithValues: roles.columns.map { ($0.key.rawValue, $0.value) }),
                     population: p.population, segments: p.segments, other: p.other, rules: rules.json)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(f)
    }

    static func jsonData(_ object: Any) throws -> Data {
        try JSONSerialization.data(withJSONObject: sanitizeJSON(object), options: [.sortedKeys, .prettyPrinted])
    }

    /// JSON has no infinities or NaN: they become null.
    public static func sanitizeJSON(_ v: Any) -> Any {
        switch v {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let f as Float: return f.isFinite ? Double(f) : NSNull()
        case let a as [Any]: return a.map(sanitizeJSON)
        case let o as [String: Any]: return o.mapValues(sanitizeJSON)
        default: return v
        }
    }

    static func runSummary(_ c: SegmentConfig, started: Date, threads: Int, steps: [[String: Any]], inputs: SegmentInputs,
                           report: PreprocessReport, rows: Int, k: Int, sweep: SweepResult?, model: SegmentModel,
                           profiles: SegmentProfiler.Output) -> [String: Any] {
        var counts: [String: Any] = inputs.counts
        counts["customers_read"] = inputs.raw.rows
        counts["customers_modelled"] = rows
        counts["dropped_rows"] = report.droppedRows
        counts["missing"] = report.missing
        counts["imputed"] = report.imputed
        counts["clipped"] = report.clipped
        counts["imputed_total"] = report.imputed.values.reduce(0, +)
        counts["clipped_total"] = report.clipped.values.reduce(0, +)
        var files: [[String: Any]] = []
        for path in [c.customers, c.transactions?.path].compactMap({ $0 }) {
            var entry: [String: Any] = ["path": path]
            if let (bytes, digest) = try? FileChecksum.sha256(path: path) { entry["bytes"] = bytes; entry["sha256"] = digest }
            files.append(entry)
        }
        var out: [String: Any] = [
            "strata_version": Strata.version, "format_version": 1,
            "versions": ["strata": Strata.version, "model_format": KMeansModel.currentFormatVersion, "openblas": BLASInfo.config,
                         "openblas_core": BLASInfo.core, "swift": swiftVersion],
            "config": (try? c.recorded()) ?? [:], "seed": c.seed, "threads": threads,
            "started_at": ISO8601DateFormatter().string(from: started), "seconds": Date().timeIntervalSince(started),
            "inputs": files, "steps": steps, "counts": counts, "k": k, "k_chosen_by": sweep == nil ? "fixed" : "sweep",
            "model": model.summary, "segment_sizes": sizes(model.labels, k),
            "reportable_segments": profiles.segments.count, "merged_into_other": profiles.other?.mergedSegments ?? [],
            "platform": ["os": ProcessInfo.processInfo.operatingSystemVersionString, "cores": ProcessInfo.processInfo.activeProcessorCount],
        ]
        if let clv = inputs.clvModel { out["clv_model"] = clv }
        if let s = sweep {
            out["k_selection"] = ["recommended_k": s.recommendedK, "reason": s.reason, "elbow_k": s.elbowK as Any? ?? NSNull(),
                                  "silhouette": s.silhouetteMethod, "sample_rows": s.trainingRows,
                                  "points": s.points.map { p -> [String: Any] in
                                      ["k": p.k, "inertia": p.inertia, "silhouette": p.silhouette as Any? ?? NSNull(),
                                       "davies_bouldin": p.daviesBouldin as Any? ?? NSNull(), "calinski_harabasz": p.calinskiHarabasz as Any? ?? NSNull(),
                                       "bic": p.bic as Any? ?? NSNull()]
                                  }]
        }
        return out
    }

    /// The compiler that built this binary.
    static var swiftVersion: String {
        #if compiler(>=6.3)
        return "6.3+"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }

    static func sizes(_ labels: [Int32], _ k: Int) -> [Int] {
        ClusterLabels.counts(labels, k: k)
    }
}

extension RawTable {
    /// The given rows, in order.
    func subset(_ rows: [Int]) -> RawTable {
        RawTable(source: source, rows: rows.count, numericNames: numericNames, numeric: numeric.map { c in rows.map { c[$0] } },
                 categoricalNames: categoricalNames, categorical: categorical.map { c in rows.map { c[$0] } },
                 idColumn: idColumn, ids: ids.map { ids in rows.map { ids[$0] } }, lines: rows.map { lines[$0] })
    }
}

extension ProfileExtras {
    func subset(_ rows: [Int]) -> ProfileExtras {
        var e = ProfileExtras()
        e.revenue = revenue.map { v in rows.map { v[$0] } }
        e.clv = clv.map { v in rows.map { v[$0] } }
        e.rfmSegment = rfmSegment.map { v in rows.map { v[$0] } }
        return e
    }
}
