import Foundation

/// A closed interval [lower, upper] (a confidence interval for a difference).
public struct ConfidenceInterval: Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public init(lower: Double, upper: Double) { self.lower = lower; self.upper = upper }
    /// True when the interval does not contain 0.
    public var excludesZero: Bool { lower > 0 || upper < 0 }
}

/// Successes out of trials (responders out of customers).
public struct Proportion: Sendable, Equatable {
    public var successes: Int
    public var trials: Int
    public init(successes: Int, trials: Int) { self.successes = successes; self.trials = trials }
    /// successes / trials; nil with no trials.
    public var rate: Double? { trials > 0 ? Double(successes) / Double(trials) : nil }
    /// The Bernoulli variance p(1 - p) of one trial; nil with no trials.
    public var bernoulliVariance: Double? { rate.map { $0 * (1 - $0) } }
}

/// Count, mean and unbiased variance of one sample (revenue per customer of one group).
public struct SampleSummary: Sendable, Equatable {
    public var count: Int
    /// nil for an empty sample.
    public var mean: Double?
    /// Unbiased (n - 1 denominator); nil for fewer than 2 values.
    public var variance: Double?

    public init(count: Int, mean: Double?, variance: Double?) {
        self.count = count; self.mean = mean; self.variance = variance
    }

    /// Two passes in Double: the mean, then the squared deviations from it (no cancellation of
    /// Σx² - n·mean²). O(n).
    public init<C: Collection>(_ values: C) where C.Element == Double {
        count = values.count
        guard count > 0 else { mean = nil; variance = nil; return }
        let m = values.reduce(0.0, +) / Double(count)
        mean = m
        variance = count < 2 ? nil : values.reduce(0.0) { $0 + ($1 - m) * ($1 - m) } / Double(count - 1)
    }
}

/// Treatment minus control response rates: the absolute uplift, its Wald interval, the
/// two-proportion z-test and the customers per group needed to detect it.
///
/// - `difference` d = p_T - p_C (proportions, not percentage points); `relativeDifference`
///   d / p_C.
/// - `interval`: Wald, unpooled: d ± z₁₋α/₂ · √(p_T(1-p_T)/n_T + p_C(1-p_C)/n_C) (statsmodels
///   `confint_proportions_2indep(method="wald")`), clipped to [-1, 1], the range of a difference
///   of proportions (the normal approximation can overshoot it on a handful of customers, where
///   the verdict already says the group is too small).
/// - `z`, `pValue`: the two-proportion z-test of p_T = p_C with the pooled rate
///   p̄ = (x_T + x_C)/(n_T + n_C): z = d / √(p̄(1-p̄)(1/n_T + 1/n_C)), p = P(|Z| >= |z|)
///   (statsmodels `proportions_ztest`, two-sided; Agresti, Categorical Data Analysis).
/// - `requiredPerGroup`: `SampleSize.perGroup` with σ² = p(1 - p) of each group's observed rate.
///
/// A value that is undefined is nil: everything with an empty group; the interval when the
/// unpooled standard error is 0 (both rates 0 or 1); the test when the pooled rate is 0 or 1
/// (nobody, or everybody, responded); the relative uplift when p_C = 0; the sample size when
/// d = 0. Counts only: O(1).
public struct ProportionDifference: Sendable, Equatable {
    public var treatment: Proportion
    public var control: Proportion
    public var difference: Double?
    public var relativeDifference: Double?
    public var standardError: Double?
    public var interval: ConfidenceInterval?
    public var z: Double?
    public var pValue: Double?
    public var requiredPerGroup: Double?

    /// - Parameters: `alpha`, the two-sided level of the interval (1 - alpha) and of the sample
    ///   size; `power`, the sample size's power. Defaults 0.05 and 0.8.
    public init(treatment: Proportion, control: Proportion, alpha: Double = 0.05, power: Double = 0.8) {
        self.treatment = treatment
        self.control = control
        guard let pT = treatment.rate, let pC = control.rate else { return }
        let d = pT - pC
        difference = d
        relativeDifference = pC > 0 ? d / pC : nil
        let nT = Double(treatment.trials), nC = Double(control.trials)
        let se = (pT * (1 - pT) / nT + pC * (1 - pC) / nC).squareRoot()
        if se > 0 {
            standardError = se
            let half = NormalDistribution.quantile(1 - alpha / 2) * se
            interval = ConfidenceInterval(lower: max(-1, d - half), upper: min(1, d + half))
        }
        let pooled = Double(treatment.successes + control.successes) / (nT + nC)
        let pooledSE = (pooled * (1 - pooled) * (1 / nT + 1 / nC)).squareRoot()
        if pooledSE > 0 {
            let z = d / pooledSE
            self.z = z
            pValue = NormalDistribution.twoSidedPValue(z)
        }
        requiredPerGroup = SampleSize.perGroup(difference: d, treatmentVariance: pT * (1 - pT), controlVariance: pC * (1 - pC),
                                               alpha: alpha, power: power)
    }
}

