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
    /// Persona per segment id (nil for names given by the job's `names`).
    var personas: [SegmentPersona?] = []
    /// Names that changed against the previous run's matched segment, with why.
    var nameChanges: [NameChange] = []
    var abc: ABCSummary?
    var affinity: SegmentAffinity? = nil
    var projection: Projection

    /// - Parameters: `features` (the modelled rows, original and model units), `labels` (n
    ///   segment ids in 0..<k, renumbered by size).
    /// - Throws: `StrataError.invalidSetting` for unknown roles; errors reading the order log
    ///   again for ABC classes.
    /// - Complexity: O(n d) for profiles; the rules tree on at most 100,000 customers; ABC one
    ///   more streaming pass over the order log; the projection PCA on `scatter_sample` rows.
    /// - Parameter previousNames: with `--previous`, a function from this run's profiles to the
    ///   previous run's name of each matched segment (segment id -> name).
    static func describe(_ features: SegmentFeatures, labels: [Int32], k: Int, noiseSegment: Int? = nil, config c: SegmentConfig, threads: Int,
                         steps: SegmentSteps, previousNames: ((SegmentProfiler.Output) throws -> [Int: String])? = nil,
                         asOfDay: Int? = nil) throws -> SegmentDescription {
        let raw = features.raw
        let roles = try SegmentRoles.infer(features: raw.numericNames, explicit: c.roles)
        var naming = Naming(names: [], personas: [], changes: [])
        var (profiles, names, rules) = try steps.run("profile") { () -> ((SegmentProfiler.Output, [String], SegmentRules), String) in
            var p = SegmentProfiler.profile(raw: raw, model: features.preprocessed, labels: labels, k: k, minSize: c.minSegmentSize,
                                            extras: features.extras, threads: threads)
            naming = segmentNames(p, roles: roles, features: raw.numericNames, overrides: c.names, k: k, noiseSegment: noiseSegment,
                                  previous: try previousNames?(p) ?? [:])
            let names = naming.names
            for i in p.segments.indices {
                let s = p.segments[i]
                p.segments[i].name = names[s.id!]
                let persona = naming.personas[s.id!]
                p.segments[i].persona = persona?.rawValue
                p.segments[i].action = c.actions[String(s.id!)] ?? persona?.action
                p.segments[i].rfmNote = rfmNote(name: names[s.id!], persona: persona, mix: s.rfmMix, size: s.size)
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
            steps.count("reportable_segments", p.segments.count)
            return ((p, names, rules), "\(p.segments.count) reportable segments" + (p.other.map { ", \($0.mergedSegments!.count) merged into other" } ?? "")
                + (p.otherSuppressed ? ", \(p.smallSegments.count) below \(c.minSegmentSize) customers even together (not reported)" : "")
                + String(format: "; rules explain %.0f%% of customers", 100 * rules.tree.accuracy))
        }
        var abc: ABCSummary? = nil
        var affinity: SegmentAffinity? = nil
        if let t = c.transactions, t.productColumn != nil {
            affinity = try steps.run("affinity") { () -> (SegmentAffinity, String) in
                var segmentOf: [String: Int] = [:]
                var groupNames: [Int: String] = [:]
                for s in profiles.segments { groupNames[s.id!] = s.name }
                if let o = profiles.other { groupNames[-1] = o.name }
                for (i, id) in (raw.ids ?? []).enumerated() {
                    let l = Int(labels[i])
                    // Customers of a suppressed "other" count nowhere (they are in no reported figure).
                    guard profiles.isReported(segment: l) else { continue }
                    segmentOf[CustomerKey.normalized(id)] = groupNames[l] != nil ? l : -1
                }
                let table = try c.products?.load()
                let a = try SegmentAffinity.compute(path: t.path, options: c.orderLogOptions, segmentOf: segmentOf, names: groupNames,
                                                    categories: table?.categories ?? [:], categoryLevels: table?.levels ?? [], minSupport: c.minSegmentSize,
                                                    lastDay: asOfDay)
                let over = a.items.filter { $0.lift > 1 }.count
                return (a, "\(a.products) products: A \(a.abcClasses["A"]?.products ?? 0), B \(a.abcClasses["B"]?.products ?? 0), C \(a.abcClasses["C"]?.products ?? 0); "
                    + "\(over) significant over-buys and \(a.items.count - over) under-buys (adjusted p < 0.05, at least \(c.minSegmentSize) buyers)")
            }
            let a = affinity!
            for i in profiles.segments.indices { profiles.segments[i].affinity = a.json(segment: profiles.segments[i].id!) }
            if profiles.other != nil { profiles.other!.affinity = a.json(segment: -1) }
            var bySegment: [String: [String: Double]] = [:]
            for s in profiles.segments { bySegment[s.name] = a.abcShares[s.id!] ?? [:] }
            if let o = profiles.other { bySegment[o.name] = a.abcShares[-1] ?? [:] }
            abc = ABCSummary(overall: a.abcClasses, bySegment: bySegment, products: a.products)
        }
        let projection = try steps.run("project") { () -> (Projection, String) in
            let p = try Projection.make(features.preprocessed, labels: labels, profiles: profiles, k: k, sample: c.scatterSample,
                                        seed: c.seed, threads: threads)
            return (p, "\(p.points.count) sampled customers of the reported segments on 2 principal components")
        }
        return SegmentDescription(roles: roles, profiles: profiles, names: names, rules: rules, personas: naming.personas,
                                  nameChanges: naming.changes, abc: abc, affinity: affinity, projection: projection)
    }

    struct Naming { var names: [String]; var personas: [SegmentPersona?]; var changes: [NameChange] }

    /// The naming evidence of every segment: role lifts, CLV lift, probability alive, features
    /// ranked by standardized difference.
    static func evidence(_ p: SegmentProfiler.Output, roles: SegmentRoles, features: [String]) -> [NamingEvidence] {
        p.allZ.indices.map { s in
            var e = NamingEvidence()
            for (role, column) in roles.columns { if let j = features.firstIndex(of: column), let l = p.allLift[s][j] { e.lift[role] = l } }
            e.clvLift = p.allCLVLift.isEmpty ? nil : p.allCLVLift[s]
            e.probabilityAlive = p.allProbabilityAlive.isEmpty ? nil : p.allProbabilityAlive[s]
            e.ranked = zip(features, p.allZ[s]).sorted { (abs($0.1), $1.0) > (abs($1.1), $0.0) }.map { (feature: $0.0, z: $0.1) }
            for (j, f) in features.enumerated() { if let l = p.allLift[s][j] { e.featureLift[f] = l } }
            return e
        }
    }

    /// Names: a matched segment keeps its previous name while its profile supports that name's
    /// claim (else the change and its reason are recorded); the rest are generated (a pure
    /// function of the profiles), made unique, then the config's overrides apply.
    static func segmentNames(_ p: SegmentProfiler.Output, roles: SegmentRoles, features: [String], overrides: [String: String], k: Int,
                             noiseSegment: Int? = nil, previous: [Int: String] = [:]) -> Naming {
        let ev = evidence(p, roles: roles, features: features)
        let generated = ev.map { SegmentNaming.name($0) }
        var personas: [SegmentPersona?] = generated.map(\.persona)
        var names = SegmentNaming.disambiguate(generated.map(\.name), evidence: ev)
        var changes: [NameChange] = []
        if !previous.isEmpty {
            // A kept name is its base ("At-risk customers"): a tag telling duplicates apart is
            // rebuilt from this run's lifts, so no stale figure survives.
            var bases = generated.map(\.name)
            for s in (0..<k) where s != noiseSegment {
                guard let before = previous[s] else { continue }
                let base = before.components(separatedBy: " (").first ?? before
                if let persona = SegmentPersona.of(name: before) {
                    let claim = SegmentNaming.supports(base, persona: persona, evidence: ev[s], features: features)
                    if claim.holds {
                        bases[s] = base; personas[s] = persona
                    } else {
                        changes.append(NameChange(segment: s, previousName: before, name: "", reason: "no longer '\(before)': " + claim.reason))
                    }
                } else {
                    bases[s] = before; personas[s] = nil   // a name given by hand: kept as it is
                }
            }
            names = SegmentNaming.disambiguate(bases, evidence: ev)
            for i in changes.indices { changes[i].name = names[changes[i].segment] }
        }
        if let z = noiseSegment, z < k { names[z] = SegmentNaming.noiseName; personas[z] = .noise }
        for (key, name) in overrides { if let i = Int(key), i >= 0, i < k { names[i] = name; personas[i] = nil } }
        // A generated name equal to an override is told apart by its segment id.
        let overridden = Set(overrides.keys.compactMap(Int.init))
        let given = Set(overridden.filter { $0 < k }.map { names[$0] })
        for i in 0..<k where !overridden.contains(i) && given.contains(names[i]) { names[i] += " (segment \(i))" }
        return Naming(names: names, personas: personas, changes: changes)
    }

    /// A note when most of a segment's customers (over half) carry RFM labels that read
    /// against its name: active, valuable names against "At risk"/"Hibernating"/"Lost"/"About
    /// to sleep"/"Can't lose them"; lapsed, at-risk and inactive names against "Champions"/
    /// "Loyal"/"Potential loyalists"/"New"/"Promising"; low-value and occasional names against
    /// "Champions".
    static func rfmNote(name: String, persona: SegmentPersona?, mix: [String: Int]?, size: Int) -> String? {
        guard let persona, let mix, size > 0 else { return nil }
        let inactive: Set<String> = ["At risk", "Hibernating", "Lost", "About to sleep", "Can't lose them"]
        let active: Set<String> = ["Champions", "Loyal", "Potential loyalists", "New", "Promising"]
        let against: Set<String>
        switch persona {
        case .highValueLoyal, .highValue, .loyal, .frequent, .new, .newHighValue: against = inactive
        case .lapsed, .lapsedHighValue, .atRisk, .atRiskHighValue, .inactive, .inactiveLowValue: against = active
        case .lowValueOccasional, .lowSpenders, .occasional: against = ["Champions"]
        default: return nil
        }
        let n = mix.filter { against.contains($0.key) }.values.reduce(0, +)
        guard 2 * n > size else { return nil }
        let labels = mix.filter { against.contains($0.key) }.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "'\($0.key)'" }
        return "\(SegmentNaming.percent(Double(n) / Double(size))) of '\(name)' carry the RFM label\(labels.count == 1 ? "" : "s") \(SegmentNaming.list(labels)): "
            + "RFM labels score each customer against quintiles of all customers, while the name compares the segment's averages with the population's; "
            + "read the name as the group's profile and the RFM labels as where its members sit individually."
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
    /// The playbook: recommended action per persona (the segments carry theirs, overrides applied).
    var playbook: [String: String] = Dictionary(uniqueKeysWithValues: SegmentPersona.allCases.map { ($0.rawValue, $0.action) })

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", k, rows, minSegmentSize = "min_segment_size", roles, population, segments, other
        case otherSuppressed = "other_suppressed", rules, playbook
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

/// run.json `name_changes`: a matched segment whose previous name its profile no longer supports.
public struct NameChange: Encodable, Sendable, Equatable {
    public var segment: Int
    public var previousName: String
    public var name: String
    public var reason: String
    enum CodingKeys: String, CodingKey { case segment, previousName = "previous_name", name, reason }
}
