import Foundation
import StrataCore
import StrataIO

/// A model `strata monitor` can compare new data with: a K-Means model (from `strata kmeans
/// --model-out` or `strata segment` with algorithm kmeans) that carries a training profile.
public struct MonitoredModel: Sendable {
    public var path: String
    public var model: KMeansModelFile
    public var profile: TrainingProfile
    public var distance: TrainingProfile.Distance

    /// Loads and checks `path`.
    /// - Throws: `AnyModelFile.load`'s errors; `.invalidArgument` for a model kind this version
    ///   does not monitor; `.insufficientData` (exit 65) for a model without a training profile
    ///   (written before drift monitoring existed, or by a distributed run), saying to re-fit.
    public static func load(path: String) throws -> MonitoredModel {
        let file = try AnyModelFile.load(path: path)
        guard case let .kmeans(m) = file else {
            let kind: String
            switch file {
            case .gmm: kind = "Gaussian-mixture"
            case let .cluster(c): kind = c.model
            case let .kprototypes(p): kind = p.model
            case .kmeans: kind = "kmeans"
            }
            throw StrataError.invalidArgument("\(path) is a \(kind) model; strata monitor supports K-Means models in this version (strata kmeans --model-out, or strata segment with algorithm kmeans)")
        }
        guard let p = m.trainingProfile, let d = p.distance else {
            throw StrataError.insufficientData("\(path) has no training profile (training_profile), so there is nothing to compare new data with: it was written before drift monitoring existed, or by a distributed run. Re-fit the model (strata kmeans --model-out, or strata segment) to store the profile")
        }
        return MonitoredModel(path: path, model: m, profile: p, distance: d)
    }

    public var k: Int { model.k }

    /// Throws `.badData` naming `raw`'s file and the column when a profiled input column is not
    /// in `raw` (numeric, or categorical for a categorical one).
    public func checkColumns(_ raw: RawTable) throws {
        for f in profile.numeric where !raw.numericNames.contains(f.name) {
            throw StrataError.badData(file: raw.source, line: 1, column: f.name, message: "the model's numeric column '\(Excerpt.of(f.name))' is missing")
        }
        for f in profile.categorical where !raw.categoricalNames.contains(f.name) {
            throw StrataError.badData(file: raw.source, line: 1, column: f.name, message: "the model's categorical column '\(Excerpt.of(f.name))' is missing")
        }
    }

    /// Training share of each segment: cluster size / training rows.
    public var trainingShares: [Double] {
        let n = Double(max(model.trainingRows, 1))
        return model.clusterSizes.map { Double($0) / n }
    }

    public func segmentName(_ j: Int) -> String { model.segmentNames?[safe: j] ?? "segment \(j)" }
}

/// A second baseline for the segment shares: the shares of a previous run of the same model.
public struct MonitorBaseline: Sendable {
    public var source: String
    public var rows: Int
    /// Per segment id of the model (0 for a segment the previous run did not have).
    public var shares: [Double]

    /// Reads a previous `strata monitor --out` directory (monitor.json's `segment_shares.new`),
    /// or a previous `strata segment` output directory or assignments CSV (its segment ids).
    /// Segment ids beyond `k` are counted in `rows` and warned about by the caller.
    /// - Throws: `.unreadable`, `.badData` naming the file for a monitor.json that is not one.
    public static func load(_ path: String, k: Int) throws -> (MonitorBaseline, warnings: [String]) {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
        let monitorFile = (isDir.boolValue ? RunDirectory.currentFiles(of: path) : path) + (isDir.boolValue ? "/monitor.json" : "")
        if exists, isDir.boolValue ? FileManager.default.fileExists(atPath: monitorFile) : path.hasSuffix(".json") {
            struct File: Decodable {
                struct Shares: Decodable { var new: [String: Double?] }
                var rows: Int
                var segmentShares: Shares
                enum CodingKeys: String, CodingKey { case rows, segmentShares = "segment_shares" }
            }
            guard let data = FileManager.default.contents(atPath: monitorFile) else { throw StrataError.unreadable(path: monitorFile, reason: "cannot read it") }
            let f: File
            do { f = try JSONDecoder().decode(File.self, from: data) } catch {
                throw StrataError.badData(file: monitorFile, line: nil, column: nil, message: "not a strata monitor result (expected rows and segment_shares.new)")
            }
            var shares = [Double](repeating: 0, count: k)
            var warnings: [String] = []
            for (key, v) in f.segmentShares.new {
                guard let j = Int(key), j >= 0, j < k else { warnings.append("\(monitorFile): segment '\(Excerpt.of(key))' is not a segment of the model; left out of the previous shares"); continue }
                shares[j] = v ?? 0
            }
            return (MonitorBaseline(source: monitorFile, rows: f.rows, shares: shares), warnings)
        }
        let run = try SegmentRunFiles.load(directory: path)
        var counts = [Int](repeating: 0, count: k)
        var outside = 0
        for l in run.labels { if l >= 0 && Int(l) < k { counts[Int(l)] += 1 } else { outside += 1 } }
        let n = Double(max(run.labels.count, 1))
        var warnings: [String] = []
        if outside > 0 { warnings.append("\(path): \(outside) of \(run.labels.count) customers are in segments the model does not have (noise or another model); they count in the previous rows but in no segment") }
        return (MonitorBaseline(source: path, rows: run.labels.count, shares: counts.map { Double($0) / n }), warnings)
    }
}

