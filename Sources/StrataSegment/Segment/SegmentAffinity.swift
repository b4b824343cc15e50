import Foundation
import StrataCore
import StrataCustomers
import StrataIO

/// Which products (and, with a product table, which categories) each segment over-buys and
/// under-buys relative to the population, and its share of spend in the global A/B/C classes.
///
/// For an item (a product, or a category value) and a segment: `segment_share` = the segment's
/// customers who bought it / the segment's customers; `population_share` = the same over all
/// reported customers; `lift` = their ratio (penetration lift). Test: the two-proportion z-test
/// of the segment against the rest of the population (`ProportionDifference`, pooled, as
/// statsmodels `proportions_ztest`), p-values Benjamini-Hochberg adjusted over every tested
/// (segment, item) pair of the level. An item is tested only when at least `minSupport`
/// customers of the segment bought it (default `min_segment_size`: no figure rests on fewer
/// customers than a reported segment) and it is listed when its adjusted p-value is below
/// `alpha` (0.05): over-bought with lift > 1, under-bought with lift < 1, strongest first.
/// `spend_share_lift` (the item's share of the segment's spend over its share of all spend) is
/// reported beside it; profiles.json and the report show at most `top` items per direction whose
/// spend-share lift agrees (> 1 for over-buys, < 1 for under-buys), so a segment that simply buys
/// more of everything is not shown as preferring everything; affinity.csv has every significant
/// item.
///
/// Global ABC: products classed once on the whole log's spend (A: the top 80% of spend, B: the
/// next 15%, C: the rest, `ABC.classify`); per segment the share of its spend in each class.
///
/// Cost: one streaming pass over the order log; memory O(products x segments + distinct
/// (customer, item) pairs).
public struct SegmentAffinity: Sendable {
    struct Item: Sendable, Equatable {
        var segment: Int
        var segmentName: String
        var level: String
        var item: String
        var buyers: Int
        var segmentShare: Double
        var populationShare: Double
        var lift: Double
        var pValue: Double
        var adjustedPValue: Double
        /// The item's share of the segment's spend / its share of the population's spend: a
        /// preference measure that heavy buying alone does not raise.
        var spendShareLift: Double
        /// For products with a product table: their categories ("department: SEASONAL").
        var context: String = ""
    }
    /// Significant items (every level), segment order, then over before under, strongest first.
    var items: [Item]
    /// Segment id -> class ("A", "B", "C") -> share of the segment's spend.
    var abcShares: [Int: [String: Double]]
    var abcClasses: [String: ABC.ClassSummary]
    var products: Int
    var levels: [String]
    var minSupport: Int
    static let alpha = 0.05
    static let top = 5

