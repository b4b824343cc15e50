import Foundation
import StrataKernels
import StrataLinalg

/// Silhouette coefficients (Rousseeuw 1987) with Euclidean distances, as scikit-learn defines
/// them: s_i = (b_i - a_i) / max(a_i, b_i), a_i the mean distance to the other members of i's
/// cluster, b_i the smallest mean distance to another cluster; s_i = 0 in singleton clusters.
///
/// Exact: O(n^2 * d) time, O(n * d) memory (a cluster-sorted copy of the data; never n x n),
/// parallel over fixed row chunks (identical for any thread count). The SIMD kernel takes 16 rows
/// at a time against every reference row with direct float differences (no cancellation), and
/// per-cluster distance sums are flushed to Double every 128 reference rows.
public struct SilhouetteResult: Sendable {
    /// Mean coefficient over the evaluated rows.
    public var mean: Double
    /// Standard error of `mean` when estimated from a sample (standard deviation of the sampled
    /// coefficients / sqrt(sample)), else 0.
    public var standardError: Double
    /// Rows evaluated (all rows, or the sample), as row numbers of the input.
    public var rows: [Int]
    /// Coefficient of each evaluated row, aligned with `rows`.
    public var values: [Double]
    /// Mean coefficient per cluster over the evaluated rows (nil where none was evaluated).
    public var perCluster: [Double?]
    /// The device that computed the distance sums, and its step times; nil on the CPU.
    public var gpu: GPURunRecord? = nil
}

public enum Silhouette {
    /// Default policy of `score` and `sweep`: exact up to this many rows (O(n^2) time)...
    public static let exactLimit = 50_000
    /// ...else scikit-learn's sample_size estimate on this many seeded rows.
    public static let defaultSample = 10_000

    /// Exact silhouette of every row (`sample == nil`), or scikit-learn's `sample_size` estimate:
    /// the exact silhouette of a seeded random subset of `sample` rows (drawn without replacement),
    /// O(sample^2 * d), with its standard error.
    /// With `gpu`, the O(n^2) distance sums run on that device (`deviceClusterDistanceSums`),
    /// bit-identical to the CPU's, so the result is too.
    public static func compute(_ data: Dataset, labels: ClusterLabels, sample: Int? = nil, seed: UInt64 = 0,
                               threads: Int = defaultThreadCount, gpu: (any GPUBackend)? = nil) throws -> SilhouetteResult {
        let n = data.rows, d = data.cols, k = labels.k
        guard labels.rows == n else { throw StrataError.invalidArgument("\(data.source) has \(n) rows but there are \(labels.rows) labels") }
        guard k >= 2 && k <= n - 1 else {
            throw StrataError.insufficientData("silhouette needs 2 <= number of clusters <= rows - 1 (got \(k) clusters for \(n) rows)")
        }
        guard let m = sample, m < n else {
            var times: GPUStepTimes? = nil
            let values = try exact(values: data.materialized().values, d: d, labels: labels, threads: threads, gpu: gpu, times: &times)
            var r = summarize(rows: Array(0..<n), values: values, labels: labels, sampled: false)
            r.gpu = zip2(gpu, times).map { GPURunRecord(device: $0.info, steps: $1) }
            return r
        }
        guard m >= 2 else { throw StrataError.invalidArgument("the silhouette sample must hold at least 2 rows") }
        var rng = SeededRandom(seed: seed)
        var chosen = Set<Int>()
        for j in (n - m)..<n {
            let t = Int(rng.next() % UInt64(j + 1))
            if !chosen.insert(t).inserted { chosen.insert(j) }
        }
        let rows = chosen.sorted()
        let sub = data.subset(rows: rows).values
        let subLabels = ClusterLabels(indices: rows.map { labels.indices[$0] }, values: labels.values)
        guard subLabels.counts.filter({ $0 > 0 }).count >= 2 else {
            throw StrataError.invalidArgument("the silhouette sample of \(m) rows holds a single cluster; sample more rows")
        }
        var times: GPUStepTimes? = nil
        let values = try exact(values: sub, d: d, labels: subLabels, threads: threads, gpu: gpu, times: &times)
        var r = summarize(rows: rows, values: values, labels: labels, sampled: true)
        r.gpu = zip2(gpu, times).map { GPURunRecord(device: $0.info, steps: $1) }
        return r
    }

    static func summarize(rows: [Int], values: [Double], labels: ClusterLabels, sampled: Bool) -> SilhouetteResult {
        let count = Double(values.count)
        let mean = values.reduce(0, +) / count
        var se = 0.0
        if sampled {
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(1, count - 1)
            se = (variance / count).squareRoot()
        }
        var perSum = [Double](repeating: 0, count: labels.k), perCount = [Int](repeating: 0, count: labels.k)
        for (r, v) in zip(rows, values) { let c = Int(labels.indices[r]); perSum[c] += v; perCount[c] += 1 }
        let perCluster: [Double?] = (0..<labels.k).map { perCount[$0] > 0 ? perSum[$0] / Double(perCount[$0]) : nil }
        return SilhouetteResult(mean: mean, standardError: se, rows: rows, values: values, perCluster: perCluster)
    }

