import Foundation

/// The regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), the distribution
/// function of the Beta(a, b) distribution (and, through it, of Student's t), in Double.
public enum IncompleteBeta {
    /// Both tails at once: `lower` = I_x(a, b) and `upper` = 1 - I_x(a, b) = I_{1-x}(b, a),
    /// each computed without the cancellation of subtracting the other from 1 when it is the
    /// smaller one.
    ///
    /// - Parameters: `x` in [0, 1] and `y` = 1 - x given separately (callers often know it more
    ///   precisely than `1 - x`: Student's t passes t²/(ν + t²)); `a`, `b` > 0.
    /// - Returns: NaN for arguments outside the domain.
    /// - Complexity: O(√max(a, b)) continued-fraction terms (a few dozen for moderate a and b).
    /// - Source: Numerical Recipes, 3rd ed. (Press et al. 2007), §6.4: the front factor
    ///   x^a y^b / (a B(a, b)) times the continued fraction of Abramowitz & Stegun 26.5.8, evaluated
    ///   by the modified Lentz method, on the side x < (a + 1) / (a + b + 2) where it converges
    ///   fast (the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) on the other side).
    public static func regularized(x: Double, y: Double, a: Double, b: Double) -> (lower: Double, upper: Double) {
        guard a > 0, b > 0, x >= 0, y >= 0, !x.isNaN, !y.isNaN else { return (.nan, .nan) }
        if x == 0 { return (0, 1) }
        if y == 0 { return (1, 0) }
        // ln x and ln y from whichever of x and y is the more precise (the smaller one).
        let logX = x <= 0.5 ? log(x) : log1p(-y)
        let logY = y <= 0.5 ? log(y) : log1p(-x)
        let logFront = a * logX + b * logY - logBeta(a, b)
        if x < (a + 1) / (a + b + 2) {
            let lower = exp(logFront) * continuedFraction(x: x, y: y, a: a, b: b) / a
            return (lower, 1 - lower)
        }
        let upper = exp(logFront) * continuedFraction(x: y, y: x, a: b, b: a) / b
        return (1 - upper, upper)
    }

    /// I_x(a, b) with y = 1 - x computed here.
    public static func regularized(_ x: Double, a: Double, b: Double) -> Double {
        regularized(x: x, y: 1 - x, a: a, b: b).lower
    }

    /// The continued fraction of I_x(a, b) (A&S 26.5.8) by the modified Lentz method
    /// (Numerical Recipes `betacf`), to a relative change below 1e-16 per step.
    static func continuedFraction(x: Double, y: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300, epsilon = 1e-16
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        // Convergence takes O(√max(a, b)) steps; the cap is far beyond that.
        let limit = 1000 + Int(20 * max(a, b).squareRoot())
        for m in 1...limit {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < epsilon { break }
        }
        return h
    }

    /// ln B(a, b) = ln Γ(a) + ln Γ(b) - ln Γ(a + b), for a, b > 0, without the cancellation of
    /// three large ln Γ values when an argument is large (a Welch test with a million customers
    /// has a = ν/2 in the hundreds of thousands): above 10 the Stirling remainders are taken
    /// apart from the leading terms. O(1).
    ///
    /// - Source: R's `lbeta` (nmath/lbeta.c, after Morris 1985 / the SLATEC DLBETA routine).
    public static func logBeta(_ a: Double, _ b: Double) -> Double {
        let p = min(a, b), q = max(a, b)
        let logSqrt2Pi = 0.918938533204672741780329736406   // ln √(2π)
        if p >= 10 {
            let corr = stirlingRemainder(p) + stirlingRemainder(q) - stirlingRemainder(p + q)
            return -0.5 * log(q) + logSqrt2Pi + corr + (p - 0.5) * log(p / (p + q)) + q * log1p(-p / (p + q))
        }
        if q >= 10 {
            let corr = stirlingRemainder(q) - stirlingRemainder(p + q)
            return lgamma(p) + corr + p - p * log(p + q) + (q - 0.5) * log1p(-p / (p + q))
        }
        return lgamma(p) + lgamma(q) - lgamma(p + q)
    }

    /// ln Γ(x) - ((x - ½) ln x - x + ln √(2π)) for x >= 10: the Stirling series
    /// Σ B₂ₖ / (2k (2k - 1) x^(2k-1)), k = 1...8 (truncation error below 2e-18 at x = 10). O(1).
    static func stirlingRemainder(_ x: Double) -> Double {
        let t = 1 / x, t2 = t * t
        let series = 1.0 / 12 - t2 * (1.0 / 360 - t2 * (1.0 / 1260 - t2 * (1.0 / 1680 - t2 * (1.0 / 1188
            - t2 * (691.0 / 360360 - t2 * (1.0 / 156 - t2 * (3617.0 / 122400)))))))
        return t * series
    }
}
