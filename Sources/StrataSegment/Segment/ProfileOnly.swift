import Foundation
import StrataCore
import StrataIO

/// One `profile_only` column: kept out of the model, read as text, profiled per segment.
public struct ProfileOnlyColumn: Sendable, Equatable {
    public var name: String
    /// One value per customer (row-aligned with the modelled customers); "" is missing.
    public var values: [String]
    public init(name: String, values: [String]) { self.name = name; self.values = values }
}

/// How a profile-only column is summarized, decided once from all its values.
public enum ProfileOnlyKind: String, Codable, Sendable {
    /// Two values that read as yes/no (1/0, true/false, yes/no, y/n, t/f; any case): the share
    /// of customers with the positive value.
    case rate
    /// Every value is a number: a distribution (mean, quartiles, 10th/90th percentiles).
    case number
    /// Anything else: the share of each category.
    case categories

    /// Cells read as missing besides empty ones (any case, spaces trimmed).
    static let missingTokens: Set<String> = ["na", "n/a", "nan", "null", "none", "?", "-", "unknown"]
    static func isMissing(_ v: String) -> Bool {
        v.isEmpty || missingTokens.contains(v.trimmingCharacters(in: .whitespaces).lowercased())
    }

    static let positives: Set<String> = ["1", "true", "yes", "y", "t"]
    static let negatives: Set<String> = ["0", "false", "no", "n", "f"]

    static func of(_ values: [String]) -> ProfileOnlyKind {
        var distinct = Set<String>()
        var numeric = true
        for v in values where !isMissing(v) {
            if distinct.count <= 2 { distinct.insert(v.lowercased()) }
            if numeric && Double(v) == nil { numeric = false }
            if distinct.count > 2 && !numeric { break }
        }
        if !distinct.isEmpty && distinct.count <= 2 && distinct.allSatisfy({ positives.contains($0) || negatives.contains($0) })
            && !(distinct.count == 2 && (distinct.allSatisfy(positives.contains) || distinct.allSatisfy(negatives.contains))) {
            return .rate
        }
        return numeric && !distinct.isEmpty ? .number : .categories
    }

    static func isPositive(_ v: String) -> Bool { positives.contains(v.lowercased()) }
}

/// One group's figures for one profile-only column (profiles.json `profile_only`).
///
/// - `rate`: share of the group's customers (with a value) holding the positive value, the
///   population's, their ratio, and the two-proportion z-test of the group against the rest of
///   the population (`ProportionDifference`, pooled; p-values Benjamini-Hochberg adjusted over
///   all groups and rate columns of the run).
/// - `number`: the distribution in the column's units, lift against the population mean.
/// - `categories`: per category held by at least `min_segment_size` of the group's customers,
///   the group's share, the population's and their ratio (at most the 10 largest).
public struct ProfileOnlyStats: Codable, Sendable, Equatable {
    public struct Category: Codable, Sendable, Equatable {
        public var category: String
        public var share: Double
        public var populationShare: Double
        public var lift: Double
        enum CodingKeys: String, CodingKey { case category, share, populationShare = "population_share", lift }
    }
    public var column: String
    public var kind: ProfileOnlyKind
    /// Customers of the group with a value, and without.
    public var count: Int
    public var missing: Int
    public var rate: Double? = nil
    public var populationRate: Double? = nil
    public var lift: Double? = nil
    public var pValue: Double? = nil
    /// Benjamini-Hochberg adjusted p-value (set after every group is profiled).
    public var adjustedPValue: Double? = nil
    public var stats: FeatureStats? = nil
    public var categories: [Category]? = nil

    enum CodingKeys: String, CodingKey {
        case column, kind, count, missing, rate, populationRate = "population_rate", lift, pValue = "p_value"
        case adjustedPValue = "adjusted_p_value", stats, categories
    }

    /// The population's side of a column, computed once for every group: the kind, the
    /// customers with a value and the positives (rates), the distribution (numbers), the
    /// category counts (categories).
    struct Population {
        var kind: ProfileOnlyKind
        var present = 0, positives = 0
        var stats: FeatureStats? = nil
        var categories: [String: Int] = [:]

        /// O(|reference|) (numbers: plus a sort).
        init(_ column: ProfileOnlyColumn, reference: ArraySlice<Int>) {
            let v = column.values
            kind = ProfileOnlyKind.of(v)
            let present = reference.filter { !ProfileOnlyKind.isMissing(v[$0]) }
            self.present = present.count
            switch kind {
            case .rate: positives = present.filter { ProfileOnlyKind.isPositive(v[$0]) }.count
            case .number: stats = SegmentProfiler.describe(column.name, ProfileOnlyStats.sortedNumbers(v, present), popMean: nil)
            case .categories: for i in present { categories[v[i], default: 0] += 1 }
            }
        }
    }

    static func sortedNumbers(_ v: [String], _ rows: [Int]) -> [Float] { rows.compactMap { Float(v[$0]) }.filter { !$0.isNaN }.sorted() }

    /// - Parameters: `rows` the group's customers (indices into `column.values`), `population`
    ///   the reference customers' figures, `minSize` the privacy threshold.
    /// - Complexity: O(|rows|) (numbers: plus a sort).
    static func compute(_ column: ProfileOnlyColumn, population pop: Population, rows: ArraySlice<Int>, isGroup: Bool, minSize: Int) -> ProfileOnlyStats {
        let v = column.values, kind = pop.kind
        let present = rows.filter { !ProfileOnlyKind.isMissing(v[$0]) }
        var s = ProfileOnlyStats(column: column.name, kind: kind, count: present.count, missing: rows.count - present.count)
        // A rate or a distribution over fewer than `minSize` customers with a value would describe
        // a group below the privacy threshold: left out (the count and missing still show).
        if present.count < minSize && kind != .categories { return s }
        switch kind {
        case .rate:
            let pos = present.filter { ProfileOnlyKind.isPositive(v[$0]) }.count
            let popPos = pop.positives
            s.rate = present.isEmpty ? nil : Double(pos) / Double(present.count)
            s.populationRate = pop.present == 0 ? nil : Double(popPos) / Double(pop.present)
            if let r = s.rate, let p = s.populationRate, p > 0 { s.lift = r / p }
            if isGroup {
                // The group against the rest of the population.
                let rest = Proportion(successes: popPos - pos, trials: pop.present - present.count)
                if rest.trials > 0 && !present.isEmpty {
                    s.pValue = ProportionDifference(treatment: Proportion(successes: pos, trials: present.count), control: rest).pValue
                }
            }
        case .number:
            s.stats = SegmentProfiler.describe(column.name, Self.sortedNumbers(v, present), popMean: isGroup ? pop.stats?.mean : nil)
            s.lift = s.stats?.lift
        case .categories:
            var seg: [String: Int] = [:]
            for i in present { seg[v[i], default: 0] += 1 }
            let popTotal = pop.present
            s.categories = seg.filter { $0.value >= minSize }
                .map { c -> Category in
                    let share = Double(c.value) / Double(max(1, present.count)), popShare = Double(pop.categories[c.key] ?? 0) / Double(max(1, popTotal))
                    return Category(category: c.key, share: share, populationShare: popShare, lift: popShare > 0 ? share / popShare : 0)
                }
                .sorted { ($0.share, $1.category) > ($1.share, $0.category) }
                .prefix(10).map { $0 }
        }
        return s
    }
}
