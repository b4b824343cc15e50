import StrataCore
import StrataCustomers
import StrataIO
import Foundation
import StrataKernels

/// Summary statistics of one feature in one group, in original units (missing values ignored).
public struct FeatureStats: Codable, Sendable, Equatable {
    public var feature: String
    public var count: Int
    public var mean: Double?
    public var median: Double?
    public var q1: Double?
    public var q3: Double?
    /// 10th and 90th percentiles (the whiskers of the report's box plots).
    public var p10: Double?
    public var p90: Double?
    /// Segment mean / population mean (nil when the population mean is 0).
    public var lift: Double?
    /// (segment mean - population mean) / population standard deviation on the modelling scale
    /// (after log1p and clipping), so a few extreme customers do not dominate it.
    public var standardizedDifference: Double?
    /// True for a 0/1 column: `mean` is then the rate of 1s, and the report shows a rate, not a box.
    public var binary: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case feature, count, mean, median, q1, q3, p10, p90, lift, standardizedDifference = "standardized_difference", binary
    }
}

public struct CategoryShare: Codable, Sendable, Equatable {
    public var column: String
    public var category: String
    public var share: Double
    public var populationShare: Double
    public var lift: Double
    enum CodingKeys: String, CodingKey { case column, category, share, populationShare = "population_share", lift }
}

/// The most frequent category of one categorical column in a group (ties: the first in UTF-8
/// byte order), its share of the group's customers with a value in that column, and the share
/// of the same category in the population (the reference customers).
public struct ModalCategory: Codable, Sendable, Equatable {
    public var column: String
    public var category: String
    /// Customers of the group holding `category` / customers of the group with a value (0...1).
    public var share: Double
    public var populationShare: Double
    enum CodingKeys: String, CodingKey { case column, category, share, populationShare = "population_share" }
}

public struct Distinguishing: Codable, Sendable, Equatable {
    public var feature: String
    public var standardizedDifference: Double
    public var lift: Double?
    enum CodingKeys: String, CodingKey { case feature, standardizedDifference = "standardized_difference", lift }
}

/// One reported group: a segment, "other" (small segments merged), or the whole population.
public struct GroupProfile: Codable, Sendable, Equatable {
    /// Segment id; nil for "other" and the population.
    public var id: Int?
    public var name: String
    public var description: String
    public var size: Int
    public var share: Double
    /// For "other": the segment ids merged into it.
    public var mergedSegments: [Int]?
    public var features: [FeatureStats]
    public var distinguishing: [Distinguishing]
    public var overRepresentedCategories: [CategoryShare]
    /// Per categorical column (in column order), the group's modal category; a column is left
    /// out when fewer than `min_segment_size` customers of the group hold its mode. Absent in
    /// files written before it existed.
    public var modalCategories: [ModalCategory]? = nil
    public var revenue: Double?
    public var revenueShare: Double?
    public var clvTotal: Double?
    public var clvMean: Double?
    /// Sums over the group's customers of their 5th and 95th CLV percentiles under parameter
    /// uncertainty (`CLVIntervals`). Not the 90% interval of `clv_total` itself: that equals these
    /// sums only when every customer's CLV moves with the same draws, and is narrower otherwise, so
    /// read this as a conservative (wide) range for the total.
    public var clvP05Total: Double?
    public var clvP95Total: Double?
    /// The distribution of the group's customers' CLV (mean, quartiles, 10th/90th percentiles).
    public var clvDistribution: FeatureStats? = nil
    /// Mean BG/NBD probability alive of the group's customers (when CLV was fitted).
    public var probabilityAliveMean: Double? = nil
    /// RFM named segment -> customers.
    public var rfmMix: [String: Int]?
    /// Set when most of the group's customers carry an RFM label that reads against the
    /// group's name: says so, and why the two can differ.
    public var rfmNote: String? = nil
    /// The persona the name claims (`SegmentPersona`), its recommended action (the playbook's,
    /// or the job's `actions` override) and what the claim rests on.
    public var persona: String? = nil
    public var action: String? = nil
    /// The `profile_only` columns: outcomes and attributes kept out of the model.
    public var profileOnly: [ProfileOnlyStats]? = nil
    /// Products (and categories) the group over- and under-buys, and its spend across the
    /// global A/B/C classes (`SegmentAffinity`; with a product column in the order log).
    public var affinity: SegmentAffinity.JSON? = nil

