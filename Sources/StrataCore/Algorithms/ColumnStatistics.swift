import StrataKernels

/// Per-column (weighted) mean and (population) variance, accumulated in Double per chunk and
/// merged in chunk order with Chan's parallel formula (no catastrophic cancellation,
/// deterministic). Without weights every row weighs 1. O(n*d) time, one pass; O(d) memory per chunk.
private struct ColumnMoments: ChunkPartial {
    var n = 0
    /// Total weight (n without weights).
    var weight = 0.0
    var mean: [Double]
    var m2: [Double]

    init(d: Int) {
        mean = [Double](repeating: 0, count: d)
        m2 = [Double](repeating: 0, count: d)
    }

    /// Chan's merge of the next chunk (chunks of no weight add nothing).
    mutating func add(_ p: ColumnMoments) {
        n += p.n
        guard p.weight > 0 else { return }
        let d = mean.count
        let w = weight + p.weight
        for j in 0..<d {
            let delta = p.mean[j] - mean[j]
            mean[j] += delta * p.weight / w
            m2[j] += p.m2[j] + delta * delta * weight * p.weight / w
        }
        weight = w
    }

    /// n, weight, means, m2.
    var flatWidth: Int { 2 + 2 * mean.count }
    func write(to out: UnsafeMutablePointer<Double>) {
        let d = mean.count
        out[0] = Double(n)
        out[1] = weight
        for j in 0..<d { out[2 + j] = mean[j]; out[2 + d + j] = m2[j] }
    }
    mutating func read(from flat: UnsafePointer<Double>) {
        let d = mean.count
        n = Int(flat[0])
        weight = flat[1]
        for j in 0..<d { mean[j] = flat[2 + j]; m2[j] = flat[2 + d + j] }
    }

    /// Two passes over one chunk's rows `x` (m x d): exact (weighted) mean, then squared deviations.
    init(_ x: UnsafePointer<Float>, rows m: Int, d: Int, weights w: UnsafePointer<Float>?) {
        self.init(d: d)
        n = m
        if let w {
            for i in 0..<m where w[i] > 0 {
                let wi = Double(w[i])
                weight += wi
                for j in 0..<d { mean[j] += wi * Double(x[i * d + j]) }
            }
            guard weight > 0 else { return }
            for j in 0..<d { mean[j] /= weight }
            for i in 0..<m where w[i] > 0 {
                let wi = Double(w[i])
                for j in 0..<d { let t = Double(x[i * d + j]) - mean[j]; m2[j] += wi * t * t }
            }
        } else {
            weight = Double(m)
            for i in 0..<m { for j in 0..<d { mean[j] += Double(x[i * d + j]) } }
            for j in 0..<d { mean[j] /= Double(m) }
            for i in 0..<m { for j in 0..<d { let t = Double(x[i * d + j]) - mean[j]; m2[j] += t * t } }
        }
    }
}

public struct ColumnStatistics: Sendable {
    public var count: Int
    public var means: [Double]
    public var variances: [Double]

    /// Mean of the per-column variances (scikit-learn scales K-Means' tolerance by it).
    public var meanVariance: Double { variances.isEmpty ? 0 : variances.reduce(0, +) / Double(variances.count) }

    /// One pass over `rows` (n x d) by `ChunkedReduction` over `partition`: bit-identical for any
    /// `threads` and any `group`. With `weights` (indexed by row), the weighted means and
    /// variances sum_i w_i (x_i - mean)^2 / sum_i w_i: rows of weight 0 do not count.
    public static func compute<S: RowBlockSource>(_ rows: S, weights: UnsafePointer<Float>? = nil, partition: RowPartition,
                                                  threads: Int, group: any ChunkGroup = SingleProcess()) -> ColumnStatistics {
        let d = rows.cols
        let w = UncheckedSendable(weights)
        let total = ChunkedReduction.reduce(partition, threads: threads, group: group, zero: ColumnMoments(d: d)) { _, r in
            rows.withRows(r) { x in ColumnMoments(x, rows: r.count, d: d, weights: w.value.map { $0 + r.lowerBound }) }
        }
        let variances = total.m2.map { total.weight > 0 ? $0 / total.weight : 0 }
        return ColumnStatistics(count: total.n, means: total.mean, variances: variances)
    }
}
