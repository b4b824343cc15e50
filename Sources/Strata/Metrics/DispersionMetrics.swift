import StrataKernels

/// Inertia, Calinski-Harabasz and Davies-Bouldin from per-cluster statistics, as scikit-learn
/// defines them (unweighted). Two sequential passes over the data, O(n*d) time, O(k*d) memory per
/// chunk, Double accumulation, deterministic for any thread count.
public struct DispersionMetrics: Sendable {
    /// Within-cluster sum of squared distances to the cluster means.
    public var inertia: Double
    /// Between-cluster dispersion / within-cluster dispersion, scaled by (n - k) / (k - 1).
    /// nil when k < 2 or k >= n (undefined, as scikit-learn).
    public var calinskiHarabasz: Double?
    /// Mean over clusters of the worst (s_i + s_j) / d(c_i, c_j). nil when k < 2 or k >= n.
    public var daviesBouldin: Double?
    /// Cluster means (k x d), in dense label order.
    public var centroids: [[Double]]

    public static func compute(_ data: Dataset, labels: ClusterLabels, threads: Int = defaultThreadCount) throws -> DispersionMetrics {
        guard labels.rows == data.rows else {
            throw StrataError.invalidArgument("\(data.source) has \(data.rows) rows but there are \(labels.rows) labels")
        }
        let n = data.rows, d = data.cols, k = labels.k
        let part = RowPartition(rows: n)
        // Pass 1: per-cluster sums.
        var parts = [[Double]](repeating: [], count: part.count)
        data.withRows { rows, _ in
            labels.indices.withUnsafeBufferPointer { lab in
                let l = UncheckedSendable(lab.baseAddress!)
                parts.withUnsafeMutableBufferPointer { pp in
                    let slots = UncheckedSendable(pp.baseAddress!)
                    Parallel.forEachChunk(part.count, threads: threads) { c in
                        let r = part.range(c)
                        var s = [Double](repeating: 0, count: k * d)
                        rows.withRows(r) { x in
                            for i in 0..<r.count {
                                let base = Int(l.value[r.lowerBound + i]) * d
                                for j in 0..<d { s[base + j] += Double(x[i * d + j]) }
                            }
                        }
                        slots.value[c] = s
                    }
                }
            }
        }
        var sums = [Double](repeating: 0, count: k * d)
        for p in parts { for i in 0..<(k * d) { sums[i] += p[i] } }
        let centroids = (0..<k).map { c in (0..<d).map { sums[c * d + $0] / Double(max(1, labels.counts[c])) } }
        let flat = centroids.flatMap { $0 }
        // Pass 2: squared and plain distances to the own centroid, per cluster.
        var parts2 = [[Double]](repeating: [], count: part.count)
        data.withRows { rows, _ in
            labels.indices.withUnsafeBufferPointer { lab in
                let l = UncheckedSendable(lab.baseAddress!)
                parts2.withUnsafeMutableBufferPointer { pp in
                    let slots = UncheckedSendable(pp.baseAddress!)
                    Parallel.forEachChunk(part.count, threads: threads) { c in
                        let r = part.range(c)
                        var s = [Double](repeating: 0, count: 2 * k)
                        rows.withRows(r) { x in
                            for i in 0..<r.count {
                                let cl = Int(l.value[r.lowerBound + i])
                                var q = 0.0
                                for j in 0..<d { let t = Double(x[i * d + j]) - flat[cl * d + j]; q += t * t }
                                s[cl] += q
                                s[k + cl] += q.squareRoot()
                            }
                        }
                        slots.value[c] = s
                    }
                }
            }
        }
        var within = [Double](repeating: 0, count: k), meanDist = [Double](repeating: 0, count: k)
        for p in parts2 { for c in 0..<k { within[c] += p[c]; meanDist[c] += p[k + c] } }
        for c in 0..<k { meanDist[c] /= Double(max(1, labels.counts[c])) }
        let inertia = within.reduce(0, +)

        var ch: Double? = nil, db: Double? = nil
        if k >= 2 && k < n {
            // Calinski-Harabasz.
            var mean = [Double](repeating: 0, count: d)
            for c in 0..<k { for j in 0..<d { mean[j] += sums[c * d + j] } }
            for j in 0..<d { mean[j] /= Double(n) }
            var extra = 0.0
            for c in 0..<k {
                var q = 0.0
                for j in 0..<d { let t = centroids[c][j] - mean[j]; q += t * t }
                extra += Double(labels.counts[c]) * q
            }
            ch = inertia == 0 ? 1.0 : extra * Double(n - k) / (inertia * Double(k - 1))
            // Davies-Bouldin (scikit-learn: zero centroid distances count as infinite).
            var centroidDist = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
            var allZero = true
            for a in 0..<k { for b in 0..<k where a != b {
                var q = 0.0
                for j in 0..<d { let t = centroids[a][j] - centroids[b][j]; q += t * t }
                centroidDist[a][b] = q.squareRoot()
                if centroidDist[a][b] > 1e-8 { allZero = false }
            } }
            if allZero || meanDist.allSatisfy({ abs($0) <= 1e-8 }) {
                db = 0
            } else {
                var total = 0.0
                for a in 0..<k {
                    var worst = 0.0
                    for b in 0..<k where b != a {
                        let dist = centroidDist[a][b] == 0 ? Double.infinity : centroidDist[a][b]
                        worst = max(worst, (meanDist[a] + meanDist[b]) / dist)
                    }
                    total += worst
                }
                db = total / Double(k)
            }
        }
        return DispersionMetrics(inertia: inertia, calinskiHarabasz: ch, daviesBouldin: db, centroids: centroids)
    }
}
