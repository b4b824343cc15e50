import Foundation
import StrataCore

/// What a campaign did, per segment and overall: treatment against control response rates
/// (absolute uplift with its Wald interval, relative uplift, two-proportion z-test) and revenue
/// per customer (Welch interval and test), p-values adjusted across segments by
/// Benjamini-Hochberg, the customers per group needed to detect the observed effect, and a
/// verdict line per segment.
///
/// Conventions: uplift = treatment - control; rates are proportions (0.041, shown as 4.1 pts);
/// revenue in the file's units per customer. Level α = 0.05 two-sided (95% intervals), power
/// 0.8 for the sample size (`Options`). A segment is significant when its adjusted p-value is
/// <= α; the overall row is one test, not adjusted. The primary metric (what `significant` and
/// the verdict's first part are about) is the response rate when the file has one, else
/// revenue.
///
/// Every customer is accounted for: campaign rows whose customer is not in the segmentation,
/// and assigned customers absent from the campaign, are counted (`campaignOnly`,
/// `notInCampaign`) and warned about (`warnings`), never dropped silently.
public struct CampaignAnalysis: Sendable {
    public struct Options: Sendable, Equatable {
        /// Two-sided level of tests and intervals, and the false discovery rate of the
        /// Benjamini-Hochberg adjustment.
        public var alpha = 0.05
        /// Power of the sample size.
        public var power = 0.8
        public init() {}
    }

    /// The outcome of the primary metric in one group.
    public enum Conclusion: String, Sendable, Encodable {
        /// Significant, treatment above control.
        case increase
        /// Significant, treatment below control.
        case decrease
        /// Tested, not significant.
        case noDetectableEffect = "no_detectable_effect"
        /// Not testable: a group is empty, or the outcome does not vary.
        case insufficientData = "insufficient_data"
    }

    /// One segment's (or the overall) results.
    public struct Result: Sendable {
        /// Segment id (nil: overall, or other).
        public var segmentId: Int?
        public var segmentName: String
        public var treated: Int
        public var control: Int
        /// nil without a response column.
        public var response: ProportionDifference?
        /// Benjamini-Hochberg adjusted (overall: the p-value itself).
        public var responsePValueAdjusted: Double?
        /// nil without a revenue column.
        public var revenue: MeanDifference?
        public var revenuePValueAdjusted: Double?
        /// Adjusted p-value <= α (nil: not testable).
        public var responseSignificant: Bool? { responsePValueAdjusted.map { $0 <= alpha } }
        public var revenueSignificant: Bool? { revenuePValueAdjusted.map { $0 <= alpha } }
        public var conclusion: Conclusion
        /// "Lapsed big spenders: +4.1 pts (CI 2.0 to 6.2), significant".
        public var verdict: String
        var alpha: Double
    }

    public var overall: Result
    /// Reported groups in the segmentation's order (segments, then other).
    public var segments: [Result]
    public var options: Options
    public var campaignSource: String
    public var segmentsSource: String
    public var responseColumn: String?
    public var revenueColumn: String?
    /// Rows of the campaign file.
    public var campaignRows: Int
    /// Campaign customers found in the segmentation (in a reported group or not).
    public var matched: Int
    /// Campaign customers not in the segmentation, and the line of the first.
    public var campaignOnly: Int
    public var firstCampaignOnlyLine: Int?
    /// Assigned customers not in the campaign.
    public var notInCampaign: Int
    /// Matched customers of segments reported nowhere (privacy threshold), left out of every figure.
    public var unreported: Int
    /// Messages about unmatched customers and untestable or thin groups, in order.
    public var warnings: [String]

