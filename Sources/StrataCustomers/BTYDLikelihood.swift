import StrataCore
import StrataKernels
import Foundation

/// The BG/NBD negative log-likelihood of weighted (x, t_x, T) triples as a function of the
/// log-parameters (log r, log alpha, log a, log b): the objective of the fit and of the
/// observed-information matrix (`ObservedInformation`).
///
/// Each evaluation precomputes the log-gamma terms that depend on x alone (few distinct values)
/// and sums the rest over fixed chunks in parallel, reduced in chunk order (the same total at any
/// thread count). Evaluated in log space throughout (Fader & Hardie 2013, "Overcoming the BG/NBD
/// model's #NUM! error problem"): no overflow for large x or T.
/// Complexity: O(triples + max x) per evaluation.
struct BGNBDLikelihood: Sendable {
    let xs: [Int]
    let tx: [Double], T: [Double], weights: [Double]
    let maxX: Int
    let part: RowPartition

    init(x: [Double], tx: [Double], T: [Double], weights: [Double]) {
        xs = x.map { Int($0) }
        self.tx = tx; self.T = T; self.weights = weights
        maxX = xs.max() ?? 0
        part = RowPartition(rows: x.count, chunkRows: 8_192)
    }

    /// -log L at `p` = (log r, log alpha, log a, log b); +infinity outside the search bound.
    func negativeLogLikelihood(_ p: [Double], threads: Int) -> Double {
        if p.contains(where: { abs($0) > BGNBD.logBound || !$0.isFinite }) { return .infinity }
        let r = exp(p[0]), alpha = exp(p[1]), a = exp(p[2]), b = exp(p[3])
        // Terms of x alone: A1 + A2 without the T/t_x parts, and log(a) - log(b + x - 1).
        var base = [Double](repeating: 0, count: maxX + 1), tail = [Double](repeating: 0, count: maxX + 1)
        let c0 = -logGammaD(r) + r * log(alpha) + logGammaD(a + b) - logGammaD(b)
        for v in 0...maxX {
            let xv = Double(v)
            base[v] = c0 + logGammaD(r + xv) + logGammaD(b + xv) - logGammaD(a + b + xv)
            tail[v] = v > 0 ? log(a) - log(b + xv - 1) : 0
        }
        let (xs, tx, T, weights) = (self.xs, self.tx, self.T, self.weights)
        let total = ChunkedReduction.reduce(part, threads: threads, zero: 0.0) { _, range in
            var s = 0.0
            for i in range {
                let v = xs[i], rx = r + Double(v)
                let a3 = -rx * log(alpha + T[i])
                var ll = base[v] + a3
                if v > 0 {
                    let a4 = tail[v] - rx * log(alpha + tx[i])
                    let m = max(a3, a4)
                    ll = base[v] + m + log(exp(a3 - m) + exp(a4 - m))
                }
                s += weights[i] * ll
            }
            return s
        }
        return total.isFinite ? -total : .infinity
    }
}

/// The Gamma-Gamma negative log-likelihood of weighted (x, mean spend) pairs of repeat buyers
/// as a function of (log p, log q, log gamma) (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 3).
/// Complexity: O(pairs) per evaluation.
struct GammaGammaLikelihood: Sendable {
    let frequency: [Double], monetary: [Double], weights: [Double]

    /// -log L at `v` = (log p, log q, log gamma); +infinity outside the search bound.
    func negativeLogLikelihood(_ v: [Double]) -> Double {
        if v.contains(where: { abs($0) > BGNBD.logBound || !$0.isFinite }) { return .infinity }
        let p = exp(v[0]), q = exp(v[1]), g = exp(v[2])
        var s = 0.0
        for i in frequency.indices {
            let x = frequency[i], m = monetary[i]
            s += weights[i] * (logGammaD(p * x + q) - logGammaD(p * x) - logGammaD(q) + q * log(g) + (p * x - 1) * log(m)
                               + p * x * log(x) - (p * x + q) * log(x * m + g))
        }
        return s.isFinite ? -s : .infinity
    }
}
