import StrataCore
import StrataKernels
import StrataLinalg
import Foundation

/// A fitted parameter with its standard error and 95% interval.
///
/// `se` is the delta-method standard error on the natural scale, value x SE(log value); `ci` is
/// the Wald interval on the log scale mapped back, [value e^(-1.96 s), value e^(1.96 s)] with s =
/// SE(log value): it stays positive, as every BTYD parameter is. Both are nil when the observed
/// information is not positive definite (a flat or bound-hitting likelihood).
public struct ParameterEstimate: Sendable, Equatable {
    public var value: Double
    public var se: Double?
    public var ci: [Double]?

    /// From the value and the variance of its logarithm.
    public init(value: Double, logVariance: Double?) {
        self.value = value
        if let v = logVariance, v.isFinite, v >= 0 {
            let s = v.squareRoot()
            se = value * s
            ci = [value * exp(-ParameterEstimate.z95 * s), value * exp(ParameterEstimate.z95 * s)]
        }
    }

    /// The two-sided 95% standard normal quantile.
    public static let z95 = 1.959963984540054
}

/// The asymptotic covariance of maximum-likelihood estimates: the inverse of the observed
/// information (the Hessian of the negative log-likelihood at the optimum).
///
/// Evaluated on the log-parameters the fits optimize (by the invariance of the observed
/// information at a stationary point, the delta-method standard errors equal lifetimes' natural-
/// scale ones, `BetaGeoFitter.summary`, to first order). The Hessian is taken by central finite
/// differences with step `h` in each log-parameter (f(x + h e_i + h e_j) - f(x + h e_i - h e_j)
/// - f(x - h e_i + h e_j) + f(x - h e_i - h e_j)) / 4h^2, 2n^2 + 1 evaluations; then inverted by
/// Cholesky (LAPACK dpotrf, dtrtri).
public enum ObservedInformation {
    /// The covariance matrix (n x n, rows as arrays) of the log-parameters, or nil when the
    /// Hessian is not finite or not positive definite.
    public static func logCovariance(_ f: ([Double]) -> Double, at x: [Double], step h: Double = 1e-4) -> [[Double]]? {
        let n = x.count
        func at(_ moves: [(Int, Double)]) -> Double {
            var p = x
            for (i, d) in moves { p[i] += d }
            return f(p)
        }
        let f0 = f(x)
        var hessian = Matrix<Double>(rows: n, cols: n)
        for i in 0..<n {
            hessian[i, i] = (at([(i, h)]) - 2 * f0 + at([(i, -h)])) / (h * h)
            for j in 0..<i {
                let v = (at([(i, h), (j, h)]) - at([(i, h), (j, -h)]) - at([(i, -h), (j, h)]) + at([(i, -h), (j, -h)])) / (4 * h * h)
                hessian[i, j] = v; hessian[j, i] = v
            }
        }
        guard hessian.storage.allSatisfy(\.isFinite),
              let l = try? LAPACK.cholesky(hessian), let li = try? LAPACK.lowerTriangularInverse(l) else { return nil }
        // H^-1 = L^-T L^-1.
        var cov = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for j in 0..<n {
            var s = 0.0
            for k in max(i, j)..<n { s += li[k, i] * li[k, j] }
            cov[i][j] = s
        } }
        return cov
    }

    /// The lower Cholesky factor of a covariance (to draw correlated normals), or nil.
    static func choleskyFactor(_ cov: [[Double]]) -> [[Double]]? {
        guard let l = try? LAPACK.cholesky(Matrix(cov)) else { return nil }
        return (0..<l.rows).map { l.row($0) }
    }
}

/// Per-customer 90% intervals for expected purchases and CLV from parameter uncertainty.
public struct CLVInterval: Sendable, Equatable {
    public var purchasesP05: Double, purchasesP95: Double
    public var clvP05: Double, clvP95: Double
}

/// Propagates the fitted models' parameter uncertainty to every customer: `draws` parameter
/// vectors are drawn from the asymptotic normal of the log-parameters (the repeat-purchase model
/// and Gamma-Gamma independently; their likelihoods share no parameter), each customer's expected purchases and
/// CLV are evaluated under every draw, and the 5th and 95th percentiles (linear interpolation
/// between order statistics, numpy's default) are kept. A draw whose Gamma-Gamma q <= 1 uses the
/// documented spend fallback, as the point estimate would.
///
/// Deterministic: draw d uses `SeededRandom.stream(seed:index: d)`, and work is split by distinct
/// (x, T) with results placed by index, so the intervals do not depend on the thread count. Cost:
/// draws x distinct (x, T) x horizon evaluations of the conditional expectation, then draws x
/// customers.
public enum CLVIntervals {
    public static let defaultDraws = 100

