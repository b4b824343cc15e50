import StrataCore
import Foundation

/// A seeded sample of customers on the first two principal components of the preprocessed
/// features, for the report's scatter chart.
///
/// Privacy: a point is one customer, so customers of segments below the threshold (merged into
/// "other" or suppressed) are never plotted: a handful of far-away points would single them out.
/// Only customers of reportable segments appear, coloured by segment.
///
/// The PCA is fitted on the plotted sample itself (what the chart shows is what was fitted), so
/// its cost is O(sample x d^2), independent of the number of customers.
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
        let groups = profiles.segments.map { "\($0.id!) \($0.name)" }
        let shown = Set(reportable)
        // The seeded sample, less the customers of small segments (never plotted, nor fitted).
        let rows = SeededRandom.sampleIndices(data.rows, sample, seed: seed, stream: 0x50_4341).filter { shown.contains(Int(labels[$0])) }
        guard rows.count >= 3, data.cols >= 2 else { return Projection(points: [], explained: [], groups: groups) }
        var o = PCAOptions(components: .count(2))
        o.seed = seed; o.threads = threads
        let plotted = data.subset(rows: rows)
        let m = try PCA.fit(plotted, options: o)
        let z = try m.transform(plotted, threads: threads)
        let points = rows.enumerated().map { r, i in
            Point(x: Double(z.storage[r * 2]), y: Double(z.storage[r * 2 + 1]), group: groupOf[Int(labels[i])])
        }
        return Projection(points: points, explained: m.explainedVarianceRatio, groups: groups)
    }
}
