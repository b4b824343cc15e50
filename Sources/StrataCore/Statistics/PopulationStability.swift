import Foundation

/// A numeric feature's distribution as bins: fitted once on the training rows (decile edges and
/// the training share of every bin), then new rows are counted into the same bins and compared by
/// the population stability index.
///
/// Bins are right-closed: with inner edges e1 < ... < em, bin 0 is (-inf, e1], bin j is
/// (ej, ej+1], bin m is (em, +inf); a value falls into bin "number of edges below it" (numpy's
/// `searchsorted(edges, v, side="left")`). Missing values (NaN) are their own bin: `missing` is
/// their share, and `proportions` plus `missing` sum to 1 (shares of all rows).
public struct BinnedDistribution: Codable, Sendable, Equatable {
    /// Inner bin edges in the feature's input units, strictly ascending (m edges, m + 1 bins).
    public var edges: [Double]
    /// Share of all rows in each bin (m + 1 values).
    public var proportions: [Double]
    /// Share of all rows that are missing.
    public var missing: Double

    public init(edges: [Double], proportions: [Double], missing: Double) {
        self.edges = edges
        self.proportions = proportions
        self.missing = missing
    }

    /// Rows above this many get their edges from a seeded sample of this many non-missing values
    /// (the proportions are still counted on every row).
    public static let edgeSampleLimit = 1_000_000

    /// Fits decile bins on `values` (NaN = missing).
    /// - Parameters:
    ///   - values: n values in input units, NaN for a missing value.
    ///   - bins: the number of quantile bins before equal edges collapse (10: deciles).
    ///   - seed: seeds the sample of rows the edges come from above `edgeSampleLimit` rows.
    /// - Returns: edges at the quantiles 1/bins, ..., (bins-1)/bins of the non-missing values
    ///   (`edges`), and every row's share per bin and missing.
    /// - Complexity: O(n log bins + s log s) with s = min(n, `edgeSampleLimit`); memory O(s) doubles.
    public static func fit(_ values: [Float], bins: Int = 10, seed: UInt64 = 0) -> BinnedDistribution {
        let sample = values.count > edgeSampleLimit
            ? SeededRandom.sampleIndices(values.count, edgeSampleLimit, seed: seed, stream: 0x5053_4921).map { values[$0] } : values
        var d = BinnedDistribution(edges: Self.edges(sample, bins: bins), proportions: [], missing: 0)
        let c = d.counts(values)
        d.setShares(c.bins, missing: c.missing, rows: values.count)
        return d
    }

    /// Inner edges at the quantiles 1/bins, ..., (bins-1)/bins of the non-missing `values`
    /// (linear interpolation, numpy's default), equal edges kept once; none when all are
    /// missing. O(n log n).
    public static func edges(_ values: [Float], bins: Int = 10) -> [Double] {
        let present = values.compactMap { $0.isNaN ? nil : Double($0) }.sorted()
        var edges: [Double] = []
        guard !present.isEmpty else { return edges }
        for q in 1..<max(bins, 2) {
            let e = FittedPipeline.quantile(present, Double(q) / Double(bins))
            if edges.last.map({ e > $0 }) ?? true { edges.append(e) }
        }
        return edges
    }

    /// Sets the shares from counts of `rows` rows.
    public mutating func setShares(_ bins: [Int], missing: Int, rows: Int) {
        let n = Double(max(rows, 1))
        proportions = bins.map { Double($0) / n }
        self.missing = Double(missing) / n
    }

    /// The bin of a non-missing value: the number of edges below it. O(log m).
    public func bin(_ v: Double) -> Int {
        var lo = 0, hi = edges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if edges[mid] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Rows per bin and missing rows of `values` (NaN = missing). O(n log m).
    public func counts(_ values: [Float]) -> (bins: [Int], missing: Int) {
        var bins = [Int](repeating: 0, count: edges.count + 1)
        var missing = 0
        for v in values {
            if v.isNaN { missing += 1 } else { bins[bin(Double(v))] += 1 }
        }
        return (bins, missing)
    }

    /// The population stability index of `values` against this (training) distribution, the
    /// missing bin included. See `PopulationStability.index`.
    public func psi(_ values: [Float]) -> Double {
        let c = counts(values)
        let n = Double(max(values.count, 1))
        return PopulationStability.index(expected: proportions + [missing], actual: c.bins.map { Double($0) / n } + [Double(c.missing) / n])
    }
}

/// A categorical column's training distribution: the share of every category seen in training
/// (all of them, most frequent first), and of missing (empty) cells.
public struct CategoryDistribution: Codable, Sendable, Equatable {
    public var categories: [String]
    /// Share of all rows per category (same order).
    public var proportions: [Double]
    /// Share of all rows that are empty.
    public var missing: Double

