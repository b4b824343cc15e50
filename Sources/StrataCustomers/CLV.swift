import StrataCore
import StrataIO
import Foundation
import StrataKernels

@inline(__always) func logGammaD(_ x: Double) -> Double { let v: Double = lgamma(x); return v }

/// BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
public struct BGNBD: Sendable, Equatable {
    public var r: Double, alpha: Double, a: Double, b: Double
    /// Total (weighted) log-likelihood at the fit.
    public var logLikelihood: Double
    /// True when a parameter ended at the search bound (|log parameter| = 15): the data show no
    /// heterogeneity or no dropout, and the model degenerates; the estimates are not meaningful.
    public var atBound: Bool = false
    /// False when the optimizer stopped at its evaluation cap.
    public var converged: Bool = true

    /// Log-likelihood of one customer (x repeat purchases, last at t_x, observed for T), in log
    /// space throughout (no overflow for large x).
    public static func logLikelihood(r: Double, alpha: Double, a: Double, b: Double, x: Double, tx: Double, T: Double) -> Double {
        let a1 = logGammaD(r + x) - logGammaD(r) + r * log(alpha)
        let a2 = logGammaD(a + b) + logGammaD(b + x) - logGammaD(b) - logGammaD(a + b + x)
        let a3 = -(r + x) * log(alpha + T)
        if x > 0 {
            let a4 = log(a) - log(b + x - 1) - (r + x) * log(alpha + tx)
            let m = max(a3, a4)
            return a1 + a2 + m + log(exp(a3 - m) + exp(a4 - m))
        }
        return a1 + a2 + a3
    }

    /// Maximum likelihood on (x, t_x, T) triples with weights (counts of identical customers).
    /// Each evaluation precomputes the log-gamma terms that depend on x alone (few distinct
    /// values) and sums the rest over fixed chunks in parallel, reduced in chunk order.
    public static func fit(x: [Double], tx: [Double], T: [Double], weights: [Double], threads: Int = defaultThreadCount) throws -> BGNBD {
        guard !x.isEmpty else { throw StrataError.invalidArgument("BG/NBD needs at least one customer") }
        // Many distinct triples: fit a deterministic stride subsample first (weights scaled to the
        // same total), then refine on everything from there with a small simplex. Each full-data
        // evaluation is O(triples), so starting near the optimum is what makes millions tractable.
        if x.count > subsampleAbove {
            let stride = (x.count + subsampleSize - 1) / subsampleSize
            let idx = Swift.stride(from: 0, to: x.count, by: stride).map { $0 }
            let scale = weights.reduce(0, +) / idx.reduce(0.0) { $0 + weights[$1] }
            let coarse = try fitFrom(start: [0, 0, 0, 0], step: 0.5, cap: 6_000, x: idx.map { x[$0] }, tx: idx.map { tx[$0] },
                                     T: idx.map { T[$0] }, weights: idx.map { weights[$0] * scale }, threads: threads)
            let start = [coarse.r, coarse.alpha, coarse.a, coarse.b].map { min(max(log($0), -logBound + 1), logBound - 1) }
            return try fitFrom(start: start, step: 0.05, cap: 1_500, x: x, tx: tx, T: T, weights: weights, threads: threads)
        }
        let first = try fitFrom(start: [0, 0, 0, 0], step: 0.5, cap: 6_000, x: x, tx: tx, T: T, weights: weights, threads: threads)
        // Restart from the optimum: standard Nelder-Mead hygiene.
        return try fitFrom(start: [first.r, first.alpha, first.a, first.b].map(log), step: 0.05, cap: 6_000,
                           x: x, tx: tx, T: T, weights: weights, threads: threads)
    }

    /// Above this many triples the fit starts on a subsample of `subsampleSize`.
    static let subsampleAbove = 50_000
    static let subsampleSize = 20_000

    static func fitFrom(start: [Double], step: Double, cap: Int, x: [Double], tx: [Double], T: [Double], weights: [Double],
                        threads: Int) throws -> BGNBD {
        let xs = x.map { Int($0) }
        let maxX = xs.max() ?? 0
        let part = RowPartition(rows: x.count, chunkRows: 8_192)
        func nll(_ p: [Double]) -> Double {
            if p.contains(where: { abs($0) > logBound }) { return .infinity }
            let r = exp(p[0]), alpha = exp(p[1]), a = exp(p[2]), b = exp(p[3])
            // Terms of x alone: A1 + A2 without the T/t_x parts, and log(a) - log(b + x - 1).
            var base = [Double](repeating: 0, count: maxX + 1), tail = [Double](repeating: 0, count: maxX + 1)
            let c0 = -logGammaD(r) + r * log(alpha) + logGammaD(a + b) - logGammaD(b)
            for v in 0...maxX {
                let xv = Double(v)
                base[v] = c0 + logGammaD(r + xv) + logGammaD(b + xv) - logGammaD(a + b + xv)
                tail[v] = v > 0 ? log(a) - log(b + xv - 1) : 0
            }
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
            return -total
        }
        let best = NelderMead.minimize(nll, start: start, step: step, maxEvaluations: cap)
        let p = best.x.map(exp)
        guard best.value.isFinite else { throw StrataError.numerical("BG/NBD fit did not converge; check the summary (frequency, recency, T)") }
        return BGNBD(r: p[0], alpha: p[1], a: p[2], b: p[3], logLikelihood: -best.value,
                     atBound: best.x.contains { abs($0) > logBound - 0.5 }, converged: best.converged)
    }