    /// - Parameters: `lastDay` the as-of day (days since 1970; orders after it are left out, as
    ///   in RFM); `segmentOf` customer key (normalized) -> reported group id (a segment id,
    ///   or -1 for "other"); `names` group id -> name; `categories` product id -> (level ->
    ///   value) from a product table.
    static func compute(path: String, options: TransactionOptions, segmentOf: [String: Int], names: [Int: String],
                        categories: [String: [String: String]] = [:], categoryLevels: [String] = [], minSupport: Int,
                        lastDay: Int? = nil) throws -> SegmentAffinity {
        let groups = names.keys.sorted()
        let groupIndex = Dictionary(uniqueKeysWithValues: groups.enumerated().map { ($1, $0) })
        var customers = [Int](repeating: 0, count: groups.count)
        for g in segmentOf.values { if let i = groupIndex[g] { customers[i] += 1 } }
        let levels = ["product"] + categoryLevels
        // Per level: item -> index; (customer, item) pairs seen; buyers per item and group.
        var itemIndex = [[String: Int]](repeating: [:], count: levels.count)
        var itemNames = [[String]](repeating: [], count: levels.count)
        var buyers = [[Int]](repeating: [], count: levels.count)        // item * groups + group
        var seen = [Set<Int64>](repeating: [], count: levels.count)
        var customerIndex: [String: Int32] = [:]
        var productSpend: [String: Double] = [:]
        var spendByProductGroup: [String: [Double]] = [:]
        var groupSpend = [Double](repeating: 0, count: groups.count)
        // Spend per (level, item, group) for the spend-share lift.
        var itemSpend = [[Double]](repeating: [], count: levels.count)
        _ = try TransactionReader.read(path: path, options: options) { t in
            guard let product = t.product else { return }
            // Orders after the as-of day (or calibration end) are not in the profiles either.
            if let lastDay, t.day > lastDay { return }
            let key = CustomerKey.normalized(t.customer)
            productSpend[product, default: 0] += t.amount
            guard let g = segmentOf[key], let gi = groupIndex[g] else { return }
            spendByProductGroup[product, default: [Double](repeating: 0, count: groups.count)][gi] += t.amount
            groupSpend[gi] += t.amount   // in file order: the same sums on every run
            let c: Int32
            if let existing = customerIndex[key] { c = existing } else { c = Int32(customerIndex.count); customerIndex[key] = c }
            for (l, level) in levels.enumerated() {
                let value = l == 0 ? product : categories[product]?[level]
                guard let value, !value.isEmpty else { continue }
                let idx: Int
                if let i = itemIndex[l][value] { idx = i } else {
                    idx = itemNames[l].count; itemIndex[l][value] = idx; itemNames[l].append(value)
                    buyers[l] += [Int](repeating: 0, count: groups.count)
                    itemSpend[l] += [Double](repeating: 0, count: groups.count)
                }
                itemSpend[l][idx * groups.count + gi] += t.amount
                if seen[l].insert(Int64(c) << 32 | Int64(idx)).inserted { buyers[l][idx * groups.count + gi] += 1 }
            }
        }
        let total = customers.reduce(0, +)
        let allSpend = groupSpend.reduce(0, +)
        var items: [Item] = []
        for (l, level) in levels.enumerated() {
            var tested: [Item] = []
            for (idx, name) in itemNames[l].enumerated() {
                let all = (0..<groups.count).reduce(0) { $0 + buyers[l][idx * groups.count + $1] }
                for (gi, g) in groups.enumerated() where g >= 0 {
                    let b = buyers[l][idx * groups.count + gi]
                    guard b >= minSupport, customers[gi] > 0, total > customers[gi] else { continue }
                    let test = ProportionDifference(treatment: Proportion(successes: b, trials: customers[gi]),
                                                    control: Proportion(successes: all - b, trials: total - customers[gi]))
                    guard let p = test.pValue else { continue }
                    let share = Double(b) / Double(customers[gi]), popShare = Double(all) / Double(total)
                    let spend = itemSpend[l][idx * groups.count + gi]
                    let allItem = (0..<groups.count).reduce(0.0) { $0 + itemSpend[l][idx * groups.count + $1] }
                    let spendLift = groupSpend[gi] > 0 && allItem > 0 && allSpend > 0 ? (spend / groupSpend[gi]) / (allItem / allSpend) : 0
                    let context = l == 0 ? categoryLevels.compactMap { lv in categories[name]?[lv].map { "\(lv): \($0)" } }.joined(separator: ", ") : ""
                    tested.append(Item(segment: g, segmentName: names[g]!, level: level, item: name, buyers: b, segmentShare: share,
                                       populationShare: popShare, lift: share / popShare, pValue: p, adjustedPValue: p,
                                       spendShareLift: spendLift, context: context))
                }
            }
            let adjusted = MultipleTesting.benjaminiHochberg(tested.map(\.pValue))
            for i in tested.indices { tested[i].adjustedPValue = adjusted[i]! }
            items += tested.filter { $0.adjustedPValue < alpha && $0.lift != 1 }
        }
        items.sort {
            ($0.segment, levels.firstIndex(of: $0.level)!, $0.lift > 1 ? 0 : 1) != ($1.segment, levels.firstIndex(of: $1.level)!, $1.lift > 1 ? 0 : 1)
                ? ($0.segment, levels.firstIndex(of: $0.level)!, $0.lift > 1 ? 0 : 1) < ($1.segment, levels.firstIndex(of: $1.level)!, $1.lift > 1 ? 0 : 1)
                : (abs(log($0.lift)), $1.item) > (abs(log($1.lift)), $0.item)
        }
        // Global classes, then each segment's spend across them.
        let classified = ABC.classify(productSpend, a: 0.8, b: 0.95)
        let classOf = Dictionary(uniqueKeysWithValues: classified.products.map { ($0.id, $0.abcClass) })
        var abcShares: [Int: [String: Double]] = [:]
        for (gi, g) in groups.enumerated() {
            var spend: [String: Double] = [:]
            var sum = 0.0
            // Products in id order: Dictionary order differs between runs, and so would the sums' last bits.
            for product in spendByProductGroup.keys.sorted() {
                let v = spendByProductGroup[product]!
                spend[classOf[product] ?? "C", default: 0] += v[gi]; sum += v[gi]
            }
            abcShares[g] = sum > 0 ? spend.mapValues { $0 / sum } : [:]
        }
        return SegmentAffinity(items: items, abcShares: abcShares, abcClasses: classified.classes, products: productSpend.count,
                               levels: levels, minSupport: minSupport)
    }

