import StrataKernels

/// Per-column mean and (population) variance, accumulated in Double per chunk and merged in
/// chunk order with Chan's parallel formula (no catastrophic cancellation, deterministic).
/// O(n*d) time, one pass; O(d) memory per chunk.
private struct ColumnMoments { var n = 0; var mean: [Double]; var m2: [Double] }

public struct ColumnStatistics: Sendable {
    public var count: Int
    public var means: [Double]
    public var variances: [Double]

    /// Mean of the per-column variances (scikit-learn scales K-Means' tolerance by it).
    public var meanVariance: Double { variances.isEmpty ? 0 : variances.reduce(0, +) / Double(variances.count) }

    public static func compute<S: RowBlockSource>(_ rows: S, partition: RowPartition, threads: Int,
                                                  group: any ChunkGroup = SingleProcess()) -> ColumnStatistics {
        let d = rows.cols
        var parts = [ColumnMoments](repeating: ColumnMoments(mean: [Double](repeating: 0, count: d), m2: [Double](repeating: 0, count: d)), count: partition.count)
        parts.withUnsafeMutableBufferPointer { pp in
            let slots = UncheckedSendable(pp)
            let local = group.localChunks(partition.count)
            Parallel.forEachChunk(local.count, threads: threads) { lc in
                let c = local.lowerBound + lc
                let r = partition.range(c)
                var p = ColumnMoments(mean: [Double](repeating: 0, count: d), m2: [Double](repeating: 0, count: d))
                rows.withRows(r) { x in
                    // Two-pass within the chunk: exact mean, then squared deviations.
                    let m = r.count
                    for i in 0..<m { for j in 0..<d { p.mean[j] += Double(x[i * d + j]) } }
                    for j in 0..<d { p.mean[j] /= Double(m) }
                    for i in 0..<m { for j in 0..<d { let t = Double(x[i * d + j]) - p.mean[j]; p.m2[j] += t * t } }
                    p.n = m
                }
                slots.value[c] = p
            }
        }
        if group.isDistributed {
            let w = 1 + 2 * d
            var flat = [Double](repeating: 0, count: partition.count * w)
            for c in group.localChunks(partition.count) {
                flat[c * w] = Double(parts[c].n)
                for j in 0..<d { flat[c * w + 1 + j] = parts[c].mean[j]; flat[c * w + 1 + d + j] = parts[c].m2[j] }
            }
            group.allGather(&flat, chunks: partition.count, width: w)
            for c in 0..<partition.count {
                parts[c].n = Int(flat[c * w])
                for j in 0..<d { parts[c].mean[j] = flat[c * w + 1 + j]; parts[c].m2[j] = flat[c * w + 1 + d + j] }
            }
        }
        var total = ColumnMoments(mean: [Double](repeating: 0, count: d), m2: [Double](repeating: 0, count: d))
        for p in parts where p.n > 0 {
            let n = Double(total.n + p.n)
            for j in 0..<d {
                let delta = p.mean[j] - total.mean[j]
                total.mean[j] += delta * Double(p.n) / n
                total.m2[j] += p.m2[j] + delta * delta * Double(total.n) * Double(p.n) / n
            }
            total.n += p.n
        }
        let variances = total.m2.map { total.n > 0 ? $0 / Double(total.n) : 0 }
        return ColumnStatistics(count: total.n, means: total.mean, variances: variances)
    }
}
