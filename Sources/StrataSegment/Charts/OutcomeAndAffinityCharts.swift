import Foundation
import StrataCore

/// The left margin that fits every group label of a chart (11 px text, ~6.2 px a character), at
/// least 230 px, so long segment names are never clipped.
func labelMargin(_ labels: [String]) -> Double { max(230, 16 + 6.2 * Double(labels.map(\.count).max() ?? 0)) }

/// The report's "Outcomes and attributes (not modelled)" section: one bar chart per rate column
/// (segment rate as a bar, the population rate as a line), and a table of every profile-only
/// column per segment.
enum ProfileOnlySection {
    static func rateCharts(_ groups: [GroupProfile]) -> [SVG] {
        guard let columns = groups.first?.profileOnly else { return [] }
        return columns.indices.filter { columns[$0].kind == .rate }.map { j in
            let labels = groups.map(SegmentReport.label)
            let left = labelMargin(labels), rowH = 24.0, width = left + 520
            let name = columns[j].column
            var s = SVG(id: "chart-outcome-\(j)", width: width, height: 34 + rowH * Double(groups.count), title: "\(name) rate by segment")
            let rates = groups.map { $0.profileOnly?[j].rate ?? 0 }
            let population = groups.first?.profileOnly?[j].populationRate ?? 0
            let top = max(1e-9, (rates + [population]).max()!)
            let barW = width - left - 150
            for (i, g) in groups.enumerated() {
                let y = 10 + rowH * Double(i), r = rates[i], st = g.profileOnly![j]
                s.text(left - 8, y + 15, labels[i], anchor: "end")
                s.rect(left, y + 3, barW * r / top, rowH - 6, fill: SVG.color(i), tip: "\(labels[i]): \(name) \(SegmentNaming.percent(r))")
                let star = (st.adjustedPValue ?? 1) < 0.05 ? " *" : ""
                s.text(left + barW * r / top + 6, y + 15, SegmentNaming.percent(r) + (st.lift.map { " (\(SegmentNaming.ratio($0)))" } ?? "") + star)
            }
            let x = left + barW * population / top, bottom = 10 + rowH * Double(groups.count)
            s.line(x, 6, x, bottom, stroke: "#333", width: 1.5, dash: true)
            s.text(x, bottom + 16, "all customers \(SegmentNaming.percent(population))", anchor: "middle", size: 10)
            return s
        }
    }

    static func table(_ groups: [GroupProfile]) -> String {
        guard let columns = groups.first?.profileOnly else { return "" }
        var t = "<table id=\"profile-only-table\"><tr><th>Segment</th>" + columns.map { "<th>\(esc($0.column))</th>" }.joined() + "</tr>"
        for g in groups {
            t += "<tr><td>\(esc(SegmentReport.label(g)))</td>"
            for st in g.profileOnly ?? [] {
                var cell = ""
                switch st.kind {
                case .rate:
                    cell = (st.rate.map(SegmentNaming.percent) ?? "-") + " vs " + (st.populationRate.map(SegmentNaming.percent) ?? "-")
                case .number:
                    if let f = st.stats, let m = f.mean {
                        cell = "mean \(Fmt.number(m)), median \(Fmt.number(f.median ?? m))" + (st.lift.map { " (\(SegmentNaming.ratio($0)) the average)" } ?? "")
                    }
                case .categories:
                    cell = (st.categories ?? []).prefix(3).map { "\($0.category) \(SegmentNaming.percent($0.share)) vs \(SegmentNaming.percent($0.populationShare))" }.joined(separator: "; ")
                }
                if st.missing > 0 { cell += " (\(SegmentNaming.grouped(st.missing)) missing)" }
                t += "<td>\(esc(cell))</td>"
            }
            t += "</tr>"
        }
        return t + "</table>"
    }
}

/// The report's "Product affinity" section: per segment its strongest over-buy lifts as bars, and
/// a table of over- and under-bought items.
enum AffinitySection {
    static func chart(_ a: SegmentAffinity, groups: [GroupProfile]) -> SVG {
        let rows: [(String, SegmentAffinity.Item)] = groups.flatMap { g -> [(String, SegmentAffinity.Item)] in
            let id = g.id ?? -1
            // Category levels first (more readable than product ids), one item per level.
            return (a.levels.dropFirst() + ["product"]).flatMap { level in a.highlights(segment: id, level: level, over: true).prefix(1) }.prefix(3)
                .map { (SegmentReport.label(g), $0) }
        }
        let labels = rows.map { "\($0.0): " + ($0.1.level == "product" ? "" : "\($0.1.level) ") + $0.1.item }
        let left = labelMargin(labels), rowH = 22.0, width = left + 420
        var s = SVG(id: "chart-affinity", width: width, height: 20 + rowH * Double(max(1, rows.count)), title: "Strongest over-buys by segment (lift)")
        let top = max(1, rows.map(\.1.lift).max() ?? 1)
        for (i, (_, item)) in rows.enumerated() {
            let y = 10 + rowH * Double(i)
            s.text(left - 8, y + 14, labels[i], anchor: "end")
            let w = (width - left - 120) * item.lift / top
            s.rect(left, y + 3, w, rowH - 6, fill: SVG.color(i), tip: "\(labels[i]): lift \(SegmentNaming.ratio(item.lift))")
            s.text(left + w + 6, y + 14, "\(SegmentNaming.ratio(item.lift)) (\(SegmentNaming.percent(item.segmentShare)) vs \(SegmentNaming.percent(item.populationShare)))", size: 10)
        }
        if rows.isEmpty { s.text(left, 24, "No significant over-buys at the minimum support.") }
        return s
    }

    static func table(_ a: SegmentAffinity, groups: [GroupProfile]) -> String {
        var t = "<table id=\"affinity-table\"><tr><th>Segment</th><th>Over-buys (lift; segment vs all)</th><th>Under-buys</th></tr>"
        for g in groups {
            let id = g.id ?? -1
            func items(_ over: Bool) -> String {
                a.levels.flatMap { a.highlights(segment: id, level: $0, over: over) }.map { (i: SegmentAffinity.Item) -> String in
                    let level: String = i.level == "product" ? "" : "\(i.level): "
                    let context: String = i.context.isEmpty ? "" : " [\(i.context)]"
                    let shares: String = "(\(SegmentNaming.percent(i.segmentShare)) vs \(SegmentNaming.percent(i.populationShare)))"
                    return level + i.item + context + " " + SegmentNaming.ratio(i.lift) + " " + shares
                }.joined(separator: "; ")
            }
            t += "<tr><td>\(esc(SegmentReport.label(g)))</td><td>\(esc(items(true)))</td><td>\(esc(items(false)))</td></tr>"
        }
        return t + "</table>"
    }
}

/// Numbers for people: thousands separators, two decimals under 1,000, no scientific notation.
enum Fmt {
    static func number(_ x: Double) -> String {
        guard x.isFinite else { return "n/a" }
        if abs(x) >= 1000 { return SegmentNaming.grouped(Int(x.rounded())) }
        var s = String(format: "%.2f", x)
        while s.hasSuffix("0") && s.contains(".") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
