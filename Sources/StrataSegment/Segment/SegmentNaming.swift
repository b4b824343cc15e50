import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// Which feature columns carry the customer-analytics meanings the naming rules use.
public struct SegmentRoles: Sendable, Equatable {
    public enum Role: String, CaseIterable, Sendable { case recency, frequency, monetary, tenure }
    public var columns: [Role: String] = [:]

    /// Name keywords per role, most specific first. A column matches a role when its lower-cased
    /// name contains the keyword; the first keyword with a matching column wins.
    static let keywords: [Role: [String]] = [
        .recency: ["recency", "days_since", "since_last"],
        .frequency: ["frequency", "orders", "purchases", "transactions", "visits"],
        .monetary: ["monetary_total", "clv", "lifetime_value", "spend", "revenue", "order_value", "monetary", "amount", "sales"],
        .tenure: ["tenure", "since_first", "days_as_customer"],
    ]

    /// Explicit roles from the config, the rest inferred from `features`' names.
    public static func infer(features: [String], explicit: [String: String]) throws -> SegmentRoles {
        var r = SegmentRoles()
        for role in Role.allCases {
            if let name = explicit[role.rawValue] {
                guard features.contains(name) else {
                    throw StrataError.invalidArgument("roles.\(role.rawValue): '\(name)' is not a numeric feature; features are \(features.joined(separator: ", "))")
                }
                r.columns[role] = name
                continue
            }
            let taken = Set(r.columns.values)
            for key in keywords[role]! {
                if let f = features.first(where: { $0.lowercased().contains(key) && !taken.contains($0) }) { r.columns[role] = f; break }
            }
        }
        return r
    }
}

/// What a segment's profile says about the naming roles: lifts (segment mean / population mean,
/// in original units, as the report shows them) and standardized differences.
public struct NamingEvidence: Sendable, Equatable {
    /// Lift per role present (nil when the role has no column or the population mean is 0).
    public var lift: [SegmentRoles.Role: Double] = [:]
    /// Lift of the CLV extra (when the job fitted CLV), beside the monetary column's.
    public var clvLift: Double? = nil
    /// Mean probability alive of the segment's customers (BG/NBD, when CLV was fitted).
    public var probabilityAlive: Double? = nil
    /// Standardized differences by feature (modelling scale), most distinguishing first.
    public var ranked: [(feature: String, z: Double)] = []
    /// Lift by feature (original units).
    public var featureLift: [String: Double] = [:]

    public init(lift: [SegmentRoles.Role: Double] = [:], clvLift: Double? = nil, probabilityAlive: Double? = nil,
                ranked: [(feature: String, z: Double)] = [], featureLift: [String: Double] = [:]) {
        self.lift = lift; self.clvLift = clvLift; self.probabilityAlive = probabilityAlive; self.ranked = ranked; self.featureLift = featureLift
    }

    /// Prior (historical) value: the monetary column's lift, else the CLV's.
    public var priorValue: Double? { lift[.monetary] ?? clvLift }

    /// Value: the larger of the monetary and CLV lifts (nil when neither is known).
    public var value: Double? {
        switch (lift[.monetary], clvLift) {
        case let (m?, c?): return max(m, c)
        case let (m?, nil): return m
        case let (nil, c?): return c
        default: return nil
        }
    }

    /// The most distinguishing feature (|z| >= 0.5) whose lift, when known, points the same way
    /// as its standardized difference (on skewed columns the log-scale z and the raw-unit mean
    /// can disagree; a name must agree with the "x the average" the description shows).
    public var distinctive: (feature: String, high: Bool)? {
        for (feature, z) in ranked where abs(z) >= 0.5 {
            if let l = featureLift[feature], (l > 1) != (z > 0) { continue }
            return (feature, z > 0)
        }
        return nil
    }

    public static func == (a: NamingEvidence, b: NamingEvidence) -> Bool {
        a.lift == b.lift && a.clvLift == b.clvLift && a.probabilityAlive == b.probabilityAlive
            && a.ranked.map(\.feature) == b.ranked.map(\.feature) && a.ranked.map(\.z) == b.ranked.map(\.z) && a.featureLift == b.featureLift
    }
}

