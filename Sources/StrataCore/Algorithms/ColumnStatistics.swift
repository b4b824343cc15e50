import StrataKernels

/// Per-column mean and (population) variance, accumulated in Double per chunk and merged in
/// chunk order with Chan's parallel formula (no catastrophic cancellation, deterministic).
/// O(n*d) time, one pass; O(d) memory per chunk.
private struct ColumnMoments: ChunkPartial {
    var n = 0
    var mean: [Double]
    var m2: [Double]

    init(d: Int) {
        mean = [Double](repeating: 0, count: d)
        m2 = [Double](repeating: 0, count: d)
    }

    /// Chan's merge of the next chunk (empty chunks add nothing).
    mutating func add(_ p: ColumnMoments) {
        guard p.n > 0 else { return }
        let d = mean.count
        let n = Double(self.n + p.n)
        for j in 0..<d {
            let delta = p.mean[j] - mean[j]
            mean[j] += delta * Double(p.n) / n
            m2[j] += p.m2[j] + delta * delta * Double(self.n) * Double(p.n) / n
        }
        self.n += p.n
    }

    /// n, means, m2.
    var flatWidth: Int { 1 + 2 * mean.count }
    func write(to out: UnsafeMutablePointer<Double>) {
        let d = mean.count
        out[0] = Double(n)
        for j in 0..<d { out[1 + j] = mean[j]; out[1 + d + j] = m2[j] }
    }
    mutating func read(from flat: UnsafePointer<Double>) {
        let d = mean.count
        n = Int(flat[0])
        for j in 0..<d { mean[j] = flat[1 + j]; m2[j] = flat[1 + d + j] }
    }
}

public struct ColumnStatistics: Sendable {
    public var count: Int
    public var means: [Double]
    public var variances: [Double]

    /// Mean of the per-column variances (scikit-learn scales K-Means' tolerance by it).
    public var meanVariance: Double { variances.isEmpty ? 0 : variances.reduce(0, +) / Double(variances.count) }

    /// One pass over `rows` (n x d) by `ChunkedReduction` over `partition`: bit-identical for any
    /// `threads` and any `group`.
    public static func compute<S: RowBlockSource>(_ rows: S, partition: RowPartition, threads: Int,
                                                  group: any ChunkGroup = SingleProcess()) -> ColumnStatistics {
        let d = rows.cols
        let total = ChunkedReduction.reduce(partition, threads: threads, group: group, zero: ColumnMoments(d: d)) { _, r in
            var p = ColumnMoments(d: d)
            rows.withRows(r) { x in
                // Two-pass within the chunk: exact mean, then squared deviations.
                let m = r.count
                for i in 0..<m { for j in 0..<d { p.mean[j] += Double(x[i * d + j]) } }
                for j in 0..<d { p.mean[j] /= Double(m) }
                for i in 0..<m { for j in 0..<d { let t = Double(x[i * d + j]) - p.mean[j]; p.m2[j] += t * t } }
                p.n = m
            }
            return p
        }
        let variances = total.m2.map { total.n > 0 ? $0 / Double(total.n) : 0 }
        return ColumnStatistics(count: total.n, means: total.mean, variances: variances)
    }
}
