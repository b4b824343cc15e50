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

/// A seeded sample of customers on the first two principal components of the preprocessed
/// features, for the report's scatter chart. Small segments are shown as "other".
struct Projection: Sendable {
    struct Point: Sendable { var x: Double; var y: Double; var group: Int }
    var points: [Point]
    var explained: [Double]
    /// Group index -> label ("0 High-value loyal"...; the last is other when present).
    var groups: [String]

    static func make(_ data: Dataset, labels: [Int32], profiles: SegmentProfiler.Output, k: Int, sample: Int, seed: UInt64,
                     threads: Int) throws -> Projection {
        let reportable = profiles.segments.map { $0.id! }
        var groupOf = [Int](repeating: reportable.count, count: k)
        for (g, s) in reportable.enumerated() { groupOf[s] = g }
        let groups = profiles.segments.map { "\($0.id!) \($0.name)" } + (profiles.other == nil ? [] : ["Other (small segments)"])
        guard sample > 0, data.cols >= 2, data.rows >= 3 else { return Projection(points: [], explained: [], groups: groups) }
        var o = PCAOptions(components: .count(2))
        o.seed = seed; o.threads = threads
        let m = try PCA.fit(data, options: o)
        let rows = SegmentJob.sampleRows(data.rows, sample, seed: seed, stream: 0x50_4341)
        let z = try m.transform(data.subset(rows: rows), threads: threads)
        let points = rows.enumerated().map { r, i in
            Point(x: Double(z.storage[r * 2]), y: Double(z.storage[r * 2 + 1]), group: groupOf[Int(labels[i])])
        }
        return Projection(points: points, explained: m.explainedVarianceRatio, groups: groups)
    }
}