    /// Exact coefficients of every row of `values` (row-major, d columns) under `labels`.
    static func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? { if let a, let b { return (a, b) } else { return nil } }

    /// With `gpu`, every row's distance sums come from the device in one pass (n x k doubles),
    /// and `times` gets its step times.
    static func exact(values: [Float], d: Int, labels: ClusterLabels, threads: Int,
                      gpu: (any GPUBackend)? = nil, times: inout GPUStepTimes?) throws -> [Double] {
        let n = labels.rows, k = labels.k
        // Sort rows by cluster (stable) so each cluster is one contiguous run of reference rows.
        var order = Array(0..<n)
        order.sort { (labels.indices[$0], $0) < (labels.indices[$1], $1) }
        var y = [Float](repeating: 0, count: n * d)
        for (p, i) in order.enumerated() { for j in 0..<d { y[p * d + j] = values[i * d + j] } }
        let reference = ClusterDistanceSums(sortedRows: y, d: d, clusterSizes: labels.counts)
        let st = reference.clusterStarts
        let counts = labels.counts
        let device = try gpu.map { try deviceClusterDistanceSums(backend: $0, sortedRows: y, d: d, clusterStarts: st) }
        times = device?.times
        let deviceSums = device?.sums
        let part = RowPartition(rows: n, chunkRows: 256)
        let sorted = Parallel.map(part.count, threads: threads) { chunk in
            var scratch = reference.makeScratch()
            var sums = [Double](repeating: 0, count: ClusterDistanceSums.blockRows * k)
            let r = part.range(chunk)
            var o = [Double](repeating: 0, count: r.count)
            var p0 = r.lowerBound
            while p0 < r.upperBound {
                let m = min(ClusterDistanceSums.blockRows, r.upperBound - p0)
                if let ds = deviceSums {
                    for i in 0..<(m * k) { sums[i] = ds[p0 * k + i] }
                } else {
                    reference.sums(ofRows: p0..<(p0 + m), into: &sums, scratch: &scratch)
                }
                for l in 0..<m {
                    let p = p0 + l
                    var own = 0
                    while st[own + 1] <= p { own += 1 }
                    if counts[own] <= 1 { o[p - r.lowerBound] = 0; continue }
                    let a = sums[l * k + own] / Double(counts[own] - 1)
                    var b = Double.infinity
                    for c in 0..<k where c != own && counts[c] > 0 { b = min(b, sums[l * k + c] / Double(counts[c])) }
                    let denom = max(a, b)
                    o[p - r.lowerBound] = denom > 0 && denom.isFinite ? (b - a) / denom : 0
                }
                p0 += m
            }
            return o
        }.flatMap { $0 }
        var result = [Double](repeating: 0, count: n)
        for (p, i) in order.enumerated() { result[i] = sorted[p] }
        return result
    }

    /// The simplified silhouette on squared Euclidean distances, as Spark's ClusteringEvaluator
    /// defines it (a different metric from the Euclidean silhouette): a_i and b_i are mean
    /// *squared* distances, computable from per-cluster count, sum and sum of squared norms, so
    /// the cost is O(n * k * d), one pass for the statistics and one for the rows.
    public static func simplified(_ input: Dataset, labels: ClusterLabels, threads: Int = defaultThreadCount) throws -> Double {
        let data = input.materialized()
        let n = data.rows, d = data.cols, k = labels.k
        guard labels.rows == n else { throw StrataError.invalidArgument("\(data.source) has \(n) rows but there are \(labels.rows) labels") }
        guard k >= 2 else { throw StrataError.invalidArgument("the simplified silhouette needs at least 2 clusters (got \(k))") }
        let stats = data.withRows { r, _ in ColumnStatistics.compute(r, partition: RowPartition(rows: n), threads: threads) }
        var sum = [Double](repeating: 0, count: k * d), sq = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let c = Int(labels.indices[i])
            var s = 0.0
            for j in 0..<d { let v = Double(data.values[i * d + j]) - stats.means[j]; sum[c * d + j] += v; s += v * v }
            sq[c] += s
        }
        let part = RowPartition(rows: n)
        let total = ChunkedReduction.reduce(part, threads: threads, zero: 0.0) { chunk, _ in
            var acc = 0.0
            var x = [Double](repeating: 0, count: d)
            for i in part.range(chunk) {
                var xn = 0.0
                for j in 0..<d { x[j] = Double(data.values[i * d + j]) - stats.means[j]; xn += x[j] * x[j] }
                let own = Int(labels.indices[i])
                if labels.counts[own] <= 1 { continue }
                func meanSq(_ c: Int, _ divisor: Double) -> Double {
                    var dot = 0.0
                    for j in 0..<d { dot += x[j] * sum[c * d + j] }
                    return max(0, (Double(labels.counts[c]) * xn - 2 * dot + sq[c]) / divisor)
                }
                let a = meanSq(own, Double(labels.counts[own] - 1))
                var b = Double.infinity
                for c in 0..<k where c != own && labels.counts[c] > 0 { b = min(b, meanSq(c, Double(labels.counts[c]))) }
                if a < b { acc += 1 - a / b } else if a > b { acc += b / a - 1 }
            }
            return acc
        }
        return total / Double(n)
    }
}
