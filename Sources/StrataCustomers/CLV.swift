import StrataCore
import StrataIO
import Foundation
import StrataKernels

@inline(__always) func logGammaD(_ x: Double) -> Double { let v: Double = lgamma(x); return v }

/// BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
public struct BGNBD: RepeatPurchaseModel, Equatable {
    public static let jsonKey = "bgnbd"
    public static let parameterNames = ["r", "alpha", "a", "b"]
    public var parameters: [Double] { [r, alpha, a, b] }
    public func with(parameters p: [Double]) -> BGNBD {
        var m = self
        m.r = p[0]; m.alpha = p[1]; m.a = p[2]; m.b = p[3]
        return m
    }

    public var r: Double, alpha: Double, a: Double, b: Double
    /// Total (weighted) log-likelihood at the fit.
    public var logLikelihood: Double
    /// True when a parameter ended at the search bound (|log parameter| = 15): the data show no
    /// heterogeneity or no dropout, and the model degenerates; the estimates are not meaningful.
    public var atBound: Bool = false
    /// False when the optimizer stopped at its evaluation cap.
    public var converged: Bool = true
    /// Covariance of (log r, log alpha, log a, log b) from the observed information at the
    /// optimum (`ObservedInformation`); nil when not positive definite or not computed.
    public var logCovariance: [[Double]]? = nil

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
    public static func fit(x: [Double], tx: [Double], T: [Double], weights: [Double], threads: Int) throws -> BGNBD {
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
            return try fitFrom(start: start, step: 0.05, cap: 1_500, x: x, tx: tx, T: T, weights: weights, threads: threads, covariance: true)
        }
        let first = try fitFrom(start: [0, 0, 0, 0], step: 0.5, cap: 6_000, x: x, tx: tx, T: T, weights: weights, threads: threads)
        // Restart from the optimum: standard Nelder-Mead hygiene.
        return try fitFrom(start: [first.r, first.alpha, first.a, first.b].map(log), step: 0.05, cap: 6_000,
                           x: x, tx: tx, T: T, weights: weights, threads: threads, covariance: true)
    }

    /// Above this many triples the fit starts on a subsample of `subsampleSize`.
    static let subsampleAbove = 50_000
    static let subsampleSize = 20_000

    static func fitFrom(start: [Double], step: Double, cap: Int, x: [Double], tx: [Double], T: [Double], weights: [Double],
                        threads: Int, covariance: Bool = false) throws -> BGNBD {
        let likelihood = BGNBDLikelihood(x: x, tx: tx, T: T, weights: weights)
        let best = NelderMead.minimize({ likelihood.negativeLogLikelihood($0, threads: threads) }, start: start, step: step, maxEvaluations: cap)
        let p = best.x.map(exp)
        guard best.value.isFinite else { throw StrataError.numerical("BG/NBD fit did not converge; check the summary (frequency, recency, T)") }
        let atBound = best.x.contains { abs($0) > logBound - 0.5 }
        return BGNBD(r: p[0], alpha: p[1], a: p[2], b: p[3], logLikelihood: -best.value, atBound: atBound, converged: best.converged,
                     logCovariance: covariance && !atBound && best.converged
                        ? ObservedInformation.logCovariance({ likelihood.negativeLogLikelihood($0, threads: threads) }, at: best.x) : nil)
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

    /// E[purchases in (T, T + t] | x, T, alive at T] = (a + b + x - 1) / (a - 1) x [1 - ((alpha +
    /// T) / (alpha + T + t))^(r + x) 2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))]: eq. 10
    /// without its P(alive) factor, so it does not depend on t_x (the CLV schedule is computed
    /// once per distinct (x, T)). >= 0 and finite.
    ///
    /// Domain audit: the closed form has a - 1 in a denominator and is 0/0 at a = 1 (the limit
    /// exists), so within 1e-6 of a = 1 it is the mean of the values at a = 1 +- 2e-6; the
    /// hypergeometric factor is evaluated by `Hypergeometric.f21`, which reports non-convergence;
    /// then (and on any non-finite result) the rate bound t (r + x) / (alpha + T) (an alive
    /// customer's expected purchases at its posterior mean rate) is returned instead.
    public func expectedPurchasesIfAlive(t: Double, x: Double, T: Double) -> Double {
        guard t > 0 else { return 0 }
        if abs(a - 1) < 1e-6 {
            var lo = self, hi = self
            lo.a = 1 - 2e-6; hi.a = 1 + 2e-6
            return (lo.expectedPurchasesIfAlive(t: t, x: x, T: T) + hi.expectedPurchasesIfAlive(t: t, x: x, T: T)) / 2
        }
        if let hyp = Hypergeometric.f21(r + x, b + x, a + b + x - 1, t / (alpha + T + t)) {
            let first = (a + b + x - 1) / (a - 1)
            let second = 1 - exp((r + x) * (log(alpha + T) - log(alpha + T + t))) * hyp
            let e = first * second
            if e.isFinite && e >= 0 { return e }
            if e.isFinite && e > -1e-9 * max(1, t) { return 0 }   // rounding at tiny t
        }
        return t * (r + x) / (alpha + T)
    }

    /// E[X(t)]: expected repeat purchases in (0, t] of a customer just acquired (Fader, Hardie &
    /// Lee 2005, eq. 7), >= 0; the tracking curve of the holdout evaluation sums it over customers
    /// from each one's first purchase. Same domain handling as `expectedPurchases`; the fallback
    /// is the no-dropout bound r t / alpha.
    public func expectedPurchasesSinceAcquisition(t: Double) -> Double {
        guard t > 0 else { return 0 }
        if abs(a - 1) < 1e-6 {
            var lo = self, hi = self
            lo.a = 1 - 2e-6; hi.a = 1 + 2e-6
            return (lo.expectedPurchasesSinceAcquisition(t: t) + hi.expectedPurchasesSinceAcquisition(t: t)) / 2
        }
        if let hyp = Hypergeometric.f21(r, b, a + b - 1, t / (alpha + t)) {
            let e = (a + b - 1) / (a - 1) * (1 - exp(r * (log(alpha) - log(alpha + t))) * hyp)
            if e.isFinite && e >= 0 { return e }
            if e.isFinite && e > -1e-9 * max(1, t) { return 0 }
        }
        return r * t / alpha
    }
}

