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
    /// - Complexity: O(√max(a, b)) continued-fraction terms (a few dozen for moderate a and b);
    ///   at most 30 expansion terms for b = 1/2, a >= 30.
    /// - Accuracy: about 1e-14 relative for the smaller tail; 1e-13 for b = 1/2 at any a.
    /// - Source: Numerical Recipes, 3rd ed. (Press et al. 2007), §6.4: the front factor
    ///   x^a y^b / (a B(a, b)) times the continued fraction of Abramowitz & Stegun 26.5.8, evaluated
    ///   by the modified Lentz method, on the side x < (a + 1) / (a + b + 2) where it converges
    ///   fast (the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) on the other side). For b = 1/2 and
    ///   a >= 30 (Student's t with ν >= 60), the asymptotic expansion for large a of DiDonato &
    ///   Morris (1992), "Algorithm 708: significant digit computation of the incomplete beta
    ///   function ratios", ACM TOMS 18(3), 360-373 (BGRAT).
    public static func regularized(x: Double, y: Double, a: Double, b: Double) -> (lower: Double, upper: Double) {
        guard a > 0, b > 0, x >= 0, y >= 0, !x.isNaN, !y.isNaN else { return (.nan, .nan) }
        if x == 0 { return (0, 1) }
        if y == 0 { return (1, 0) }
        // ln x and ln y from whichever of x and y is the more precise (the smaller one).
        let logX = x <= 0.5 ? log(x) : log1p(-y)
        let logY = y <= 0.5 ? log(y) : log1p(-x)
        // Student's t with many degrees of freedom: the continued fraction is ill-conditioned
        // there (x near 1, a large: its error grows like a · 1e-16), the expansion is not.
        if b == 0.5 && a >= 30 {
            let lower = largeAHalfB(logX: logX, a: a)
            return (lower, 1 - lower)
        }
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

    /// I_x(a, 1/2) for a >= 30 by the expansion of DiDonato & Morris (TOMS 708, BGRAT) in
    /// incomplete gamma ratios, with b = 1/2 so that Q(1/2, z) = erfc(√z):
    ///
    ///     ν' = a - 1/4, z = -ν' ln x, I = u Σ dₙ Jₙ,  u = exp(-z + ½ ln z - ln B(a, ½) - ½ ln ν'),
    ///     J₀ = Q(½, z) Γ(½) eᶻ / √z,  Jₙ from Jₙ₋₁ by TOMS 708's recurrence.
    ///
    /// Converges in a few terms (2 at a = 5e6, 22 at a = 30); 1e-13 relative against 30-digit
    /// references. `logX` = ln x, computed by the caller from the more precise of x and 1 - x.
    static func largeAHalfB(logX lnx: Double, a: Double) -> Double {
        let b = 0.5, bm1 = b - 1
        let nu = a + 0.5 * bm1
        let z = -nu * lnx
        guard z > 0 else { return 1 }
        let u = exp(-z + b * log(z) - logBeta(a, b) - b * log(nu))
        var j = scaledErfcRatio(z)
        var sum = j
        let v = 0.25 / (nu * nu), t2 = 0.25 * lnx * lnx
        var t = 1.0, cn = 1.0, n2 = 0.0
        var c = [Double](repeating: 0, count: 31), d = [Double](repeating: 0, count: 31)
        for n in 1...30 {
            let bp2n = b + n2
            j = (bp2n * (bp2n + 1) * j + (z + bp2n + 1) * t) * v
            n2 += 2
            t *= t2
            cn /= n2 * (n2 + 1)
            c[n] = cn
            var s = 0.0
            var coef = b - Double(n)
            for i in stride(from: 1, to: n, by: 1) {
                s += coef * c[i] * d[n - i]
                coef += b
            }
            d[n] = bm1 * cn + s / Double(n)
            let dj = d[n] * j
            sum += dj
            if abs(dj) <= 1e-16 * sum { break }
        }
        return u * sum
    }

    /// Q(½, z) Γ(½) eᶻ / √z = √π erfcx(√z) / √z: from erfc below z = 50, above by the
    /// asymptotic series (1/z) Σ (-1)ᵏ (2k-1)!! / (2z)ᵏ (A&S 7.1.23), which there reaches 1e-17
    /// before it diverges (eᶻ would amplify erfc's rounding, and erfc underflows past z ≈ 700).
    static func scaledErfcRatio(_ z: Double) -> Double {
        if z <= 50 { return erfc(z.squareRoot()) * Double.pi.squareRoot() * exp(z) / z.squareRoot() }
        var sum = 1.0, term = 1.0
        for k in 1...200 {
            term *= -Double(2 * k - 1) / (2 * z)
            sum += term
            if abs(term) < 1e-17 * abs(sum) { break }
        }
        return sum / z
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
