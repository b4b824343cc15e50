import StrataCore
import StrataKernels
import Foundation

/// Pareto/NBD (Schmittlein, Morrison & Colombo 1987, "Counting your customers"): purchases are
/// Poisson with gamma(r, alpha) rates while alive, lifetimes exponential with gamma(s, beta)
/// rates. Parameters in lifetimes' order (r, alpha, s, beta). Closed forms from Fader & Hardie
/// (2005), "A note on deriving the Pareto/NBD model and related expressions" (eqs. 18-20, 40-41),
/// as lifetimes' `ParetoNBDFitter` evaluates them.
public struct ParetoNBD: RepeatPurchaseModel, Equatable {
    public static let jsonKey = "pareto_nbd"
    public static let parameterNames = ["r", "alpha", "s", "beta"]
    public var r: Double, alpha: Double, s: Double, beta: Double
    public var logLikelihood: Double
    public var atBound: Bool = false
    public var converged: Bool = true
    public var logCovariance: [[Double]]? = nil

    public init(r: Double, alpha: Double, s: Double, beta: Double, logLikelihood: Double, atBound: Bool = false, converged: Bool = true,
                logCovariance: [[Double]]? = nil) {
        self.r = r; self.alpha = alpha; self.s = s; self.beta = beta
        self.logLikelihood = logLikelihood; self.atBound = atBound; self.converged = converged; self.logCovariance = logCovariance
    }

    public var parameters: [Double] { [r, alpha, s, beta] }
    public func with(parameters p: [Double]) -> ParetoNBD {
        var m = self
        m.r = p[0]; m.alpha = p[1]; m.s = p[2]; m.beta = p[3]
        return m
    }

    /// Maximum likelihood by Nelder-Mead on the log-parameters from (1, 1, 1, 1), restarted once
    /// from its optimum unless that is at the search bound (above 50,000 triples: first on a
    /// 20,000-triple stride subsample, then refined on all, as `BGNBD.fit`); then the observed
    /// information (`ObservedInformation`).
    /// - Throws: `.numerical` when the likelihood is not finite anywhere the search went.
    /// - Complexity: O(triples x hypergeometric series) per evaluation, a few thousand evaluations.
    public static func fit(x: [Double], tx: [Double], T: [Double], weights: [Double], threads: Int) throws -> ParetoNBD {
        guard !x.isEmpty else { throw StrataError.invalidArgument("Pareto/NBD needs at least one customer") }
        let likelihood = ParetoNBDLikelihood(x: x, tx: tx, T: T, weights: weights)
        let f = { (p: [Double]) in likelihood.negativeLogLikelihood(p, threads: threads) }
        let atBound = { (x: [Double]) in x.contains { abs($0) > BGNBD.logBound - 0.5 } }
        var start = [0.0, 0, 0, 0]
        if x.count > BGNBD.subsampleAbove {
            // As BG/NBD: a deterministic stride subsample (weights scaled to the same total) finds
            // the neighbourhood, the full data refine it.
            let stride = (x.count + BGNBD.subsampleSize - 1) / BGNBD.subsampleSize
            let idx = Swift.stride(from: 0, to: x.count, by: stride).map { $0 }
            let scale = weights.reduce(0, +) / idx.reduce(0.0) { $0 + weights[$1] }
            let coarse = ParetoNBDLikelihood(x: idx.map { x[$0] }, tx: idx.map { tx[$0] }, T: idx.map { T[$0] }, weights: idx.map { weights[$0] * scale })
            start = NelderMead.minimize({ coarse.negativeLogLikelihood($0, threads: threads) }, start: start, step: 0.5, maxEvaluations: 4_000, stop: atBound).x
        }
        var best = NelderMead.minimize(f, start: start, step: x.count > BGNBD.subsampleAbove ? 0.05 : 0.5,
                                       maxEvaluations: x.count > BGNBD.subsampleAbove ? 1_500 : 4_000, stop: atBound)
        // A first search that ran into the bound has found a degenerate likelihood (no
        // heterogeneity or no dropout): restarting there only costs time.
        if !atBound(best.x) && x.count <= BGNBD.subsampleAbove {
            best = NelderMead.minimize(f, start: best.x, step: 0.05, maxEvaluations: 6_000, stop: atBound)
        }
        guard best.value.isFinite else { throw StrataError.numerical("Pareto/NBD fit did not converge; check the summary (frequency, recency, T)") }
        let p = best.x.map(exp)
        let bounded = atBound(best.x)
        return ParetoNBD(r: p[0], alpha: p[1], s: p[2], beta: p[3], logLikelihood: -best.value, atBound: bounded, converged: best.converged,
                         logCovariance: bounded || !best.converged ? nil : ObservedInformation.logCovariance(f, at: best.x))
    }

