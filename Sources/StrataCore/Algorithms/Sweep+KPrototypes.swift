import Foundation
import StrataKernels

extension Sweep {
    /// Fits K-Prototypes (K-Modes without numeric columns) for every k of `ks` and chooses k.
    ///
    /// - Parameters:
    ///   - numeric: n x dn numeric features (model units, finite) or nil (K-Modes).
    ///   - categorical: n x dc category codes (dc >= 1).
    ///   - options: every K-Prototypes setting but k (set per fit; the seed is the same for every k).
    ///   - silhouetteSample: rows (seeded sample, the same for every k) on which the silhouette is
    ///     computed with the K-Prototypes dissimilarity (squared Euclidean distance + gamma x
    ///     mismatches; a mismatch counts 1 without numeric columns); 0 = none.
    /// - Returns: one point per k with `inertia` = the K-Prototypes cost (kmodes' `cost_`) and
    ///   the mixed-dissimilarity silhouette; Davies-Bouldin, Calinski-Harabasz and BIC are not
    ///   defined for the mixed dissimilarity (nil). Recommendation: the cost elbow (Kneedle);
    ///   without one, the highest silhouette; without either, the smallest k. The reason says which.
    /// - Throws: `.invalidArgument` for k < 1, and the fits' errors.
    /// - Complexity: one fit per k (O(n k (dn + dc)) per pass, n_init restarts) plus
    ///   O(s^2 (dn + dc)) per k for the silhouette on s rows.
    /// - Determinism: the same result for a seed whatever `options.threads`.
    public static func runKPrototypes(numeric: Dataset?, categorical: CategoricalColumns, ks requested: [Int],
                                      options: KPrototypesOptions, silhouetteSample: Int = 2_000) throws -> SweepResult {
        let ks = Array(Set(requested)).sorted()
        guard let kmin = ks.first, kmin >= 1 else { throw StrataError.invalidArgument("k values must be >= 1") }
        let n = categorical.rows
        let num = numeric?.materialized()
        let dn = num?.cols ?? 0
        let x = dn > 0 ? num!.values : []
        // One gamma for every k (the default depends on the data only), so costs compare.
        let gamma = options.gamma ?? (dn > 0 ? KPrototypes.defaultGamma(x, rows: n, cols: dn) : 1)
        let silRows: [Int] = silhouetteSample <= 0 ? [] : n > silhouetteSample
            ? SeededRandom.sampleIndices(n, silhouetteSample, seed: options.seed, stream: 0x4B50_5349).sorted() : Array(0..<n)
        var points: [SweepPoint] = []
        for k in ks {
            var o = options
            o.k = k
            o.gamma = dn > 0 ? gamma : nil
            let t0 = Date()
            let r = try KPrototypes.fit(numeric: numeric, categorical: categorical, options: o)
            let fitSeconds = Date().timeIntervalSince(t0)
            let t1 = Date()
            let sil = silRows.count >= 2 && k >= 2
                ? mixedSilhouette(x: x, dn: dn, categorical: categorical, labels: r.labels, rows: silRows, k: k, gamma: dn > 0 ? gamma : 1,
                                  threads: options.threads) : nil
            points.append(SweepPoint(k: k, inertia: r.cost, silhouette: sil, silhouetteStandardError: nil, daviesBouldin: nil,
                                     calinskiHarabasz: nil, nIter: r.nIter, converged: r.converged, fitSeconds: fitSeconds,
                                     metricSeconds: Date().timeIntervalSince(t1), sizes: r.sizes))
        }
        let elbowIndex = Kneedle.knee(x: points.map { Double($0.k) }, y: points.map(\.inertia))
        let elbowK = elbowIndex.map { points[$0].k }
        let bestSil = points.filter { $0.silhouette != nil }
            .max { $0.silhouette! < $1.silhouette! || ($0.silhouette! == $1.silhouette! && $0.k > $1.k) }
        let recommended: Int, reason: String
        if let e = elbowK {
            recommended = e
            var s = "K-Prototypes cost elbow (Kneedle)"
            if let b = bestSil {
                s += b.k == e ? String(format: "; agrees with the highest mixed-dissimilarity silhouette (%.4f)", b.silhouette!)
                    : String(format: "; the mixed-dissimilarity silhouette is highest at k=%d (%.4f)", b.k, b.silhouette!)
            }
            reason = s
        } else if let b = bestSil {
            recommended = b.k
            reason = String(format: "no K-Prototypes cost elbow; highest mixed-dissimilarity silhouette (%.4f)", b.silhouette!)
        } else {
            recommended = kmin
            reason = "no K-Prototypes cost elbow or silhouette available; smallest k"
        }
        return SweepResult(points: points, elbowK: elbowK, recommendedK: recommended, reason: reason,
                           silhouetteMethod: silRows.count >= 2
                               ? "K-Prototypes dissimilarity, " + (silRows.count == n ? "exact" : "sampled (\(silRows.count) rows)") : "not computed",
                           trainingRows: n, heldOutRows: 0, objective: "K-Prototypes cost")
    }

    /// Mean silhouette (Rousseeuw 1987) of `rows` under the K-Prototypes dissimilarity, a and b
    /// taken over `rows` only; a row alone in its cluster (among `rows`) scores 0 (as
    /// scikit-learn). O(s^2 (dn + dc)); rows in parallel, summed in row order.
    static func mixedSilhouette(x: [Float], dn: Int, categorical: CategoricalColumns, labels: [Int32], rows: [Int], k: Int,
                                gamma: Double, threads: Int) -> Double? {
        let s = rows.count, dc = categorical.cols
        var codes = [Int32](repeating: 0, count: s * dc)
        for (o, i) in rows.enumerated() { for a in 0..<dc { codes[o * dc + a] = Int32(categorical.code(i, a)) } }
        var xs = [Double](repeating: 0, count: s * dn)
        for (o, i) in rows.enumerated() { for j in 0..<dn { xs[o * dn + j] = Double(x[i * dn + j]) } }
        let lab = rows.map { Int(labels[$0]) }
        var count = [Int](repeating: 0, count: k)
        for l in lab { count[l] += 1 }
        guard count.filter({ $0 > 0 }).count >= 2 else { return nil }
        let values: [Double] = Parallel.map(s, threads: threads) { i in
            let own = lab[i]
            guard count[own] > 1 else { return 0 }
            var sums = [Double](repeating: 0, count: k)
            for j in 0..<s where j != i {
                var d = 0.0
                for t in 0..<dn { let v = xs[i * dn + t] - xs[j * dn + t]; d += v * v }
                var m = 0
                for a in 0..<dc where codes[i * dc + a] != codes[j * dc + a] { m += 1 }
                sums[lab[j]] += d + gamma * Double(m)
            }
            let a = sums[own] / Double(count[own] - 1)
            var b = Double.infinity
            for c in 0..<k where c != own && count[c] > 0 { b = min(b, sums[c] / Double(count[c])) }
            let denom = max(a, b)
            return denom > 0 ? (b - a) / denom : 0
        }
        return values.reduce(0, +) / Double(s)
    }
}
