import StrataCore
import StrataKernels
import Foundation

/// Holdout evaluation of the CLV models: fitted on the calibration period, compared with what
/// customers actually did in the holdout period (calibration end, holdout end].
///
/// Per customer, exactly as lifetimes' `calibration_and_holdout_data` (freq "D",
/// `freq_multiplier` 7 for weeks) and `conditional_expected_number_of_purchases_up_to_time` define
/// them: actual = distinct purchase days in the holdout; predicted = E[Y(t*) | x, t_x, T] with t*
/// = holdout length in the model's unit. Customers first seen in the holdout are not in the
/// calibration set and are not evaluated (lifetimes' left join). Spend: actual = the holdout's
/// net spend per purchase day (a day's orders summed, as in the calibration monetary value;
/// lifetimes averages holdout rows instead), predicted = the Gamma-Gamma expected spend.
///
/// The tracking curve (Fader, Hardie & Lee 2005, Figure 2) is cumulative repeat purchases per
/// 7-day week from the first customer's first purchase to the holdout end: actual = repeat
/// purchase days of calibration customers (the first purchase day is not a repeat), predicted =
/// the sum over customers of E[X(t - t_i)] (`expectedPurchasesSinceAcquisition`) where t_i is
/// the customer's first purchase.
public struct CLVHoldoutEvaluation: Sendable {
    public struct FrequencyBin: Sendable, Equatable {
        public var frequency: Int
        public var customers: Int
        public var actualMean: Double
        public var predictedMean: Double
    }
    public struct Week: Sendable, Equatable {
        public var week: Int
        public var actualCumulative: Int
        public var predictedCumulative: Double
    }
    public struct Spend: Sendable, Equatable {
        /// Customers with at least one holdout day of positive net spend (the only ones with an
        /// observed spend per purchase).
        public var customers: Int
        public var actualMean: Double, predictedMean: Double
        public var mae: Double, rmse: Double
        public var correlation: Double?
        /// Holdout net revenue of calibration customers (returns subtract, so it can be negative:
        /// it is data, not a model output), and the models' expectation of it (sum of expected
        /// purchases x expected spend, undiscounted).
        public var actualRevenue: Double, predictedRevenue: Double
    }

    /// Holdout length in the model's unit (lifetimes' `duration_holdout`).
    public var duration: Double
    public var customers: Int
    public var actualRepeatPurchases: Int
    public var predictedRepeatPurchases: Double
    public var mae: Double, rmse: Double
    /// Pearson correlation of actual and predicted per customer; nil when either is constant.
    public var correlation: Double?
    /// Every calibration frequency, ascending (lifetimes' `groupby("frequency_cal").mean()`).
    public var byFrequency: [FrequencyBin]
    /// Week 1 ends 7 days after the first customer's first purchase; whole weeks only, so the last
    /// ends on the holdout end or up to 6 days before it (lifetimes' `t // freq_multiplier`).
    /// `calibrationWeeks` weeks end on or before the calibration end.
    public var weekly: [Week]
    public var calibrationWeeks: Int
    public var spend: Spend

