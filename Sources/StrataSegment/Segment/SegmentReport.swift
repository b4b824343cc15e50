import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// report.html: one self-contained page (inline CSS and SVG, no scripts, no network) for the
/// people who read the segments. Segments below the privacy threshold appear only inside
/// "other"; no customer id is ever written into the page.
///
/// Every chart is an `<svg class="chart">` with a stable id (listed in the `strata-charts` meta
/// tag), so tests and users can check the page is complete.
enum SegmentReport {
    struct Context {
        var title: String
        var source: String
        var algorithm: String
        var k: Int
        var rows: Int
        var minSegmentSize: Int
        var profiles: SegmentProfiler.Output
        var roles: SegmentRoles
        var sweep: SweepResult?
        var projection: Projection
        var rules: SegmentRules
        var abc: ABCSummary?
        var migration: Migration?
        var clvModel: CLVModelSummary?
        var preprocessReport: PreprocessReport
        var logColumns: [String]
        var pca: Int?
        /// The model's settings in words ("eps 1.87, min_samples 34"), empty for K-Means/GMM.
        var modelDetail: String = ""
        /// Agglomerative runs: the merge tree's top.
        var dendrogram: DendrogramChart.Input? = nil
        /// With a `campaign` block: the campaign's results on this run's segments.
        var campaign: CampaignAnalysis? = nil
        /// With a `monitor` block: drift against the previous model's training profile.
        var monitor: DriftAnalysis? = nil
        /// Order-log counts (data period, as-of date) and the currency code for money.
        var counts: InputCounts? = nil
        var currency: String? = nil
        var customersRead: Int? = nil
        var affinity: SegmentAffinity? = nil
    }

    /// Reportable groups: segments, then other.
    static func groups(_ p: SegmentProfiler.Output) -> [GroupProfile] { p.segments + (p.other.map { [$0] } ?? []) }

    static func label(_ g: GroupProfile) -> String { g.id.map { "\($0) · \(g.name)" } ?? g.name }