    /// Search bound on log-parameters: e^15 ~ 3e6. A likelihood whose maximum lies beyond it has
    /// no interior optimum (no dropout or no heterogeneity in the data).
    static let logBound = 15.0

    /// P(alive | x, t_x, T).
    public func probabilityAlive(x: Double, tx: Double, T: Double) -> Double {
        guard x > 0 else { return 1 }
        let logRatio = log(a) - log(b + x - 1) + (r + x) * (log(alpha + T) - log(alpha + tx))
        return 1 / (1 + exp(logRatio))
    }

    /// E[purchases in (T, T + t] | x, t_x, T].
    public func expectedPurchases(t: Double, x: Double, tx: Double, T: Double) -> Double {
        let z = t / (alpha + T + t)
        let hyp = Self.hyp2f1(r + x, b + x, a + b + x - 1, z)
        let first = (a + b + x - 1) / (a - 1)
        let second = 1 - exp((r + x) * (log(alpha + T) - log(alpha + T + t))) * hyp
        let denominator = x > 0 ? 1 + exp(log(a) - log(b + x - 1) + (r + x) * (log(alpha + T) - log(alpha + tx))) : 1
        return first * second / denominator
    }

    /// Gauss hypergeometric 2F1(a, b; c; z) by its power series (|z| < 1).
    static func hyp2f1(_ a: Double, _ b: Double, _ c: Double, _ z: Double) -> Double {
        var term = 1.0, sum = 1.0
        for k in 0..<100_000 {
            let kk = Double(k)
            term *= (a + kk) * (b + kk) / ((c + kk) * (kk + 1)) * z
            sum += term
            if abs(term) < 1e-15 * abs(sum) { break }
        }
        return sum
    }
}

/// Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"), fitted on repeat buyers.
///
/// Validity: the model's mean spend gamma p / (q - 1) exists only for q > 1. A fit with q <= 1
/// (heavy-tailed spend, e.g. a few huge orders among small ones) would give negative or infinite
/// expected spends; then `valid` is false and `expectedAverageSpend` uses the documented fallback
/// instead (see there), never the closed form.
public struct GammaGamma: Sendable, Equatable {
    public var p: Double, q: Double, gamma: Double
    public var logLikelihood: Double
    public var atBound: Bool = false
    /// The weighted median of the repeat buyers' observed mean spends: the fallback's centre.
    public var medianSpend: Double = 0

    /// Whether the fitted model has a finite, positive mean spend (q > 1, p > 0, gamma > 0).
    public var valid: Bool { q > 1 && p > 0 && gamma > 0 && p.isFinite && gamma.isFinite }

    public static func fit(frequency: [Double], monetary: [Double], weights: [Double]) throws -> GammaGamma {
        let idx = frequency.indices.filter { frequency[$0] > 0 && monetary[$0] > 0 }
        guard !idx.isEmpty else { throw StrataError.insufficientData("Gamma-Gamma needs repeat buyers with positive spend, and there are none") }
        func nll(_ v: [Double]) -> Double {
            if v.contains(where: { abs($0) > BGNBD.logBound }) { return .infinity }
            let p = exp(v[0]), q = exp(v[1]), g = exp(v[2])
            var s = 0.0
            for i in idx {
                let x = frequency[i], m = monetary[i]
                s += weights[i] * (logGammaD(p * x + q) - logGammaD(p * x) - logGammaD(q) + q * log(g) + (p * x - 1) * log(m)
                                   + p * x * log(x) - (p * x + q) * log(x * m + g))
            }
            return -s
        }
        var best = NelderMead.minimize(nll, start: [0, 0, 0])
        best = NelderMead.minimize(nll, start: best.x, step: 0.05)
        // A likelihood that is not finite anywhere leaves the simplex at its start: never report
        // that start (p = q = gamma = 1) as a fit.
        guard best.value.isFinite else {
            throw StrataError.numerical("the Gamma-Gamma fit failed: the spend likelihood is not finite (amounts too large or degenerate)")
        }
        let v = best.x.map(exp)
        let byMean = idx.sorted { monetary[$0] < monetary[$1] }
        let half = byMean.reduce(0.0) { $0 + weights[$1] } / 2
        var seen = 0.0, median = monetary[byMean.last!]
        for i in byMean { seen += weights[i]; if seen >= half { median = monetary[i]; break } }
        return GammaGamma(p: v[0], q: v[1], gamma: v[2], logLikelihood: -best.value, atBound: best.x.contains { abs($0) > BGNBD.logBound - 0.5 },
                          medianSpend: median)
    }

