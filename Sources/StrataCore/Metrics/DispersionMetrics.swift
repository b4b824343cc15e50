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

    /// With a `group` of several processes (MPI ranks), each computes its own chunks and all
    /// reduce every chunk's partials in chunk order: the same numbers as one process.
    public static func compute(_ data: Dataset, labels: ClusterLabels, threads: Int = defaultThreadCount,
                               group: any ChunkGroup = SingleProcess()) throws -> DispersionMetrics {
        guard labels.rows == data.rows else {
            throw StrataError.invalidArgument("\(data.source) has \(data.rows) rows but there are \(labels.rows) labels")
        }
        let n = data.rows, d = data.cols, k = labels.k
        // Pass 1: per-cluster sums.
        let sums = chunkedSums(data, labels, width: k * d, threads: threads, group: group) { x, lab, count, s in
            for i in 0..<count {
                let base = Int(lab[i]) * d
                for j in 0..<d { s[base + j] += Double(x[i * d + j]) }
            }
        }
        let centroids = (0..<k).map { c in (0..<d).map { sums[c * d + $0] / Double(max(1, labels.counts[c])) } }
        let flat = centroids.flatMap { $0 }
        // Pass 2: squared and plain distances to the own centroid, per cluster.
        let dists = flat.withUnsafeBufferPointer { fp in
            let flat = fp.baseAddress!
            return chunkedSums(data, labels, width: 2 * k, threads: threads, group: group) { x, lab, count, s in
                for i in 0..<count {
                    let cl = Int(lab[i]), c = cl * d, row = x + i * d
                    // Four independent partial sums: one serial chain of Double adds costs 4x.
                    var q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0
                    var j = 0
                    while j + 4 <= d {
                        let t0 = Double(row[j]) - flat[c + j], t1 = Double(row[j + 1]) - flat[c + j + 1]
                        let t2 = Double(row[j + 2]) - flat[c + j + 2], t3 = Double(row[j + 3]) - flat[c + j + 3]
                        q0 += t0 * t0; q1 += t1 * t1; q2 += t2 * t2; q3 += t3 * t3
                        j += 4
                    }
                    while j < d { let t = Double(row[j]) - flat[c + j]; q0 += t * t; j += 1 }
                    let q = (q0 + q1) + (q2 + q3)
                    s[cl] += q
                    s[k + cl] += q.squareRoot()
                }
            }
        }
        let within = Array(dists[0..<k])
        var meanDist = Array(dists[k...])
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

    /// One parallel pass over fixed chunks (`ChunkedReduction`): `body(rows, labels, count,
    /// partial)` once per chunk; per-chunk partials of `width` doubles are added in chunk order
    /// (deterministic for any thread count and group). Called per chunk, not per row: a per-row
    /// closure cannot be inlined across the parallel-for and cost 20-40% here.
    @inline(__always)
    static func chunkedSums(_ data: Dataset, _ labels: ClusterLabels, width: Int, threads: Int, group: any ChunkGroup,
                            _ body: (UnsafePointer<Float>, UnsafePointer<Int32>, Int, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        let part = RowPartition(rows: data.rows)
        return data.withRows { rows, _ in
            labels.indices.withUnsafeBufferPointer { lab in
                let l = lab.baseAddress!
                return ChunkedReduction.reduce(part, threads: threads, group: group, zero: ChunkSums(count: width)) { _, r in
                    var s = ChunkSums(count: width)
                    s.values.withUnsafeMutableBufferPointer { sp in
                        rows.withRows(r) { x in body(x, l + r.lowerBound, r.count, sp.baseAddress!) }
                    }
                    return s
                }.values
            }
        }
    }
}