/// What is watched, and what was found, for one batch of new rows against a model's training
/// profile: PSI per input feature, segment share drift, the distance to the assigned centroid,
/// unseen categories, and the alerts the thresholds raise. Typed; `MonitorRecord` is its JSON.
public struct DriftAnalysis: Sendable {
    public enum Level: String, Sendable, Encodable { case none, moderate, significant }

    public enum AlertKind: String, Sendable, Encodable, CaseIterable {
        case psi, shareDrift = "share_drift", shareDriftPrevious = "share_drift_previous", distance, unseenCategories = "unseen_categories"
    }

    public struct Feature: Sendable {
        public var name: String
        public var categorical: Bool
        public var psi: Double
        public var level: Level
        /// Empty cells in the new rows.
        public var missing: Int
    }

    public struct Segment: Sendable {
        public var id: Int
        public var name: String
        public var trainingShare: Double
        public var count: Int
        public var share: Double
        /// share - trainingShare.
        public var drift: Double
        public var previousShare: Double?
        public var previousDrift: Double?
        /// Left out of reports (a group of 1 to min_segment_size - 1 customers, now or in training).
        public var suppressed: Bool
    }

    public struct Distance: Sendable {
        public var training: TrainingProfile.Distance
        public var newP50: Double
        public var newP95: Double
        public var beyondTrainingP99: Int
        public var shareBeyondTrainingP99: Double
    }

    public struct Unseen: Sendable {
        public var column: String
        public var count: Int
        /// Non-empty values of the column in the new rows.
        public var values: Int
        public var share: Double
    }

    public struct Alert: Sendable {
        public var kind: AlertKind
        public var feature: String?
        public var segment: Int?
        public var value: Double
        public var threshold: Double
    }

    public var modelPath: String
    public var input: String
    public var rows: Int
    public var trainingRows: Int
    public var rowsWithMissing: Int
    public var features: [Feature]
    public var segments: [Segment]
    public var distance: Distance
    public var unseen: [Unseen]
    /// Unseen values / non-empty values over every categorical column (0 without one).
    public var unseenOverall: Double
    public var previous: MonitorBaseline?
    public var thresholds: DriftThresholds
    public var alerts: [Alert]
    public var warnings: [String]