    public init(categories: [String], proportions: [Double], missing: Double) {
        self.categories = categories
        self.proportions = proportions
        self.missing = missing
    }

    /// Fits on `values` ("" = missing): every distinct category with its share, most frequent
    /// first (ties in byte order). O(n) hashing plus O(c log c) for c categories.
    public static func fit(_ values: [String]) -> CategoryDistribution {
        var counts: [String: Int] = [:]
        var missing = 0
        for v in values { if v.isEmpty { missing += 1 } else { counts[v, default: 0] += 1 } }
        let ordered = counts.sorted { $0.value != $1.value ? $0.value > $1.value : Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        let n = Double(max(values.count, 1))
        return CategoryDistribution(categories: ordered.map(\.key), proportions: ordered.map { Double($0.value) / n }, missing: Double(missing) / n)
    }

    /// New values counted per training category, plus the rows with a category not seen in
    /// training (`unseen`) and the empty ones (`missing`). O(n) hashing.
    public func counts(_ values: [String]) -> (categories: [Int], unseen: Int, missing: Int) {
        let index = Dictionary(categories.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        var c = [Int](repeating: 0, count: categories.count)
        var unseen = 0, missing = 0
        for v in values {
            if v.isEmpty { missing += 1 } else if let i = index[v] { c[i] += 1 } else { unseen += 1 }
        }
        return (c, unseen, missing)
    }

    /// PSI over the bins training categories + unseen (training share 0) + missing.
    public func psi(_ values: [String]) -> Double {
        let c = counts(values)
        let n = Double(max(values.count, 1))
        return PopulationStability.index(expected: proportions + [0, missing],
                                         actual: c.categories.map { Double($0) / n } + [Double(c.unseen) / n, Double(c.missing) / n])
    }
}

/// The population stability index (PSI) and order statistics for drift monitoring.
public enum PopulationStability {
    /// A bin share of 0 counts as this (either side), so an empty bin gives a large finite term
    /// instead of an infinite one: the common practice (1e-4, i.e. 0.01%).
    public static let epsilon = 1e-4

    /// PSI = sum over bins (a - e) ln(a / e), with a the new and e the expected (training) share
    /// of the bin, and a share of 0 replaced by `epsilon` (both sides; a bin empty on both sides
    /// adds 0).
    /// - Parameters: `expected`, `actual`: shares per bin, same length, each summing to 1.
    /// - Returns: PSI >= 0 (0: the same distribution). Conventional reading: < 0.1 no drift,
    ///   0.1-0.25 moderate, > 0.25 significant.
    /// - Complexity: O(bins). Accumulated in Double in bin order.
    /// - Source: Siddiqi 2006, "Credit Risk Scorecards", ch. 8; Yurdakul 2018, "Statistical
    ///   properties of population stability index" (Western Michigan University).
    public static func index(expected: [Double], actual: [Double], epsilon: Double = epsilon) -> Double {
        precondition(expected.count == actual.count, "PSI needs the same bins on both sides")
        var s = 0.0
        for (e0, a0) in zip(expected, actual) {
            let e = e0 > 0 ? e0 : epsilon, a = a0 > 0 ? a0 : epsilon
            s += (a - e) * Foundation.log(a / e)
        }
        return s
    }

    /// The q-quantile (0...1) of `values` by linear interpolation (numpy's default) in Double;
    /// NaN for no values. O(n log n).
    public static func quantile(_ values: [Float], _ q: Double) -> Double {
        FittedPipeline.quantile(values.map(Double.init).sorted(), q)
    }

    /// Several quantiles of one set of values, sorting once. O(n log n).
    public static func quantiles(_ values: [Float], _ qs: [Double]) -> [Double] {
        let sorted = values.map(Double.init).sorted()
        return qs.map { FittedPipeline.quantile(sorted, $0) }
    }
}