    enum CodingKeys: String, CodingKey {
        case id, name, description, size, share, mergedSegments = "merged_segments", features, distinguishing
        case overRepresentedCategories = "over_represented_categories", modalCategories = "modal_categories", revenue, revenueShare = "revenue_share"
        case clvTotal = "clv_total", clvMean = "clv_mean", clvP05Total = "clv_p05_total", clvP95Total = "clv_p95_total", rfmMix = "rfm_mix"
        case probabilityAliveMean = "probability_alive_mean", rfmNote = "rfm_note", persona, action, profileOnly = "profile_only", affinity
        case clvDistribution = "clv_distribution"
    }
}

/// Per-customer values the profiles summarize besides the features.
public struct ProfileExtras: Sendable {
    public var revenue: [Double]? = nil
    public var clv: [Double]? = nil
    /// Per-customer 5th/95th CLV percentiles (`CLVIntervals`), aligned with `clv`.
    public var clvP05: [Double]? = nil
    public var clvP95: [Double]? = nil
    public var rfmSegment: [String]? = nil
    /// Per-customer probability alive (BG/NBD), aligned with `clv`.
    public var probabilityAlive: [Double]? = nil
    /// Columns kept out of the model and profiled (`profile_only`).
    public var profileOnly: [ProfileOnlyColumn] = []
    public init() {}
}

/// Segment profiles: statistics in original units per reportable group, with segments smaller
/// than the privacy threshold (`minSize`, k-anonymity) merged into "other" and never reported
/// individually.
///
/// The threshold holds for every figure of a profile:
/// - "other" is reported only when the merged group itself has at least `minSize` customers;
///   otherwise it is suppressed entirely (no size, share, statistics, revenue, CLV or RFM mix),
///   and the population is then the customers of the reported segments, so that no figure of
///   the suppressed customers can be had by subtracting the segments from the population;
/// - an over-represented category, and a column's modal category (`modalCategories`), is listed
///   only when at least `minSize` customers of the group hold it;
/// - an RFM segment holding fewer than `minSize` customers of a group is counted under
///   `smallRFMBin`, which, when not empty, always holds at least `minSize` customers of two or more
///   RFM segments (the smallest shown entries join it until it does).
///
/// Cost: one counting sort of the rows by group, then per feature a gather and a sort of each
/// group's values (O(n log n) per feature, features in parallel); memory O(n) per thread.
public enum SegmentProfiler {
    /// The RFM-mix key counting the RFM segments too small to show on their own.
    public static let smallRFMBin = "Smaller RFM segments"

    public struct Output: Sendable {
        public var population: GroupProfile
        /// Reportable segments (size >= threshold), in segment-id order.
        public var segments: [GroupProfile]
        /// Small segments merged, when the merged group reaches the threshold (nil otherwise).
        public var other: GroupProfile?
        /// Standardized differences of every segment (small ones included: they drive naming,
        /// and are never written out), [segment][numeric feature].
        public var allZ: [[Double]]
        /// Lifts (segment mean / population mean, original units, missing values ignored) of
        /// every segment, [segment][numeric feature]; nil where the population mean is 0.
        public var allLift: [[Double?]] = []
        /// CLV lift and mean probability alive of every segment (when the job fitted CLV).
        public var allCLVLift: [Double?] = []
        public var allProbabilityAlive: [Double?] = []
        /// The privacy threshold the profiles were made with.
        public var minSize: Int = 1
        /// Segments below the threshold (merged into other, or suppressed with it), by id.
        public var smallSegments: [Int] = []
        /// True when the small segments' merged group is itself below the threshold: then it is
        /// reported nowhere, and `population` covers the reported segments only.
        public var otherSuppressed = false

