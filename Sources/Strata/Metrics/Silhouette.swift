import Foundation
import StrataKernels
import StrataLinalg

/// Silhouette coefficients (Rousseeuw 1987) with Euclidean distances, as scikit-learn defines
/// them: s_i = (b_i - a_i) / max(a_i, b_i), a_i the mean distance to the other members of i's
/// cluster, b_i the smallest mean distance to another cluster; s_i = 0 in singleton clusters.
///
/// Exact: O(n^2 * d) time through blocked DGEMM, O(block * n) memory (never n x n), parallel over
/// fixed blocks (identical for any thread count). Rows are sorted by cluster once, so each block
/// row's per-cluster sums are contiguous vector sums. Numerics: Double throughout, on centered data,
/// self-distances forced to 0.
public struct SilhouetteResult: Sendable {
    /// Mean coefficient over the evaluated rows.
    public var mean: Double
    /// Standard error of `mean` when rows were sampled (with finite-population correction), else 0.
    public var standardError: Double
    /// Rows evaluated (all rows, or the sample).
    public var rows: [Int]
    /// Coefficient of each evaluated row, aligned with `rows`.
    public var values: [Double]
    /// Mean coefficient per cluster over the evaluated rows (nil where none was evaluated).
    public var perCluster: [Double?]
}

public enum Silhouette {
    /// Memory for one block of distances per worker.
    static let blockBudget = 32 << 20