/// Treatment minus control means (revenue per customer): Welch's unequal-variance t-test and
/// interval, and the customers per group needed to detect the difference.
///
/// - `difference` d = x̄_T - x̄_C (units of the values); `relativeDifference` d / x̄_C.
/// - with v = s²/n per group: `standardError` √(v_T + v_C); `degreesOfFreedom` by
///   Welch-Satterthwaite ν = (v_T + v_C)² / (v_T²/(n_T - 1) + v_C²/(n_C - 1)); `t` = d / se;
///   `pValue` = P(|T_ν| >= |t|) (two-sided); `interval` d ± t_{ν, 1-α/2} · se. The same as
///   scipy `ttest_ind(equal_var=False)` and its `confidence_interval()`.
/// - `requiredPerGroup`: `SampleSize.perGroup` with the two sample variances.
///
/// nil where undefined: everything but the means with fewer than 2 values in a group (no
/// variance); the test and interval when both variances are 0; the relative uplift when
/// x̄_C = 0; the sample size when d = 0. O(1) (the summaries carry the data).
///
/// - Source: Welch, B. L. (1947), "The generalization of 'Student's' problem when several
///   different population variances are involved", Biometrika 34, 28-35; Satterthwaite, F. E.
///   (1946), Biometrics Bulletin 2(6), 110-114.
public struct MeanDifference: Sendable, Equatable {
    public var treatment: SampleSummary
    public var control: SampleSummary
    public var difference: Double?
    public var relativeDifference: Double?
    public var standardError: Double?
    public var degreesOfFreedom: Double?
    public var t: Double?
    public var pValue: Double?
    public var interval: ConfidenceInterval?
    public var requiredPerGroup: Double?

    public init(treatment: SampleSummary, control: SampleSummary, alpha: Double = 0.05, power: Double = 0.8) {
        self.treatment = treatment
        self.control = control
        guard let mT = treatment.mean, let mC = control.mean else { return }
        let d = mT - mC
        difference = d
        relativeDifference = mC != 0 ? d / mC : nil
        guard let sT = treatment.variance, let sC = control.variance else { return }
        let nT = Double(treatment.count), nC = Double(control.count)
        let vT = sT / nT, vC = sC / nC
        let se = (vT + vC).squareRoot()
        requiredPerGroup = SampleSize.perGroup(difference: d, treatmentVariance: sT, controlVariance: sC, alpha: alpha, power: power)
        guard se > 0 else { return }
        let nu = (vT + vC) * (vT + vC) / (vT * vT / (nT - 1) + vC * vC / (nC - 1))
        let t = d / se
        standardError = se
        degreesOfFreedom = nu
        self.t = t
        pValue = StudentTDistribution.twoSidedPValue(t, degreesOfFreedom: nu)
        let half = StudentTDistribution.quantile(1 - alpha / 2, degreesOfFreedom: nu) * se
        interval = ConfidenceInterval(lower: d - half, upper: d + half)
    }
}

/// Customers needed per group (equal groups) for a two-sided test at level α to detect a
/// difference δ with power 1 - β, by the normal approximation:
///
///     n = (z₁₋α/₂ + z₁₋β)² · (σ_T² + σ_C²) / δ²
///
/// where σ² is the variance of one customer's outcome in each group (p(1 - p) for a response
/// rate, the sample variance for revenue). At α = 0.05 and power 0.8 the factor
/// (1.959964 + 0.841621)² = 7.84888. It ignores the far tail's negligible share of the power,
/// so it is statsmodels `NormalIndPower().solve_power(effect_size=δ/√((σ_T²+σ_C²)/2),
/// alpha=α, power=1-β, ratio=1)` to about 1e-6 relative.
///
/// - Source: e.g. Chow, Shao & Wang (2008), Sample Size Calculations in Clinical Research,
///   2nd ed., two-sample test for equality with unequal variances.
public enum SampleSize {
    /// n per group as a real number (round up for customers); nil when δ = 0 (no finite n),
    /// when the variances sum to 0, or for non-finite inputs. O(1).
    public static func perGroup(difference: Double, treatmentVariance: Double, controlVariance: Double,
                                alpha: Double = 0.05, power: Double = 0.8) -> Double? {
        let variance = treatmentVariance + controlVariance
        guard difference != 0, variance > 0, difference.isFinite, variance.isFinite else { return nil }
        let z = NormalDistribution.quantile(1 - alpha / 2) + NormalDistribution.quantile(power)
        return z * z * variance / (difference * difference)
    }
}