        /// Whether segment `s`'s customers appear in the reported figures (their own segment's
        /// or other's).
        public func isReported(segment s: Int) -> Bool { !otherSuppressed || !smallSegments.contains(s) }
    }

    /// `raw` holds the original values of the modelled rows; `model` the preprocessed features
    /// (numeric columns first, in `raw.numericNames` order).
    public static func profile(raw: RawTable, model: Dataset, labels: [Int32], k: Int, minSize: Int,
                               extras: ProfileExtras, threads: Int) -> Output {
        let n = raw.rows
        let sizes = ClusterLabels.counts(labels, k: k)
        let small = (0..<k).filter { sizes[$0] < minSize }
        // Groups: reportable segments keep their id; small ones share group k ("other").
        let groupOf = (0..<k).map { sizes[$0] < minSize ? k : $0 }
        let groups = k + 1
        var groupCount = [Int](repeating: 0, count: groups)
        for l in labels { groupCount[groupOf[Int(l)]] += 1 }
        // "other" below the threshold is suppressed, and its customers leave the population too.
        let otherSuppressed = groupCount[k] > 0 && groupCount[k] < minSize
        var offsets = [Int](repeating: 0, count: groups + 1)
        for g in 0..<groups { offsets[g + 1] = offsets[g] + groupCount[g] }
        var order = [Int](repeating: 0, count: n)
        var cursor = offsets
        for i in 0..<n { let g = groupOf[Int(labels[i])]; order[cursor[g]] = i; cursor[g] += 1 }
        // The reference population: every customer, or those of the reported segments.
        let reference: ArraySlice<Int> = otherSuppressed ? order[0..<offsets[k]] : order[0..<n]
        let inReference: (Int) -> Bool = { i in !otherSuppressed || groupOf[Int(labels[i])] != k }
        let m = reference.count

        // Model-scale standardized differences for every segment (not only reportable groups).
        let numeric = raw.numericNames.count
        var segSum = [Double](repeating: 0, count: k * numeric), popSum = [Double](repeating: 0, count: numeric)
        var popSq = [Double](repeating: 0, count: numeric)
        for i in 0..<n {
            let l = Int(labels[i])
            let counted = inReference(i)
            for j in 0..<numeric {
                let v = Double(model.values[i * model.cols + j])
                segSum[l * numeric + j] += v
                if counted { popSum[j] += v; popSq[j] += v * v }
            }
        }
        let popMean = popSum.map { $0 / Double(max(1, m)) }
        let popStd = (0..<numeric).map { j in max(0, popSq[j] / Double(max(1, m)) - popMean[j] * popMean[j]).squareRoot() }
        let allZ: [[Double]] = (0..<k).map { l in
            (0..<numeric).map { j in
                sizes[l] == 0 || popStd[j] == 0 ? 0 : (segSum[l * numeric + j] / Double(sizes[l]) - popMean[j]) / popStd[j]
            }
        }
        // Original-unit lifts of every segment (naming claims), NaN ignored.
        var rawSum = [Double](repeating: 0, count: k * numeric), rawCount = [Int](repeating: 0, count: k * numeric)
        var rawPopSum = [Double](repeating: 0, count: numeric), rawPopCount = [Int](repeating: 0, count: numeric)
        for j in 0..<numeric {
            let col = raw.numeric[j]
            for i in 0..<n where !col[i].isNaN {
                let l = Int(labels[i]), v = Double(col[i])
                rawSum[l * numeric + j] += v; rawCount[l * numeric + j] += 1
                if inReference(i) { rawPopSum[j] += v; rawPopCount[j] += 1 }
            }
        }
        func lift(_ sum: Double, _ count: Int, _ popSum: Double, _ popCount: Int) -> Double? {
            guard count > 0, popCount > 0, popSum != 0 else { return nil }
            return (sum / Double(count)) / (popSum / Double(popCount))
        }
        let allLift: [[Double?]] = (0..<k).map { l in (0..<numeric).map { j in lift(rawSum[l * numeric + j], rawCount[l * numeric + j], rawPopSum[j], rawPopCount[j]) } }
        func segmentMeans(_ v: [Double]?) -> (lift: [Double?], mean: [Double?]) {
            guard let v else { return ([Double?](repeating: nil, count: k), [Double?](repeating: nil, count: k)) }
            var sum = [Double](repeating: 0, count: k), count = [Int](repeating: 0, count: k)
            var pop = 0.0, popCount = 0
            for i in 0..<n where !v[i].isNaN {
                sum[Int(labels[i])] += v[i]; count[Int(labels[i])] += 1
                if inReference(i) { pop += v[i]; popCount += 1 }
            }
            return ((0..<k).map { lift(sum[$0], count[$0], pop, popCount) }, (0..<k).map { count[$0] == 0 ? nil : sum[$0] / Double(count[$0]) })
        }
        let allCLVLift = segmentMeans(extras.clv).lift
        let allProbabilityAlive = segmentMeans(extras.probabilityAlive).mean
        var groupZ = [[Double]](repeating: [Double](repeating: 0, count: numeric), count: groups)
        for g in 0..<groups where groupCount[g] > 0 {
            var sums = [Double](repeating: 0, count: numeric)
            for i in order[offsets[g]..<offsets[g + 1]] { for j in 0..<numeric { sums[j] += Double(model.values[i * model.cols + j]) } }
            groupZ[g] = (0..<numeric).map { popStd[$0] == 0 ? 0 : (sums[$0] / Double(groupCount[g]) - popMean[$0]) / popStd[$0] }
        }

        // Original-unit statistics per feature (parallel over features, each independent).
        // stats[j][g]: feature j in group g (nil for an empty group); stats[j][groups]: population.
        let stats: [[FeatureStats?]] = Parallel.map(numeric, threads: threads) { j in
            let col = raw.numeric[j]
            let name = raw.numericNames[j]
            let all = reference.map { col[$0] }.filter { !$0.isNaN }.sorted()
            var pop = describe(name, all, popMean: nil)
            let binary = !all.isEmpty && all.first! >= 0 && all.last! <= 1 && all.allSatisfy { $0 == 0 || $0 == 1 }
            if binary { pop.binary = true }
            var out = [FeatureStats?](repeating: nil, count: groups + 1)
            out[groups] = pop
            for g in 0..<groups where groupCount[g] > 0 {
                var values = [Float]()
                values.reserveCapacity(groupCount[g])
                for i in order[offsets[g]..<offsets[g + 1]] where !col[i].isNaN { values.append(col[i]) }
                values.sort()
                var s = describe(name, values, popMean: pop.mean)
                s.standardizedDifference = groupZ[g][j]
                if binary { s.binary = true }
                out[g] = s
            }
            return out
        }

        // Categories: shares per group and population; a category is named only when at least
        // `minSize` customers of the group hold it.
        let populationCategories: [[String: Int]] = raw.categorical.map { column in
            var pop: [String: Int] = [:]
            for i in reference where !column[i].isEmpty { pop[column[i], default: 0] += 1 }
            return pop
        }
        func categories(_ g: Int?) -> [CategoryShare] {
            var out: [CategoryShare] = []
            for (c, name) in raw.categoricalNames.enumerated() {
                let pop = populationCategories[c]
                let popTotal = pop.values.reduce(0, +)
                guard let g, popTotal > 0 else { continue }
                var seg: [String: Int] = [:]
                for i in order[offsets[g]..<offsets[g + 1]] where !raw.categorical[c][i].isEmpty { seg[raw.categorical[c][i], default: 0] += 1 }
                let segTotal = seg.values.reduce(0, +)
                guard segTotal > 0 else { continue }
                for (cat, count) in seg where count >= minSize {
                    let share = Double(count) / Double(segTotal), popShare = Double(pop[cat]!) / Double(popTotal)
                    let lift = share / popShare
                    if share >= 0.05 && lift >= 1.25 {
                        out.append(CategoryShare(column: name, category: cat, share: share, populationShare: popShare, lift: lift))
                    }
                }
            }
            return Array(out.sorted { ($0.lift, $1.column, $1.category) > ($1.lift, $0.column, $0.category) }.prefix(5))
        }

        // Modal categories: per column the group's most frequent category (named only when at
        // least `minSize` customers of the group hold it), against its population share.
        func modal(_ g: Int?) -> [ModalCategory] {
            var out: [ModalCategory] = []
            for (c, name) in raw.categoricalNames.enumerated() {
                let pop = populationCategories[c]
                let popTotal = pop.values.reduce(0, +)
                guard popTotal > 0 else { continue }
                var seg: [String: Int] = [:]
                if let g {
                    for i in order[offsets[g]..<offsets[g + 1]] where !raw.categorical[c][i].isEmpty { seg[raw.categorical[c][i], default: 0] += 1 }
                } else {
                    seg = pop
                }
                let segTotal = seg.values.reduce(0, +)
                guard let best = seg.min(by: { $0.value != $1.value ? $0.value > $1.value : CategoricalColumns.byteOrder($0.key, $1.key) }),
                      best.value >= minSize, segTotal > 0 else { continue }
                out.append(ModalCategory(column: name, category: best.key, share: Double(best.value) / Double(segTotal),
                                         populationShare: Double(pop[best.key] ?? 0) / Double(popTotal)))
            }
            return out
        }

        let profileOnlyPopulations = extras.profileOnly.map { ProfileOnlyStats.Population($0, reference: reference) }
        let totalRevenue = extras.revenue.map { r in reference.reduce(0.0) { $0 + r[$1] } }
        func build(_ g: Int?) -> GroupProfile {
            let rows: ArraySlice<Int> = g.map { order[offsets[$0]..<offsets[$0 + 1]] } ?? reference
            let size = rows.count
            let features = (0..<numeric).map { j in stats[j][g ?? groups]! }
            let distinguishing = g == nil ? [] : features.compactMap { s -> Distinguishing? in
                guard let z = s.standardizedDifference, abs(z) >= 0.2 else { return nil }
                return Distinguishing(feature: s.feature, standardizedDifference: z, lift: s.lift)
            }.sorted { (abs($0.standardizedDifference), $1.feature) > (abs($1.standardizedDifference), $0.feature) }
            var p = GroupProfile(id: g.flatMap { $0 < k ? $0 : nil }, name: "", description: "", size: size,
                                 share: m == 0 ? 0 : Double(size) / Double(m), mergedSegments: g == k ? small : nil,
                                 features: features, distinguishing: Array(distinguishing.prefix(5)),
                                 overRepresentedCategories: categories(g))
            if !raw.categoricalNames.isEmpty { p.modalCategories = modal(g) }
            if let r = extras.revenue {
                let v = rows.reduce(0.0) { $0 + r[$1] }
                p.revenue = v
                p.revenueShare = totalRevenue! == 0 ? nil : v / totalRevenue!
            }
            if let c = extras.clv {
                let v = rows.reduce(0.0) { $0 + (c[$1].isNaN ? 0 : c[$1]) }
                p.clvTotal = v
                p.clvMean = size == 0 ? nil : v / Double(size)
                let values = rows.map { Float(c[$0]) }.filter { !$0.isNaN }.sorted()
                p.clvDistribution = describe("clv", values, popMean: nil)
            }
            if let lo = extras.clvP05, let hi = extras.clvP95 {
                p.clvP05Total = rows.reduce(0.0) { $0 + (lo[$1].isNaN ? 0 : lo[$1]) }
                p.clvP95Total = rows.reduce(0.0) { $0 + (hi[$1].isNaN ? 0 : hi[$1]) }
            }
            if !extras.profileOnly.isEmpty {
                p.profileOnly = zip(extras.profileOnly, profileOnlyPopulations).map { column, population in
                    ProfileOnlyStats.compute(column, population: population, rows: rows, isGroup: g != nil, minSize: minSize)
                }
            }
            if let a = extras.probabilityAlive {
                let vals = rows.map { a[$0] }.filter { !$0.isNaN }
                p.probabilityAliveMean = vals.isEmpty ? nil : vals.reduce(0, +) / Double(vals.count)
            }
            if let r = extras.rfmSegment {
                var mix: [String: Int] = [:]
                for i in rows where !r[i].isEmpty { mix[r[i], default: 0] += 1 }
                p.rfmMix = binSmall(mix, minSize: minSize)
            }
            return p
        }
        var population = build(nil)
        population.name = otherSuppressed ? "All reported customers" : "All customers"
        var segments = (0..<k).filter { sizes[$0] >= minSize }.map { build($0) }
        var other: GroupProfile? = nil
        if !small.isEmpty && groupCount[k] > 0 && !otherSuppressed {
            other = build(k)
            other!.name = "Other (small segments)"
        }
        // Rate p-values: Benjamini-Hochberg over every reported group and rate column.
        if !extras.profileOnly.isEmpty {
            var raw: [Double?] = []
            for g in segments + (other.map { [$0] } ?? []) { for s in g.profileOnly ?? [] { raw.append(s.pValue) } }
            var adjusted = MultipleTesting.benjaminiHochberg(raw).makeIterator()
            for i in segments.indices { for j in segments[i].profileOnly!.indices { segments[i].profileOnly![j].adjustedPValue = adjusted.next()! } }
            if other != nil { for j in other!.profileOnly!.indices { other!.profileOnly![j].adjustedPValue = adjusted.next()! } }
        }
        return Output(population: population, segments: segments, other: other, allZ: allZ, allLift: allLift, allCLVLift: allCLVLift,
                      allProbabilityAlive: allProbabilityAlive, minSize: minSize, smallSegments: small, otherSuppressed: otherSuppressed)
    }

