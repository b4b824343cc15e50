import Foundation
import StrataCore

/// The top of an agglomerative merge tree, for the report: the last `levels` merges (every merge
/// above the cut into segments, and a few below it) drawn as a dendrogram, with merge heights on
/// the y axis. Each subtree below the drawn merges is a leaf, coloured by its segment and
/// labelled with its customer count (counts below the minimum segment size are shown as "<N",
/// so the chart never reports a group smaller than the report allows).
enum DendrogramChart {
    struct Input: Sendable {
        /// The merges in scipy's linkage format (ascending heights).
        var merges: [LinkageStep]
        /// Per leaf of the tree (row, or micro-cluster): its segment.
        var leafSegments: [Int32]
        /// Per leaf: the customers it stands for (1 per row; micro-cluster sizes).
        var leafCustomers: [Int]
        /// The segment names, by id.
        var names: [String]
    }

    static func svg(_ input: Input, minSize: Int, levels: Int = 24) -> SVG? {
        let m = input.merges
        let leaves = m.count + 1
        guard m.count >= 1 else { return nil }
        let top = min(levels, m.count)
        let first = m.count - top            // merges >= first are drawn
        // Customers and segment of every node (leaves and merges).
        var customers = input.leafCustomers + [Int](repeating: 0, count: m.count)
        var segment = input.leafSegments.map(Int.init) + [Int](repeating: -1, count: m.count)
        for (i, s) in m.enumerated() {
            customers[leaves + i] = customers[s.a] + customers[s.b]
            let (x, y) = (segment[s.a], segment[s.b])
            segment[leaves + i] = x == y ? x : -1
        }
        // Leaf order: depth-first from the root through the drawn merges.
        var order: [Int] = []
        var stack = [leaves + m.count - 1]
        while let node = stack.popLast() {
            if node >= leaves + first { let s = m[node - leaves]; stack.append(s.b); stack.append(s.a) } else { order.append(node) }
        }
        let w = max(640.0, Double(order.count) * 34 + 120), h = 330.0
        let l = 60.0, r = w - 20, t = 30.0, b = h - 70
        var svg = SVG(id: "chart-dendrogram", width: w, height: h, title: "Merge tree (top \(top) merges)")
        let hi = m.last!.height
        let lo = first > 0 ? m[first - 1].height : 0
        func y(_ v: Double) -> Double { b - (b - t) * (v - lo) / max(1e-12, hi - lo) }
        var x = [Int: Double](), yv = [Int: Double]()
        for (i, node) in order.enumerated() { x[node] = l + 20 + (r - l - 40) * (Double(i) + 0.5) / Double(order.count); yv[node] = b }
        svg.line(l, t, l, b, stroke: "#999")
        for v in ticks(lo, hi, count: 4) { svg.text(l - 4, y(v) + 3, short(v), anchor: "end", size: 9); svg.line(l - 2, y(v), l, y(v), stroke: "#999") }
        svg.text(12, t - 12, "merge height", size: 10, fill: "#555")
        for i in first..<m.count {
            let s = m[i], node = leaves + i
            guard let xa = x[s.a], let xb = x[s.b], let ya = yv[s.a], let yb = yv[s.b] else { continue }
            let yn = y(s.height)
            let color = segment[node] >= 0 ? SVG.color(segment[node]) : "#555"
            svg.line(xa, ya, xa, yn, stroke: color, width: 1.5); svg.line(xb, yb, xb, yn, stroke: color, width: 1.5)
            svg.line(xa, yn, xb, yn, stroke: color, width: 1.5)
            x[node] = (xa + xb) / 2; yv[node] = yn
        }
        for node in order {
            let s = segment[node], c = customers[node]
            let px = x[node]!
            svg.circle(px, b, 4, fill: s >= 0 ? SVG.color(s) : "#555")
            svg.appendRaw("<text transform=\"translate(\(svg.f(px + 3)),\(svg.f(b + 10))) rotate(50)\" font-size=\"9\" fill=\"#222\">\(esc((c < minSize ? "<\(minSize)" : SegmentNaming.grouped(c)) + (s >= 0 ? " · \(s)" : "")))</text>")
        }
        // Legend: segment ids and names.
        var lx = l, ly = h - 8.0
        for (id, name) in input.names.enumerated() {
            let label = "\(id) \(name)"
            let width = Double(label.count) * 5.6 + 18
            if lx + width > w - 10 { break }
            svg.rect(lx, ly - 8, 9, 9, fill: SVG.color(id)); svg.text(lx + 12, ly, label, size: 9)
            lx += width
        }
        return svg
    }
}
