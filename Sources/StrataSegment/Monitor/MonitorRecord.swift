import Foundation
import StrataCore
import StrataIO

/// monitor.json and `strata monitor --json` (keys in snake case; dictionaries keyed by feature
/// name or segment id, as the contract asks):
/// `psi` {feature: PSI}, `share_drift` {segment: new share - training share}, `distance`
/// {`training_p50`, `training_p95`, `training_p99`, `new_p50`, `new_p95`,
/// `share_beyond_training_p99`, ...}, `unseen_categories` {`overall`, `columns`, `counts`},
/// `alerts` [{`kind`, `feature` or `segment`, `value`, `threshold`}], plus rows, missing counts,
/// the moderate/significant feature lists, segment shares (training, new, previous),
/// thresholds and the PSI epsilon. A suppressed segment's values are null.
public struct MonitorRecord: Encodable, Sendable {
    public struct Distance: Encodable, Sendable {
        public var metric: String
        public var trainingP50: Double
        public var trainingP95: Double
        public var trainingP99: Double
        public var newP50: FiniteOrNull
        public var newP95: FiniteOrNull
        public var shareBeyondTrainingP99: Double
        public var rowsBeyondTrainingP99: Int
    }
    public struct Unseen: Encodable, Sendable {
        public var overall: Double
        public var columns: [String: Double]
        public var counts: [String: Int]
    }
    public struct Alert: Encodable, Sendable {
        public var kind: DriftAnalysis.AlertKind
        public var feature: String?
        public var segment: Int?
        public var value: Double
        public var threshold: Double
    }
    public struct Shares: Encodable, Sendable {
        public var training: [String: OrNull<Double>]
        public var new: [String: OrNull<Double>]
        public var previous: [String: OrNull<Double>]?
    }
    public struct Previous: Encodable, Sendable {
        public var source: String
        public var rows: Int
    }
    public struct Thresholds: Encodable, Sendable {
        public var psi: Double
        public var psiModerate: Double
        public var shareDrift: Double
        public var shareBeyondTrainingP99: Double
        public var unseenCategories: Double
    }

    public var model: String
    public var modelKind = "kmeans"
    public var input: String
    public var rows: Int
    public var trainingRows: Int
    public var rowsWithMissing: Int
    public var missing: [String: Int]
    public var psi: [String: Double]
    public var moderateDrift: [String]
    public var significantDrift: [String]
    public var shareDrift: [String: OrNull<Double>]
    public var shareDriftPrevious: [String: OrNull<Double>]?
    public var segmentShares: Shares
    public var segmentNames: [String: String]
    public var suppressedSegments: [Int]
    public var previous: Previous?
    public var distance: Distance
    public var unseenCategories: Unseen
    public var alerts: [Alert]
    public var alertsTotal: Int
    public var drift: Bool
    public var thresholds: Thresholds
    public var psiEpsilon: Double
    public var psiBins: String

    public init(_ a: DriftAnalysis) {
        model = a.modelPath
        input = a.input
        rows = a.rows
        trainingRows = a.trainingRows
        rowsWithMissing = a.rowsWithMissing
        missing = Dictionary(a.features.map { ($0.name, $0.missing) }, uniquingKeysWith: { x, _ in x })
        psi = Dictionary(a.features.map { ($0.name, $0.psi) }, uniquingKeysWith: { x, _ in x })
        moderateDrift = a.features.filter { $0.level == .moderate }.map(\.name)
        significantDrift = a.features.filter { $0.level == .significant }.map(\.name)
        func bySegment(_ value: (DriftAnalysis.Segment) -> Double?) -> [String: OrNull<Double>] {
            Dictionary(a.segments.map { (String($0.id), OrNull($0.suppressed ? nil : value($0))) }, uniquingKeysWith: { x, _ in x })
        }
        shareDrift = bySegment { $0.drift }
        shareDriftPrevious = a.previous == nil ? nil : bySegment { $0.previousDrift }
        segmentShares = Shares(training: bySegment { $0.trainingShare }, new: bySegment { $0.share }, previous: a.previous == nil ? nil : bySegment { $0.previousShare })
        segmentNames = Dictionary(a.segments.map { (String($0.id), $0.name) }, uniquingKeysWith: { x, _ in x })
        suppressedSegments = a.segments.filter(\.suppressed).map(\.id)
        previous = a.previous.map { Previous(source: $0.source, rows: $0.rows) }
        let d = a.distance
        distance = Distance(metric: d.training.metric, trainingP50: d.training.p50, trainingP95: d.training.p95, trainingP99: d.training.p99,
                            newP50: FiniteOrNull(d.newP50), newP95: FiniteOrNull(d.newP95), shareBeyondTrainingP99: d.shareBeyondTrainingP99,
                            rowsBeyondTrainingP99: d.beyondTrainingP99)
        unseenCategories = Unseen(overall: a.unseenOverall, columns: Dictionary(a.unseen.map { ($0.column, $0.share) }, uniquingKeysWith: { x, _ in x }),
                                  counts: Dictionary(a.unseen.map { ($0.column, $0.count) }, uniquingKeysWith: { x, _ in x }))
        alerts = a.alerts.map { Alert(kind: $0.kind, feature: $0.feature, segment: $0.segment, value: $0.value, threshold: $0.threshold) }
        alertsTotal = a.alerts.count
        drift = a.drifted
        let t = a.thresholds
        thresholds = Thresholds(psi: t.psi, psiModerate: t.psiModerate, shareDrift: t.shareDrift, shareBeyondTrainingP99: t.distance,
                                unseenCategories: t.unseenCategories)
        psiEpsilon = PopulationStability.epsilon
        psiBins = "training deciles + missing (numeric); training categories + unseen + missing (categorical)"
    }
}

