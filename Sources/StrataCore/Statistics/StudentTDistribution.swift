import Foundation

/// Student's t distribution with ν > 0 degrees of freedom (ν need not be an integer: Welch's
/// test has fractional ν), in Double.
///
/// With x = ν / (ν + t²): P(|T| >= |t|) = I_x(ν/2, 1/2) (Abramowitz & Stegun 26.7.1 with
/// 26.5.27), so every function here is the regularized incomplete beta (`IncompleteBeta`).
public enum StudentTDistribution {
    /// Above this many degrees of freedom t is taken as the standard normal: the two differ by
    /// O(1/ν), below 1e-12 relative here.
    static let normalLimit = 1e12

    /// Two-sided tail probability P(|T| >= |t|) = I_x(ν/2, 1/2), x = ν / (ν + t²). Relative
    /// accuracy about 1e-13, in the far tail too. O(√ν) at worst (the continued fraction, below
    /// 60 degrees of freedom; a few expansion terms above).
    public static func twoSidedPValue(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0, !t.isNaN, !nu.isNaN else { return .nan }
        if nu > normalLimit { return NormalDistribution.twoSidedPValue(t) }
        if t.isInfinite { return 0 }
        let (x, y) = betaArguments(t, nu)
        return IncompleteBeta.regularized(x: x, y: y, a: nu / 2, b: 0.5).lower
    }

    /// P(T > t) (upper tail). O(√ν) at worst.
    public static func survival(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0, !t.isNaN, !nu.isNaN else { return .nan }
        if nu > normalLimit { return NormalDistribution.survival(t) }
        if t.isInfinite { return t > 0 ? 0 : 1 }
        if t == 0 { return 0.5 }
        let (x, y) = betaArguments(t, nu)
        let both = IncompleteBeta.regularized(x: x, y: y, a: nu / 2, b: 0.5)
        // I_x is the two-sided tail; half of it lies beyond |t|.
        return t > 0 ? both.lower / 2 : 1 - both.lower / 2
    }

    /// P(T <= t). O(√ν) at worst.
    public static func cdf(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        survival(-t, degreesOfFreedom: nu)
    }

    /// The density Γ((ν+1)/2) / (√(νπ) Γ(ν/2)) (1 + t²/ν)^(-(ν+1)/2), written as
    /// exp(-ln B(ν/2, 1/2) - ½ ln ν - (ν+1)/2 · ln(1 + t²/ν)) (Γ(½) = √π), so large ν loses
    /// nothing to cancelling ln Γ values. O(1).
    public static func density(_ t: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0 else { return .nan }
        if nu > normalLimit { return NormalDistribution.density(t) }
        return exp(-IncompleteBeta.logBeta(nu / 2, 0.5) - 0.5 * log(nu) - (nu + 1) / 2 * log1p(t * t / nu))
    }

    /// The quantile: the t with P(T <= t) = p, for 0 < p < 1 (∓∞ at 0 and 1, NaN outside).
    ///
    /// Newton's method on the upper tail, started from the Cornish-Fisher expansion around the
    /// normal quantile (Abramowitz & Stegun 26.7.5) and kept inside a bracket by bisection, to a
    /// step below 4 ulp of t: about 1e-15 relative, limited by the tail's own accuracy.
    /// O(√ν) per step, a handful of steps.
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        guard nu > 0, p >= 0, p <= 1, !nu.isNaN else { return .nan }
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p == 0.5 { return 0 }
        if nu > normalLimit { return NormalDistribution.quantile(p) }
        // By symmetry, solve P(T > t) = tail for t > 0 (1 - p is exact for p >= 0.5).
        let tail = p > 0.5 ? 1 - p : p
        let z = NormalDistribution.quantile(1 - tail)
        let z3 = z * z * z, z5 = z3 * z * z
        var t = max(z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu * nu), Double.leastNormalMagnitude)
        var lo = 0.0, hi = Double.infinity
        // A finite upper bracket: double until the tail beyond it is below `tail`.
        var probe = t
        while survival(probe, degreesOfFreedom: nu) > tail && probe < 1e300 { lo = probe; probe *= 2 }
        hi = probe
        if t <= lo || t >= hi { t = (lo + hi) / 2 }
        for _ in 0..<200 {
            let excess = survival(t, degreesOfFreedom: nu) - tail
            if excess == 0 { break }
            if excess > 0 { lo = t } else { hi = t }
            var next = t + excess / density(t, degreesOfFreedom: nu)
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }
            let step = abs(next - t)
            t = next
            if step <= 4 * t.ulp { break }
        }
        return p > 0.5 ? t : -t
    }

    /// x = ν / (ν + t²) and 1 - x = t² / (ν + t²), each as a quotient that neither overflows
    /// for huge t nor cancels for small t.
    static func betaArguments(_ t: Double, _ nu: Double) -> (Double, Double) {
        let t2 = t * t
        return (1 / (1 + t2 / nu), 1 / (1 + nu / t2))
    }
}