/// A name's role: what it claims about the segment, and what the playbook recommends for it.
/// Every generated name is one persona (plus, for duplicates, the feature that tells it apart).
///
/// Claims (lifts are segment mean / population mean in original units; "value" is the larger of
/// the monetary and CLV lifts, "prior value" the monetary (historical spend) lift, else the CLV
/// lift), checked in this order, the first that holds names the segment:
/// | persona | name | claim |
/// |---|---|---|
/// | lapsedHighValue | Lapsed high-value | recency lift >= 2.5, mean P(alive) < 0.5 when CLV exists, value >= 1.25 |
/// | lapsed | Lapsed customers | recency lift >= 2.5, mean P(alive) < 0.5 when CLV exists |
/// | atRiskHighValue | At-risk high-value | recency lift >= 1.5, value >= 1.25 |
/// | atRisk | At-risk customers | recency lift >= 1.5, prior value >= 1 |
/// | inactive | Inactive customers | recency lift >= 1.5, prior value in (0.75, 1) or unknown |
/// | inactiveLowValue | Inactive low-value | recency lift >= 1.5, prior value <= 0.75 |
/// | newHighValue | New high-value | tenure lift <= 0.5, value >= 1.25 |
/// | new | New customers | tenure lift <= 0.5 |
/// | highValueLoyal | High-value loyal | value >= 1.25, frequency and tenure lifts > 1, recency lift < 1.5 |
/// | highValue | High-value customers | value >= 1.25, recency lift < 1.5 |
/// | loyal | Loyal customers | frequency and tenure lifts > 1, recency lift < 1.5 |
/// | frequent | Frequent buyers | frequency lift >= 1.25, recency lift < 1.5 |
/// | lowValueOccasional | Low-value occasional | value <= 0.75, frequency lift <= 0.75 |
/// | lowSpenders | Low spenders | value <= 0.75 |
/// | occasional | Occasional buyers | frequency lift <= 0.75 |
/// | distinctive | High/Low <feature> | the most distinguishing feature differs by >= 0.5 sd, its mean on the same side |
/// | typical | Typical customers | no feature differs by 0.5 sd |
/// A role without a column (no tenure, say) makes every claim needing it fail.
public enum SegmentPersona: String, CaseIterable, Sendable, Codable {
    case lapsedHighValue = "lapsed_high_value", lapsed, atRiskHighValue = "at_risk_high_value", atRisk = "at_risk", inactive
    case inactiveLowValue = "inactive_low_value", newHighValue = "new_high_value", new
    case highValueLoyal = "high_value_loyal", highValue = "high_value", loyal, frequent
    case lowValueOccasional = "low_value_occasional", lowSpenders = "low_spenders", occasional, distinctive, typical, noise

    /// Claim thresholds (see the table above).
    public static let highValueLift = 1.25, recencyWellAbove = 1.5, recencyFarAbove = 2.5, lowAliveProbability = 0.5
    public static let newTenureLift = 0.5, frequentLift = 1.25, lowLift = 0.75

    /// The generated name (distinctive names are built from their feature).
    public var title: String {
        switch self {
        case .lapsedHighValue: return "Lapsed high-value"
        case .lapsed: return "Lapsed customers"
        case .atRiskHighValue: return "At-risk high-value"
        case .atRisk: return "At-risk customers"
        case .inactive: return "Inactive customers"
        case .inactiveLowValue: return "Inactive low-value"
        case .newHighValue: return "New high-value"
        case .new: return "New customers"
        case .highValueLoyal: return "High-value loyal"
        case .highValue: return "High-value customers"
        case .loyal: return "Loyal customers"
        case .frequent: return "Frequent buyers"
        case .lowValueOccasional: return "Low-value occasional"
        case .lowSpenders: return "Low spenders"
        case .occasional: return "Occasional buyers"
        case .distinctive: return "Distinctive customers"
        case .typical: return "Typical customers"
        case .noise: return SegmentNaming.noiseName
        }
    }