/// monitor.json as written to a file: the record and the run's warnings.
public struct MonitorFile: Encodable, Sendable {
    public var record: MonitorRecord
    public var warnings: [String]
    public init(record: MonitorRecord, warnings: [String]) { self.record = record; self.warnings = warnings }
    enum CodingKeys: String, CodingKey { case warnings }
    public func encode(to encoder: Encoder) throws {
        try record.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(warnings, forKey: .warnings)
    }
}

/// The Prometheus text exposition format (version 0.0.4) of a drift analysis: one gauge family
/// per measure with its `# HELP` and `# TYPE` lines, label values escaped (backslash, double
/// quote, line feed). Suppressed segments have no sample.
public enum MonitorMetrics {
    public static func text(_ a: DriftAnalysis) -> String {
        var p = PrometheusText()
        func family(_ name: String, _ help: String, _ samples: [PrometheusText.Sample]) { p.gauge(name, help, samples) }
        let shown = a.segments.filter { !$0.suppressed }
        family("strata_monitor_rows", "Rows compared with the model's training profile.", [([], Double(a.rows))])
        family("strata_monitor_psi", "Population stability index of an input feature against its training distribution.",
               a.features.map { ([("feature", $0.name)], $0.psi) })
        family("strata_monitor_share_drift", "Share of new rows assigned to a segment minus its training share.",
               shown.map { ([("segment", String($0.id))], $0.drift) })
        family("strata_monitor_segment_share", "Share of rows in a segment, by baseline (training, new, previous).",
               shown.flatMap { s in [([("segment", String(s.id)), ("baseline", "training")], s.trainingShare), ([("segment", String(s.id)), ("baseline", "new")], s.share)]
                   + (s.previousShare.map { [([("segment", String(s.id)), ("baseline", "previous")], $0)] } ?? []) })
        family("strata_monitor_share_drift_previous", "Share of new rows in a segment minus its share in the previous run.",
               shown.compactMap { s in s.previousDrift.map { ([("segment", String(s.id))], $0) } })
        let d = a.distance
        family("strata_monitor_distance", "Squared distance to the assigned centroid (model space), by quantile and data (training, new).",
               [([("quantile", "0.5"), ("data", "training")], d.training.p50), ([("quantile", "0.95"), ("data", "training")], d.training.p95),
                ([("quantile", "0.99"), ("data", "training")], d.training.p99), ([("quantile", "0.5"), ("data", "new")], d.newP50),
                ([("quantile", "0.95"), ("data", "new")], d.newP95)])
        family("strata_monitor_share_beyond_training_p99", "Share of new rows farther from their centroid than the training p99.",
               [([], d.shareBeyondTrainingP99)])
        family("strata_monitor_unseen_categories_share", "Share of a categorical column's non-empty new values not seen in training.",
               a.unseen.map { ([("column", $0.column)], $0.share) })
        family("strata_monitor_unseen_categories_share_overall", "Share of all categorical non-empty new values not seen in training.",
               a.unseen.isEmpty ? [] : [([], a.unseenOverall)])
        family("strata_monitor_alert", "1 for each alert that fired, by kind and feature or segment.",
               a.alerts.map { x in ([("kind", x.kind.rawValue)] + (x.feature.map { [("feature", $0)] } ?? []) + (x.segment.map { [("segment", String($0))] } ?? []), 1) })
        family("strata_monitor_alerts_total", "Alerts that fired in this run.", [([], Double(a.alerts.count))])
        return p.text
    }
}