    /// Joins the campaign to the segmentation on customer id and compares treatment with
    /// control in every reported group and overall.
    ///
    /// - Throws: `.insufficientData` when no campaign customer is in the segmentation (a wrong
    ///   id column, or pseudonymized assignments).
    /// - Complexity: O(n) for the join (a hash of the assigned ids) and the sums, plus
    ///   O(segments log segments) for the adjustment.
    public static func analyze(_ membership: SegmentMembership, _ campaign: CampaignFile, options: Options = Options()) throws -> CampaignAnalysis {
        var index: [String: Int] = [:]
        index.reserveCapacity(membership.ids.count)
        for (i, id) in membership.ids.enumerated() { index[id] = i }
        let k = membership.groups.count
        var tallies = [Tally](repeating: Tally(), count: k)
        var all = Tally()
        var inCampaign = [Bool](repeating: false, count: membership.ids.count)
        var campaignOnly = 0, firstCampaignOnlyLine: Int? = nil, unreported = 0
        for r in 0..<campaign.count {
            guard let i = index[campaign.ids[r]] else {
                campaignOnly += 1
                if firstCampaignOnlyLine == nil { firstCampaignOnlyLine = campaign.lines[r] }
                continue
            }
            inCampaign[i] = true
            guard let g = membership.group[i] else { unreported += 1; continue }
            let response = campaign.responses?[r], revenue = campaign.revenue?[r]
            tallies[g].add(campaign.groups[r], response: response, revenue: revenue)
            all.add(campaign.groups[r], response: response, revenue: revenue)
        }
        let matched = campaign.count - campaignOnly
        guard matched > 0 else {
            throw StrataError.insufficientData("no customer of \(campaign.path) (\(campaign.count) rows) is in \(membership.source) (\(membership.ids.count) customers): check the id column; a segment run with pseudonymize writes pseudonyms, not the ids a campaign file has")
        }
        let hasResponse = campaign.responses != nil, hasRevenue = campaign.revenue != nil
        var segments = membership.groups.enumerated().map { g, group in
            tallies[g].result(id: group.id, name: group.name, response: hasResponse, revenue: hasRevenue, options: options)
        }
        var overall = all.result(id: nil, name: "All customers", response: hasResponse, revenue: hasRevenue, options: options)
        // Benjamini-Hochberg across the segments, per metric; the overall row is a single test.
        let responseAdjusted = MultipleTesting.benjaminiHochberg(segments.map { $0.response?.pValue })
        let revenueAdjusted = MultipleTesting.benjaminiHochberg(segments.map { $0.revenue?.pValue })
        for s in segments.indices {
            segments[s].responsePValueAdjusted = responseAdjusted[s]
            segments[s].revenuePValueAdjusted = revenueAdjusted[s]
        }
        overall.responsePValueAdjusted = overall.response?.pValue
        overall.revenuePValueAdjusted = overall.revenue?.pValue
        for s in segments.indices { segments[s].conclude() }
        overall.conclude()

        var a = CampaignAnalysis(overall: overall, segments: segments, options: options, campaignSource: campaign.path,
                                 segmentsSource: membership.source, responseColumn: campaign.responseColumn, revenueColumn: campaign.revenueColumn,
                                 campaignRows: campaign.count, matched: matched, campaignOnly: campaignOnly,
                                 firstCampaignOnlyLine: firstCampaignOnlyLine, notInCampaign: inCampaign.filter { !$0 }.count,
                                 unreported: unreported, warnings: [])
        a.warnings = a.coverageWarnings() + segments.flatMap(\.thinWarnings)
        return a
    }

    /// The verdict lines: one per segment, then overall.
    public var verdicts: [String] { (segments + [overall]).map(\.verdict) }

    /// Warnings about customers in one file but not the other, and about unreported ones.
    func coverageWarnings() -> [String] {
        var w: [String] = []
        if campaignOnly > 0 {
            w.append("\(campaignOnly) of \(campaignRows) customers in \(campaignSource) \(campaignOnly == 1 ? "is" : "are") not in \(segmentsSource) (first: line \(firstCampaignOnlyLine ?? 0)); \(campaignOnly == 1 ? "it is" : "they are") left out of every result")
        }
        if notInCampaign > 0 {
            w.append("\(notInCampaign) assigned customer\(notInCampaign == 1 ? " is" : "s are") not in \(campaignSource) (neither treatment nor control) and left out of every result")
        }
        if unreported > 0 {
            w.append("\(unreported) campaign customer\(unreported == 1 ? " is" : "s are") in segments below the privacy threshold (min_segment_size) and left out of every result, the overall included")
        }
        return w
    }
}

/// Per-group counts and revenue values while joining: treatment and control.
struct Tally {
    var treated = 0, control = 0
    var respondersTreated = 0, respondersControl = 0
    var revenueTreated: [Double] = [], revenueControl: [Double] = []

    mutating func add(_ group: CampaignGroup, response: Bool?, revenue: Double?) {
        switch group {
        case .treatment:
            treated += 1
            if response == true { respondersTreated += 1 }
            if let revenue { revenueTreated.append(revenue) }
        case .control:
            control += 1
            if response == true { respondersControl += 1 }
            if let revenue { revenueControl.append(revenue) }
        }
    }

    /// The comparisons (unadjusted; conclusions come after the adjustment).
    func result(id: Int?, name: String, response: Bool, revenue: Bool, options o: CampaignAnalysis.Options) -> CampaignAnalysis.Result {
        let r = response ? ProportionDifference(treatment: Proportion(successes: respondersTreated, trials: treated),
                                                control: Proportion(successes: respondersControl, trials: control),
                                                alpha: o.alpha, power: o.power) : nil
        let m = revenue ? MeanDifference(treatment: SampleSummary(revenueTreated), control: SampleSummary(revenueControl),
                                         alpha: o.alpha, power: o.power) : nil
        return CampaignAnalysis.Result(segmentId: id, segmentName: name, treated: treated, control: control, response: r,
                                       responsePValueAdjusted: nil, revenue: m, revenuePValueAdjusted: nil,
                                       conclusion: .insufficientData, verdict: "", alpha: o.alpha)
    }
}