    /// The playbook: the recommended action for a segment of this persona (overridable per
    /// segment with the job's `actions`).
    public var action: String {
        switch self {
        case .lapsedHighValue: return "Win-back offer with a personal touch: their past value pays for a generous incentive."
        case .lapsed: return "Low-cost win-back (one e-mail with an offer); then stop spending on them."
        case .atRiskHighValue: return "Retention now: personal contact, a loyalty reward or a service check before they lapse."
        case .atRisk: return "Re-engagement series with a time-limited incentive."
        case .inactive: return "Reactivation series with a modest incentive; stop if they do not respond."
        case .inactiveLowValue: return "Cheap reactivation only (automated reminders); do not discount heavily."
        case .newHighValue: return "Onboarding with early VIP treatment: secure the second and third purchase."
        case .new: return "Onboarding series: welcome, product guidance, a second-purchase incentive."
        case .highValueLoyal: return "Loyalty rewards and early access; protect, do not discount."
        case .highValue: return "Upsell premium products and build the relationship (service, exclusives)."
        case .loyal: return "Reward loyalty; cross-sell categories they do not buy yet."
        case .frequent: return "Raise basket value: bundles and cross-sell at checkout."
        case .lowValueOccasional: return "Low-cost automated campaigns only; measure before spending more."
        case .lowSpenders: return "Upsell with entry-level bundles; keep acquisition-cost channels out."
        case .occasional: return "Purchase-frequency nudges: reminders, subscriptions, replenishment offers."
        case .distinctive: return "Test a tailored message on the feature that sets them apart."
        case .typical: return "Standard communications; use as the control group for campaign tests."
        case .noise: return "Review individually; no campaign for the group as a whole."
        }
    }

    /// Whether the evidence supports this persona's claim; `reason` says why not (with numbers).
    public func check(_ e: NamingEvidence) -> (holds: Bool, reason: String) {
        let r = e.lift[.recency], f = e.lift[.frequency], t = e.lift[.tenure], v = e.value, prior = e.priorValue
        func fmt(_ x: Double?) -> String { x.map { String(format: "%.2f", $0) } ?? "unknown" }
        func need(_ ok: Bool, _ what: String) -> (Bool, String) { (ok, ok ? "" : what) }
        let alive = e.probabilityAlive.map { $0 < Self.lowAliveProbability } ?? true
        // Active names (value, loyalty, frequency) never go to customers who have stopped buying.
        let active = (r ?? 0) < Self.recencyWellAbove
        switch self {
        case .lapsedHighValue:
            return need((r ?? 0) >= Self.recencyFarAbove && alive && (v ?? 0) >= Self.highValueLift,
                        "needs recency lift >= 2.5, P(alive) < 0.5 and value lift >= 1.25 (recency \(fmt(r)), P(alive) \(fmt(e.probabilityAlive)), value \(fmt(v)))")
        case .lapsed:
            return need((r ?? 0) >= Self.recencyFarAbove && alive,
                        "needs recency lift >= 2.5 and P(alive) < 0.5 (recency \(fmt(r)), P(alive) \(fmt(e.probabilityAlive)))")
        case .atRiskHighValue:
            return need((r ?? 0) >= Self.recencyWellAbove && (v ?? 0) >= Self.highValueLift,
                        "needs recency lift >= 1.5 and value lift >= 1.25 (recency \(fmt(r)), value \(fmt(v)))")
        case .atRisk:
            return need((r ?? 0) >= Self.recencyWellAbove && (prior ?? 0) >= 1,
                        "needs recency lift >= 1.5 and prior value lift >= 1 (recency \(fmt(r)), prior value \(fmt(prior)))")
        case .inactive:
            return need((r ?? 0) >= Self.recencyWellAbove && (prior.map { $0 > Self.lowLift && $0 < 1 } ?? true),
                        "needs recency lift >= 1.5 and prior value lift in (0.75, 1) or unknown (recency \(fmt(r)), prior value \(fmt(prior)))")
        case .inactiveLowValue:
            return need((r ?? 0) >= Self.recencyWellAbove && prior.map { $0 <= Self.lowLift } == true,
                        "needs recency lift >= 1.5 and prior value lift <= 0.75 (recency \(fmt(r)), prior value \(fmt(prior)))")
        case .newHighValue:
            return need(t.map { $0 <= Self.newTenureLift } == true && (v ?? 0) >= Self.highValueLift,
                        "needs tenure lift <= 0.5 and value lift >= 1.25 (tenure \(fmt(t)), value \(fmt(v)))")
        case .new:
            return need(t.map { $0 <= Self.newTenureLift } == true, "needs tenure lift <= 0.5 (tenure \(fmt(t)))")
        case .highValueLoyal:
            return need((v ?? 0) >= Self.highValueLift && (f ?? 0) > 1 && (t ?? 0) > 1 && active,
                        "needs value lift >= 1.25 and frequency and tenure lifts > 1 (value \(fmt(v)), frequency \(fmt(f)), tenure \(fmt(t)))")
        case .highValue:
            return need((v ?? 0) >= Self.highValueLift && active, "needs value lift >= 1.25 and recency lift < 1.5 (value \(fmt(v)), recency \(fmt(r)))")
        case .loyal:
            return need((f ?? 0) > 1 && (t ?? 0) > 1 && active,
                        "needs frequency and tenure lifts > 1 and recency lift < 1.5 (frequency \(fmt(f)), tenure \(fmt(t)), recency \(fmt(r)))")
        case .frequent:
            return need((f ?? 0) >= Self.frequentLift && active, "needs frequency lift >= 1.25 and recency lift < 1.5 (frequency \(fmt(f)), recency \(fmt(r)))")
        case .lowValueOccasional:
            return need(v.map { $0 <= Self.lowLift } == true && f.map { $0 <= Self.lowLift } == true,
                        "needs value and frequency lifts <= 0.75 (value \(fmt(v)), frequency \(fmt(f)))")
        case .lowSpenders:
            return need(v.map { $0 <= Self.lowLift } == true, "needs value lift <= 0.75 (value \(fmt(v)))")
        case .occasional:
            return need(f.map { $0 <= Self.lowLift } == true, "needs frequency lift <= 0.75 (frequency \(fmt(f)))")
        case .distinctive:
            return need(e.distinctive != nil, "needs a feature 0.5 standard deviations from the average, its mean on the same side")
        case .typical:
            return need(e.distinctive == nil, "needs no feature 0.5 standard deviations from the average")
        case .noise:
            return (false, "only density-clustering noise is named so")
        }
    }

