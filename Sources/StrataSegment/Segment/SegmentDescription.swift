import Foundation
import StrataCore
import StrataCustomers
import StrataIO

/// Stage 5 of `strata segment`: what the segments are, in words a marketer reads. Profiles in
/// original units (`SegmentProfiler`), names (`SegmentNaming`, overridable), one-line
/// descriptions, explaining rules (`SegmentRules`, a shallow decision tree), ABC product classes
/// per segment when the order log has a product column, and the 2-D projection for the report.
struct SegmentDescription {
    var roles: SegmentRoles
    /// Profiles with names and descriptions filled in; small segments merged into `other`.
    var profiles: SegmentProfiler.Output
    /// Segment name by segment id (k of them, small segments included).
    var names: [String]
    var rules: SegmentRules
    var abc: ABCSummary?
    var projection: Projection

    /// - Parameters: `features` (the modelled rows, original and model units), `labels` (n
    ///   segment ids in 0..<k, renumbered by size).
    /// - Throws: `StrataError.invalidSetting` for unknown roles; errors reading the order log
    ///   again for ABC classes.
    /// - Complexity: O(n d) for profiles; the rules tree on at most 100,000 customers; ABC one
    ///   more streaming pass over the order log; the projection PCA on `scatter_sample` rows.
    static func describe(_ features: SegmentFeatures, labels: [Int32], k: Int, noiseSegment: Int? = nil, config c: SegmentConfig, threads: Int,
                         steps: SegmentSteps) throws -> SegmentDescription {
        let raw = features.raw
        let roles = try SegmentRoles.infer(features: raw.numericNames, explicit: c.roles)
        let (profiles, names, rules) = try steps.run("profile") { () -> ((SegmentProfiler.Output, [String], SegmentRules), String) in
            var p = SegmentProfiler.profile(raw: raw, model: features.preprocessed, labels: labels, k: k, minSize: c.minSegmentSize,
                                            extras: features.extras, threads: threads)
            let names = segmentNames(p, roles: roles, features: raw.numericNames, overrides: c.names, k: k, noiseSegment: noiseSegment)
            for i in p.segments.indices {
                let s = p.segments[i]
                p.segments[i].name = names[s.id!]
                let top = s.distinguishing.map { (feature: $0.feature, lift: $0.lift, z: $0.standardizedDifference) }
                p.segments[i].description = (s.id == noiseSegment ? SegmentNaming.noiseDescription + " " : "")
                    + SegmentNaming.describe(size: s.size, share: s.share, top: top, revenueShare: s.revenueShare)
            }
            if let o = p.other {
                p.other!.description = "\(SegmentNaming.grouped(o.size)) customers in \(o.mergedSegments!.count) segment(s) smaller than "
                    + "\(c.minSegmentSize) customers, merged so that no small group is reported on its own."
            }
            p.population.description = p.otherSuppressed
                ? "All \(SegmentNaming.grouped(p.population.size)) customers of the reported segments; the segments smaller than "
                    + "\(c.minSegmentSize) customers together hold fewer than \(c.minSegmentSize) and are left out of every figure."
                : "All \(SegmentNaming.grouped(p.population.size)) modelled customers."
            let rules = SegmentRules.fit(raw: raw, preprocessed: features.preprocessed, pipeline: features.pipeline, labels: labels, k: k,
                                         profiles: p, depth: c.treeDepth, seed: c.seed)
            return ((p, names, rules), "\(p.segments.count) reportable segments" + (p.other.map { ", \($0.mergedSegments!.count) merged into other" } ?? "")
                + (p.otherSuppressed ? ", \(p.smallSegments.count) below \(c.minSegmentSize) customers even together (not reported)" : "")
                + String(format: "; rules explain %.0f%% of customers", 100 * rules.tree.accuracy))
        }
        var abc: ABCSummary? = nil
        if let t = c.transactions, t.productColumn != nil {
            abc = try steps.run("abc") { () -> (ABCSummary, String) in
                let reportable = Set(profiles.segments.map { $0.id! })
                var segmentOf: [String: String] = [:]
                for (i, id) in (raw.ids ?? []).enumerated() {
                    let l = Int(labels[i])
                    // Customers of a suppressed "other" count in the overall classes only.
                    guard profiles.isReported(segment: l) else { continue }
                    segmentOf[id] = reportable.contains(l) ? names[l] : "Other (small segments)"
                }
                let r = try ABC.run(path: t.path, transactions: c.orderLogOptions, measure: .revenue, segments: segmentOf, a: 0.8, b: 0.95)
                let s = ABCSummary(overall: r.classes, bySegment: r.bySegment.mapValues { ABCSummary.classShares($0) }, products: r.overall.count)
                return (s, "\(r.overall.count) products: A \(r.classes["A"]?.products ?? 0), B \(r.classes["B"]?.products ?? 0), C \(r.classes["C"]?.products ?? 0)")
            }
        }
        let projection = try steps.run("project") { () -> (Projection, String) in
            let p = try Projection.make(features.preprocessed, labels: labels, profiles: profiles, k: k, sample: c.scatterSample,
                                        seed: c.seed, threads: threads)
            return (p, "\(p.points.count) sampled customers of the reported segments on 2 principal components")
        }
        return SegmentDescription(roles: roles, profiles: profiles, names: names, rules: rules, abc: abc, projection: projection)
    }