    /// Evaluates fitted models on customers summarized with `RFMOptions.holdoutEnd`.
    ///
    /// - Parameters:
    ///   - customers: calibration summaries with `holdoutPurchaseDays`/`holdoutSpend`, in `unit`.
    ///   - repeatPurchasesPerDay: `RFMReport.repeatPurchasesPerDay` (days since 1970-01-01).
    ///   - calibrationEnd, holdoutEnd: days since 1970-01-01, holdoutEnd > calibrationEnd.
    ///   - unitDays: 7 for weeks, 1 for days.
    /// - Complexity: O(customers x (weeks + the conditional expectation's series)).
    public static func evaluate<Model: RepeatPurchaseModel>(_ customers: [CustomerSummary], model bg: Model, gammaGamma gg: GammaGamma,
                                repeatPurchasesPerDay: [Int: Int], calibrationEnd: Int, holdoutEnd: Int, unitDays: Double,
                                threads: Int = defaultThreadCount) -> CLVHoldoutEvaluation {
        let duration = Double(holdoutEnd - calibrationEnd) / unitDays
        let (triples, triple) = CLV.uniqueTriples(customers)
        let expected = Parallel.map(triples.count, threads: threads) {
            bg.expectedPurchases(t: duration, x: triples[$0].x, tx: triples[$0].tx, T: triples[$0].T)
        }
        let predicted = triple.map { expected[$0] }
        let actual = customers.map { Double($0.holdoutPurchaseDays) }
        // By calibration frequency.
        var bins: [Int: (n: Int, actual: Double, predicted: Double)] = [:]
        for (i, c) in customers.enumerated() {
            var b = bins[c.btydFrequency, default: (0, 0, 0)]
            b.n += 1; b.actual += actual[i]; b.predicted += predicted[i]
            bins[c.btydFrequency] = b
        }
        let byFrequency = bins.keys.sorted().map { f in
            let b = bins[f]!
            return FrequencyBin(frequency: f, customers: b.n, actualMean: b.actual / Double(b.n), predictedMean: b.predicted / Double(b.n))
        }
        // Tracking, per 7-day week from the first acquisition.
        let start = customers.map(\.firstDay).min() ?? calibrationEnd
        let weeks = max(1, (holdoutEnd - start + 1) / 7)
        let calibrationWeeks = (calibrationEnd - start + 1) / 7
        var births: [Int: Int] = [:]
        for c in customers { births[c.firstDay, default: 0] += 1 }
        let birthDays = births.keys.sorted()
        let predictedWeekly = Parallel.map(weeks, threads: threads) { w -> Double in
            let end = start + 7 * (w + 1)   // the week's end, exclusive: E[X] at the start of that day
            var s = 0.0
            for d in birthDays where d < end {
                s += Double(births[d]!) * bg.expectedPurchasesSinceAcquisition(t: Double(end - d) / unitDays)
            }
            return s
        }
        var cumulative = 0
        var perWeek = [Int](repeating: 0, count: weeks)
        for (d, n) in repeatPurchasesPerDay where d >= start {
            let w = (d - start) / 7
            if w < weeks { perWeek[w] += n }
        }
        let weekly = (0..<weeks).map { w -> Week in
            cumulative += perWeek[w]
            return Week(week: w + 1, actualCumulative: cumulative, predictedCumulative: predictedWeekly[w])
        }
        // Spend.
        var spendActual: [Double] = [], spendPredicted: [Double] = []
        var revenue = 0.0, predictedRevenue = 0.0
        for (i, c) in customers.enumerated() {
            let m = CLV.expectedSpend(c, gg)
            predictedRevenue += predicted[i] * m
            revenue += c.holdoutSpend
            if c.holdoutPositiveDays > 0 {
                spendActual.append(c.holdoutPositiveSpend / Double(c.holdoutPositiveDays))
                spendPredicted.append(m)
            }
        }
        let spend = Spend(customers: spendActual.count, actualMean: mean(spendActual), predictedMean: mean(spendPredicted),
                          mae: meanAbsoluteError(spendActual, spendPredicted), rmse: rootMeanSquaredError(spendActual, spendPredicted),
                          correlation: pearson(spendActual, spendPredicted), actualRevenue: revenue, predictedRevenue: predictedRevenue)
        return CLVHoldoutEvaluation(
            duration: duration, customers: customers.count, actualRepeatPurchases: customers.reduce(0) { $0 + $1.holdoutPurchaseDays },
            predictedRepeatPurchases: predicted.reduce(0, +), mae: meanAbsoluteError(actual, predicted),
            rmse: rootMeanSquaredError(actual, predicted), correlation: pearson(actual, predicted), byFrequency: byFrequency,
            weekly: weekly, calibrationWeeks: calibrationWeeks, spend: spend)
    }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }

    static func meanAbsoluteError(_ a: [Double], _ b: [Double]) -> Double {
        a.isEmpty ? 0 : zip(a, b).reduce(0.0) { $0 + abs($1.0 - $1.1) } / Double(a.count)
    }

    static func rootMeanSquaredError(_ a: [Double], _ b: [Double]) -> Double {
        a.isEmpty ? 0 : (zip(a, b).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(a.count)).squareRoot()
    }

    /// Pearson correlation (two-pass, Double); nil with fewer than 2 values or a constant side.
    static func pearson(_ a: [Double], _ b: [Double]) -> Double? {
        guard a.count >= 2 else { return nil }
        let ma = mean(a), mb = mean(b)
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) { sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb) }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }
}