    /// The persona a generated name was made from (nil for names not generated by Strata).
    public static func of(name: String) -> SegmentPersona? {
        let base = name.split(separator: " (").first.map(String.init) ?? name
        if let p = allCases.first(where: { $0 != .distinctive && $0.title == base }) { return p }
        if base.hasPrefix("High ") || base.hasPrefix("Low ") { return .distinctive }
        return nil
    }
}

/// Readable segment names and one-sentence descriptions. A name is a claim the profile supports
/// (`SegmentPersona`: the first persona whose claim holds); duplicates are told apart by the
/// feature that differs most from the earlier holder, with its real lift; names are a pure
/// function of the profiles, so the same data and seed give the same names.
/// The noise customers of DBSCAN/HDBSCAN (no dense cluster claims them) are always
/// `noiseName`, whatever their profile.
public enum SegmentNaming {
    /// The name of the DBSCAN/HDBSCAN noise segment.
    public static let noiseName = "Unassigned / atypical customers"
    /// The first sentence of its description.
    public static let noiseDescription = "Customers in no dense group (density-clustering noise): atypical profiles worth a look, not a segment to target as one."

    /// The first persona whose claim holds (never `.noise`).
    public static func persona(_ e: NamingEvidence) -> SegmentPersona {
        SegmentPersona.allCases.first { $0 != .noise && $0.check(e).holds } ?? .typical
    }

    /// Whether a name of `persona` still holds: the persona's claim, and for "High/Low
    /// <feature>" that very feature (|z| >= 0.5 on that side, its lift agreeing).
    public static func supports(_ base: String, persona: SegmentPersona, evidence e: NamingEvidence, features: [String]) -> (holds: Bool, reason: String) {
        guard persona == .distinctive else { return persona.check(e) }
        let high = base.hasPrefix("High ")
        let words = String(base.dropFirst(high ? 5 : 4))
        guard let feature = features.first(where: { humanize($0) == words }) else { return (false, "'\(words)' is no longer a feature") }
        let z = e.ranked.first { $0.feature == feature }?.z ?? 0
        let liftAgrees = e.featureLift[feature].map { ($0 > 1) == high } ?? true
        if (high ? z >= 0.5 : z <= -0.5) && liftAgrees { return (true, "") }
        return (false, String(format: "needs %@ %@ the average by 0.5 standard deviations (now %+.2f sd, %@ the average)", words, high ? "above" : "below", z,
                              e.featureLift[feature].map { ratio($0) } ?? "n/a"))
    }