    /// - Returns: one interval per customer (in order), or nil when the model's covariance is
    ///   unavailable (then there is no interval to give). Without a Gamma-Gamma covariance the
    ///   spend is held at its estimate.
    public static func compute<Model: RepeatPurchaseModel>(_ customers: [CustomerSummary], model: Model, gammaGamma: GammaGamma, horizon: Int,
                                                           discount: Double, draws: Int, seed: UInt64, threads: Int = defaultThreadCount) -> [CLVInterval]? {
        guard draws > 1, let bgCov = model.logCovariance, let bgL = ObservedInformation.choleskyFactor(bgCov) else { return nil }
        let ggL = gammaGamma.logCovariance.flatMap(ObservedInformation.choleskyFactor)
        // Parameter draws.
        var bgDraws: [Model] = [], ggDraws: [GammaGamma] = []
        let bgMean = model.parameters.map(log), n = bgMean.count
        let ggMean = [gammaGamma.p, gammaGamma.q, gammaGamma.gamma].map(log)
        for d in 0..<draws {
            var rng = SeededRandom.stream(seed: seed, index: UInt64(d))
            let zb = (0..<n).map { _ in rng.nextGaussian() }, zg = (0..<3).map { _ in rng.nextGaussian() }
            bgDraws.append(model.with(parameters: (0..<n).map { i in bounded(bgMean[i] + (0...i).reduce(0.0) { $0 + bgL[i][$1] * zb[$1] }) }))
            var g = gammaGamma
            if let ggL {
                let pg = (0..<3).map { i in bounded(ggMean[i] + (0...i).reduce(0.0) { $0 + ggL[i][$1] * zg[$1] }) }
                g.p = pg[0]; g.q = pg[1]; g.gamma = pg[2]
            }
            ggDraws.append(g)
        }
        // Per distinct (x, T) and draw: expected purchases if alive and their discounted sum.
        let (pairs, pair) = CLV.uniquePairs(customers)
        let schedules = Parallel.map(pairs.count, threads: threads) { t -> [PurchaseSchedule] in
            bgDraws.map { PurchaseSchedule(model: $0, x: pairs[t].x, T: pairs[t].T, horizon: horizon, discount: discount) }
        }
        let part = RowPartition(rows: customers.count, chunkRows: 4_096)
        let chunks = Parallel.map(part.count, threads: threads) { c -> [CLVInterval] in
            var out: [CLVInterval] = []
            var purchases = [Double](repeating: 0, count: draws), values = [Double](repeating: 0, count: draws)
            for i in part.range(c) {
                let c = customers[i], s = schedules[pair[i]]
                for d in 0..<draws {
                    let alive = bgDraws[d].probabilityAlive(x: Double(c.btydFrequency), tx: c.btydRecency, T: c.btydT)
                    purchases[d] = alive * s[d].expected
                    values[d] = alive * s[d].discounted * CLV.expectedSpend(c, ggDraws[d])
                }
                purchases.sort(); values.sort()
                out.append(CLVInterval(purchasesP05: quantile(purchases, 0.05), purchasesP95: quantile(purchases, 0.95),
                                       clvP05: quantile(values, 0.05), clvP95: quantile(values, 0.95)))
            }
            return out
        }
        return chunks.flatMap { $0 }
    }

    /// A drawn log-parameter mapped back, clamped to the fits' search bound (|log| <= 15).
    static func bounded(_ v: Double) -> Double { exp(min(max(v, -BGNBD.logBound), BGNBD.logBound)) }

    /// The q-quantile of sorted values, linear between order statistics (numpy's default).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let h = q * Double(sorted.count - 1)
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}

/// Expected purchases of an alive customer with (x, T) over the horizon and their discounted
/// sum: CLV = P(alive) x expected spend x `discounted`, where `discounted` = sum over unit steps s
/// of (E[Y(s)] - E[Y(s - 1)]) / (1 + discount)^s with E the `expectedPurchasesIfAlive`.
/// Increments are clamped at 0 (E[Y(t)] is non-decreasing; rounding must not make a step
/// negative).
struct PurchaseSchedule: Sendable {
    var expected: Double
    var discounted: Double

    init<Model: RepeatPurchaseModel>(model: Model, x: Double, T: Double, horizon: Int, discount: Double) {
        var value = 0.0, previous = 0.0
        for step in 1...max(1, horizon) {
            let e = max(previous, model.expectedPurchasesIfAlive(t: Double(step), x: x, T: T))
            value += (e - previous) / pow(1 + discount, Double(step))
            previous = e
        }
        expected = previous
        discounted = value
    }
}
