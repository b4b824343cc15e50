import Foundation

/// A shallow classification tree (CART, Gini impurity) that explains segment labels with
/// readable threshold rules.
///
/// Splits are searched on at most 32 quantile thresholds per feature (histogram CART, as
/// LightGBM and scikit-learn's HistGradientBoosting do): O(n * features) per level, so a depth-3
/// tree over 100k customers takes milliseconds. Ties between equally good splits go to the lower
/// feature index, then the lower threshold, so the tree is deterministic.
public struct DecisionTree: Sendable {
    public struct Feature: Sendable {
        public var name: String
        /// Column-major values (no NaN).
        public var values: [Float]
        /// 0/1 indicator (a one-hot category): rules read "name" / "not name".
        public var isIndicator: Bool
        public init(name: String, values: [Float], isIndicator: Bool = false) {
            self.name = name; self.values = values; self.isIndicator = isIndicator
        }
    }

    public struct Condition: Sendable, Equatable {
        public var feature: Int
        /// `x <= threshold` when true, `x > threshold` otherwise.
        public var lessOrEqual: Bool
        public var threshold: Float
    }

    public struct Leaf: Sendable {
        public var conditions: [Condition]
        public var prediction: Int
        /// Rows of each class reaching the leaf.
        public var classCounts: [Int]
        public var size: Int { classCounts.reduce(0, +) }
    }

    public var features: [Feature]
    public var leaves: [Leaf]
    public var k: Int
    public var rows: Int
    /// Share of rows whose class is the leaf's prediction.
    public var accuracy: Double

    /// Fits a tree of at most `depth` levels. A node is split only when both children keep at
    /// least `minLeaf` rows (default 1% of the rows, at least 5) and the split lowers impurity.
    public static func fit(features: [Feature], labels: [Int32], k: Int, depth: Int, minLeaf: Int? = nil) -> DecisionTree {
        let n = labels.count
        let minLeaf = minLeaf ?? max(5, n / 100)
        // Candidate thresholds per feature: distinct values at 32 quantiles (midpoints would print badly).
        let thresholds: [[Float]] = features.map { f in
            let sorted = f.values.sorted()
            guard let lo = sorted.first, let hi = sorted.last, lo < hi else { return [] }
            var t: [Float] = []
            for q in 1..<32 {
                let v = sorted[min(n - 1, q * n / 32)]
                if v < hi && t.last != v { t.append(v) }
            }
            return t
        }
        // Bin index per (feature, row): number of thresholds below the value.
        let bins: [[UInt8]] = zip(features, thresholds).map { f, t in
            f.values.map { v in
                var lo = 0, hi = t.count
                while lo < hi { let mid = (lo + hi) / 2; if t[mid] < v { lo = mid + 1 } else { hi = mid } }
                return UInt8(lo)
            }
        }
        var leaves: [Leaf] = []
        func counts(_ rows: [Int]) -> [Int] {
            var c = [Int](repeating: 0, count: k)
            for i in rows { c[Int(labels[i])] += 1 }
            return c
        }
        func gini(_ c: [Int], _ total: Int) -> Double {
            guard total > 0 else { return 0 }
            var s = 0.0
            for x in c { let p = Double(x) / Double(total); s += p * p }
            return 1 - s
        }
        func grow(_ rows: [Int], _ conditions: [Condition], _ level: Int) {
            let c = counts(rows)
            let parent = gini(c, rows.count)
            var best: (gain: Double, feature: Int, bin: Int)? = nil
            if level < depth && parent > 0 && rows.count >= 2 * minLeaf {
                for (j, t) in thresholds.enumerated() where !t.isEmpty {
                    // Histogram of classes per bin.
                    var hist = [Int](repeating: 0, count: (t.count + 1) * k)
                    for i in rows { hist[Int(bins[j][i]) * k + Int(labels[i])] += 1 }
                    var left = [Int](repeating: 0, count: k)
                    var nLeft = 0
                    for b in 0..<t.count {
                        for cl in 0..<k { left[cl] += hist[b * k + cl] }
                        nLeft += (0..<k).reduce(0) { $0 + hist[b * k + $1] }
                        let nRight = rows.count - nLeft
                        if nLeft < minLeaf || nRight < minLeaf { continue }
                        let right = (0..<k).map { c[$0] - left[$0] }
                        let impurity = (Double(nLeft) * gini(left, nLeft) + Double(nRight) * gini(right, nRight)) / Double(rows.count)
                        let gain = parent - impurity
                        if gain > 1e-9 && (best == nil || gain > best!.gain + 1e-12) { best = (gain, j, b) }
                    }
                }
            }
            guard let best else {
                let prediction = c.indices.max { (c[$0], $1) < (c[$1], $0) }!   // ties: lower class
                leaves.append(Leaf(conditions: conditions, prediction: prediction, classCounts: c))
                return
            }
            let thr = thresholds[best.feature][best.bin]
            let left = rows.filter { Int(bins[best.feature][$0]) <= best.bin }
            let right = rows.filter { Int(bins[best.feature][$0]) > best.bin }
            grow(left, conditions + [Condition(feature: best.feature, lessOrEqual: true, threshold: thr)], level + 1)
            grow(right, conditions + [Condition(feature: best.feature, lessOrEqual: false, threshold: thr)], level + 1)
        }
        grow(Array(0..<n), [], 0)
        let correct = leaves.reduce(0) { $0 + $1.classCounts[$1.prediction] }
        return DecisionTree(features: features, leaves: leaves, k: k, rows: n, accuracy: n == 0 ? 0 : Double(correct) / Double(n))
    }

    /// The leaf's conditions as text, bounds on one feature merged ("10 < recency <= 30").
    public func describe(_ leaf: Leaf) -> String {
        if leaf.conditions.isEmpty { return "all customers" }
        var order: [Int] = []
        var lower: [Int: Float] = [:], upper: [Int: Float] = [:]
        for c in leaf.conditions {
            if !order.contains(c.feature) { order.append(c.feature) }
            if c.lessOrEqual { upper[c.feature] = min(upper[c.feature] ?? .infinity, c.threshold) } else {
                lower[c.feature] = max(lower[c.feature] ?? -.infinity, c.threshold)
            }
        }
        return order.map { j -> String in
            let f = features[j]
            if f.isIndicator { return lower[j] != nil ? f.name : "not \(f.name)" }
            switch (lower[j], upper[j]) {
            case let (lo?, hi?): return "\(Self.number(lo)) < \(f.name) <= \(Self.number(hi))"
            case let (lo?, nil): return "\(f.name) > \(Self.number(lo))"
            case let (nil, hi?): return "\(f.name) <= \(Self.number(hi))"
            default: return f.name
            }
        }.joined(separator: " and ")
    }

    /// A threshold for people: three significant digits in fixed notation, thousands
    /// separated, never scientific ("1,920", "32.4", "0.00123").
    static func number(_ v: Float) -> String {
        let d = Double(v)
        guard d.isFinite else { return "\(d)" }
        if d == d.rounded() && abs(d) < 1e15 { return NumberText.grouped(Int64(d)) }
        let magnitude = d == 0 ? 0 : Int(floor(log10(abs(d))))
        if magnitude >= 2 {
            let unit = pow(10, Double(magnitude - 2))
            return NumberText.grouped(Int64((d / unit).rounded() * unit))
        }
        var s = String(format: "%.*f", max(0, 2 - magnitude), d)
        if s.contains(".") { while s.hasSuffix("0") { s.removeLast() }; if s.hasSuffix(".") { s.removeLast() } }
        return s
    }
}