extension CampaignAnalysis.Result {
    /// Sets `conclusion` and `verdict` from the adjusted p-values.
    mutating func conclude() {
        let primary: (difference: Double?, significant: Bool?)
        if let r = response { primary = (r.difference, responseSignificant) } else { primary = (revenue?.difference, revenueSignificant) }
        switch (primary.significant, primary.difference) {
        case (true?, let d?): conclusion = d > 0 ? .increase : .decrease
        case (false?, _): conclusion = .noDetectableEffect
        default: conclusion = .insufficientData
        }
        var parts: [String] = []
        if let r = response { parts.append(Self.phrase(rate: r, significant: responseSignificant, treated: treated, control: control, alpha: alpha)) }
        if let m = revenue {
            // Second to a response rate, revenue is mentioned only when it could be tested.
            if response == nil || revenueSignificant != nil {
                parts.append(Self.phrase(revenue: m, significant: revenueSignificant, treated: treated, control: control, alone: response == nil, alpha: alpha))
            }
        }
        verdict = segmentName + ": " + parts.joined(separator: "; ")
    }

    /// "+4.1 pts (CI 2.0 to 6.2), significant", "no detectable effect (+0.3 pts, CI -1.2 to 1.8;
    /// about 41,210 customers per group would be needed to detect it)", or why it cannot be told.
    /// An effect significant on its own but not after the adjustment across segments says so.
    static func phrase(rate r: ProportionDifference, significant: Bool?, treated: Int, control: Int, alpha: Double) -> String {
        guard let d = r.difference else { return Self.emptyGroups(treated: treated, control: control) }
        let effect = String(format: "%+.1f pts", 100 * d)
        let ci = r.interval.map { String(format: "CI %.1f to %.1f", 100 * $0.lower, 100 * $0.upper) }
        switch significant {
        case true?: return effect + (ci.map { " (\($0))" } ?? "") + ", significant"
        case false?:
            let lead = (r.pValue ?? 1) <= alpha ? "no detectable effect after adjusting for the number of segments (" : "no detectable effect ("
            return lead + ([effect + (ci.map { ", " + $0 } ?? "")] + needed(r.requiredPerGroup)).joined(separator: "; ") + ")"
        case nil:
            let rate = r.treatment.rate ?? 0
            return "cannot be tested: \(rate == 0 ? "no customer responded" : "every customer responded") (\(treated) treated, \(control) control)"
        }
    }

    /// "revenue per customer +3.20 (CI 1.10 to 5.30), significant" and the like.
    static func phrase(revenue m: MeanDifference, significant: Bool?, treated: Int, control: Int, alone: Bool, alpha: Double) -> String {
        guard let d = m.difference else { return alone ? Self.emptyGroups(treated: treated, control: control) : "revenue: no comparison" }
        let effect = "revenue per customer " + String(format: "%+.2f", d)
        let ci = m.interval.map { String(format: "CI %.2f to %.2f", $0.lower, $0.upper) }
        switch significant {
        case true?: return effect + (ci.map { " (\($0))" } ?? "") + ", significant"
        case false?:
            let adjusted = (m.pValue ?? 1) <= alpha
            if !alone { return effect + (ci.map { " (\($0))" } ?? "") + (adjusted ? ", not significant after adjusting for the number of segments" : ", not significant") }
            return "no detectable effect on " + ([effect + (ci.map { ", " + $0 } ?? "")] + needed(m.requiredPerGroup)).joined(separator: "; ")
                + (adjusted ? " after adjusting for the number of segments" : "")
        case nil:
            let few = min(m.treatment.count, m.control.count) < 2
            return "revenue cannot be tested: " + (few ? "fewer than 2 customers in a group (\(treated) treated, \(control) control)" : "it does not vary within either group")
        }
    }

    static func needed(_ n: Double?) -> [String] {
        guard let n, n.isFinite, n < 1e15 else { return [] }
        return ["about \(SegmentNaming.grouped(Int(n.rounded(.up)))) customers per group would be needed to detect it"]
    }

    static func emptyGroups(treated: Int, control: Int) -> String {
        switch (treated, control) {
        case (0, 0): return "no campaign customers"
        case (0, _): return "no treated customers (\(control) control): nothing to compare"
        default: return "no control customers (\(treated) treated): nothing to compare"
        }
    }

    /// Rule of thumb for the normal approximation: at least 5 responders and 5 non-responders
    /// in each group (a testable group with fewer gets a warning: its interval and test are rough).
    var thinWarnings: [String] {
        guard let r = response, r.pValue != nil else { return [] }
        let cells = [r.treatment.successes, r.treatment.trials - r.treatment.successes, r.control.successes, r.control.trials - r.control.successes]
        guard cells.contains(where: { $0 < 5 }) else { return [] }
        return ["segment '\(segmentName)': fewer than 5 responders or non-responders in a group (\(treated) treated, \(control) control); its normal-approximation interval and test are rough"]
    }
}
