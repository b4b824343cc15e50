import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// Readable rules that explain the segments: a shallow decision tree trained on the segment
/// labels (small segments as "other"), over the features in original units (numeric, missing
/// values filled as preprocessing fills them) and one-hot categories.
///
/// Privacy: every leaf holds at least `min_segment_size` customers of the tree sample, so no
/// rule (its count, or a category it names) describes a smaller group; customers of a
/// suppressed "other" (`SegmentProfiler.Output.otherSuppressed`) are left out of the tree.
struct SegmentRules: Sendable {
    struct Rule: Codable, Sendable {
        var segment: Int?
        var segmentName: String
        var condition: String
        /// Customers of the segment the rule captures / segment customers (in the tree sample).
        var coverage: Double
        /// Customers of the segment / customers matching the rule.
        var precision: Double
        var customers: Int
        var text: String
        enum CodingKeys: String, CodingKey { case segment, segmentName = "segment_name", condition, coverage, precision, customers, text }
    }

    struct JSON: Codable, Sendable {
        var depth: Int
        var sampleRows: Int
        var accuracy: Double
        var rules: [Rule]
        enum CodingKeys: String, CodingKey { case depth, sampleRows = "sample_rows", accuracy, rules }
    }

    var tree: DecisionTree
    var rules: [Rule]
    var depth: Int

    var json: JSON { JSON(depth: depth, sampleRows: tree.rows, accuracy: tree.accuracy, rules: rules) }

    /// At most 100,000 customers (seeded sample) train the tree.
    static let sampleLimit = 100_000

    static func fit(raw: RawTable, preprocessed: Dataset, pipeline: FittedPipeline, labels: [Int32], k: Int,
                    profiles: SegmentProfiler.Output, depth: Int, seed: UInt64) -> SegmentRules {
        let rows = SeededRandom.sampleIndices(raw.rows, sampleLimit, seed: seed, stream: 0x5452_4545)
            .filter { profiles.isReported(segment: Int(labels[$0])) }
        // Groups: reportable segments, then one "other" class.
        let reportable = profiles.segments.map { $0.id! }
        var classOf = [Int32](repeating: Int32(reportable.count), count: k)
        for (c, s) in reportable.enumerated() { classOf[s] = Int32(c) }
        let classes = reportable.count + (profiles.other == nil ? 0 : 1)
        let y = rows.map { classOf[Int(labels[$0])] }
        var features: [DecisionTree.Feature] = []
        for (j, name) in raw.numericNames.enumerated() {
            let fill = Float(pipeline.numeric.first { $0.name == name }?.fill ?? 0)
            features.append(.init(name: name, values: rows.map { raw.numeric[j][$0].isNaN ? fill : raw.numeric[j][$0] }))
        }
        let numericCount = pipeline.numeric.count
        for (o, name) in pipeline.outputColumns.enumerated() where o >= numericCount {
            features.append(.init(name: name, values: rows.map { preprocessed.values[$0 * preprocessed.cols + o] }, isIndicator: true))
        }
        // Categories the pipeline did not one-hot encode (kprototypes): indicators of each
        // column's 10 most frequent categories in the tree sample.
        for (c, name) in raw.categoricalNames.enumerated() where !pipeline.inputCategorical.contains(name) {
            var counts: [String: Int] = [:]
            for i in rows where !raw.categorical[c][i].isEmpty { counts[raw.categorical[c][i], default: 0] += 1 }
            for (cat, _) in counts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(10) {
                features.append(.init(name: "\(name)=\(cat)", values: rows.map { raw.categorical[c][$0] == cat ? 1 : 0 }, isIndicator: true))
            }
        }
        // Leaves of at least the privacy threshold (and the tree's own 1% / 5-row floor).
        let tree = DecisionTree.fit(features: features, labels: y, k: max(1, classes), depth: depth,
                                    minLeaf: max(5, rows.count / 100, profiles.minSize))
        var classSize = [Int](repeating: 0, count: max(1, classes))
        for c in y { classSize[Int(c)] += 1 }
        let groupName: (Int) -> (Int?, String) = { c in
            c < reportable.count ? (reportable[c], profiles.segments[c].name) : (nil, "Other (small segments)")
        }
        var rules: [Rule] = []
        for leaf in tree.leaves.sorted(by: { ($0.prediction, $1.classCounts[$1.prediction]) < ($1.prediction, $0.classCounts[$0.prediction]) }) {
            let c = leaf.prediction
            let hit = leaf.classCounts[c]
            guard hit > 0 else { continue }
            let (id, name) = groupName(c)
            let coverage = Double(hit) / Double(max(1, classSize[c])), precision = Double(hit) / Double(max(1, leaf.size))
            let condition = tree.describe(leaf)
            let target = id.map { "segment \($0) (\(name))" } ?? name
            rules.append(Rule(segment: id, segmentName: name, condition: condition, coverage: coverage, precision: precision, customers: leaf.size,
                              text: "\(condition) -> \(target), \(Int((100 * coverage).rounded()))% of its members (precision \(Int((100 * precision).rounded()))%)"))
        }
        return SegmentRules(tree: tree, rules: rules, depth: depth)
    }
}
