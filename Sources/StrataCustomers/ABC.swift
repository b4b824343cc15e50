import StrataCore
import StrataIO
import Foundation

/// ABC (Pareto) profiling of products.
public enum ABC {
    /// What ranks products: revenue (amount), quantity, or margin.
    public enum Measure: String, SettingChoice, CaseIterable {
        case revenue, quantity, margin
        public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
        public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }
    }

    public struct Product: Sendable, Equatable {
        public var id: String
        public var value: Double
        public var share: Double
        public var cumulativeShare: Double
        /// "A", "B" or "C".
        public var abcClass: String
    }

    public struct ClassSummary: Sendable, Equatable {
        public var products: Int
        public var productShare: Double
        public var valueShare: Double
    }

    /// Ranks products by value (descending; ties by id) and classes them: a product is A while
    /// the cumulative share *before* it is below `a` (so the product that crosses the line is A
    /// too), B while below `b`, else C. Products with non-positive value are C. O(p log p).
    public static func classify(_ values: [String: Double], a: Double = 0.8, b: Double = 0.95) -> (products: [Product], classes: [String: ClassSummary]) {
        let sorted = values.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let total = sorted.reduce(0.0) { $0 + max(0, $1.value) }
        var out: [Product] = []
        var before = 0.0
        for (id, v) in sorted {
            let share = total > 0 ? max(0, v) / total : 0
            let cls = v <= 0 ? "C" : (before < a ? "A" : (before < b ? "B" : "C"))
            out.append(Product(id: id, value: v, share: share, cumulativeShare: before + share, abcClass: cls))
            before += share
        }
        var classes: [String: ClassSummary] = [:]
        for c in ["A", "B", "C"] {
            let members = out.filter { $0.abcClass == c }
            classes[c] = ClassSummary(products: members.count, productShare: out.isEmpty ? 0 : Double(members.count) / Double(out.count),
                                      valueShare: members.reduce(0) { $0 + $1.share })
        }
        return (out, classes)
    }

    /// How the order log's customers matched the segment labels (`CustomerKey` join).
    public struct SegmentJoin: Sendable {
        /// Order rows whose customer has a segment / has none.
        public var matchedRows = 0, unmatchedRows = 0
        /// A few customer ids without a segment.
        public var unmatchedExamples: [String] = []
    }

    /// Aggregates a transactions file per product (and per customer segment when `segments` maps
    /// customer ids to segment names; ids are joined on `CustomerKey`), then classifies.
    ///
    /// - Throws: `.invalidArgument` for a missing column option; `.badData` when no row is usable,
    ///   or when `segments` is given and no order row's customer has a segment.
    public static func run(path: String, transactions t: TransactionOptions, measure: Measure, segments: [String: String]? = nil,
                           a: Double, b: Double) throws -> (overall: [Product], classes: [String: ClassSummary],
                                                          bySegment: [String: [Product]], report: TransactionReadSummary, join: SegmentJoin) {
        guard t.product != nil else { throw StrataError.invalidArgument("ABC needs --product-column") }
        if measure == .quantity && t.quantity == nil { throw StrataError.invalidArgument("--by quantity needs --quantity-column") }
        if measure == .margin && t.margin == nil { throw StrataError.invalidArgument("--by margin needs --margin-column") }
        var totals: [String: Double] = [:]
        var perSegment: [String: [String: Double]] = [:]
        var join = SegmentJoin()
        let keyed = segments.map { m in Dictionary(m.map { (CustomerKey.normalized($0.key), $0.value) }, uniquingKeysWith: { first, _ in first }) }
        let read = try TransactionReader.read(path: path, options: t) { tr in
            let v: Double
            switch measure {
            case .revenue: v = tr.amount
            case .quantity: v = tr.quantity ?? 0
            case .margin: v = tr.margin ?? 0
            }
            totals[tr.product!, default: 0] += v
            if let keyed {
                if let s = keyed[CustomerKey.normalized(tr.customer)] {
                    perSegment[s, default: [:]][tr.product!, default: 0] += v
                    join.matchedRows += 1
                } else {
                    join.unmatchedRows += 1
                    if join.unmatchedExamples.count < 3, !join.unmatchedExamples.contains(tr.customer) { join.unmatchedExamples.append(tr.customer) }
                }
            }
        }
        guard !totals.isEmpty else {
            throw StrataError.badData(file: path, line: read.badRows.first?.line, column: read.badRows.first?.column,
                                      message: "no usable transactions (\(read.rows + read.bad) rows read, \(read.bad) bad)" + (read.bad > 0 ? "; " + read.badRowsText() : ""))
        }
        if segments != nil && join.matchedRows == 0 {
            throw StrataError.badData(file: path, line: nil, column: t.customer.description,
                                      message: "no order row's customer has a segment in the labels"
                                        + (t.quoteValues ? " (e.g. \(join.unmatchedExamples.map { "'\(Excerpt.of($0))'" }.joined(separator: ", ")))" : "")
                                        + "; check the id columns")
        }
        let (products, classes) = classify(totals, a: a, b: b)
        var bySegment: [String: [Product]] = [:]
        for (s, values) in perSegment { bySegment[s] = classify(values, a: a, b: b).products }
        return (products, classes, bySegment, read, join)
    }
}
