import Foundation
import StrataCore
import StrataIO

/// campaign.json (and `strata campaign --json`, and the `campaign` key of `strata segment
/// --json`): keys in snake_case, null where a value is undefined (no such column, an empty
/// group, no variation).
public struct CampaignRecord: Encodable, Sendable {
    /// One segment's row (or the overall's: `segment_id` null, `segment_name` "All customers").
    /// Rates are proportions; uplifts are treatment - control (`uplift` in proportion units,
    /// `revenue_uplift` in revenue units per customer); intervals are [lower, upper] at
    /// 1 - alpha (Wald unpooled for rates, Welch for revenue).
    public struct Row: Encodable, Sendable {
        public var segmentId: OrNull<Int>
        public var segmentName: String
        public var treated: Int
        public var control: Int
        public var respondersTreated: OrNull<Int>
        public var respondersControl: OrNull<Int>
        public var responseRateTreated: FiniteOrNull
        public var responseRateControl: FiniteOrNull
        public var uplift: FiniteOrNull
        public var upliftCI: OrNull<[Double]>
        public var relativeUplift: FiniteOrNull
        /// Two-proportion z statistic (pooled) and its two-sided p-value.
        public var zStatistic: FiniteOrNull
        public var pValue: FiniteOrNull
        /// Benjamini-Hochberg across segments (overall: the p-value itself).
        public var pValueAdjusted: FiniteOrNull
        public var significant: OrNull<Bool>
        /// Customers per group for the observed uplift to be significant at alpha with `power`.
        public var sampleSizePerGroup: OrNull<Int>
        public var revenuePerCustomerTreated: FiniteOrNull
        public var revenuePerCustomerControl: FiniteOrNull
        public var revenueUplift: FiniteOrNull
        public var revenueUpliftCI: OrNull<[Double]>
        public var revenueRelativeUplift: FiniteOrNull
        public var revenueTStatistic: FiniteOrNull
        public var revenueDegreesOfFreedom: FiniteOrNull
        public var revenuePValue: FiniteOrNull
        public var revenuePValueAdjusted: FiniteOrNull
        public var revenueSignificant: OrNull<Bool>
        public var revenueSampleSizePerGroup: OrNull<Int>
        public var conclusion: CampaignAnalysis.Conclusion
        public var verdict: String

        init(_ r: CampaignAnalysis.Result) {
            let p = r.response, m = r.revenue
            segmentId = OrNull(r.segmentId)
            segmentName = r.segmentName
            treated = r.treated
            control = r.control
            respondersTreated = OrNull(p?.treatment.successes)
            respondersControl = OrNull(p?.control.successes)
            responseRateTreated = FiniteOrNull(p?.treatment.rate)
            responseRateControl = FiniteOrNull(p?.control.rate)
            uplift = FiniteOrNull(p?.difference)
            upliftCI = OrNull(p?.interval.map { [$0.lower, $0.upper] })
            relativeUplift = FiniteOrNull(p?.relativeDifference)
            zStatistic = FiniteOrNull(p?.z)
            pValue = FiniteOrNull(p?.pValue)
            pValueAdjusted = FiniteOrNull(r.responsePValueAdjusted)
            significant = OrNull(r.responseSignificant)
            sampleSizePerGroup = OrNull(Self.customers(p?.requiredPerGroup))
            revenuePerCustomerTreated = FiniteOrNull(m?.treatment.mean)
            revenuePerCustomerControl = FiniteOrNull(m?.control.mean)
            revenueUplift = FiniteOrNull(m?.difference)
            revenueUpliftCI = OrNull(m?.interval.map { [$0.lower, $0.upper] })
            revenueRelativeUplift = FiniteOrNull(m?.relativeDifference)
            revenueTStatistic = FiniteOrNull(m?.t)
            revenueDegreesOfFreedom = FiniteOrNull(m?.degreesOfFreedom)
            revenuePValue = FiniteOrNull(m?.pValue)
            revenuePValueAdjusted = FiniteOrNull(r.revenuePValueAdjusted)
            revenueSignificant = OrNull(r.revenueSignificant)
            revenueSampleSizePerGroup = OrNull(Self.customers(m?.requiredPerGroup))
            conclusion = r.conclusion
            verdict = r.verdict
        }

        /// A sample size rounded up to whole customers (nil beyond 10^15: no effect to speak of).
        static func customers(_ n: Double?) -> Int? {
            guard let n, n.isFinite, n < 1e15 else { return nil }
            return Int(n.rounded(.up))
        }
    }

