import Foundation

/// Agreement between two labelings of the same rows (stability across resamples, segment
/// migration between runs), as scikit-learn defines it. Label values are arbitrary.
public enum PartitionAgreement {
    struct Contingency {
        var table: [Int: [Int: Int]] = [:]
        var rowSums: [Int] = []
        var colSums: [Int] = []
        var n = 0

        /// The two labelings are the same partition: each cluster of one is exactly one cluster
        /// of the other (one non-zero cell per row and per column of the table).
        var isIdentity: Bool {
            rowSums.count == colSums.count && table.allSatisfy { $0.value.count == 1 }
        }
    }

    static func contingency(_ a: [Int], _ b: [Int]) throws -> Contingency {
        guard a.count == b.count else { throw StrataError.invalidArgument("the two labelings have \(a.count) and \(b.count) rows") }
        var ia = [Int: Int](), ib = [Int: Int]()
        var c = Contingency()
        c.n = a.count
        for (x, y) in zip(a, b) {
            let i = ia[x] ?? { let v = ia.count; ia[x] = v; c.rowSums.append(0); return v }()
            let j = ib[y] ?? { let v = ib.count; ib[y] = v; c.colSums.append(0); return v }()
            c.table[i, default: [:]][j, default: 0] += 1
            c.rowSums[i] += 1
            c.colSums[j] += 1
        }
        return c
    }

    /// Adjusted Rand index through the pair confusion matrix (1 for identical partitions, about 0
    /// for independent ones, can be negative). O(n + cells).
    public static func adjustedRandIndex(_ a: [Int], _ b: [Int]) throws -> Double {
        let c = try contingency(a, b)
        let n = Double(c.n)
        var sumSquares = 0.0
        for row in c.table.values { for v in row.values { sumSquares += Double(v) * Double(v) } }
        let rowSq = c.rowSums.reduce(0.0) { $0 + Double($1) * Double($1) }
        let colSq = c.colSums.reduce(0.0) { $0 + Double($1) * Double($1) }
        let tp = sumSquares - n
        let fp = colSq - sumSquares
        let fn = rowSq - sumSquares
        let tn = n * n - fp - fn - sumSquares
        if fn == 0 && fp == 0 { return 1 }
        return 2 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))
    }

    /// Adjusted mutual information with arithmetic-mean normalization (scikit-learn's default):
    /// (MI - E[MI]) / (mean(H(a), H(b)) - E[MI]), E[MI] under the hypergeometric model.
    /// Identical partitions (up to renaming the labels) give exactly 1, also where the formula is
    /// 0 / 0: every row its own cluster makes MI = E[MI] = H (scikit-learn's fix for n = 2, 4).
    /// O(n * min(ka, kb)) log-gamma evaluations for E[MI].
    /// - Throws: `StrataError.invalidArgument` when the labelings differ in length.
    public static func adjustedMutualInformation(_ a: [Int], _ b: [Int]) throws -> Double {
        let c = try contingency(a, b)
        let ka = c.rowSums.count, kb = c.colSums.count
        if (ka == 1 && kb == 1) || c.n == 0 || c.isIdentity { return 1 }
        let n = Double(c.n)
        var mi = 0.0
        for (i, row) in c.table { for (j, v) in row {
            let nij = Double(v)
            mi += nij / n * (log(nij * n) - log(Double(c.rowSums[i]) * Double(c.colSums[j])))
        } }
        func entropy(_ s: [Int]) -> Double { s.reduce(0.0) { let p = Double($1) / n; return $0 - (p > 0 ? p * log(p) : 0) } }
        let ha = entropy(c.rowSums), hb = entropy(c.colSums)
        let emi = expectedMutualInformation(rows: c.rowSums, cols: c.colSums, n: c.n)
        let normalizer = (ha + hb) / 2
        var denominator = normalizer - emi
        let eps = Double.ulpOfOne
        denominator = denominator < 0 ? min(denominator, -eps) : max(denominator, eps)
        return (mi - emi) / denominator
    }

    @inline(__always) static func logGamma(_ x: Double) -> Double {
        let v: Double = lgamma(x)
        return v
    }

    static func expectedMutualInformation(rows: [Int], cols: [Int], n: Int) -> Double {
        let N = Double(n)
        let lgN1 = logGamma(N + 1)
        var emi = 0.0
        for ai in rows {
            let a = Double(ai)
            for bj in cols {
                let b = Double(bj)
                let lo = max(1, ai + bj - n), hi = min(ai, bj)
                if lo > hi { continue }
                let fa: Double = logGamma(a + 1) + logGamma(b + 1)
                let fixed: Double = fa + logGamma(N - a + 1) + logGamma(N - b + 1) - lgN1
                for nij in lo...hi {
                    let x = Double(nij)
                    let g1: Double = logGamma(x + 1) + logGamma(a - x + 1)
                    let g2: Double = logGamma(b - x + 1) + logGamma(N - a - b + x + 1)
                    let gln: Double = fixed - g1 - g2
                    let term: Double = log(N * x) - log(a * b)
                    emi += x / N * term * exp(gln)
                }
            }
        }
        return emi
    }
}