    /// The persona's name; distinctive ones from their most distinguishing feature.
    public static func name(_ e: NamingEvidence) -> (persona: SegmentPersona, name: String) {
        let p = persona(e)
        guard p == .distinctive, let top = e.distinctive else { return (p, p.title) }
        return (p, (top.high ? "High " : "Low ") + humanize(top.feature))
    }

    /// Makes names unique: a later holder of a name gets the feature whose lift differs most from
    /// the first holder's (ratio of the two lifts; the standardized difference where a lift is
    /// unknown), written with its real lift ("At-risk customers (discount share 2.1x)"), then a
    /// number.
    public static func disambiguate(_ names: [String], evidence: [NamingEvidence]) -> [String] {
        var out = names
        var used: [String: Int] = [:]
        for i in names.indices {
            guard let first = used[out[i]] else { used[out[i]] = i; continue }
            let mine = evidence[i], theirs = evidence[first]
            let zMine = Dictionary(mine.ranked.map { ($0.feature, $0.z) }, uniquingKeysWith: { a, _ in a })
            let zTheirs = Dictionary(theirs.ranked.map { ($0.feature, $0.z) }, uniquingKeysWith: { a, _ in a })
            func gap(_ f: String) -> Double {
                if let a = mine.featureLift[f], let b = theirs.featureLift[f], a > 0, b > 0 { return abs(log(a / b)) }
                return 0.25 * abs((zMine[f] ?? 0) - (zTheirs[f] ?? 0))
            }
            var candidate = out[i]
            for feature in zMine.keys.sorted(by: { (gap($0), $1) > (gap($1), $0) }) {
                let tag = mine.featureLift[feature].map { ratio($0) } ?? ((zMine[feature]! > 0) ? "high" : "low")
                let c = "\(names[i]) (\(humanize(feature)) \(tag))"
                if used[c] == nil { candidate = c; break }
            }
            var n = 2
            let base = candidate
            while used[candidate] != nil { candidate = "\(base) \(n)"; n += 1 }
            out[i] = candidate
            used[candidate] = i
        }
        return out
    }

    /// One sentence: size and share, the top distinguishing features as ratios to the average,
    /// and the revenue share when known.
    public static func describe(size: Int, share: Double, top: [(feature: String, lift: Double?, z: Double)], revenueShare: Double?) -> String {
        var s = "\(grouped(size)) customers (\(percent(share)))"
        // A feature whose mean is within 5% of the average ("1.0x") reads as no difference even
        // when its spread differs (skewed columns): such features come after the others.
        let shown = top.filter { !flat($0.lift) } + top.filter { flat($0.lift) }
        let parts = shown.prefix(3).map { item -> String in
            if let l = item.lift, l.isFinite, l > 0 {
                return "\(humanize(item.feature)) \(ratio(l)) the average"
            }
            return "\(item.z > 0 ? "higher" : "lower") \(humanize(item.feature))"
        }
        if !parts.isEmpty { s += " with " + list(parts) }
        if let r = revenueShare { s += "; \(percent(r)) of revenue" }
        return s + "."
    }

    static func flat(_ lift: Double?) -> Bool { lift.map { $0 > 0.95 && $0 < 1.05 } ?? false }

    static func humanize(_ feature: String) -> String { feature.replacingOccurrences(of: "_", with: " ") }

    static func ratio(_ l: Double) -> String {
        l >= 10 ? String(format: "%.0fx", l) : l >= 0.1 ? String(format: "%.1fx", l) : String(format: "%.2fx", l)
    }

    static func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

    static func grouped(_ n: Int) -> String { NumberText.grouped(Int64(n)) }

    static func list(_ parts: [String]) -> String {
        switch parts.count {
        case 0: return ""
        case 1: return parts[0]
        default: return parts.dropLast().joined(separator: ", ") + " and " + parts.last!
        }
    }
}
