import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// Minimal inline-SVG drawing for the report: no scripts, no external resources, so the page
/// renders offline and prints. Written by hand: no Swift package generates charts as SVG text.
struct SVG {
    let width: Double, height: Double, id: String, title: String
    private var body = ""

    init(id: String, width: Double, height: Double, title: String) {
        self.id = id; self.width = width; self.height = height; self.title = title
    }

    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
                          "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    static func color(_ i: Int) -> String { palette[i % palette.count] }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, tip: String? = nil, stroke: String? = nil) {
        body += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(0, w)))\" height=\"\(f(max(0, h)))\" fill=\"\(fill)\""
        if let stroke { body += " stroke=\"\(stroke)\"" }
        body += tip.map { "><title>\(esc($0))</title></rect>" } ?? "/>"
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#333", width: Double = 1, dash: Bool = false) {
        body += "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\"\(dash ? " stroke-dasharray=\"4 3\"" : "")/>"
    }

    mutating func circle(_ x: Double, _ y: Double, _ r: Double, fill: String, opacity: Double = 1) {
        body += "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"\(f(r))\" fill=\"\(fill)\"\(opacity < 1 ? " fill-opacity=\"\(f(opacity))\"" : "")/>"
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String) {
        body += "<polyline fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"2\" points=\"" + points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ") + "\"/>"
    }

    mutating func text(_ x: Double, _ y: Double, _ s: String, anchor: String = "start", size: Double = 11, weight: String? = nil, fill: String = "#222") {
        body += "<text x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\"\(weight.map { " font-weight=\"\($0)\"" } ?? "")>\(esc(s))</text>"
    }

    mutating func appendRaw(_ s: String) { body += s }

    var markup: String {
        "<svg id=\"\(id)\" class=\"chart\" role=\"img\" aria-label=\"\(esc(title))\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"Helvetica, Arial, sans-serif\"><title>\(esc(title))</title>\(body)</svg>"
    }

    func f(_ x: Double) -> String { x.isFinite ? String(format: "%.1f", x) : "0" }
}

func esc(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(ch)
        }
    }
    return out
}

/// Short human number: 1.2M, 34.5k, 0.123.
func short(_ x: Double) -> String {
    let a = abs(x)
    if !x.isFinite { return "n/a" }
    if a >= 1e9 { return String(format: "%.1fB", x / 1e9) }
    if a >= 1e6 { return String(format: "%.1fM", x / 1e6) }
    if a >= 1e4 { return String(format: "%.1fk", x / 1e3) }
    if a >= 100 { return String(format: "%.0f", x) }
    if a >= 1 { return String(format: "%.2f", x) }
    if a == 0 { return "0" }
    // Three significant digits in fixed notation (never scientific), trailing zeros dropped.
    var s = String(format: "%.*f", min(12, 2 - Int(floor(log10(a)))), x)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}

/// Diverging blue-white-red for standardized differences in [-2, 2].
func divergingColor(_ z: Double) -> String {
    let t = max(-1, min(1, z / 2))
    let (r, g, b): (Double, Double, Double) = t >= 0
        ? (255, 255 - 170 * t, 255 - 190 * t)
        : (255 + 200 * t, 255 + 130 * t, 255)
    return String(format: "#%02x%02x%02x", Int(r), Int(g), Int(b))
}

/// "Nice" tick values covering [lo, hi].
func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
    guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
    let raw = (hi - lo) / Double(count)
    let mag = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
    var out: [Double] = []
    var v = ceil(lo / step) * step
    while v <= hi + step * 1e-9 { out.append(v); v += step }
    return out
}