    /// The strongest `top` over- and under-bought items of a segment at a level whose share of
    /// the segment's spend moves the same way (so heavy buying of everything is not shown as a
    /// preference).
    func highlights(segment: Int, level: String, over: Bool) -> [Item] {
        Array(items.filter { $0.segment == segment && $0.level == level && ($0.lift > 1) == over && ($0.spendShareLift > 1) == over }.prefix(Self.top))
    }

    /// affinity.csv: segment, segment_name, level, item, direction, buyers, segment_share,
    /// population_share, lift, p_value, adjusted_p_value, spend_share_lift, categories.
    func csv() -> Data {
        var lines = ["segment,segment_name,level,item,direction,buyers,segment_share,population_share,lift,p_value,adjusted_p_value,spend_share_lift,categories"]
        for i in items {
            lines.append([i.segment < 0 ? "other" : String(i.segment), CSVOutput.field(i.segmentName), i.level, CSVOutput.field(i.item),
                          i.lift > 1 ? "over" : "under", String(i.buyers), "\(i.segmentShare)", "\(i.populationShare)", "\(i.lift)",
                          "\(i.pValue)", "\(i.adjustedPValue)", "\(i.spendShareLift)", CSVOutput.field(i.context)].joined(separator: ","))
        }
        return Data((lines.joined(separator: "\n") + "\n").utf8)
    }

    /// profiles.json `affinity` of one segment.
    public struct JSON: Codable, Sendable, Equatable {
        public struct Entry: Codable, Sendable, Equatable {
            var level, item: String
            var buyers: Int
            var segmentShare, populationShare, lift, pValue, adjustedPValue, spendShareLift: Double
            var categories: String?
            enum CodingKeys: String, CodingKey {
                case level, item, buyers, segmentShare = "segment_share", populationShare = "population_share", lift, pValue = "p_value"
                case adjustedPValue = "adjusted_p_value", spendShareLift = "spend_share_lift", categories
            }
        }
        var overBuys: [Entry]
        var underBuys: [Entry]
        /// Share of the segment's spend in the global A, B and C product classes.
        var abcSpendShares: [String: Double]
        enum CodingKeys: String, CodingKey { case overBuys = "over_buys", underBuys = "under_buys", abcSpendShares = "abc_spend_shares" }
    }

    func json(segment: Int) -> JSON {
        func entries(_ over: Bool) -> [JSON.Entry] {
            levels.flatMap { level in highlights(segment: segment, level: level, over: over) }.map {
                JSON.Entry(level: $0.level, item: $0.item, buyers: $0.buyers, segmentShare: $0.segmentShare, populationShare: $0.populationShare,
                           lift: $0.lift, pValue: $0.pValue, adjustedPValue: $0.adjustedPValue, spendShareLift: $0.spendShareLift,
                           categories: $0.context.isEmpty ? nil : $0.context)
            }
        }
        return JSON(overBuys: entries(true), underBuys: entries(false), abcSpendShares: abcShares[segment] ?? [:])
    }
}
