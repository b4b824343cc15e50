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
        .monetary: ["clv", "monetary_total", "lifetime_value", "spend", "revenue", "order_value", "monetary", "amount", "sales"],
        .tenure: ["tenure", "customer_age", "since_first", "days_as_customer"],
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

/// Readable segment names and one-sentence descriptions from a segment's standardized
/// differences (segment mean minus population mean, in population standard deviations, on the
/// modelling scale).
///
/// Rules, first match wins (levels: high z >= 0.5, very high z >= 1, low z <= -0.5):
/// 1. recency very high: "Lapsed big spenders" when monetary is high, else "Lapsed customers";
/// 2. recency high: "At-risk big spenders" (monetary high), "At-risk frequent buyers" (frequency
///    high), else "At-risk customers";
/// 3. tenure low: "New high-spend", "New low-spend" or "New customers" by monetary;
/// 4. monetary and frequency high: "High-value loyal";  5. monetary high: "Big spenders";
/// 6. frequency high: "Frequent buyers" ("Frequent low-spend buyers" when monetary is low);
/// 7. monetary and frequency low: "Low-value occasional";  8. monetary low: "Low spenders";
///    frequency low: "Occasional buyers";
/// 9. otherwise from the most distinguishing feature: "High <feature>" / "Low <feature>", or
///    "Typical customers" when no feature differs by half a standard deviation.
/// Duplicate names get the next distinguishing feature in parentheses, then a number. Names are a
/// pure function of the profile, so the same data and seed give the same names.
/// The noise customers of DBSCAN/HDBSCAN (no dense cluster claims them) are always
/// `noiseName`, whatever their profile.
public enum SegmentNaming {
    /// The name of the DBSCAN/HDBSCAN noise segment.
    public static let noiseName = "Unassigned / atypical customers"
    /// The first sentence of its description.
    public static let noiseDescription = "Customers in no dense group (density-clustering noise): atypical profiles worth a look, not a segment to target as one."

    public static func name(z: [String: Double], ranked: [(String, Double)], roles: SegmentRoles) -> String {
        func level(_ role: SegmentRoles.Role) -> Double? { roles.columns[role].flatMap { z[$0] } }
        let r = level(.recency), f = level(.frequency), m = level(.monetary), t = level(.tenure)
        let mHigh = (m ?? 0) >= 0.5, mLow = (m ?? 0) <= -0.5, fHigh = (f ?? 0) >= 0.5, fLow = (f ?? 0) <= -0.5
        if let r, r >= 1 { return mHigh ? "Lapsed big spenders" : "Lapsed customers" }
        if let r, r >= 0.5 { return mHigh ? "At-risk big spenders" : fHigh ? "At-risk frequent buyers" : "At-risk customers" }
        if let t, t <= -0.5 { return mHigh ? "New high-spend" : mLow ? "New low-spend" : "New customers" }
        if mHigh && fHigh { return "High-value loyal" }
        if mHigh { return "Big spenders" }
        if fHigh { return mLow ? "Frequent low-spend buyers" : "Frequent buyers" }
        if mLow && fLow { return "Low-value occasional" }
        if mLow { return "Low spenders" }
        if fLow { return "Occasional buyers" }
        if let (feature, value) = ranked.first, abs(value) >= 0.5 {
            return (value > 0 ? "High " : "Low ") + humanize(feature)
        }
        return "Typical customers"
    }

    /// Makes names unique: the second and later holders of a name get their most distinguishing
    /// feature not already implied, then a number.
    public static func disambiguate(_ names: [String], ranked: [[(String, Double)]]) -> [String] {
        var out = names
        var used = Set<String>()
        for i in names.indices {
            if !used.contains(out[i]) { used.insert(out[i]); continue }
            var candidate = out[i]
            for (feature, value) in ranked[i] {
                let c = "\(names[i]) (\(value > 0 ? "high" : "low") \(humanize(feature)))"
                if !used.contains(c) { candidate = c; break }
            }
            var n = 2
            let base = candidate
            while used.contains(candidate) { candidate = "\(base) \(n)"; n += 1 }
            out[i] = candidate
            used.insert(candidate)
        }
        return out
    }

    /// One sentence: size and share, the top distinguishing features as ratios to the average,
    /// and the revenue share when known.
    public static func describe(size: Int, share: Double, top: [(feature: String, lift: Double?, z: Double)], revenueShare: Double?) -> String {
        var s = "\(grouped(size)) customers (\(percent(share)))"
        let parts = top.prefix(3).map { item -> String in
            if let l = item.lift, l.isFinite, l > 0 {
                return "\(humanize(item.feature)) \(ratio(l)) the average"
            }
            return "\(item.z > 0 ? "higher" : "lower") \(humanize(item.feature))"
        }
        if !parts.isEmpty { s += " with " + list(parts) }
        if let r = revenueShare { s += "; \(percent(r)) of revenue" }
        return s + "."
    }

    static func humanize(_ feature: String) -> String { feature.replacingOccurrences(of: "_", with: " ") }

    static func ratio(_ l: Double) -> String {
        l >= 10 ? String(format: "%.0fx", l) : l >= 0.1 ? String(format: "%.1fx", l) : String(format: "%.2fx", l)
    }

    static func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() { if i > 0 && i % 3 == 0 { out.append(",") }; out.append(ch) }
        return String(out.reversed())
    }

    static func list(_ parts: [String]) -> String {
        switch parts.count {
        case 0: return ""
        case 1: return parts[0]
        default: return parts.dropLast().joined(separator: ", ") + " and " + parts.last!
        }
    }
}
