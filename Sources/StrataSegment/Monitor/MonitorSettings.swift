import Foundation
import StrataCore
import StrataIO

/// When drift is an alert. Defaults are the conventional ones: PSI > 0.25 significant (alert),
/// 0.1-0.25 moderate (reported, no alert); a segment's share moving by more than 5 points; more
/// than 5% of new rows beyond the training p99 of the distance to their centroid (5x the 1%
/// expected); more than 1% of a categorical column's values unseen in training.
public struct DriftThresholds: Codable, Sendable, Equatable {
    /// Alert when a feature's PSI is above this.
    public var psi: Double = 0.25
    /// Report a feature as moderately drifted when its PSI is above this (and not above `psi`).
    public var psiModerate: Double = 0.1
    /// Alert when |new share - training share| of a segment is above this (a share, 0.05 = 5 points).
    public var shareDrift: Double = 0.05
    /// Alert when the share of new rows beyond the training p99 distance is above this.
    public var distance: Double = 0.05
    /// Alert when the share of a categorical column's non-empty values unseen in training is above this.
    public var unseenCategories: Double = 0.01

    public init() {}

    /// Job-file keys of the `monitor:` block and the `strata monitor` options (`--` + key with dashes).
    public enum Key: String, CaseIterable, Sendable {
        case psi = "psi_threshold", psiModerate = "psi_moderate_threshold", shareDrift = "share_drift_threshold"
        case distance = "distance_threshold", unseenCategories = "unseen_threshold"
    }

    /// Checks ranges; errors are `.invalidSetting` naming the key (`psi_threshold`).
    public func validate() throws {
        for (key, v) in [(Key.psi, psi), (.psiModerate, psiModerate), (.shareDrift, shareDrift), (.distance, distance), (.unseenCategories, unseenCategories)] {
            if !(v >= 0 && v.isFinite) { throw StrataError.invalidSetting(key.rawValue, "must be a finite number >= 0 (got \(v))") }
        }
        for (key, v) in [(Key.shareDrift, shareDrift), (.distance, distance), (.unseenCategories, unseenCategories)] where v > 1 {
            throw StrataError.invalidSetting(key.rawValue, "is a share between 0 and 1 (got \(v); 0.05 is 5%)")
        }
        if psiModerate > psi { throw StrataError.invalidSetting(Key.psiModerate.rawValue, "must not be above psi_threshold (\(psi))") }
    }
}

/// The `monitor:` block of a segment job: compare this run's customers with a previous model's
/// training profile (monitor.json and the report's "Drift monitoring").
public struct MonitorSettings: Codable, Sendable, Equatable {
    /// A previous model.json, or a previous `strata segment` output directory (its model.json);
    /// nil: the job's `previous` directory.
    public var model: String? = nil
    public var thresholds = DriftThresholds()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model
        case psi = "psi_threshold", psiModerate = "psi_moderate_threshold", shareDrift = "share_drift_threshold"
        case distance = "distance_threshold", unseenCategories = "unseen_threshold"
    }

    /// The block's keys (for the unknown-key check).
    public static var keys: [String] { CodingKeys.allCases.map(\.rawValue) }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        if let v = try c.decodeIfPresent(Double.self, forKey: .psi) { thresholds.psi = v }
        if let v = try c.decodeIfPresent(Double.self, forKey: .psiModerate) { thresholds.psiModerate = v }
        if let v = try c.decodeIfPresent(Double.self, forKey: .shareDrift) { thresholds.shareDrift = v }
        if let v = try c.decodeIfPresent(Double.self, forKey: .distance) { thresholds.distance = v }
        if let v = try c.decodeIfPresent(Double.self, forKey: .unseenCategories) { thresholds.unseenCategories = v }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(model, forKey: .model)
        try c.encode(thresholds.psi, forKey: .psi)
        try c.encode(thresholds.psiModerate, forKey: .psiModerate)
        try c.encode(thresholds.shareDrift, forKey: .shareDrift)
        try c.encode(thresholds.distance, forKey: .distance)
        try c.encode(thresholds.unseenCategories, forKey: .unseenCategories)
    }

    /// The model file: `model` (a file, or a directory's model.json), else `previous`'s.
    /// - Throws: `.invalidSetting("model")` when neither is given.
    public func modelPath(previous: String?) throws -> String {
        guard let m = model ?? previous else {
            throw StrataError.invalidSetting("model", "give the model to compare with (a model.json or a previous output directory), or set previous")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: m, isDirectory: &isDir), isDir.boolValue { return RunDirectory.currentFiles(of: m) + "/model.json" }
        return m
    }
}