    /// P(alive at T | x, t_x, T) = 1 / (1 + s / (r + s + x) (alpha + T)^(r + x) (beta + T)^s A0)
    /// (eq. 40), in log space.
    public func probabilityAlive(x: Double, tx: Double, T: Double) -> Double {
        guard let logA0 = Self.logA0(r: r, alpha: alpha, s: s, beta: beta, x: x, tx: tx, T: T) else { return 1 }
        let v = log(s) - log(r + s + x) + (r + x) * log(alpha + T) + s * log(beta + T) + logA0
        let p = 1 / (1 + exp(v))
        return p.isFinite ? p : 0
    }

    /// E[purchases in (T, T + t] | x, T, alive] = (r + x)(beta + T) / (alpha + T) x [1 - ((beta +
    /// T) / (beta + T + t))^(s - 1)] / (s - 1) (eq. 41 without P(alive)); the bracket is evaluated
    /// as -expm1(-(s - 1) L) / (s - 1) with L = log1p(t / (beta + T)), which is L itself at s = 1
    /// (the limit), so every s > 0 is in the domain. >= 0 and finite.
    public func expectedPurchasesIfAlive(t: Double, x: Double, T: Double) -> Double {
        guard t > 0 else { return 0 }
        return (r + x) * (beta + T) / (alpha + T) * Self.lifetimeFactor(s: s, L: log1p(t / (beta + T)))
    }

    /// E[X(t)] = r beta / alpha x [1 - (beta / (beta + t))^(s - 1)] / (s - 1), with the same
    /// evaluation of the bracket.
    public func expectedPurchasesSinceAcquisition(t: Double) -> Double {
        guard t > 0 else { return 0 }
        return r * beta / alpha * Self.lifetimeFactor(s: s, L: log1p(t / beta))
    }

    /// [1 - e^(-(s - 1) L)] / (s - 1), continuous at s = 1 (= L).
    static func lifetimeFactor(s: Double, L: Double) -> Double {
        let k = (s - 1) * L
        return abs(k) < 1e-10 ? L : -expm1(-k) / (s - 1)
    }

    /// log A0 (eqs. 19-20): with m = max(alpha, beta), d = |alpha - beta|, and (r + x) or (s + 1)
    /// as the series' second parameter, A0 = 2F1(r+s+x, .; r+s+x+1; d / (m + t_x)) / (m + t_x)^(r+s+x)
    /// - 2F1(...; d / (m + T)) / (m + T)^(r+s+x). When a series does not converge within 5,000
    /// terms (z near 1, or huge parameters far from any optimum), A0 =
    /// (r + s + x) x the integral over (t_x, T] of (alpha + u)^-(r+x) (beta + u)^-(s+1), by
    /// Simpson's rule in log(m + u) (`logA0ByQuadrature`). -infinity when t_x = T; nil only when
    /// neither way gives a finite value.
    static func logA0(r: Double, alpha: Double, s: Double, beta: Double, x: Double, tx: Double, T: Double) -> Double? {
        let (m, d, second) = alpha < beta ? (beta, beta - alpha, r + x) : (alpha, alpha - beta, s + 1)
        let rsx = r + s + x
        if let p1 = Hypergeometric.f21(rsx, second, rsx + 1, d / (m + tx), maxTerms: 5_000),
           let p2 = Hypergeometric.f21(rsx, second, rsx + 1, d / (m + T), maxTerms: 5_000) {
            let la = log(p1) - rsx * log(m + tx), lb = log(p2) - rsx * log(m + T)
            if la.isFinite && lb.isFinite {
                return lb >= la ? -.infinity : la + log(-expm1(lb - la))
            }
        }
        return logA0ByQuadrature(r: r, alpha: alpha, s: s, beta: beta, x: x, tx: tx, T: T)
    }