    static func html(_ c: Context) -> String {
        var charts: [String] = []
        var sections: [String] = []
        func add(_ heading: String, _ intro: String, _ svgs: [SVG], extra: String = "") {
            charts += svgs.map(\.id)
            sections.append("<section><h2>\(esc(heading))</h2><p class=\"intro\">\(esc(intro))</p>\(svgs.map(\.markup).joined(separator: "\n"))\(extra)</section>")
        }
        let groups = Self.groups(c.profiles)
        add("Segment sizes", "Customers per segment. Segments smaller than \(c.minSegmentSize) customers are merged into \"other\" and never shown on their own"
            + (c.profiles.otherSuppressed ? "; together they hold fewer than \(c.minSegmentSize) customers, so they are left out of every figure of this report." : "."),
            [sizes(groups, total: c.rows)], extra: segmentTable(groups))
        add("Profile heatmap", "Standardized difference of each segment's mean from the population mean (in population standard deviations, on the modelling scale). Red: above average; blue: below.",
            [heatmap(groups)])
        add("Feature distributions", "Per feature and segment: median (line), interquartile range (box) and 10th-90th percentiles (whiskers), in original units.",
            c.profiles.population.features.enumerated().map {
                distribution($0.offset, feature: $0.element.feature, groups: groups, population: $0.element, populationName: c.profiles.population.name)
            })
        if !c.projection.points.isEmpty {
            add("2-D projection", String(format: "A seeded sample of %d customers on the first two principal components of the preprocessed features (%.0f%% of the variance). ",
                                         c.projection.points.count, 100 * c.projection.explained.reduce(0, +))
                + "Customers of segments smaller than \(c.minSegmentSize) are not plotted.", [scatter(c.projection)])
        }
        if let s = c.sweep {
            add("Choice of k", "k = \(s.recommendedK): \(s.reason). Curves over the k sweep (on \(s.trainingRows) customers; silhouette \(s.silhouetteMethod)).",
                [KSelectionChart.svg(s)])
        }
        if let d = c.dendrogram, let chart = DendrogramChart.svg(d, minSize: c.minSegmentSize) {
            add("Merge tree", "The top merges of the agglomerative tree: segments are the subtrees below the cut; the higher a merge, the less alike the groups it joins. Leaves are labelled with their customers and segment.",
                [chart])
        }
        if groups.contains(where: { $0.rfmMix != nil }) {
            add("RFM mix", "Share of each segment's customers in the standard RFM segments (R and F quintile scores).", [rfm(groups)])
        }
        if groups.contains(where: { $0.clvTotal != nil }) {
            var intro = "Expected customer lifetime value per segment (BG/NBD purchases x Gamma-Gamma spend, discounted)."
            if let m = c.clvModel {
                intro += " Horizon \(m.horizonWeeks) weeks."
                if groups.contains(where: { $0.clvP05Total != nil }) {
                    intro += " The range after each total sums the customers' 5th-95th percentiles under the models' parameter uncertainty."
                }
                if let h = m.holdout.value {
                    intro += String(format: " Checked on the holdout (orders after %@ up to %@, %.1f weeks): %d actual vs %.0f predicted repeat purchases (%+.1f%%), mean absolute error %.2f per customer; revenue %@ actual vs %@ predicted.",
                                    h.calibrationEnd, h.periodEnd, h.durationWeeks, h.actualRepeatPurchases, h.predictedRepeatPurchases,
                                    h.actualRepeatPurchases == 0 ? 0 : 100 * (h.predictedRepeatPurchases / Double(h.actualRepeatPurchases) - 1), h.mae,
                                    short(h.actualRevenue), short(h.predictedRevenue))
                }
            }
            var charts = [clv(groups, currency: c.currency)]
            if let pop = c.profiles.population.clvDistribution, groups.allSatisfy({ $0.clvDistribution != nil }) {
                intro += " Below: each segment's distribution of customer CLV (median, interquartile box, 10th-90th percentiles)."
                charts.append(boxes(id: "chart-clv-distribution", feature: "CLV per customer", labels: groups.map(label) + [c.profiles.population.name],
                                    stats: groups.map { $0.clvDistribution! } + [pop]))
            }
            add("Customer lifetime value", intro, charts)
        }
        if groups.contains(where: { $0.profileOnly != nil }) {
            let rates = ProfileOnlySection.rateCharts(groups)
            add("Outcomes and attributes (not modelled)", "Columns kept out of the model (profile_only) and profiled per segment: rates for yes/no columns "
                + "(bar: the segment, line: all customers; * marks a Benjamini-Hochberg adjusted p < 0.05 against the rest), category shares and distributions.",
                rates, extra: ProfileOnlySection.table(groups))
        }
        if let a = c.affinity {
            add("Product affinity", "What each segment over-buys and under-buys: share of the segment's customers who bought an item against the share of all customers "
                + "(lift), tested segment vs rest (two-proportion z-test, Benjamini-Hochberg, adjusted p < 0.05), items bought by at least \(a.minSupport) of the segment's customers.",
                [AffinitySection.chart(a, groups: groups)], extra: AffinitySection.table(a, groups: groups))
        }
        if let a = c.abc {
            add("ABC product classes", "Products ranked by revenue over the whole order log: A make the first 80% of revenue, B the next 15%, C the rest. Per segment: the share of its spend on the A, B and C products.",
                [abc(a, groups: groups)], extra: abcTable(a))
        }
        if let m = c.migration?.record {
            add("Segment migration", "Where the previous run's customers are now (\(m.method)): \(m.stayed) stayed, \(m.moved) moved, \(m.churned) churned, \(m.new) new. "
                + "Segments smaller than \(m.minCellSize) customers are merged into \"other\"; cells with fewer than \(m.minCellSize) customers, and the cells that would give them away, are not shown (-).",
                [migration(m, beforeNames: c.migration!.beforeNames, afterNames: c.migration!.afterNames)])
        }
        if let a = c.campaign {
            add(CampaignReportSection.heading, CampaignReportSection.intro(a), [CampaignReportSection.chart(a)], extra: CampaignReportSection.table(a))
        }
        if let a = c.monitor {
            add(MonitorReportSection.heading, MonitorReportSection.intro(a), [MonitorReportSection.chart(a)], extra: MonitorReportSection.table(a))
        }
        sections.append(rulesSection(c.rules))
        let pre = c.preprocessReport
        let density = c.algorithm == "dbscan" || c.algorithm == "hdbscan"
        let how: String = density ? " (found by density, the noise segment included)" : c.sweep == nil ? " (fixed)" : " (chosen by sweep)"
        let logNote: String = c.logColumns.isEmpty ? "no log1p" : "log1p on " + c.logColumns.joined(separator: ", ")
        let imputed: Int = pre.imputed.values.reduce(0, +)
        let clipped: Int = pre.clipped.values.reduce(0, +)
        var notes = "\(SegmentNaming.grouped(c.rows)) customers from \(c.source); \(Self.algorithmName(c.algorithm))" + (c.modelDetail.isEmpty ? "" : " (\(c.modelDetail))") + " with k = \(c.k)" + how
        notes += "; \(logNote); \(SegmentNaming.grouped(imputed)) values imputed, \(SegmentNaming.grouped(clipped)) clipped, \(SegmentNaming.grouped(pre.droppedRows)) rows dropped"
        notes += (c.pca.map { "; PCA to \($0) components" } ?? "") + "."
        if let n = c.counts, let first = n.firstOrder, let last = n.lastOrder {
            notes += " Data period: orders from \(first) to \(last)" + (n.asOf.map { ", as of \($0)" } ?? "")
                + (n.transactions.map { "; \(SegmentNaming.grouped($0)) order rows in" } ?? "")
                + (n.badTransactionRows.map { ", \(SegmentNaming.grouped($0)) bad rows skipped" } ?? "")
                + (n.afterAsOf.map { $0 > 0 ? ", \(SegmentNaming.grouped($0)) after the as-of date left out" : "" } ?? "") + "."
        }
        if let read = c.customersRead { notes += " Customers: \(SegmentNaming.grouped(read)) read, \(SegmentNaming.grouped(c.rows)) modelled." }
        if let cur = c.currency { notes += " Money in \(cur)." }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="strata \(Strata.version)">
            <meta name="strata-charts" content="\(charts.joined(separator: ","))">
            <title>\(esc(c.title))</title>
            <style>
            body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
            h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
            .intro{color:#555;font-size:13px}table{border-collapse:collapse;font-size:12px;margin:8px 0}
            td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f4f4f4}
            td.num{text-align:right}svg.chart{display:block;margin:8px 0;max-width:100%;height:auto}
            .rules li{font-family:Menlo,Consolas,monospace;font-size:12px;margin:3px 0}
            @media print{section{break-inside:avoid}body{margin:0}}
            </style></head>
            <body>
            <h1>\(esc(c.title))</h1>
            <p class="intro">\(esc(notes))</p>
            \(sections.joined(separator: "\n"))
            <footer><p class="intro">Generated by strata \(Strata.version). No customer ids appear in this report.</p></footer>
            </body></html>
            """
    }

    // MARK: charts

    static func sizes(_ groups: [GroupProfile], total: Int) -> SVG {
        let rowH = 24.0, left = labelMargin(groups.map(label)), width = left + 670
        var s = SVG(id: "chart-sizes", width: width, height: 20 + rowH * Double(groups.count), title: "Segment sizes")
        let maxSize = Double(groups.map(\.size).max() ?? 1)
        for (i, g) in groups.enumerated() {
            let y = 10 + rowH * Double(i)
            s.text(left - 8, y + 15, label(g), anchor: "end")
            let w = (width - left - 140) * Double(g.size) / max(1, maxSize)
            s.rect(left, y + 3, w, rowH - 6, fill: SVG.color(i), tip: "\(label(g)): \(g.size) customers")
            s.text(left + w + 6, y + 15, "\(SegmentNaming.grouped(g.size)) (\(SegmentNaming.percent(g.share)))")
        }
        return s
    }

    static func segmentTable(_ groups: [GroupProfile]) -> String {
        let modal = groups.contains { !($0.modalCategories ?? []).isEmpty }
        var t = "<table id=\"segment-table\"><tr><th>Segment</th><th>Customers</th><th>Share</th><th>Revenue share</th><th>Description</th><th>Over-represented categories</th>"
            + (modal ? "<th>Modal categories (segment vs all)</th>" : "") + "<th>Recommended action</th></tr>"
        for g in groups {
            t += "<tr><td>\(esc(label(g)))</td><td class=\"num\">\(SegmentNaming.grouped(g.size))</td><td class=\"num\">\(SegmentNaming.percent(g.share))</td>"
            let cats = g.overRepresentedCategories.prefix(3).map { "\($0.column) = \($0.category): \(SegmentNaming.percent($0.share)) vs \(SegmentNaming.percent($0.populationShare))" }
            t += "<td class=\"num\">\(g.revenueShare.map(SegmentNaming.percent) ?? "")</td><td>\(esc(g.description))</td><td>\(esc(cats.joined(separator: "; ")))</td>"
            let modes = (g.modalCategories ?? []).map { "\($0.column) = \($0.category): \(SegmentNaming.percent($0.share)) vs \(SegmentNaming.percent($0.populationShare))" }
            t += (modal ? "<td>\(esc(modes.joined(separator: "; ")))</td>" : "") + "<td>\(esc(g.action ?? ""))</td></tr>"
            if let note = g.rfmNote { t += "<tr><td></td><td colspan=\"\(modal ? 7 : 6)\" class=\"intro\">Note: \(esc(note))</td></tr>" }
        }
        return t + "</table>"
    }

    static func heatmap(_ groups: [GroupProfile]) -> SVG {
        let features = groups.first?.features.map(\.feature) ?? []
        let left = 230.0, top = 110.0, cellW = max(48, min(90, 640 / Double(max(1, features.count)))), cellH = 26.0
        var s = SVG(id: "chart-heatmap", width: left + cellW * Double(features.count) + 20, height: top + cellH * Double(groups.count) + 10,
                    title: "Profile heatmap")
        for (j, f) in features.enumerated() {
            let x = left + cellW * (Double(j) + 0.5)
            s.body(rotatedLabel: f, x: x, y: top - 6)
        }
        for (i, g) in groups.enumerated() {
            let y = top + cellH * Double(i)
            s.text(left - 8, y + 17, label(g), anchor: "end")
            for (j, st) in g.features.enumerated() {
                let z = st.standardizedDifference ?? 0
                s.rect(left + cellW * Double(j), y, cellW - 1, cellH - 1, fill: divergingColor(z),
                       tip: "\(label(g)) / \(st.feature): \(String(format: "%+.2f", z)) sd, mean \(short(st.mean ?? .nan))")
                s.text(left + cellW * (Double(j) + 0.5), y + 17, String(format: "%+.1f", z), anchor: "middle", size: 10)
            }
        }
        return s
    }

    static func distribution(_ index: Int, feature: String, groups: [GroupProfile], population: FeatureStats,
                             populationName: String = "All customers") -> SVG {
        if population.binary == true {
            return rates(id: "chart-dist-\(index)", feature: feature, labels: groups.map(label), rates: groups.map { $0.features[index].mean ?? 0 },
                         population: population.mean ?? 0)
        }
        return boxes(id: "chart-dist-\(index)", feature: feature, labels: groups.map(label) + [populationName],
              stats: groups.map { $0.features[index] } + [population])
    }

    /// A 0/1 column as rates: one bar per segment, the population's rate as a dashed line.
    static func rates(id: String, feature: String, labels: [String], rates: [Double], population: Double) -> SVG {
        let left = labelMargin(labels), rowH = 22.0, width = left + 520, top = 26.0
        var s = SVG(id: id, width: width, height: top + rowH * Double(labels.count) + 24, title: "Rate of \(feature)")
        s.text(8, 16, "\(feature) (share of customers with 1)", weight: "bold")
        let hi = max(1e-9, (rates + [population]).max()!), barW = width - left - 90
        for (i, r) in rates.enumerated() {
            let y = top + rowH * Double(i)
            s.text(left - 8, y + 14, labels[i], anchor: "end", size: 10)
            s.rect(left, y + 3, barW * r / hi, rowH - 6, fill: SVG.color(i), tip: "\(labels[i]): \(SegmentNaming.percent(r))")
            s.text(left + barW * r / hi + 6, y + 14, SegmentNaming.percent(r), size: 10)
        }
        let x = left + barW * population / hi, bottom = top + rowH * Double(labels.count)
        s.line(x, top - 2, x, bottom, stroke: "#333", width: 1.5, dash: true)
        s.text(x, bottom + 14, "all \(SegmentNaming.percent(population))", anchor: "middle", size: 10)
        return s
    }

    /// Box plots (median line, interquartile box, 10th-90th percentile whiskers), one row per
    /// label; the last row is the population (grey).
    static func boxes(id: String, feature: String, labels: [String], stats: [FeatureStats]) -> SVG {
        let groupsCount = stats.count - 1
        let left = labelMargin(labels), width = left + 670, rowH = 20.0, top = 26.0
        var s = SVG(id: id, width: width, height: top + rowH * Double(stats.count) + 24, title: "Distribution of \(feature)")
        let lo = stats.compactMap(\.p10).min() ?? 0, hi = stats.compactMap(\.p90).max() ?? 1
        let span = hi > lo ? hi - lo : 1
        func x(_ v: Double) -> Double { left + (width - left - 20) * (v - lo) / span }
        s.text(8, 16, feature, weight: "bold")
        for (i, st) in stats.enumerated() {
            let y = top + rowH * Double(i)
            s.text(left - 8, y + 14, labels[i], anchor: "end", size: 10)
            guard let p10 = st.p10, let q1 = st.q1, let med = st.median, let q3 = st.q3, let p90 = st.p90 else { continue }
            let color = i < groupsCount ? SVG.color(i) : "#888"
            s.line(x(p10), y + 10, x(p90), y + 10, stroke: color)
            s.rect(x(q1), y + 4, max(1.5, x(q3) - x(q1)), 12, fill: color,
                   tip: "\(labels[i]): median \(short(med)), IQR \(short(q1))-\(short(q3)), p10-p90 \(short(p10))-\(short(p90))")
            s.line(x(med), y + 3, x(med), y + 17, stroke: "#111", width: 2)
        }
        let axisY = top + rowH * Double(stats.count) + 4
        s.line(left, axisY, width - 20, axisY, stroke: "#999")
        for t in ticks(lo, hi) { s.line(x(t), axisY, x(t), axisY + 4, stroke: "#999"); s.text(x(t), axisY + 15, short(t), anchor: "middle", size: 10) }
        return s
    }

    static func scatter(_ p: Projection) -> SVG {
        let w = 900.0, h = 520.0, left = 40.0, right = 230.0, top = 10.0, bottom = 30.0
        var s = SVG(id: "chart-projection", width: w, height: h, title: "2-D projection of a customer sample")
        let xs = p.points.map(\.x), ys = p.points.map(\.y)
        let x0 = xs.min() ?? 0, x1 = xs.max() ?? 1, y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
        func px(_ v: Double) -> Double { left + (w - left - right) * (v - x0) / max(1e-12, x1 - x0) }
        func py(_ v: Double) -> Double { h - bottom - (h - top - bottom) * (v - y0) / max(1e-12, y1 - y0) }
        s.rect(left, top, w - left - right, h - top - bottom, fill: "#fafafa", stroke: "#ddd")
        for pt in p.points { s.circle(px(pt.x), py(pt.y), 2.2, fill: SVG.color(pt.group), opacity: 0.65) }
        s.text((left + w - right) / 2, h - 8, "PC1", anchor: "middle")
        s.text(12, h / 2, "PC2")
        for (g, name) in p.groups.enumerated() {
            let y = top + 14 + 18 * Double(g)
            s.rect(w - right + 12, y - 9, 10, 10, fill: SVG.color(g))
            s.text(w - right + 28, y, name, size: 11)
        }
        return s
    }

    static func stackedBars(id: String, title: String, groups: [GroupProfile], categories: [String], shares: (GroupProfile) -> [String: Double]) -> SVG {
        let left = labelMargin(groups.map(label)), width = left + 670, rowH = 24.0, legendH = 22.0 * Double((categories.count + 4) / 5)
        var s = SVG(id: id, width: width, height: 14 + rowH * Double(groups.count) + legendH + 10, title: title)
        let barW = width - left - 20
        for (i, g) in groups.enumerated() {
            let y = 8 + rowH * Double(i)
            s.text(left - 8, y + 15, label(g), anchor: "end")
            var x = left
            let sh = shares(g)
            for (c, cat) in categories.enumerated() {
                let v = sh[cat] ?? 0
                guard v > 0 else { continue }
                s.rect(x, y + 3, barW * v, rowH - 6, fill: SVG.color(c), tip: "\(label(g)) / \(cat): \(SegmentNaming.percent(v))")
                if barW * v > 34 { s.text(x + barW * v / 2, y + 16, String(format: "%.0f%%", 100 * v), anchor: "middle", size: 9, fill: "#fff") }
                x += barW * v
            }
        }
        let ly = 14 + rowH * Double(groups.count)
        for (c, cat) in categories.enumerated() {
            let x = left + Double(c % 5) * 130, y = ly + 22 * Double(c / 5)
            s.rect(x, y, 10, 10, fill: SVG.color(c))
            s.text(x + 14, y + 9, cat, size: 10)
        }
        return s
    }

    static func rfm(_ groups: [GroupProfile]) -> SVG {
        var totals: [String: Int] = [:]
        for g in groups { for (k, v) in g.rfmMix ?? [:] { totals[k, default: 0] += v } }
        let cats = totals.keys.sorted { (totals[$0]!, $1) > (totals[$1]!, $0) }
        return stackedBars(id: "chart-rfm", title: "RFM segment mix", groups: groups, categories: cats) { g in
            let mix = g.rfmMix ?? [:]
            let t = Double(mix.values.reduce(0, +))
            return mix.mapValues { t == 0 ? 0 : Double($0) / t }
        }
    }

    static func clv(_ groups: [GroupProfile], currency: String? = nil) -> SVG {
        let unit = currency.map { " " + $0 } ?? ""
        let texts = groups.map { g -> String in
            let range = g.clvP05Total.flatMap { lo in g.clvP95Total.map { " (\(short(lo))-\(short($0)))" } } ?? ""
            return "total \(short(g.clvTotal ?? 0))\(range), mean \(short(g.clvMean ?? 0))\(unit)"
        }
        // Room after the longest bar for the longest value text.
        let reserve = max(200, 12 + 6.2 * Double(texts.map(\.count).max() ?? 0))
        let rowH = 24.0, left = labelMargin(groups.map(label)), width = left + max(670, reserve + 300)
        var s = SVG(id: "chart-clv", width: width, height: 20 + rowH * Double(groups.count), title: "Customer lifetime value by segment")
        let maxV = groups.compactMap(\.clvTotal).max() ?? 1
        for (i, g) in groups.enumerated() {
            let y = 10 + rowH * Double(i)
            s.text(left - 8, y + 15, label(g), anchor: "end")
            let v = g.clvTotal ?? 0
            let w = (width - left - reserve) * v / max(1e-12, maxV)
            s.rect(left, y + 3, w, rowH - 6, fill: SVG.color(i), tip: "\(label(g)): total CLV \(short(v))")
            s.text(left + w + 6, y + 15, texts[i])
        }
        return s
    }

    static func abc(_ a: ABCSummary, groups: [GroupProfile]) -> SVG {
        let named = groups.filter { a.bySegment[$0.name] != nil }
        return stackedBars(id: "chart-abc", title: "ABC classes by segment", groups: named, categories: ["A", "B", "C"]) { a.bySegment[$0.name] ?? [:] }
    }

    static func abcTable(_ a: ABCSummary) -> String {
        var t = "<table id=\"abc-table\"><tr><th>Class</th><th>Products</th><th>Share of products</th><th>Share of revenue</th></tr>"
        for c in ["A", "B", "C"] {
            guard let s = a.overall[c] else { continue }
            t += "<tr><td>\(c)</td><td class=\"num\">\(s.products)</td><td class=\"num\">\(SegmentNaming.percent(s.productShare))</td><td class=\"num\">\(SegmentNaming.percent(s.valueShare))</td></tr>"
        }
        return t + "</table>"
    }

    /// The migration matrix as migration.json has it (`Migration.record`: small segments merged
    /// into other, cells below the threshold, and those that would give them away, hidden).
    static func migration(_ m: MigrationRecord, beforeNames: [String] = [], afterNames: [String] = []) -> SVG {
        let rows = m.matrix.count, cols = m.matrix.first?.count ?? 0
        // "before 2" / "after 1" labelled with the segment names of each run.
        func named(_ label: String, _ prefix: String, _ names: [String], shown: String) -> String {
            guard label.hasPrefix(prefix), let i = Int(label.dropFirst(prefix.count)), i < names.count else {
                return label.replacingOccurrences(of: prefix, with: shown)
            }
            return "\(shown)\(i) · \(names[i])"
        }
        let rowLabels = (0..<rows).map { named(m.rows[safe: $0] ?? "", "before ", beforeNames, shown: "before ") }
        let colLabels = (0..<cols).map { named(m.columns[safe: $0] ?? "", "after ", afterNames, shown: "now ") }
        // Rotated column labels (45 degrees) need about 0.72 x their length in height.
        let left = labelMargin(rowLabels), top = max(110, 20 + 0.72 * 6.2 * Double(colLabels.map(\.count).max() ?? 0)), cell = 60.0, cellH = 26.0
        var s = SVG(id: "chart-migration", width: left + cell * Double(cols) + 20 + 0.72 * 6.2 * Double(colLabels.last?.count ?? 0),
                    height: top + cellH * Double(rows) + 10, title: "Segment migration")
        for j in 0..<cols {
            s.body(rotatedLabel: colLabels[j], x: left + cell * (Double(j) + 0.5), y: top - 6)
        }
        for i in 0..<rows {
            let y = top + cellH * Double(i)
            s.text(left - 8, y + 17, rowLabels[i], anchor: "end")
            for j in 0..<cols {
                guard let n = m.matrix[i][j], let share = m.rowShares[i][j] else {
                    s.rect(left + cell * Double(j), y, cell - 1, cellH - 1, fill: "#eeeeee", tip: "hidden: fewer than \(m.minCellSize) customers, or would reveal such a cell")
                    s.text(left + cell * (Double(j) + 0.5), y + 17, "-", anchor: "middle", size: 10)
                    continue
                }
                s.rect(left + cell * Double(j), y, cell - 1, cellH - 1, fill: divergingColor(2 * share),
                       tip: "\(n) customers (\(SegmentNaming.percent(share)) of the row)")
                s.text(left + cell * (Double(j) + 0.5), y + 17, String(format: "%.0f%%", 100 * share), anchor: "middle", size: 10)
            }
        }
        return s
    }

    /// The model family in words, for the report's notes.
    static func algorithmName(_ a: String) -> String {
        switch a {
        case "gmm": return "Gaussian mixture"
        case "agglomerative": return "Agglomerative (hierarchical) clustering"
        case "dbscan": return "DBSCAN"
        case "hdbscan": return "HDBSCAN"
        case "kprototypes": return "K-Prototypes (numeric features and categories)"
        default: return "K-Means"
        }
    }

    static func rulesSection(_ r: SegmentRules) -> String {
        let items = r.rules.map { "<li>\(esc($0.text))</li>" }.joined()
        return "<section id=\"rules\"><h2>Segment rules</h2><p class=\"intro\">A decision tree of depth \(r.depth) trained on the segment labels (\(r.tree.rows) customers) "
            + String(format: "classifies %.1f%% of them correctly.", 100 * r.tree.accuracy)
            + " Each rule: conditions in original units, the segment it points to, the share of that segment's customers it captures, and its precision.</p><ul class=\"rules\">\(items)</ul></section>"
    }
}

extension SVG {
    /// A column label rotated -40 degrees (heatmap headers).
    mutating func body(rotatedLabel: String, x: Double, y: Double) {
        appendRaw("<text transform=\"translate(\(f(x)),\(f(y))) rotate(-40)\" font-size=\"10\" fill=\"#222\">\(esc(rotatedLabel))</text>")
    }
}
