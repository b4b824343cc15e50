import Foundation
import StrataCore

/// report.html's "Campaign results": the uplift of every reported segment with its interval
/// (a forest plot), a table of the figures, and the verdict lines.
enum CampaignReportSection {
    static let heading = "Campaign results"

    static func intro(_ a: CampaignAnalysis) -> String {
        let level = Int((100 * (1 - a.options.alpha)).rounded())
        var s = "Treatment minus control in \(a.campaignSource): \(SegmentNaming.grouped(a.matched)) customers matched "
            + "(\(SegmentNaming.grouped(a.overall.treated)) treated, \(SegmentNaming.grouped(a.overall.control)) control). "
        if a.responseColumn != nil {
            s += "Response uplift in percentage points with \(level)% Wald intervals (unpooled) and two-proportion z-tests; "
        }
        if a.revenueColumn != nil { s += "revenue per customer with Welch intervals and t-tests; " }
        s += "p-values adjusted across segments (Benjamini-Hochberg; the overall row is one test, unadjusted). \"Needed\" is the customers per group for the observed effect "
            + "to be significant at \(a.options.alpha), two-sided, with power \(a.options.power): "
            + "n = (z(1-alpha/2) + z(power))^2 (var_T + var_C) / uplift^2."
        let left = [a.campaignOnly > 0 ? "\(SegmentNaming.grouped(a.campaignOnly)) campaign customers not in this run" : nil,
                    a.notInCampaign > 0 ? "\(SegmentNaming.grouped(a.notInCampaign)) customers of this run not in the campaign" : nil,
                    a.unreported > 0 ? "\(SegmentNaming.grouped(a.unreported)) campaign customers of segments too small to report" : nil].compactMap { $0 }
        if !left.isEmpty { s += " Left out: " + left.joined(separator: ", ") + "." }
        return s
    }

    /// Uplift (the primary metric) and its interval per segment and overall, 0 marked.
    static func chart(_ a: CampaignAnalysis) -> SVG {
        let rows = a.segments + [a.overall]
        let rate = a.responseColumn != nil
        func effect(_ r: CampaignAnalysis.Result) -> (Double, ConfidenceInterval?)? {
            if rate { return r.response?.difference.map { (100 * $0, r.response?.interval.map { ConfidenceInterval(lower: 100 * $0.lower, upper: 100 * $0.upper) }) } }
            return r.revenue?.difference.map { ($0, r.revenue?.interval) }
        }
        let values = rows.compactMap(effect)
        let lo = min(0, values.map { $0.1?.lower ?? $0.0 }.min() ?? 0), hi = max(0, values.map { $0.1?.upper ?? $0.0 }.max() ?? 1)
        let span = hi > lo ? hi - lo : 1
        let left = 230.0, width = 900.0, rowH = 24.0, top = 10.0
        func x(_ v: Double) -> Double { left + (width - left - 30) * (v - lo) / span }
        var s = SVG(id: "chart-campaign", width: width, height: top + rowH * Double(rows.count) + 30, title: "Campaign uplift")
        let axisY = top + rowH * Double(rows.count)
        s.line(x(0), top, x(0), axisY, stroke: "#999", dash: true)
        for (i, r) in rows.enumerated() {
            let y = top + rowH * Double(i) + rowH / 2
            s.text(left - 8, y + 4, r.segmentName, anchor: "end", weight: i == rows.count - 1 ? "bold" : nil)
            guard let (v, ci) = effect(r) else { s.text(x(0) + 6, y + 4, "no comparison", size: 10, fill: "#777"); continue }
            let color = r.conclusion == .increase ? "#59a14f" : r.conclusion == .decrease ? "#e15759" : "#888"
            if let ci { s.line(x(ci.lower), y, x(ci.upper), y, stroke: color, width: 2) }
            s.circle(x(v), y, 4, fill: color)
        }
        s.line(left, axisY, width - 30, axisY, stroke: "#999")
        for t in ticks(lo, hi) {
            s.line(x(t), axisY, x(t), axisY + 4, stroke: "#999")
            s.text(x(t), axisY + 15, short(t), anchor: "middle", size: 10)
        }
        s.text(width - 30, axisY + 28, rate ? "response uplift (percentage points)" : "revenue uplift per customer", anchor: "end", size: 10)
        return s
    }

    /// The figures per segment and overall, then the verdict lines.
    static func table(_ a: CampaignAnalysis) -> String {
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f%%", 100 * $0) } ?? "-" }
        func pts(_ v: Double?) -> String { v.map { String(format: "%+.1f", 100 * $0) } ?? "-" }
        func ci(_ c: ConfidenceInterval?, scale: Double, digits: Int) -> String {
            c.map { String(format: "%.\(digits)f to %.\(digits)f", scale * $0.lower, scale * $0.upper) } ?? "-"
        }
        func p(_ v: Double?) -> String { v.map { $0 < 1e-4 ? "<0.0001" : String(format: "%.4f", $0) } ?? "-" }
        func n(_ v: Double?) -> String { CampaignRecord.Row.customers(v).map(SegmentNaming.grouped) ?? "-" }
        let response = a.responseColumn != nil, revenue = a.revenueColumn != nil
        var t = "<table id=\"campaign-table\"><tr><th>Segment</th><th>Treated</th><th>Control</th>"
        if response { t += "<th>Response (T)</th><th>Response (C)</th><th>Uplift (pts)</th><th>CI</th><th>p (adj.)</th><th>Needed per group</th>" }
        if revenue { t += "<th>Revenue uplift per customer</th><th>CI</th><th>p (adj.)</th>" }
        t += "</tr>"
        for r in a.segments + [a.overall] {
            t += "<tr><td>\(esc(r.segmentName))</td><td class=\"num\">\(SegmentNaming.grouped(r.treated))</td><td class=\"num\">\(SegmentNaming.grouped(r.control))</td>"
            if response, let x = r.response {
                t += "<td class=\"num\">\(pct(x.treatment.rate))</td><td class=\"num\">\(pct(x.control.rate))</td><td class=\"num\">\(pts(x.difference))</td>"
                t += "<td class=\"num\">\(ci(x.interval, scale: 100, digits: 1))</td><td class=\"num\">\(p(r.responsePValueAdjusted))</td><td class=\"num\">\(n(x.requiredPerGroup))</td>"
            }
            if revenue, let m = r.revenue {
                t += "<td class=\"num\">\(m.difference.map { String(format: "%+.2f", $0) } ?? "-")</td><td class=\"num\">\(ci(m.interval, scale: 1, digits: 2))</td>"
                t += "<td class=\"num\">\(p(r.revenuePValueAdjusted))</td>"
            }
            t += "</tr>"
        }
        t += "</table><ul class=\"verdicts\" id=\"campaign-verdicts\">" + a.verdicts.map { "<li>\(esc($0))</li>" }.joined() + "</ul>"
        return t
    }
}