    /// The quadrature form of log A0 (see `logA0`), in v = log(min(alpha, beta) + u): there the
    /// log-integrand g(v) = v - (r + x) log(alpha + u) - (s + 1) log(beta + u) has a slope
    /// bounded by r + s + x in absolute value (the faster-falling factor has slope exactly its
    /// exponent, the other at most its own), so composite 16-point Gauss-Legendre on panels over
    /// which g moves by at most about 2 is accurate to ~1e-13, with at most 64 panels; where g is
    /// known to fall (slope <= -1 everywhere) the range is cut where it has dropped by 40 (a
    /// relative tail below e^-40). Summed in log space. Cost: 16 to 1,024 evaluations.
    static func logA0ByQuadrature(r: Double, alpha: Double, s: Double, beta: Double, x: Double, tx: Double, T: Double) -> Double? {
        guard T > tx else { return -.infinity }
        let lo = min(alpha, beta), rsx = r + s + x
        // The slope's upper bound: 1 minus the exponent of the factor with the smaller scale.
        let steepest = 1 - (alpha <= beta ? r + x : s + 1)
        let v0 = log(lo + tx)
        var v1 = log(lo + T)
        if steepest <= -1 { v1 = min(v1, v0 + 40 / -steepest) }
        let panels = max(1, min(64, Int((rsx * (v1 - v0) / 2).rounded(.up))))
        let width = (v1 - v0) / Double(panels)
        var terms: [Double] = []
        terms.reserveCapacity(panels * 16)
        for k in 0..<panels {
            let mid = v0 + width * (Double(k) + 0.5)
            for (node, weight) in GaussLegendre.sixteen {
                let v = mid + 0.5 * width * node, u = exp(v) - lo
                terms.append(log(weight * 0.5 * width) + v - (r + x) * log(alpha + u) - (s + 1) * log(beta + u))
            }
        }
        let top = terms.max()!
        let value = log(rsx) + top + log(terms.reduce(0.0) { $0 + exp($1 - top) })
        return value.isFinite ? value : nil
    }
}

/// Gauss-Legendre nodes and weights on [-1, 1], computed once by Newton's method on the Legendre
/// polynomial (Numerical Recipes' `gauleg`): exact for polynomials of degree 31.
enum GaussLegendre {
    static let sixteen: [(Double, Double)] = {
        let n = 16
        var out: [(Double, Double)] = []
        for i in 1...n {
            var z = cos(Double.pi * (Double(i) - 0.25) / (Double(n) + 0.5)), derivative = 0.0
            for _ in 0..<100 {
                var p1 = 1.0, p2 = 0.0
                for j in 1...n { let p3 = p2; p2 = p1; p1 = ((2 * Double(j) - 1) * z * p2 - (Double(j) - 1) * p3) / Double(j) }
                derivative = Double(n) * (z * p1 - p2) / (z * z - 1)
                let previous = z
                z = previous - p1 / derivative
                if abs(z - previous) < 1e-15 { break }
            }
            out.append((z, 2 / ((1 - z * z) * derivative * derivative)))
        }
        return out
    }()
}

/// The Pareto/NBD negative log-likelihood of weighted (x, t_x, T) triples as a function of
/// (log r, log alpha, log s, log beta) (Fader & Hardie 2005 note, eq. 18; lifetimes'
/// `_conditional_log_likelihood`), summed over fixed chunks in parallel and reduced in chunk order.
struct ParetoNBDLikelihood: Sendable {
    let x: [Double], tx: [Double], T: [Double], weights: [Double]
    let part: RowPartition

    init(x: [Double], tx: [Double], T: [Double], weights: [Double]) {
        self.x = x; self.tx = tx; self.T = T; self.weights = weights
        part = RowPartition(rows: x.count, chunkRows: 4_096)
    }

    func negativeLogLikelihood(_ p: [Double], threads: Int) -> Double {
        if p.contains(where: { abs($0) > BGNBD.logBound || !$0.isFinite }) { return .infinity }
        let r = exp(p[0]), alpha = exp(p[1]), s = exp(p[2]), beta = exp(p[3])
        let (x, tx, T, weights) = (self.x, self.tx, self.T, self.weights)
        let c0 = -logGammaD(r) + r * log(alpha) + s * log(beta)
        let total = ChunkedReduction.reduce(part, threads: threads, zero: 0.0) { _, range in
            var sum = 0.0
            for i in range {
                guard let logA0 = ParetoNBD.logA0(r: r, alpha: alpha, s: s, beta: beta, x: x[i], tx: tx[i], T: T[i]) else { return .nan }
                let first = -(r + x[i]) * log(alpha + T[i]) - s * log(beta + T[i])
                let second = log(s) + logA0 - log(r + s + x[i])
                let top = max(first, second)
                sum += weights[i] * (c0 + logGammaD(r + x[i]) + top + log(exp(first - top) + exp(second - top)))
            }
            return sum
        }
        return total.isFinite ? -total : .infinity
    }
}