/// The Gauss hypergeometric function for the BTYD closed forms.
public enum Hypergeometric {
    /// 2F1(a, b; c; z) for 0 <= z < 1 and c > 0 by its power series, summed until a term is below
    /// 1e-15 of the sum (at most `maxTerms`); nil when it has not converged by then or is not
    /// finite (z very close to 1 with c - a - b <= 0), so callers use their documented fallback
    /// instead of a truncated value. Terms are positive for positive a, b, c, so there is no
    /// cancellation. Complexity: O(terms), about log(1e-15) / log(z).
    public static func f21(_ a: Double, _ b: Double, _ c: Double, _ z: Double, maxTerms: Int = 1_000_000) -> Double? {
        guard z >= 0 && z < 1, c > 0 else { return nil }
        var term = 1.0, sum = 1.0
        for k in 0..<maxTerms {
            let kk = Double(k)
            term *= (a + kk) * (b + kk) / ((c + kk) * (kk + 1)) * z
            sum += term
            if !sum.isFinite { return nil }
            if abs(term) < 1e-15 * abs(sum) { return sum }
        }
        return nil
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
    /// False when the optimizer stopped at its evaluation cap.
    public var converged: Bool = true
    /// Covariance of (log p, log q, log gamma) from the observed information; nil when not
    /// positive definite, or when the fit did not converge or ended at a search bound.
    public var logCovariance: [[Double]]? = nil

    /// p, q, gamma with standard errors and 95% intervals (`ParameterEstimate`).
    public var estimates: [ParameterEstimate] {
        [p, q, gamma].enumerated().map { ParameterEstimate(value: $1, logVariance: logCovariance?[$0][$0]) }
    }

    /// Whether the fitted model has a finite, positive mean spend (q > 1, p > 0, gamma > 0).
    public var valid: Bool { q > 1 && p > 0 && gamma > 0 && p.isFinite && gamma.isFinite }

    public static func fit(frequency: [Double], monetary: [Double], weights: [Double]) throws -> GammaGamma {
        let idx = frequency.indices.filter { frequency[$0] > 0 && monetary[$0] > 0 }
        guard !idx.isEmpty else { throw StrataError.insufficientData("Gamma-Gamma needs repeat buyers with positive spend, and there are none") }
        let likelihood = GammaGammaLikelihood(frequency: idx.map { frequency[$0] }, monetary: idx.map { monetary[$0] }, weights: idx.map { weights[$0] })
        let nll = likelihood.negativeLogLikelihood
        // A likelihood without an interior optimum (e.g. every customer always spends the same
        // amount: p grows without bound along a ridge) is stopped at the search bound and
        // reported as such, instead of crawling along the ridge to the evaluation cap.
        let atBound = { (x: [Double]) in x.contains { abs($0) > BGNBD.logBound - 0.5 } }
        var best = NelderMead.minimize(nll, start: [0, 0, 0], stop: atBound)
        if !atBound(best.x) { best = NelderMead.minimize(nll, start: best.x, step: 0.05, stop: atBound) }
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
        let bounded = atBound(best.x)
        return GammaGamma(p: v[0], q: v[1], gamma: v[2], logLikelihood: -best.value, atBound: bounded, medianSpend: median, converged: best.converged,
                          logCovariance: bounded || !best.converged ? nil : ObservedInformation.logCovariance(nll, at: best.x))
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

/// A repeat-purchase model, the spend model and every customer's values (`CLV.fit`).
public struct CLVFit<Model: RepeatPurchaseModel>: Sendable {
    public var model: Model
    public var gammaGamma: GammaGamma
    public var results: [CLVResult]
    /// Distinct (x, t_x, T) triples the model was fitted on.
    public var uniqueTriples: Int
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
    /// Why a fit has no standard errors (nil when it has them): a parameter at its search bound,
    /// an optimizer that stopped at its cap (an estimate that is not the optimum has no
    /// observed information), or an information matrix that is not positive definite.
    public static func uncertaintyWarning(_ name: String, hasCovariance: Bool, atBound: Bool, converged: Bool) -> String? {
        if hasCovariance { return nil }
        let why = atBound ? "a parameter reached its search bound" : !converged ? "the optimizer did not converge"
            : "its observed information is not positive definite"
        return "\(name): \(why), so its standard errors and intervals are null"
    }

    /// Every warning about the fits of a `CLVFit`, in a fixed order (`clv` and the segment job).
    public static func fitWarnings<Model: RepeatPurchaseModel>(_ r: CLVFit<Model>, intervalsWanted: Bool, intervalsGiven: Bool) -> [String] {
        let name = Model.self == ParetoNBD.self ? "Pareto/NBD" : "BG/NBD"
        var w: [String] = []
        // A search stopped at the bound is reported as such below, not as a cap.
        if !r.model.converged && !r.model.atBound { w.append("the \(name) optimizer stopped at its evaluation cap before converging") }
        if !r.gammaGamma.converged && !r.gammaGamma.atBound { w.append("the Gamma-Gamma optimizer stopped at its evaluation cap before converging") }
        if !r.gammaGamma.valid { w.append(invalidSpendWarning(r.gammaGamma)) }
        if r.model.atBound {
            w.append("a \(name) parameter reached its search bound: the data show no dropout or no heterogeneity, so the BTYD estimates are not meaningful")
        }
        if r.gammaGamma.atBound {
            w.append(String(format: "a Gamma-Gamma parameter reached its search bound (p = %.3g, q = %.3g, gamma = %.3g): spend per purchase hardly varies within customers or hardly differs between them, so expected spends sit at the customers' own means or at the population's", r.gammaGamma.p, r.gammaGamma.q, r.gammaGamma.gamma))
        }
        for m in [uncertaintyWarning(name, hasCovariance: r.model.logCovariance != nil, atBound: r.model.atBound, converged: r.model.converged),
                  uncertaintyWarning("Gamma-Gamma", hasCovariance: r.gammaGamma.logCovariance != nil, atBound: r.gammaGamma.atBound,
                                     converged: r.gammaGamma.converged)] {
            if let m { w.append(m) }
        }
        if intervalsWanted && !intervalsGiven {
            w.append("no per-customer intervals: the \(name) fit has no covariance to draw parameters from")
        }
        return w
    }

    /// The warning when Gamma-Gamma's fit leaves the mean spend undefined.
    public static func invalidSpendWarning(_ g: GammaGamma) -> String {
        String(format: "Gamma-Gamma fitted q = %.3g <= 1 (heavy-tailed spend: the model's mean spend is undefined); expected spends use each customer's mean shrunk toward the median mean spend (%.6g) by one purchase instead (gamma_gamma.valid: false)", g.q, g.medianSpend)
    }

    /// Fits BG/NBD on the customers' (frequency, recency, T), compressed to unique triples with
    /// counts as weights, and Gamma-Gamma on the repeat buyers; then scores every customer:
    /// P(alive), expected purchases over `horizon` units, expected average spend, and CLV = the sum
    /// over the horizon's unit steps of expected purchases x expected spend, discounted by
    /// `discount` per step (`PurchaseSchedule`, evaluated once per distinct (x, T), times P(alive)). Customers with
    /// net spend <= 0 (only returns) get CLV 0. Every output is finite and >= 0.
    ///
    /// - Throws: `.insufficientData` when nobody bought on two different days (exit 65: a data
    ///   condition), `.numerical` when a fit fails.
    public static func run(_ customers: [CustomerSummary], horizon: Int, discount: Double, threads: Int = defaultThreadCount) throws
        -> (bgnbd: BGNBD, gammaGamma: GammaGamma, results: [CLVResult], uniqueTriples: Int) {
        let f = try fit(customers, model: BGNBD.self, horizon: horizon, discount: discount, threads: threads)
        return (f.model, f.gammaGamma, f.results, f.uniqueTriples)
    }

    /// `run` with either repeat-purchase model (`RepeatPurchaseModelKind`).
    public static func fit<Model: RepeatPurchaseModel>(_ customers: [CustomerSummary], model: Model.Type, horizon: Int, discount: Double,
                                                       threads: Int = defaultThreadCount) throws -> CLVFit<Model> {
        guard customers.contains(where: { $0.btydFrequency > 0 }) else {
            throw StrataError.insufficientData("no customer bought on two different days, so the repeat-purchase models (BG/NBD, Gamma-Gamma) cannot be fitted")
        }
        let (fitted, triples) = try fitRepeatPurchases(customers, model: model, threads: threads)
        let (pairs, pair) = uniquePairs(customers)
        var spend: [[Double]: Double] = [:]
        for c in customers where c.btydFrequency > 0 { spend[[Double(c.btydFrequency), c.btydMonetaryValue], default: 0] += 1 }
        let sk = spend.keys.sorted { $0.lexicographicallyPrecedes($1) }
        let gg = try GammaGamma.fit(frequency: sk.map { $0[0] }, monetary: sk.map { $0[1] }, weights: sk.map { spend[$0]! })
        let schedules = Parallel.map(pairs.count, threads: threads) {
            PurchaseSchedule(model: fitted, x: pairs[$0].x, T: pairs[$0].T, horizon: horizon, discount: discount)
        }
        let results = customers.indices.map { i -> CLVResult in
            let c = customers[i], s = schedules[pair[i]]
            let m = expectedSpend(c, gg)
            let alive = fitted.probabilityAlive(x: Double(c.btydFrequency), tx: c.btydRecency, T: c.btydT)
            return CLVResult(id: c.id, probabilityAlive: alive, expectedPurchases: alive * s.expected, expectedAverageSpend: m,
                             clv: alive * s.discounted * m)
        }
        return CLVFit(model: fitted, gammaGamma: gg, results: results, uniqueTriples: triples)
    }

    /// The repeat-purchase model alone, fitted on the customers' distinct (x, t_x, T) triples with
    /// counts as weights; returns it and the number of triples.
    public static func fitRepeatPurchases<Model: RepeatPurchaseModel>(_ customers: [CustomerSummary], model: Model.Type,
                                                                      threads: Int = defaultThreadCount) throws -> (Model, Int) {
        let (keys, triple) = uniqueTriples(customers)
        var counts = [Double](repeating: 0, count: keys.count)
        for t in triple { counts[t] += 1 }
        return (try Model.fit(x: keys.map(\.x), tx: keys.map(\.tx), T: keys.map(\.T), weights: counts, threads: threads), keys.count)
    }

    /// One customer's expected spend per purchase. Net buyers only: a customer whose returns
    /// cancel their purchases (net spend <= 0) is worth nothing ahead; repeat days with net
    /// non-positive spend say nothing about spend per order, so the population mean is used.
    static func expectedSpend(_ c: CustomerSummary, _ gg: GammaGamma) -> Double {
        c.totalSpend <= 0 ? 0 : c.btydMonetaryValue > 0 ? gg.expectedAverageSpend(x: Double(c.btydFrequency), monetary: c.btydMonetaryValue)
            : gg.expectedAverageSpend(x: 0, monetary: 0)
    }

    /// A customer's (x, t_x, T).
    struct Triple: Hashable, Comparable, Sendable {
        var x: Double, tx: Double, T: Double
        static func < (l: Triple, r: Triple) -> Bool { (l.x, l.tx, l.T) < (r.x, r.tx, r.T) }
    }

    /// A customer's (x, T): what the CLV schedule depends on (`expectedPurchasesIfAlive`).
    struct Pair: Hashable, Comparable, Sendable {
        var x: Double, T: Double
        static func < (l: Pair, r: Pair) -> Bool { (l.x, l.T) < (r.x, r.T) }
    }

    /// The distinct (x, T) pairs, sorted, and each customer's index into them.
    static func uniquePairs(_ customers: [CustomerSummary]) -> (pairs: [Pair], index: [Int]) {
        distinct(customers) { Pair(x: Double($0.btydFrequency), T: $0.btydT) }
    }

    /// The distinct (x, t_x, T) triples, sorted, and each customer's index into them.
    static func uniqueTriples(_ customers: [CustomerSummary]) -> (triples: [Triple], index: [Int]) {
        distinct(customers) { Triple(x: Double($0.btydFrequency), tx: $0.btydRecency, T: $0.btydT) }
    }

    /// The distinct keys of the customers, sorted, and each customer's index into them. O(n log n).
    static func distinct<K: Hashable & Comparable>(_ customers: [CustomerSummary], _ key: (CustomerSummary) -> K) -> ([K], [Int]) {
        let keys = customers.map(key)
        let sorted = Array(Set(keys)).sorted()
        var position: [K: Int] = [:]
        for (i, k) in sorted.enumerated() { position[k] = i }
        return (sorted, keys.map { position[$0]! })
    }
}