    /// E[average spend | x repeat purchases with mean m] (Fader, Hardie & Lee 2005, eq. 5) when
    /// the model is `valid`. Otherwise the fallback: the observed mean shrunk toward the
    /// population's median mean spend by one pseudo-purchase, (x m + median) / (x + 1), which is
    /// positive whenever spends are. Units: those of the amounts.
    public func expectedAverageSpend(x: Double, monetary m: Double) -> Double {
        if valid {
            let population = gamma * p / (q - 1)
            let w = p * x / (p * x + q - 1)
            let e = (1 - w) * population + w * m
            if e.isFinite && e > 0 { return e }
        }
        return (x * m + medianSpend) / (x + 1)
    }
}

/// Per-customer lifetime value from the two models.
public struct CLVResult: Sendable {
    public var id: String
    public var probabilityAlive: Double
    public var expectedPurchases: Double
    public var expectedAverageSpend: Double
    public var clv: Double
}

/// The one discount convention of `clv` and `segment`: an annual rate, converted to the model's
/// time step by compounding, (1 + annual)^(step days / 365.25) - 1. Default 10% a year, a common
/// cost-of-capital assumption (it is 0.183% a week; lifetimes' examples use 1% a month, 12.7% a
/// year). An explicit per-step rate still wins where a command offers one.
public enum CLVDiscount {
    public static let defaultAnnualRate = 0.10

    /// The per-step rate for steps of `stepDays` days.
    public static func perStep(annual: Double, stepDays: Double) -> Double { pow(1 + annual, stepDays / 365.25) - 1 }
}

public enum CLV {
    /// The warning when Gamma-Gamma's fit leaves the mean spend undefined.
    public static func invalidSpendWarning(_ g: GammaGamma) -> String {
        String(format: "Gamma-Gamma fitted q = %.3g <= 1 (heavy-tailed spend: the model's mean spend is undefined); expected spends use each customer's mean shrunk toward the median mean spend (%.6g) by one purchase instead (gamma_gamma.valid: false)", g.q, g.medianSpend)
    }

    /// Fits BG/NBD on the customers' (frequency, recency, T), compressed to unique triples with
    /// counts as weights, and Gamma-Gamma on the repeat buyers; then scores every customer:
    /// P(alive), expected purchases over `horizon` units, expected average spend, and CLV = the sum
    /// over the horizon's unit steps of expected purchases x expected spend, discounted by
    /// `discount` per step. Customers with net spend <= 0 (only returns) get CLV 0.
    ///
    /// - Throws: `.insufficientData` when nobody bought on two different days (exit 65: a data
    ///   condition), `.numerical` when a fit fails.
    public static func run(_ customers: [CustomerSummary], horizon: Int, discount: Double, threads: Int = defaultThreadCount) throws
        -> (bgnbd: BGNBD, gammaGamma: GammaGamma, results: [CLVResult], uniqueTriples: Int) {
        guard customers.contains(where: { $0.btydFrequency > 0 }) else {
            throw StrataError.insufficientData("no customer bought on two different days, so the repeat-purchase models (BG/NBD, Gamma-Gamma) cannot be fitted")
        }
        var triples: [[Double]: Double] = [:]
        for c in customers { triples[[Double(c.btydFrequency), c.btydRecency, c.btydT], default: 0] += 1 }
        let keys = triples.keys.sorted { $0.lexicographicallyPrecedes($1) }
        let bg = try BGNBD.fit(x: keys.map { $0[0] }, tx: keys.map { $0[1] }, T: keys.map { $0[2] }, weights: keys.map { triples[$0]! }, threads: threads)
        var spend: [[Double]: Double] = [:]
        for c in customers where c.btydFrequency > 0 { spend[[Double(c.btydFrequency), c.btydMonetaryValue], default: 0] += 1 }
        let sk = spend.keys.sorted { $0.lexicographicallyPrecedes($1) }
        let gg = try GammaGamma.fit(frequency: sk.map { $0[0] }, monetary: sk.map { $0[1] }, weights: sk.map { spend[$0]! })
        let results = customers.map { c -> CLVResult in
            let x = Double(c.btydFrequency)
            // Net buyers only: a customer whose returns cancel their purchases (net spend <= 0)
            // is worth nothing ahead; repeat days with net non-positive spend say nothing about
            // spend per order, so the population mean is used for them.
            let m = c.totalSpend <= 0 ? 0 : c.btydMonetaryValue > 0 ? gg.expectedAverageSpend(x: x, monetary: c.btydMonetaryValue)
                : gg.expectedAverageSpend(x: 0, monetary: 0)
            var value = 0.0, previous = 0.0
            for step in 1...max(1, horizon) {
                let e = bg.expectedPurchases(t: Double(step), x: x, tx: c.btydRecency, T: c.btydT)
                value += (e - previous) * m / pow(1 + discount, Double(step))
                previous = e
            }
            return CLVResult(id: c.id, probabilityAlive: bg.probabilityAlive(x: x, tx: c.btydRecency, T: c.btydT),
                             expectedPurchases: previous, expectedAverageSpend: m, clv: value)
        }
        return (bg, gg, results, keys.count)
    }
}
