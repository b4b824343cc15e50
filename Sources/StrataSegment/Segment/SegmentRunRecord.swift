import Foundation
import StrataCore
import StrataKernels
import StrataIO
import StrataLinalg

/// run.json: what ran, on what, with which settings, how long each step took, what came out.
/// Written by every `strata segment` run (format_version 1; keys are a contract).
public struct SegmentRunRecord: Encodable, Sendable {
    public struct Versions: Encodable, Sendable {
        var strata = Strata.version
        var modelFormat = KMeansModelFile.currentFormatVersion
        var openblas = BLASInfo.config
        var openblasCore = BLASInfo.core
        var swift = SegmentRunRecord.swiftVersion
    }

    public struct Platform: Encodable, Sendable {
        var os = ProcessInfo.processInfo.operatingSystemVersionString
        var cores = ProcessInfo.processInfo.activeProcessorCount
    }

    /// Customer counts: read, modelled, and what preprocessing did per column.
    public struct Counts: Encodable, Sendable {
        var inputs: InputCounts
        public var customersRead: Int
        public var customersModelled: Int
        public var droppedRows: Int
        var missing: [String: Int]
        var imputed: [String: Int]
        var clipped: [String: Int]

        enum CodingKeys: String, CodingKey {
            case customersRead = "customers_read", customersModelled = "customers_modelled", droppedRows = "dropped_rows"
            case missing, imputed, clipped, imputedTotal = "imputed_total", clippedTotal = "clipped_total"
        }

        /// The order-log counts (absent without one), then the customer and preprocessing counts.
        public func encode(to encoder: Encoder) throws {
            try inputs.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(customersRead, forKey: .customersRead)
            try c.encode(customersModelled, forKey: .customersModelled)
            try c.encode(droppedRows, forKey: .droppedRows)
            try c.encode(missing, forKey: .missing)
            try c.encode(imputed, forKey: .imputed)
            try c.encode(clipped, forKey: .clipped)
            try c.encode(imputed.values.reduce(0, +), forKey: .imputedTotal)
            try c.encode(clipped.values.reduce(0, +), forKey: .clippedTotal)
        }
    }

    public var strataVersion = Strata.version
    public var formatVersion = 1
    public var versions = Versions()
    /// The resolved job (defaults filled in, the salt masked).
    public var config: SegmentConfig
    public var seed: UInt64
    public var threads: Int
    public var startedAt: String
    /// Wall-clock seconds up to the write step (the `--json` result: the whole run).
    public var seconds: Double
    public var inputs: [InputFile]
    public var steps: [SegmentStep]
    public var counts: Counts
    public var k: Int
    public var kChosenBy: String
    var model: SegmentModel.Summary
    /// Customers per segment id; null for a segment below `min_segment_size` (run.json leaves
    /// the machine: its sizes obey the threshold like every report; assignments.csv has them all).
    public var segmentSizes: [Int?]
    public var reportableSegments: Int
    /// Segments below the threshold, merged into "other" (or suppressed with it: profiles.json
    /// `other_suppressed`).
    public var mergedIntoOther: [Int]
    public var platform = Platform()
    public var clvModel: CLVModelSummary?
    var kSelection: KSelection.Record?
    /// With `--previous`: matched segments whose previous names their profiles no longer support.
    public var nameChanges: [NameChange] = []
    /// Output kind ("assignments", "model", ...) -> path.
    public var outputs: [String: String] = [:]
    /// The device of the final K-Means fit and its step times (absent: the CPU).
    public var device: GPURunRecord? = nil

    enum CodingKeys: String, CodingKey {
        case strataVersion = "strata_version", formatVersion = "format_version", versions, config, seed, threads
        case startedAt = "started_at", seconds, inputs, steps, counts, k, kChosenBy = "k_chosen_by", model
        case segmentSizes = "segment_sizes", reportableSegments = "reportable_segments", mergedIntoOther = "merged_into_other"
        case platform, clvModel = "clv_model", kSelection = "k_selection", nameChanges = "name_changes", outputs, device
    }

    /// `sizes` as run.json may show them: a size of 1 to `minSize - 1` customers is nil.
    static func reportable(_ sizes: [Int], minSize: Int) -> [Int?] { sizes.map { $0 > 0 && $0 < minSize ? nil : $0 } }

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
}

/// What `SegmentJob.run` returns: run.json's record (its steps and seconds completed with the
/// write step), the migration when a previous run was given, and the segment descriptions the
/// CLI prints. Encodes as the `strata segment --json` result: run.json's keys plus `migration`.
public struct SegmentRunResult: Encodable, Sendable {
    /// One reportable group for a human summary.
    public struct Group: Sendable {
        public var id: Int?
        public var name: String
        public var description: String
    }

    public var record: SegmentRunRecord
    public var migration: MigrationRecord?
    /// Reportable segments in id order, then other.
    public var groups: [Group]
    /// The explaining rules' readable lines, and the tree's depth and accuracy (share of customers).
    public var rules: [String]
    public var rulesDepth: Int
    public var rulesAccuracy: Double
    /// With a `campaign` block: campaign.json's content.
    public var campaign: CampaignRecord? = nil
    /// With a `monitor` block: monitor.json's content.
    public var monitor: MonitorRecord? = nil

    enum CodingKeys: String, CodingKey { case migration, campaign, monitor }

    public func encode(to encoder: Encoder) throws {
        try record.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(migration, forKey: .migration)
        try c.encodeIfPresent(campaign, forKey: .campaign)
        try c.encodeIfPresent(monitor, forKey: .monitor)
    }
}
