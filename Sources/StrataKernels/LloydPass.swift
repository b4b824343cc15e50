import CStrataKernels

/// Sufficient statistics of one assignment pass: weighted per-cluster sums and weights, and
/// the weighted inertia, all accumulated in Double.
public struct ClusterStatistics: ChunkPartial, Sendable {
    public var k: Int
    public var d: Int
    /// k x d row-major weighted sums of the rows assigned to each cluster.
    public var sums: [Double]
    /// Total weight per cluster.
    public var weights: [Double]
    /// Sum over rows of w_i * ||x_i - c_{label_i}||^2.
    public var inertia: Double
    /// Rows whose label differs from the label array's previous content.
    public var changed: Int
    /// Rows compared with every centroid (the rest were pruned by bounds).
    public var fullyAssigned: Int

    public init(k: Int, d: Int) {
        self.k = k; self.d = d
        sums = [Double](repeating: 0, count: k * d)
        weights = [Double](repeating: 0, count: k)
        inertia = 0
        changed = 0
        fullyAssigned = 0
    }

    /// Adds `other` (same shape) into self. Callers add chunks in chunk order.
    public mutating func add(_ other: ClusterStatistics) {
        for i in 0..<sums.count { sums[i] += other.sums[i] }
        for i in 0..<weights.count { weights[i] += other.weights[i] }
        inertia += other.inertia
        changed += other.changed
        fullyAssigned += other.fullyAssigned
    }

    /// Flat form for exchange: sums, weights, inertia, changed, fullyAssigned.
    public var flatWidth: Int { k * d + k + 3 }
    public func write(to out: UnsafeMutablePointer<Double>) {
        for i in 0..<sums.count { out[i] = sums[i] }
        for i in 0..<weights.count { out[sums.count + i] = weights[i] }
        out[sums.count + weights.count] = inertia
        out[sums.count + weights.count + 1] = Double(changed)
        out[sums.count + weights.count + 2] = Double(fullyAssigned)
    }
    public mutating func read(from flat: UnsafePointer<Double>) {
        for i in 0..<sums.count { sums[i] = flat[i] }
        for i in 0..<weights.count { weights[i] = flat[sums.count + i] }
        inertia = flat[sums.count + weights.count]
        changed = Int(flat[sums.count + weights.count + 1])
        fullyAssigned = Int(flat[sums.count + weights.count + 2])
    }
}

/// The fused Lloyd pass: assigns every row to its nearest centroid and accumulates the
/// statistics for the next centroids in the same sweep over the data (one read of X).
///
/// Parallel over the fixed `partition` (`ChunkedReduction`); chunk partials are reduced in chunk
/// order, so the result is bit-identical for any `threads` and any `group`. Memory: labels and
/// dist (n each, caller-owned), plus k*(d+1) doubles and one assigner scratch per chunk.
/// - Parameters:
///   - labels: in: previous labels (for the change count; anything on the first pass), out: new.
///   - dist: out: squared distance of each row to its assigned centroid.
///   - accumulate: false for assignment only (`predict`, final relabel); statistics then hold
///     just inertia and changes.
public func lloydPass<A: CentroidAssigner, S: RowBlockSource>(
    source: S, weights: UnsafePointer<Float>?, assigner: A,
    labels: UnsafeMutablePointer<Int32>, dist: UnsafeMutablePointer<Float>,
    partition: RowPartition, threads: Int, accumulate: Bool = true, group: any ChunkGroup = SingleProcess()
) -> ClusterStatistics {
    precondition(source.cols == assigner.d && partition.rows == source.rows)
    let k = assigner.k, d = assigner.d
    let zero = ClusterStatistics(k: accumulate ? k : 0, d: d)
    let out = UncheckedSendable((labels, dist, weights))
    return ChunkedReduction.reduce(partition, threads: threads, group: group, zero: zero) { _, range in
        let (labels, dist, weights) = out.value
        var stats = zero
        var scratch = assigner.makeScratch()
        var counters = AssignCounters()
        var lo = range.lowerBound
        while lo < range.upperBound {
            let hi = min(range.upperBound, lo + A.blockRows)
            source.withRows(lo..<hi) { x in
                assigner.assign(x, firstRow: lo, rows: hi - lo, labels: labels + lo, dist: dist + lo, scratch: &scratch, counters: &counters)
                if accumulate {
                    stats.sums.withUnsafeMutableBufferPointer { s in
                        stats.weights.withUnsafeMutableBufferPointer { w in
                            strata_accumulate_rows(x, Int64(hi - lo), Int64(d), weights.map { $0 + lo }, labels + lo, dist + lo,
                                                   s.baseAddress, w.baseAddress, &stats.inertia)
                        }
                    }
                } else {
                    var acc = 0.0
                    if let w = weights {
                        for i in lo..<hi { acc += Double(w[i]) * Double(dist[i]) }
                    } else {
                        for i in lo..<hi { acc += Double(dist[i]) }
                    }
                    stats.inertia += acc
                }
            }
            lo = hi
        }
        stats.changed = Int(counters.changed)
        stats.fullyAssigned = Int(counters.fullyAssigned)
        return stats
    }
}