    /// Exact silhouette of every row (`sample == nil`) or of a seeded sample of `sample` rows
    /// (without replacement), each against all n rows.
    public static func compute(_ data: Dataset, labels: ClusterLabels, sample: Int? = nil, seed: UInt64 = 0,
                               threads: Int = defaultThreadCount) throws -> SilhouetteResult {
        let n = data.rows, d = data.cols, k = labels.k
        guard labels.rows == n else { throw StrataError.invalidArgument("\(data.source) has \(n) rows but there are \(labels.rows) labels") }
        guard k >= 2 && k <= n - 1 else {
            throw StrataError.invalidArgument("silhouette needs 2 <= number of clusters <= rows - 1 (got \(k) clusters for \(n) rows)")
        }
        // Evaluated rows.
        var rows: [Int]
        if let m = sample, m < n {
            guard m >= 2 else { throw StrataError.invalidArgument("--sample must be at least 2") }
            var rng = SeededRandom(seed: seed)
            var chosen = Set<Int>()
            for j in (n - m)..<n {
                let t = Int(rng.next() % UInt64(j + 1))
                if !chosen.insert(t).inserted { chosen.insert(j) }
            }
            rows = chosen.sorted()
        } else {
            rows = Array(0..<n)
        }
        // Centered Double copy, sorted by cluster (stable), with cluster ranges.
        let stats = data.withRows { r, _ in ColumnStatistics.compute(r, partition: RowPartition(rows: n), threads: threads) }
        var order = Array(0..<n)
        order.sort { (labels.indices[$0], $0) < (labels.indices[$1], $1) }
        var position = [Int](repeating: 0, count: n)
        for (p, i) in order.enumerated() { position[i] = p }
        var xs = [Double](repeating: 0, count: n * d)
        for (p, i) in order.enumerated() { for j in 0..<d { xs[p * d + j] = Double(data.values[i * d + j]) - stats.means[j] } }
        var norms = [Double](repeating: 0, count: n)
        for p in 0..<n { var s = 0.0; for j in 0..<d { s += xs[p * d + j] * xs[p * d + j] }; norms[p] = s }
        var start = [Int](repeating: 0, count: k + 1)
        for c in 0..<k { start[c + 1] = start[c] + labels.counts[c] }

        let blockRows = max(1, min(rows.count, blockBudget / (8 * max(1, n))))
        let part = RowPartition(rows: rows.count, chunkRows: blockRows)
        var values = [Double](repeating: 0, count: rows.count)
        let counts = labels.counts
        xs.withUnsafeBufferPointer { xp in
            norms.withUnsafeBufferPointer { np in
                values.withUnsafeMutableBufferPointer { vp in
                    let shared = UncheckedSendable((xp.baseAddress!, np.baseAddress!, vp.baseAddress!))
                    Parallel.forEachChunk(part.count, threads: threads) { chunk in
                        let (x, nrm, out) = shared.value
                        let r = part.range(chunk)
                        let m = r.count
                        var block = [Double](repeating: 0, count: m * d)
                        var g = [Double](repeating: 0, count: m * n)
                        for (bi, ri) in r.enumerated() {
                            let p = position[rows[ri]]
                            for j in 0..<d { block[bi * d + j] = x[p * d + j] }
                        }
                        block.withUnsafeBufferPointer { bp in
                            g.withUnsafeMutableBufferPointer { gp in
                                BLAS.gemm(transB: true, MatrixView(bp.baseAddress!, rows: m, cols: d), MatrixView(x, rows: n, cols: d),
                                          into: MutableMatrixView(gp.baseAddress!, rows: m, cols: n))
                            }
                        }
                        var clusterMean = [Double](repeating: 0, count: k)
                        for (bi, ri) in r.enumerated() {
                            let p = position[rows[ri]]
                            let own = Int(labels.indices[rows[ri]])
                            let rowNorm = nrm[p]
                            g.withUnsafeMutableBufferPointer { gp in
                                let row = gp.baseAddress! + bi * n
                                for q in 0..<n { row[q] = max(0, rowNorm + nrm[q] - 2 * row[q]).squareRoot() }
                                row[p] = 0
                                for c in 0..<k {
                                    var s = 0.0
                                    for q in start[c]..<start[c + 1] { s += row[q] }
                                    clusterMean[c] = s
                                }
                            }
                            if counts[own] <= 1 { out[ri] = 0; continue }
                            let a = clusterMean[own] / Double(counts[own] - 1)
                            var b = Double.infinity
                            for c in 0..<k where c != own && counts[c] > 0 { b = min(b, clusterMean[c] / Double(counts[c])) }
                            let denom = max(a, b)
                            out[ri] = denom > 0 && denom.isFinite ? (b - a) / denom : 0
                        }
                    }
                }
            }
        }
        let mean = values.reduce(0, +) / Double(values.count)
        var se = 0.0
        if rows.count < n {
            let m = Double(rows.count)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(1, m - 1)
            se = (variance / m * (1 - m / Double(n))).squareRoot()
        }
        var perSum = [Double](repeating: 0, count: k), perCount = [Int](repeating: 0, count: k)
        for (ri, v) in zip(rows, values) { let c = Int(labels.indices[ri]); perSum[c] += v; perCount[c] += 1 }
        let perCluster: [Double?] = (0..<k).map { perCount[$0] > 0 ? perSum[$0] / Double(perCount[$0]) : nil }
        return SilhouetteResult(mean: mean, standardError: se, rows: rows, values: values, perCluster: perCluster)
    }

    /// The simplified silhouette on squared Euclidean distances, as Spark's ClusteringEvaluator
    /// defines it (a different metric from the Euclidean silhouette): a_i and b_i are mean
    /// *squared* distances, computable from per-cluster count, sum and sum of squared norms, so
    /// the cost is O(n * k * d), one pass for the statistics and one for the rows.
    public static func simplified(_ data: Dataset, labels: ClusterLabels, threads: Int = defaultThreadCount) throws -> Double {
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
        var partial = [Double](repeating: 0, count: part.count)
        partial.withUnsafeMutableBufferPointer { pp in
            let slots = UncheckedSendable(pp.baseAddress!)
            Parallel.forEachChunk(part.count, threads: threads) { chunk in
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
                slots.value[chunk] = acc
            }
        }
        return partial.reduce(0, +) / Double(n)
    }
}
