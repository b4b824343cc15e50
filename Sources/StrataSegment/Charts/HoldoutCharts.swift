import Foundation
import StrataCore
import StrataCustomers

/// `strata clv --holdout-end --charts DIR`: the holdout evaluation as standalone SVG files (SVG
/// 1.1, no scripts or external resources):
/// - `holdout_tracking.svg`: cumulative repeat purchases per week, actual vs predicted, the
///   calibration end marked (Fader, Hardie & Lee 2005, Figure 2);
/// - `holdout_by_frequency.svg`: mean holdout purchases by calibration frequency, actual vs
///   predicted (lifetimes' `plot_calibration_purchases_vs_holdout_purchases`; frequencies 0-9,
///   the rest in the JSON);
/// - `holdout_spend.svg`: the spend summary bars (mean spend per purchase day and holdout
///   revenue, actual vs predicted).
public enum HoldoutCharts {
    /// File name and SVG text of each chart.
    public static func files(_ e: CLVHoldoutEvaluation, unit: String) -> [(name: String, svg: String)] {
        [("holdout_tracking.svg", tracking(e).markup + "\n"),
         ("holdout_by_frequency.svg", byFrequency(e, unit: unit).markup + "\n"),
         ("holdout_spend.svg", spend(e).markup + "\n")]
    }

    static let actualColor = "#222", predictedColor = "#e15759"

    static func frame(_ s: inout SVG, title: String, subtitle: String) {
        s.rect(0, 0, s.width, s.height, fill: "white")
        s.text(14, 20, title, size: 14, weight: "bold")
        s.text(14, 38, subtitle, fill: "#444")
        s.line(s.width - 190, 18, s.width - 170, 18, stroke: actualColor, width: 2)
        s.text(s.width - 165, 22, "actual", size: 10)
        s.line(s.width - 110, 18, s.width - 90, 18, stroke: predictedColor, width: 2, dash: true)
        s.text(s.width - 85, 22, "predicted", size: 10)
    }

    static func tracking(_ e: CLVHoldoutEvaluation) -> SVG {
        var s = SVG(id: "holdout-tracking", width: 720, height: 380, title: "Cumulative repeat purchases")
        frame(&s, title: "Cumulative repeat purchases, actual vs BG/NBD",
              subtitle: String(format: "holdout: %d actual vs %.0f predicted repeat purchases", e.actualRepeatPurchases, e.predictedRepeatPurchases))
        let l = 70.0, r = 700.0, t = 60.0, b = 340.0
        let maxY = max(1, e.weekly.map { max(Double($0.actualCumulative), $0.predictedCumulative) }.max() ?? 1)
        let n = Double(max(1, e.weekly.count))
        func x(_ w: Int) -> Double { l + (r - l) * Double(w) / n }
        func y(_ v: Double) -> Double { b - (b - t) * v / maxY }
        s.line(l, b, r, b, stroke: "#999"); s.line(l, t, l, b, stroke: "#999")
        s.text(l - 4, t + 4, short(maxY), anchor: "end", size: 9); s.text(l - 4, b, "0", anchor: "end", size: 9)
        for w in stride(from: 0, through: e.weekly.count, by: max(1, e.weekly.count / 8)) { s.text(x(w), b + 14, "\(w)", anchor: "middle", size: 10) }
        s.text((l + r) / 2, b + 30, "week", anchor: "middle", size: 10)
        s.line(x(e.calibrationWeeks), t, x(e.calibrationWeeks), b, stroke: "#999", dash: true)
        s.text(x(e.calibrationWeeks) + 4, t + 10, "calibration end", size: 9, fill: "#666")
        s.polyline([(l, b)] + e.weekly.map { (x($0.week), y(Double($0.actualCumulative))) }, stroke: actualColor)
        for (a, c) in zip(e.weekly.dropLast(), e.weekly.dropFirst()) {
            s.line(x(a.week), y(a.predictedCumulative), x(c.week), y(c.predictedCumulative), stroke: predictedColor, width: 2, dash: true)
        }
        return s
    }

    static func byFrequency(_ e: CLVHoldoutEvaluation, unit: String) -> SVG {
        let bins = e.byFrequency.filter { $0.frequency < 10 }
        var s = SVG(id: "holdout-by-frequency", width: 720, height: 380, title: "Holdout purchases by calibration frequency")
        frame(&s, title: "Mean holdout purchases by calibration frequency",
              subtitle: String(format: "holdout of %.1f %@; MAE %.3f, RMSE %.3f per customer", e.duration, unit, e.mae, e.rmse))
        let l = 70.0, r = 700.0, t = 60.0, b = 340.0
        let maxY = max(1e-9, bins.map { max($0.actualMean, $0.predictedMean) }.max() ?? 1)
        let n = Double(max(1, bins.count - 1))
        func x(_ i: Int) -> Double { l + 20 + (r - l - 40) * Double(i) / n }
        func y(_ v: Double) -> Double { b - (b - t) * v / maxY }
        s.line(l, b, r, b, stroke: "#999"); s.line(l, t, l, b, stroke: "#999")
        s.text(l - 4, t + 4, short(maxY), anchor: "end", size: 9); s.text(l - 4, b, "0", anchor: "end", size: 9)
        for (i, bin) in bins.enumerated() { s.text(x(i), b + 14, "\(bin.frequency) (\(bin.customers))", anchor: "middle", size: 9) }
        s.text((l + r) / 2, b + 30, "repeat purchases in the calibration period (customers)", anchor: "middle", size: 10)
        s.polyline(bins.enumerated().map { (x($0.offset), y($0.element.actualMean)) }, stroke: actualColor)
        for (i, bin) in bins.enumerated() {
            s.circle(x(i), y(bin.actualMean), 3, fill: actualColor)
            s.circle(x(i), y(bin.predictedMean), 3, fill: predictedColor)
            if i > 0 { s.line(x(i - 1), y(bins[i - 1].predictedMean), x(i), y(bin.predictedMean), stroke: predictedColor, width: 2, dash: true) }
        }
        return s
    }

    static func spend(_ e: CLVHoldoutEvaluation) -> SVG {
        var s = SVG(id: "holdout-spend", width: 720, height: 300, title: "Holdout spend")
        frame(&s, title: "Holdout spend, actual vs Gamma-Gamma",
              subtitle: String(format: "%d customers bought in the holdout; spend per purchase day MAE %.2f", e.spend.customers, e.spend.mae))
        let panels = [("mean spend per purchase day", e.spend.actualMean, e.spend.predictedMean),
                      ("holdout revenue", e.spend.actualRevenue, e.spend.predictedRevenue)]
        for (i, (name, actual, predicted)) in panels.enumerated() {
            let ox = 30 + 350 * Double(i), t = 80.0, b = 260.0
            let top = max(1e-9, actual, predicted)
            s.text(ox, t - 10, name, size: 11, weight: "bold")
            s.line(ox, b, ox + 300, b, stroke: "#999")
            for (j, (label, v, color)) in [("actual", actual, actualColor), ("predicted", predicted, predictedColor)].enumerated() {
                let h = (b - t - 20) * max(0, v) / top
                s.rect(ox + 40 + 130 * Double(j), b - h, 90, h, fill: color, tip: "\(label): \(short(v))")
                s.text(ox + 85 + 130 * Double(j), b - h - 4, short(v), anchor: "middle", size: 10)
                s.text(ox + 85 + 130 * Double(j), b + 14, label, anchor: "middle", size: 10)
            }
        }
        return s
    }
}
