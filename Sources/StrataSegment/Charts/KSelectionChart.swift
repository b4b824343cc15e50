import Foundation
import StrataCore

/// The one chart of a k sweep: a small panel per curve against k (inertia, silhouette,
/// Davies-Bouldin, Calinski-Harabasz, BIC, held-out inertia, bootstrap stability; each only when
/// the sweep computed it), the recommended k marked on every panel and the inertia elbow on the
/// first. Used inline by the segment report and as a file by `strata sweep --plot-out`.
enum KSelectionChart {
    /// The chart as an inline SVG element with this `id`.
    static func svg(_ r: SweepResult, id: String = "chart-k-selection", title: String = "Choice of k", header: Bool = false) -> SVG {
        let panels = self.panels(r)
        let pw = 430.0, ph = 190.0, cols = 2, top = header ? 50.0 : 0
        let rows = (panels.count + cols - 1) / cols
        var s = SVG(id: id, width: pw * Double(cols) + 20, height: top + ph * Double(rows) + 10, title: title)
        if header {
            s.rect(0, 0, pw * Double(cols) + 20, top + ph * Double(rows) + 10, fill: "white")
            s.text(14, 20, title, size: 14, weight: "bold")
            s.text(14, 40, "recommended k = \(r.recommendedK): \(r.reason)", fill: "#444")
        }
        let kmin = Double(r.points.map(\.k).min() ?? 1), kmax = Double(r.points.map(\.k).max() ?? 2)
        for (i, panel) in panels.enumerated() {
            let ox = 10 + pw * Double(i % cols), oy = top + 5 + ph * Double(i / cols)
            let l = ox + 55, rgt = ox + pw - 15, t = oy + 24, b = oy + ph - 28
            let vs = panel.values.map(\.1)
            let lo = vs.min() ?? 0, hi = vs.max() ?? 1
            func x(_ k: Double) -> Double { l + (rgt - l) * (k - kmin) / max(1, kmax - kmin) }
            func y(_ v: Double) -> Double { b - (b - t) * (v - lo) / max(1e-12, hi - lo) }
            s.text(ox + 4, oy + 14, panel.name, size: 11, weight: "bold")
            s.line(l, b, rgt, b, stroke: "#999"); s.line(l, t, l, b, stroke: "#999")
            for k in r.points.map(\.k) { s.text(x(Double(k)), b + 14, String(k), anchor: "middle", size: 10) }
            s.text(l - 4, t + 4, short(hi), anchor: "end", size: 9); s.text(l - 4, b, short(lo), anchor: "end", size: 9)
            s.line(x(Double(r.recommendedK)), t, x(Double(r.recommendedK)), b, stroke: "#e15759", width: 1.5, dash: true)
            if i == 0, let e = r.elbowK {
                s.line(x(Double(e)), t, x(Double(e)), b, stroke: "#f28e2b", dash: true)
                s.text(x(Double(e)) + 3, t + 10, "elbow k = \(e)", size: 9, fill: "#f28e2b")
            }
            s.polyline(panel.values.map { (x(Double($0.0)), y($0.1)) }, stroke: "#4e79a7")
            for (k, v) in panel.values { s.circle(x(Double(k)), y(v), 3, fill: k == r.recommendedK ? "#e15759" : "#4e79a7") }
        }
        return s
    }

    /// The curves the sweep has, each as (k, value) for the k that have a value.
    static func panels(_ r: SweepResult) -> [(name: String, values: [(Int, Double)])] {
        let curves: [(String, (SweepPoint) -> Double?)] = [
            (r.objective, { $0.inertia }),
            ("silhouette (higher is better)", { $0.silhouette }),
            ("Davies-Bouldin (lower is better)", { $0.daviesBouldin }),
            ("Calinski-Harabasz (higher is better)", { $0.calinskiHarabasz }),
            ("BIC (lower is better)", { $0.bic }),
            ("held-out inertia per row", { $0.testInertiaPerSample }),
            ("bootstrap stability (mean ARI)", { $0.stability }),
        ]
        return curves.compactMap { name, value in
            let values = r.points.compactMap { p in value(p).flatMap { $0.isFinite ? (p.k, $0) : nil } }
            return values.isEmpty ? nil : (name, values)
        }
    }
}

/// `strata sweep --plot-out`: the k-selection chart as a standalone SVG file (SVG 1.1, no
/// scripts or external resources), with the title and the recommendation written on it.
public enum SweepPlot {
    public static func svg(_ r: SweepResult, title: String) -> String {
        KSelectionChart.svg(r, id: "sweep", title: title, header: true).markup + "\n"
    }
}