    /// Reads nothing: compares `raw` (the new rows in input units) and their assignment with
    /// `model`'s training profile.
    /// - Parameters:
    ///   - raw: n new rows holding the model's input columns (NaN / "" missing).
    ///   - labels, distances: each row's segment and squared distance to its centroid, from
    ///     `KMeansModelFile.predict` on the transformed rows (the code path of `strata predict`).
    ///   - minSegmentSize: when set (the segment job), segments holding 1 to minSegmentSize - 1
    ///     customers now or in training are `suppressed`: no share, no share alert.
    /// - Complexity: O(n (d log 10 + c)) for the bins and categories, O(n log n) for the
    ///   distance quantiles.
    public static func compare(_ model: MonitoredModel, raw: RawTable, labels: [Int32], distances: [Float], previous: MonitorBaseline? = nil,
                               thresholds t: DriftThresholds, minSegmentSize: Int? = nil) -> DriftAnalysis {
        let n = raw.rows
        var alerts: [Alert] = []
        var features: [Feature] = []
        var rowMissing = [Bool](repeating: false, count: n)
        func level(_ psi: Double) -> Level { psi > t.psi ? .significant : psi > t.psiModerate ? .moderate : .none }
        for f in model.profile.numeric {
            let column = raw.numeric[raw.numericNames.firstIndex(of: f.name)!]
            let psi = f.distribution.psi(column)
            var missing = 0
            for i in 0..<n where column[i].isNaN { missing += 1; rowMissing[i] = true }
            features.append(Feature(name: f.name, categorical: false, psi: psi, level: level(psi), missing: missing))
        }
        var unseen: [Unseen] = []
        for f in model.profile.categorical {
            let column = raw.categorical[raw.categoricalNames.firstIndex(of: f.name)!]
            let psi = f.distribution.psi(column)
            let c = f.distribution.counts(column)
            for i in 0..<n where column[i].isEmpty { rowMissing[i] = true }
            features.append(Feature(name: f.name, categorical: true, psi: psi, level: level(psi), missing: c.missing))
            let values = n - c.missing
            unseen.append(Unseen(column: f.name, count: c.unseen, values: values, share: values > 0 ? Double(c.unseen) / Double(values) : 0))
        }
        for f in features where f.level == .significant { alerts.append(Alert(kind: .psi, feature: f.name, value: f.psi, threshold: t.psi)) }

        let k = model.k
        let counts = ClusterLabels.counts(labels.lazy.filter { $0 >= 0 }, k: k)
        let training = model.trainingShares
        var segments: [Segment] = []
        for j in 0..<k {
            let share = Double(counts[j]) / Double(max(n, 1))
            let small = minSegmentSize.map { m in (1..<m).contains(counts[j]) || (1..<m).contains(model.model.clusterSizes[j]) } ?? false
            let prev = previous.map { $0.shares[j] }
            segments.append(Segment(id: j, name: model.segmentName(j), trainingShare: training[j], count: counts[j], share: share,
                                    drift: share - training[j], previousShare: prev, previousDrift: prev.map { share - $0 }, suppressed: small))
        }
        for s in segments where !s.suppressed && abs(s.drift) > t.shareDrift {
            alerts.append(Alert(kind: .shareDrift, segment: s.id, value: s.drift, threshold: t.shareDrift))
        }
        for s in segments where !s.suppressed { if let d = s.previousDrift, abs(d) > t.shareDrift {
            alerts.append(Alert(kind: .shareDriftPrevious, segment: s.id, value: d, threshold: t.shareDrift))
        } }

        let q = PopulationStability.quantiles(distances, [0.5, 0.95])
        let p99 = model.distance.p99
        let beyond = distances.reduce(0) { $0 + (Double($1) > p99 ? 1 : 0) }
        let distance = Distance(training: model.distance, newP50: q[0], newP95: q[1], beyondTrainingP99: beyond,
                                shareBeyondTrainingP99: Double(beyond) / Double(max(distances.count, 1)))
        if distance.shareBeyondTrainingP99 > t.distance {
            alerts.append(Alert(kind: .distance, value: distance.shareBeyondTrainingP99, threshold: t.distance))
        }
        for u in unseen where u.share > t.unseenCategories {
            alerts.append(Alert(kind: .unseenCategories, feature: u.column, value: u.share, threshold: t.unseenCategories))
        }
        let values = unseen.reduce(0) { $0 + $1.values }
        let overall = values > 0 ? Double(unseen.reduce(0) { $0 + $1.count }) / Double(values) : 0

        var warnings: [String] = []
        let withMissing = rowMissing.reduce(0) { $0 + ($1 ? 1 : 0) }
        if withMissing > 0 {
            let cols = features.filter { $0.missing > 0 }.map { "\($0.name) \($0.missing)" }
            warnings.append("\(raw.source): \(withMissing) of \(n) rows have missing values (\(cols.joined(separator: ", "))): counted in each feature's missing bin, and filled as in training to assign a segment")
        }
        return DriftAnalysis(modelPath: model.path, input: raw.source, rows: n, trainingRows: model.model.trainingRows, rowsWithMissing: withMissing,
                             features: features, segments: segments, distance: distance, unseen: unseen, unseenOverall: overall,
                             previous: previous, thresholds: t, alerts: alerts, warnings: warnings)
    }

    /// Applies `model`'s stages to `raw` and assigns every row as `strata predict` does, then
    /// compares (`compare`).
    /// - Throws: the stages' errors (file, line and column), `predict`'s.
    /// - Complexity: O(n k d) for the assignment; deterministic for any `threads`.
    public static func analyze(_ model: MonitoredModel, raw: RawTable, previous: MonitorBaseline? = nil, thresholds: DriftThresholds,
                               minSegmentSize: Int? = nil, threads: Int) throws -> DriftAnalysis {
        try model.checkColumns(raw)
        let stages = FeatureStages(preprocessing: model.model.preprocessing, pca: model.model.pca)
        let data = try stages.apply(raw, modelColumns: model.model.columns, threads: threads)
        let r = try model.model.predict(data, threads: threads)
        return compare(model, raw: raw, labels: r.labels, distances: r.distances, previous: previous, thresholds: thresholds, minSegmentSize: minSegmentSize)
    }

    /// Whether any alert fired.
    public var drifted: Bool { !alerts.isEmpty }

    /// One line per alert, in words: "psi frequency: 0.41 > 0.25".
    public var alertLines: [String] {
        alerts.map { a in
            let what = a.feature.map { " \($0)" } ?? a.segment.map { " segment \($0) (\(segments[$0].name))" } ?? ""
            return "\(a.kind.rawValue)\(what): \(String(format: "%.4g", a.value)) (threshold \(String(format: "%.4g", a.threshold)))"
        }
    }
}
