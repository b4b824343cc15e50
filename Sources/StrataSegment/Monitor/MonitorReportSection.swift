import Foundation
import StrataCore

/// report.html's "Drift monitoring" (segment job with a `monitor:` block): PSI per input feature
/// as bars with the two thresholds, then tables of the features, the segment shares, the
/// distance to the centroids and unseen categories, and the alerts.
enum MonitorReportSection {
    static let heading = "Drift monitoring"

    static func intro(_ a: DriftAnalysis) -> String {
        let t = a.thresholds
        return "This run's \(SegmentNaming.grouped(a.rows)) customers compared with the training profile of \(a.modelPath) "
            + "(\(SegmentNaming.grouped(a.trainingRows)) customers): population stability index (PSI) per input feature on the training deciles "
            + "(categories for text columns; missing values are their own bin; an empty bin counts as \(PopulationStability.epsilon)), "
            + "each customer assigned to the previous model's segments as strata predict does. Alerts: PSI above \(t.psi) "
            + "(moderate drift above \(t.psiModerate) is reported without one), a segment share moving by more than \(pts(t.shareDrift)) points, "
            + "more than \(pct(t.distance)) of customers beyond the training p99 distance to their centroid, more than \(pct(t.unseenCategories)) "
            + "of a column's values unseen in training. "
            + (a.alerts.isEmpty ? "No alert fired." : "\(a.alerts.count) alert\(a.alerts.count == 1 ? "" : "s") fired.")
            + (a.segments.contains { $0.suppressed } ? " Segments with fewer than the reporting threshold of customers (in training or now) are not shown." : "")
    }

    static func pct(_ v: Double) -> String { String(format: "%.4g%%", 100 * v) }
    static func pts(_ v: Double) -> String { String(format: "%.4g", 100 * v) }

    /// PSI per feature, bars coloured by level, the moderate and alert thresholds dashed.
    static func chart(_ a: DriftAnalysis) -> SVG {
        let rows = a.features
        let left = 200.0, width = 900.0, rowH = 22.0, top = 10.0
        let hi = max(a.thresholds.psi * 1.5, rows.map(\.psi).max() ?? 0, 0.01)
        func x(_ v: Double) -> Double { left + (width - left - 40) * min(v, hi) / hi }
        var s = SVG(id: "chart-monitor-psi", width: width, height: top + rowH * Double(max(rows.count, 1)) + 32, title: "PSI per feature")
        let axisY = top + rowH * Double(max(rows.count, 1))
        for (i, f) in rows.enumerated() {
            let y = top + rowH * Double(i)
            s.text(left - 8, y + rowH / 2 + 4, f.name, anchor: "end")
            let color = f.level == .significant ? "#e15759" : f.level == .moderate ? "#f28e2b" : "#59a14f"
            s.rect(left, y + 3, max(1, x(f.psi) - left), rowH - 6, fill: color, tip: "\(f.name): PSI \(String(format: "%.4f", f.psi))")
            s.text(x(f.psi) + 4, y + rowH / 2 + 4, String(format: "%.3f", f.psi), size: 10)
        }
        for (v, label) in [(a.thresholds.psiModerate, "moderate"), (a.thresholds.psi, "alert")] {
            s.line(x(v), top, x(v), axisY, stroke: "#999", dash: true)
            s.text(x(v), axisY + 14, "\(label) \(short(v))", anchor: "middle", size: 10)
        }
        s.line(left, axisY, width - 40, axisY, stroke: "#999")
        s.text(width - 40, axisY + 28, "population stability index", anchor: "end", size: 10)
        return s
    }

    static func table(_ a: DriftAnalysis) -> String {
        var t = "<table id=\"monitor-features\"><tr><th>Feature</th><th>PSI</th><th>Drift</th><th>Missing now</th></tr>"
        for f in a.features {
            t += "<tr><td>\(esc(f.name))\(f.categorical ? " (categories)" : "")</td><td class=\"num\">\(String(format: "%.4f", f.psi))</td>"
                + "<td>\(f.level.rawValue)</td><td class=\"num\">\(SegmentNaming.grouped(f.missing))</td></tr>"
        }
        t += "</table><table id=\"monitor-segments\"><tr><th>Segment</th><th>Training share</th><th>Share now</th><th>Drift (points)</th></tr>"
        for s in a.segments where !s.suppressed {
            t += "<tr><td>\(s.id) · \(esc(s.name))</td><td class=\"num\">\(pct(s.trainingShare))</td><td class=\"num\">\(pct(s.share))</td>"
                + "<td class=\"num\">\(String(format: "%+.2f", 100 * s.drift))</td></tr>"
        }
        let d = a.distance
        t += "</table><p id=\"monitor-distance\">Squared distance to the assigned centroid (model space): training p50 \(short(d.training.p50)), "
            + "p95 \(short(d.training.p95)), p99 \(short(d.training.p99)); now p50 \(short(d.newP50)), p95 \(short(d.newP95)); "
            + "\(pct(d.shareBeyondTrainingP99)) of customers beyond the training p99 (1% expected).</p>"
        if !a.unseen.isEmpty {
            t += "<p id=\"monitor-unseen\">Categories unseen in training: " + a.unseen.map { "\(esc($0.column)) \(pct($0.share))" }.joined(separator: ", ")
                + "; overall \(pct(a.unseenOverall)).</p>"
        }
        t += "<ul class=\"verdicts\" id=\"monitor-alerts\">" + (a.alerts.isEmpty ? "<li>No alert.</li>" : a.alertLines.map { "<li>\(esc($0))</li>" }.joined()) + "</ul>"
        return t
    }
}