    /// Generated names (a pure function of the profiles), made unique, then the config's overrides.
    static func segmentNames(_ p: SegmentProfiler.Output, roles: SegmentRoles, features: [String], overrides: [String: String], k: Int,
                             noiseSegment: Int? = nil) -> [String] {
        let ranked: [[(String, Double)]] = p.allZ.map { z in
            zip(features, z).sorted { (abs($0.1), $1.0) > (abs($1.1), $0.0) }.map { ($0.0, $0.1) }
        }
        let generated = (0..<k).map { s in
            SegmentNaming.name(z: Dictionary(uniqueKeysWithValues: zip(features, p.allZ[s])), ranked: ranked[s], roles: roles)
        }
        var names = SegmentNaming.disambiguate(generated, ranked: ranked)
        if let z = noiseSegment, z < k { names[z] = SegmentNaming.noiseName }
        for (key, name) in overrides { if let i = Int(key), i >= 0, i < k { names[i] = name } }
        return names
    }

    /// profiles.json's content.
    func profilesFile(k: Int, minSegmentSize: Int) -> ProfilesFile {
        ProfilesFile(k: k, rows: profiles.population.size, minSegmentSize: minSegmentSize,
                     roles: Dictionary(uniqueKeysWithValues: roles.columns.map { ($0.key.rawValue, $0.value) }),
                     population: profiles.population, segments: profiles.segments, other: profiles.other,
                     otherSuppressed: profiles.otherSuppressed, rules: rules.json)
    }
}

/// profiles.json: population, reportable segments, other, and the explaining rules. Leaves the
/// machine: every figure respects `min_segment_size` (see `SegmentProfiler`).
public struct ProfilesFile: Encodable, Sendable {
    public var formatVersion = 1
    public var k: Int
    /// Customers the figures describe (`population.size`: without a suppressed other's).
    public var rows: Int
    public var minSegmentSize: Int
    public var roles: [String: String]
    public var population: GroupProfile
    public var segments: [GroupProfile]
    public var other: GroupProfile?
    /// True when the small segments together stay below `min_segment_size`: no "other" then.
    public var otherSuppressed: Bool
    var rules: SegmentRules.JSON

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", k, rows, minSegmentSize = "min_segment_size", roles, population, segments, other
        case otherSuppressed = "other_suppressed", rules
    }

    /// Pretty JSON; NaN statistics (an all-missing column) are written as the string "nan", as
    /// since format version 1.
    func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try e.encode(self)
    }
}