    /// An RFM mix with every entry below `minSize` counted under `smallRFMBin`; while that bin is
    /// not empty but below `minSize`, or holds a single RFM segment (whose count would then be
    /// plain), the smallest shown entry joins it. The counts still add up to the group's size.
    static func binSmall(_ mix: [String: Int], minSize: Int) -> [String: Int] {
        var shown = mix.filter { $0.value >= minSize }
        var binned = mix.filter { $0.value < minSize && $0.value > 0 }.count
        var bin = mix.values.filter { $0 < minSize }.reduce(0, +)
        while bin > 0 && (bin < minSize || binned < 2), let smallest = shown.min(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
            bin += smallest.value
            binned += 1
            shown[smallest.key] = nil
        }
        if bin > 0 { shown[smallRFMBin] = bin }
        return shown
    }

    static func describe(_ name: String, _ sorted: [Float], popMean: Double?) -> FeatureStats {
        guard !sorted.isEmpty else { return FeatureStats(feature: name, count: 0) }
        let values = sorted.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        // A quantile that is a stored (float32) value is written as that value (17.96, not
        // 17.959999084472656); an interpolated one stays as computed.
        func q(_ p: Double) -> Double {
            let v = FittedPipeline.quantile(values, p)
            let f = Float(v)
            return Double(f) == v ? Double("\(f)") ?? v : v
        }
        var lift: Double? = nil
        if let m = popMean, m != 0 { lift = mean / m }
        return FeatureStats(feature: name, count: values.count, mean: mean, median: q(0.5), q1: q(0.25), q3: q(0.75),
                            p10: q(0.1), p90: q(0.9), lift: lift, standardizedDifference: nil)
    }
}

