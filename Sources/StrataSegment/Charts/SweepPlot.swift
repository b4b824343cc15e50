import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// An SVG chart of a sweep: one small panel per curve (inertia, silhouette, Davies-Bouldin,
/// Calinski-Harabasz, held-out inertia, stability) against k, the elbow and the recommended k
/// marked. Self-contained SVG 1.1, no scripts or external resources.
public enum SweepPlot {
    public static func svg(_ r: SweepResult, title: String) -> String {
        let ks = r.points.map { Double($0.k) }
        var panels: [(String, [Double?])] = [("inertia", r.points.map { $0.inertia })]
        if r.points.contains(where: { $0.silhouette != nil }) { panels.append(("silhouette (higher is better)", r.points.map(\.silhouette))) }
        if r.points.contains(where: { $0.daviesBouldin != nil }) { panels.append(("Davies-Bouldin (lower is better)", r.points.map(\.daviesBouldin))) }
        if r.points.contains(where: { $0.calinskiHarabasz != nil }) { panels.append(("Calinski-Harabasz (higher is better)", r.points.map(\.calinskiHarabasz))) }
        if r.points.contains(where: { $0.testInertiaPerSample != nil }) { panels.append(("held-out inertia per row", r.points.map(\.testInertiaPerSample))) }
        if r.points.contains(where: { $0.stability != nil }) { panels.append(("bootstrap stability (mean ARI)", r.points.map(\.stability))) }
        let pw = 360.0, ph = 220.0, cols = 2
        let rows = (panels.count + cols - 1) / cols
        let width = pw * Double(cols), height = ph * Double(rows) + 60
        var s = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="12" y="20" font-size="14" font-weight="bold">\(escape(title))</text>
        <text x="12" y="40" fill="#444">recommended k = \(r.recommendedK): \(escape(r.reason))</text>

        """
        let kmin = ks.min() ?? 0, kmax = ks.max() ?? 1
        for (pi, (name, values)) in panels.enumerated() {
            let ox = Double(pi % cols) * pw + 50, oy = Double(pi / cols) * ph + 70
            let w = pw - 70, h = ph - 60
            let present = values.compactMap { $0 }
            guard let lo = present.min(), let hi = present.max() else { continue }
            let span = hi > lo ? hi - lo : max(1, abs(hi))
            func px(_ k: Double) -> Double { ox + (kmax > kmin ? (k - kmin) / (kmax - kmin) : 0.5) * w }
            func py(_ v: Double) -> Double { oy + h - (v - lo) / span * h }
            s += "<text x=\"\(ox)\" y=\"\(oy - 8)\" font-weight=\"bold\">\(escape(name))</text>\n"
            s += "<rect x=\"\(ox)\" y=\"\(oy)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#ccc\"/>\n"
            s += "<text x=\"\(ox - 4)\" y=\"\(oy + 4)\" text-anchor=\"end\">\(label(hi))</text>\n"
            s += "<text x=\"\(ox - 4)\" y=\"\(oy + h)\" text-anchor=\"end\">\(label(lo))</text>\n"
            for k in ks {
                s += "<text x=\"\(px(k))\" y=\"\(oy + h + 14)\" text-anchor=\"middle\">\(Int(k))</text>\n"
            }
            let rx = px(Double(r.recommendedK))
            s += "<line x1=\"\(rx)\" y1=\"\(oy)\" x2=\"\(rx)\" y2=\"\(oy + h)\" stroke=\"#2a9d8f\" stroke-dasharray=\"4 3\"/>\n"
            if let e = r.elbowK, pi == 0 {
                let ex = px(Double(e))
                s += "<line x1=\"\(ex)\" y1=\"\(oy)\" x2=\"\(ex)\" y2=\"\(oy + h)\" stroke=\"#e76f51\" stroke-dasharray=\"2 2\"/>\n"
                s += "<text x=\"\(ex + 3)\" y=\"\(oy + 12)\" fill=\"#e76f51\">elbow k=\(e)</text>\n"
            }
            let pts = zip(ks, values).compactMap { k, v in v.map { "\(px(k)),\(py($0))" } }
            s += "<polyline fill=\"none\" stroke=\"#264653\" stroke-width=\"2\" points=\"\(pts.joined(separator: " "))\"/>\n"
            for p in pts { let c = p.split(separator: ","); s += "<circle cx=\"\(c[0])\" cy=\"\(c[1])\" r=\"3\" fill=\"#264653\"/>\n" }
        }
        s += "</svg>\n"
        return s
    }

    static func label(_ v: Double) -> String {
        abs(v) >= 1e5 || (abs(v) < 1e-2 && v != 0) ? String(format: "%.2e", v) : String(format: "%.3g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
