import Foundation
import StrataKernels

/// The gap statistic of Tibshirani, Walther & Hastie (2001) for K-Means partitions.
///
/// For each k, `gap(k) = E*[log W_k] - log W_k`, where `W_k` is the K-Means within-cluster sum of
/// squares (inertia) of the data and `E*` the mean over `references` data sets drawn uniformly
/// from a box aligned with the data's principal components (the paper's reference (b): rotate the
/// centred data onto its principal axes, draw uniformly within the ranges of the rotated columns,
/// rotate back). `s(k) = sd_k sqrt(1 + 1/B)` with `sd_k` the standard deviation (1/B) of the B
/// reference `log W_k`. The paper's choice is the smallest k with `gap(k) >= gap(k+1) - s(k+1)`.
///
/// The data and every reference set have the same number of rows, so the `log n` terms cancel;
/// rows with zero weight are dropped first and weights are otherwise ignored (the paper's
/// statistic is unweighted).
public struct GapStatistic: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var k: Int
        /// log W_k of the data.
        public var logW: Double
        /// Mean of log W_k over the reference sets.
        public var referenceLogW: Double
        public var gap: Double
        /// s(k) = sd_k sqrt(1 + 1/B).
        public var standardError: Double
    }
    public var points: [Point]
    /// Rows the statistic was computed on.
    public var rows: Int
    public var references: Int

    /// The paper's rule: the smallest k (of consecutive ks computed) with
    /// `gap(k) >= gap(k+1) - s(k+1)`; nil when no k satisfies it.
    public var tibshiraniK: Int? {
        for i in 0..<max(0, points.count - 1) where points[i + 1].k == points[i].k + 1 {
            if points[i].gap >= points[i + 1].gap - points[i + 1].standardError { return points[i].k }
        }
        return nil
    }

    public func point(_ k: Int) -> Point? { points.first { $0.k == k } }

    /// - Parameters:
    ///   - data: n x d rows (use a sample: the cost is (B + 1) K-Means fits per k).
    ///   - ks: the k values, each >= 1 and <= n.
    ///   - references: B >= 2 reference sets.
    ///   - kmeans: K-Means settings for every fit (k and seed are set per fit).
    /// - Throws: `StrataError.invalidArgument` for an empty k list, k < 1 or k > n, B < 2;
    ///   errors of the fits.
    /// - Complexity: (B + 1) |ks| K-Means fits on n rows, plus one O(n d^2 + d^3) PCA.
    /// - Source: Tibshirani, Walther & Hastie, "Estimating the number of clusters in a data set
    ///   via the gap statistic", JRSS B 63 (2001), section 3 (reference (b)) and 4 (the rule).
    public static func compute(_ data: Dataset, ks: [Int], references: Int = 10, kmeans: KMeansOptions, seed: UInt64) throws -> GapStatistic {
        let ks = Array(Set(ks)).sorted()
        var x = (data.weights == nil ? data : data.subset(rows: (0..<data.rows).filter { data.weights![$0] > 0 })).materialized()
        x.weights = nil   // the paper's statistic is unweighted
        guard let first = ks.first, first >= 1, ks.last! <= x.rows else {
            throw StrataError.invalidArgument("gap statistic: k values must be in 1...\(x.rows)")
        }
        guard references >= 2 else { throw StrataError.invalidArgument("gap statistic: at least 2 reference sets are needed") }
        let n = x.rows, d = x.cols
        // Principal axes of the centred data (Double), as the paper's SVD X = U D V^T gives them.
        var po = PCAOptions(components: .count(d))
        po.solver = .covariance
        po.threads = kmeans.threads
        let pca = try PCA.fit(x, options: po)
        let mean = pca.mean, axes = pca.components   // d x d, row r = axis r
        var lo = [Double](repeating: .infinity, count: d), hi = [Double](repeating: -.infinity, count: d)
        for i in 0..<n {
            for r in 0..<d {
                var s = 0.0
                for j in 0..<d { s += (Double(x.values[i * d + j]) - mean[j]) * axes[r * d + j] }
                lo[r] = min(lo[r], s); hi[r] = max(hi[r], s)
            }
        }
        func logW(_ set: Dataset, k: Int, seed: UInt64) throws -> Double {
            if k == 1 { return log(max(totalSumOfSquares(set), .leastNormalMagnitude)) }
            var o = kmeans
            o.k = k; o.seed = seed; o.onIteration = nil
            return log(max(try KMeans.fit(set, options: o).inertia, .leastNormalMagnitude))
        }
        var observed: [Double] = []
        for k in ks { observed.append(try logW(x, k: k, seed: seed)) }
        var refLogW = [[Double]](repeating: [], count: ks.count)
        for b in 0..<references {
            var rng = SeededRandom.stream(seed: seed, index: 0x4741_5000 &+ UInt64(b))
            var values = [Float](repeating: 0, count: n * d)
            var z = [Double](repeating: 0, count: d)
            for i in 0..<n {
                for r in 0..<d { z[r] = lo[r] + (hi[r] - lo[r]) * rng.nextUnit() }
                for j in 0..<d {
                    var s = mean[j]
                    for r in 0..<d { s += z[r] * axes[r * d + j] }
                    values[i * d + j] = Float(s)
                }
            }
            let ref = Dataset(rows: n, cols: d, values: values, source: "gap reference \(b)")
            for (i, k) in ks.enumerated() { refLogW[i].append(try logW(ref, k: k, seed: seed &+ UInt64(b + 1))) }
        }
        let B = Double(references)
        let points = ks.indices.map { i -> Point in
            let m = refLogW[i].reduce(0, +) / B
            let sd = (refLogW[i].reduce(0) { $0 + ($1 - m) * ($1 - m) } / B).squareRoot()
            return Point(k: ks[i], logW: observed[i], referenceLogW: m, gap: m - observed[i], standardError: sd * (1 + 1 / B).squareRoot())
        }
        return GapStatistic(points: points, rows: n, references: references)
    }

    /// Sum of squared deviations from the column means (W_1), accumulated in Double.
    static func totalSumOfSquares(_ x: Dataset) -> Double {
        let n = x.rows, d = x.cols
        var total = 0.0
        for j in 0..<d {
            var s = 0.0, s2 = 0.0
            for i in 0..<n { let v = Double(x.values[i * d + j]); s += v; s2 += v * v }
            total += max(0, s2 - s * s / Double(max(1, n)))
        }
        return total
    }
}