    /// Customers in each file and in both.
    public struct Counts: Encodable, Sendable {
        public var campaignRows: Int
        public var matched: Int
        /// In the campaign file, not in the segmentation.
        public var campaignOnly: Int
        /// Assigned, not in the campaign file.
        public var notInCampaign: Int
        /// Matched but in segments below the privacy threshold (segment jobs only; else 0).
        public var unreported: Int
    }

    /// How the numbers were computed.
    public struct Method: Encodable, Sendable {
        public var alpha: Double
        public var confidence: Double
        public var power: Double
        public var responseInterval = "Wald, unpooled"
        public var responseTest = "two-proportion z-test (pooled), two-sided"
        public var revenueInterval = "Welch (Welch-Satterthwaite degrees of freedom)"
        public var revenueTest = "Welch t-test, two-sided"
        public var adjustment = "Benjamini-Hochberg across segments (overall not adjusted)"
        public var sampleSize = "n per group = (z(1-alpha/2) + z(power))^2 (var_treatment + var_control) / uplift^2"
    }

    public var overall: Row
    public var segments: [Row]
    public var verdicts: [String]
    public var counts: Counts
    public var method: Method
    public var campaign: String
    public var assignments: String
    public var responseColumn: OrNull<String>
    public var revenueColumn: OrNull<String>

    public init(_ a: CampaignAnalysis) {
        overall = Row(a.overall)
        segments = a.segments.map(Row.init)
        verdicts = a.verdicts
        counts = Counts(campaignRows: a.campaignRows, matched: a.matched, campaignOnly: a.campaignOnly,
                        notInCampaign: a.notInCampaign, unreported: a.unreported)
        method = Method(alpha: a.options.alpha, confidence: 1 - a.options.alpha, power: a.options.power)
        campaign = a.campaignSource
        assignments = a.segmentsSource
        responseColumn = OrNull(a.responseColumn)
        revenueColumn = OrNull(a.revenueColumn)
    }
}

extension CampaignAnalysis {
    /// campaign.json's content.
    public var record: CampaignRecord { CampaignRecord(self) }

    /// campaign.csv: one row per reported segment, then the overall row (`scope` segment,
    /// other or overall); the columns of campaign.json's rows, intervals split into `_lower` and
    /// `_upper`, undefined values empty.
    public var csv: Data {
        let header = ["scope", "segment_id", "segment_name", "treated", "control", "responders_treated", "responders_control",
                      "response_rate_treated", "response_rate_control", "uplift", "uplift_ci_lower", "uplift_ci_upper", "relative_uplift",
                      "z_statistic", "p_value", "p_value_adjusted", "significant", "sample_size_per_group",
                      "revenue_per_customer_treated", "revenue_per_customer_control", "revenue_uplift", "revenue_uplift_ci_lower",
                      "revenue_uplift_ci_upper", "revenue_relative_uplift", "revenue_t_statistic", "revenue_degrees_of_freedom",
                      "revenue_p_value", "revenue_p_value_adjusted", "revenue_significant", "revenue_sample_size_per_group",
                      "conclusion", "verdict"]
        var out = header.joined(separator: ",") + "\n"
        for (r, scope) in segments.map({ ($0, $0.segmentId == nil ? "other" : "segment") }) + [(overall, "overall")] {
            out += Self.csvRow(r, scope: scope).joined(separator: ",") + "\n"
        }
        return Data(out.utf8)
    }

    static func csvRow(_ r: Result, scope: String) -> [String] {
        func n(_ v: Double?) -> String { v.map(CSVOutput.number) ?? "" }
        func i(_ v: Int?) -> String { v.map(String.init) ?? "" }
        func b(_ v: Bool?) -> String { v.map { $0 ? "true" : "false" } ?? "" }
        let p = r.response, m = r.revenue
        let fields: [String] = [
            scope, i(r.segmentId), CSVOutput.field(r.segmentName), String(r.treated), String(r.control),
            i(p?.treatment.successes), i(p?.control.successes), n(p?.treatment.rate), n(p?.control.rate), n(p?.difference),
            n(p?.interval?.lower), n(p?.interval?.upper), n(p?.relativeDifference), n(p?.z), n(p?.pValue), n(r.responsePValueAdjusted),
            b(r.responseSignificant), i(CampaignRecord.Row.customers(p?.requiredPerGroup)),
            n(m?.treatment.mean), n(m?.control.mean), n(m?.difference), n(m?.interval?.lower), n(m?.interval?.upper),
            n(m?.relativeDifference), n(m?.t), n(m?.degreesOfFreedom), n(m?.pValue), n(r.revenuePValueAdjusted),
            b(r.revenueSignificant), i(CampaignRecord.Row.customers(m?.requiredPerGroup)),
            r.conclusion.rawValue, CSVOutput.field(r.verdict),
        ]
        return fields
    }
}
