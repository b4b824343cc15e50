import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// ABC (Pareto) product classes for the report: overall class summary and, per segment, the
/// share of the segment's revenue falling in each overall-style class of its own products.
struct ABCSummary: Sendable {
    var overall: [String: ABC.ClassSummary]
    /// Segment name -> class -> share of that segment's value.
    var bySegment: [String: [String: Double]]
    var products: Int

    static func classShares(_ products: [ABC.Product]) -> [String: Double] {
        var out: [String: Double] = [:]
        for p in products { out[p.abcClass, default: 0] += p.share }
        return out
    }

    /// Products per class in the segment's own ranking (A: top 80% of its value).
    static func classCounts(_ products: [ABC.Product]) -> [String: Int] {
        var out: [String: Int] = [:]
        for p in products { out[p.abcClass, default: 0] += 1 }
        return out
    }
}
