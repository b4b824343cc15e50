import Foundation
import Testing
@testable import StrataCore
@testable import StrataIO
@testable import StrataSegment

/// The campaign fixtures (Scripts/make-campaign-fixtures.py: scipy and statsmodels values).
enum CampaignFixtures {
    static let dir = Fixtures.dir + "/campaign"

    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name).json"))) as! [String: Any]
    }

    /// |a - b| <= rel · max(|b|, floor): relative, with an absolute floor for values near 0
    /// (an interval bound d - h where d ≈ h).
    static func close(_ a: Double?, _ b: Any?, rel: Double = 1e-9, floor: Double = 1e-12) -> Bool {
        guard let want = b as? Double else { return a == nil && (b == nil || b is NSNull) }
        guard let a else { return false }
        return abs(a - want) <= rel * max(abs(want), floor)
    }
}

/// The distributions against scipy at fixed points, and Benjamini-Hochberg with ties against
/// statsmodels.
@Suite struct CampaignStatisticsTests {
    let numerics = try! CampaignFixtures.json("numerics")

    @Test func normalDistributionMatchesScipy() {
        for case let p as [String: Any] in numerics["normal"] as! [Any] {
            let x = p["x"] as! Double
            #expect(CampaignFixtures.close(NormalDistribution.cdf(x), p["cdf"], rel: 1e-13), "cdf(\(x))")
            #expect(CampaignFixtures.close(NormalDistribution.survival(x), p["sf"], rel: 1e-13), "sf(\(x))")
        }
        for case let q as [String: Any] in numerics["normal_quantiles"] as! [Any] {
            let p = q["p"] as! Double
            #expect(CampaignFixtures.close(NormalDistribution.quantile(p), q["quantile"], rel: 1e-14), "quantile(\(p))")
        }
        #expect(NormalDistribution.quantile(0) == -.infinity && NormalDistribution.quantile(1) == .infinity)
        #expect(NormalDistribution.quantile(1.5).isNaN)
    }

    @Test func studentTMatchesScipyAtFractionalDegreesOfFreedom() {
        for case let p as [String: Any] in numerics["t"] as! [Any] {
            let t = p["t"] as! Double, nu = p["df"] as! Double
            #expect(CampaignFixtures.close(StudentTDistribution.cdf(t, degreesOfFreedom: nu), p["cdf"], rel: 1e-12), "cdf(\(t); \(nu))")
            #expect(CampaignFixtures.close(StudentTDistribution.survival(t, degreesOfFreedom: nu), p["sf"], rel: 1e-12), "sf(\(t); \(nu))")
            #expect(CampaignFixtures.close(StudentTDistribution.twoSidedPValue(t, degreesOfFreedom: nu), p["two_sided"], rel: 1e-12),
                    "two-sided(\(t); \(nu))")
        }
        for case let q as [String: Any] in numerics["t_quantiles"] as! [Any] {
            let p = q["p"] as! Double, nu = q["df"] as! Double
            #expect(CampaignFixtures.close(StudentTDistribution.quantile(p, degreesOfFreedom: nu), q["quantile"], rel: 1e-12),
                    "quantile(\(p); \(nu)) = \(StudentTDistribution.quantile(p, degreesOfFreedom: nu))")
        }
    }

    @Test func incompleteBetaMatchesScipyInBothTails() {
        for case let p as [String: Any] in numerics["incomplete_beta"] as! [Any] {
            let x = p["x"] as! Double, a = p["a"] as! Double, b = p["b"] as! Double
            let r = IncompleteBeta.regularized(x: x, y: 1 - x, a: a, b: b)
            #expect(CampaignFixtures.close(r.lower, p["value"], rel: 1e-12), "I_\(x)(\(a), \(b)) = \(r.lower)")
            #expect(CampaignFixtures.close(r.upper, p["complement"], rel: 1e-12), "1 - I_\(x)(\(a), \(b)) = \(r.upper)")
        }
        // ln B against ln Γ where the latter has no cancellation, and a symmetric identity.
        #expect(abs(IncompleteBeta.logBeta(3, 4) - log(1.0 / 60)) < 1e-14)
        #expect(abs(IncompleteBeta.logBeta(12.5, 30) - (lgamma(12.5) + lgamma(30) - lgamma(42.5))) < 1e-11)
    }

    @Test func benjaminiHochbergMatchesStatsmodelsWithTies() {
        let bh = numerics["bh"] as! [String: Any]
        let p = (bh["p"] as! [Double]).map { Optional($0) }
        let adjusted = MultipleTesting.benjaminiHochberg(p)
        for (a, want) in zip(adjusted, bh["adjusted"] as! [Double]) { #expect(CampaignFixtures.close(a, want, rel: 1e-14)) }
        for (a, reject) in zip(adjusted, bh["reject"] as! [Bool]) { #expect((a! <= 0.05) == reject) }
        // Tied p-values share one adjusted value; untested hypotheses stay nil and do not count.
        #expect(adjusted[1] == adjusted[2] && adjusted[2] == adjusted[6])
        #expect(MultipleTesting.benjaminiHochberg([0.02, nil, 0.04]) == [0.04, nil, 0.04])
        #expect(MultipleTesting.benjaminiHochberg([]) == [])
    }

    @Test func sampleSizeIsTheStatedFormula() throws {
        // (z_0.975 + z_0.8)^2 = 7.848879734349088 (scipy); p 0.10 vs 0.12.
        let n = try #require(SampleSize.perGroup(difference: 0.02, treatmentVariance: 0.12 * 0.88, controlVariance: 0.09))
        #expect(abs(n - 7.848879734349088 * (0.1056 + 0.09) / 0.0004) < 1e-9 * n)
        #expect(SampleSize.perGroup(difference: 0, treatmentVariance: 1, controlVariance: 1) == nil)
    }

    @Test func undefinedComparisonsAreNil() {
        let empty = ProportionDifference(treatment: Proportion(successes: 3, trials: 10), control: Proportion(successes: 0, trials: 0))
        #expect(empty.difference == nil && empty.pValue == nil && empty.interval == nil)
        let nobody = ProportionDifference(treatment: Proportion(successes: 0, trials: 10), control: Proportion(successes: 0, trials: 12))
        #expect(nobody.difference == 0 && nobody.pValue == nil && nobody.interval == nil && nobody.relativeDifference == nil)
        let flat = MeanDifference(treatment: SampleSummary([2, 2, 2]), control: SampleSummary([2, 2]))
        #expect(flat.difference == 0 && flat.pValue == nil && flat.interval == nil && flat.requiredPerGroup == nil)
        let single = MeanDifference(treatment: SampleSummary([5]), control: SampleSummary([1, 2]))
        #expect(single.difference == 3.5 && single.pValue == nil && single.degreesOfFreedom == nil)
    }
}

/// `CampaignAnalysis` on the synthetic campaign against statsmodels and scipy, value by value.
@Suite struct CampaignReferenceTests {
    static func analysis() throws -> CampaignAnalysis {
        let run = try SegmentRunFiles.load(directory: CampaignFixtures.dir + "/assignments.csv")
        let file = try CampaignFile.read(CampaignSettings(path: CampaignFixtures.dir + "/campaign.csv"))
        return try CampaignAnalysis.analyze(SegmentMembership(run: run), file)
    }

    /// Every number of one result against the fixture's row.
    static func check(_ r: CampaignAnalysis.Result, _ want: [String: Any]) {
        let name = r.segmentName
        #expect(name == want["segment_name"] as? String)
        #expect(r.segmentId == want["segment_id"] as? Int)
        #expect(r.treated == want["treated"] as? Int && r.control == want["control"] as? Int, "\(name): group sizes")
        let p = r.response!, m = r.revenue!
        #expect(p.treatment.successes == want["responders_treated"] as? Int && p.control.successes == want["responders_control"] as? Int)
        let values: [(String, Double?)] = [
            ("response_rate_treated", p.treatment.rate), ("response_rate_control", p.control.rate), ("uplift", p.difference),
            ("relative_uplift", p.relativeDifference), ("z_statistic", p.z), ("p_value", p.pValue), ("p_value_adjusted", r.responsePValueAdjusted),
            ("sample_size_per_group_exact", p.requiredPerGroup),
            ("revenue_per_customer_treated", m.treatment.mean), ("revenue_per_customer_control", m.control.mean), ("revenue_uplift", m.difference),
            ("revenue_relative_uplift", m.relativeDifference), ("revenue_t_statistic", m.t), ("revenue_degrees_of_freedom", m.degreesOfFreedom),
            ("revenue_p_value", m.pValue), ("revenue_p_value_adjusted", r.revenuePValueAdjusted),
            ("revenue_sample_size_per_group_exact", m.requiredPerGroup),
        ]
        for (key, value) in values {
            #expect(CampaignFixtures.close(value, want[key]), "\(name): \(key) \(value.map { "\($0)" } ?? "nil") vs \(want[key] ?? "nil")")
        }
        let ci = want["uplift_ci"] as? [Double], rci = want["revenue_uplift_ci"] as? [Double]
        #expect((p.interval == nil) == (ci == nil), "\(name): uplift_ci presence")
        if let ci, let got = p.interval {
            // Bounds near 0 are differences of nearby numbers: relative to the half-width.
            let scale = abs(ci[1] - ci[0])
            #expect(abs(got.lower - ci[0]) <= 1e-9 * scale && abs(got.upper - ci[1]) <= 1e-9 * scale, "\(name): uplift_ci \(got) vs \(ci)")
        }
        #expect((m.interval == nil) == (rci == nil), "\(name): revenue_uplift_ci presence")
        if let rci, let got = m.interval {
            let scale = abs(rci[1] - rci[0])
            #expect(abs(got.lower - rci[0]) <= 1e-9 * scale && abs(got.upper - rci[1]) <= 1e-9 * scale, "\(name): revenue_uplift_ci \(got) vs \(rci)")
        }
        #expect(r.responseSignificant == want["significant"] as? Bool, "\(name): significant")
        #expect(r.revenueSignificant == want["revenue_significant"] as? Bool, "\(name): revenue_significant")
        let record = CampaignRecord.Row(r)
        #expect(record.sampleSizePerGroup.value == want["sample_size_per_group"] as? Int, "\(name): sample size")
        #expect(record.revenueSampleSizePerGroup.value == want["revenue_sample_size_per_group"] as? Int, "\(name): revenue sample size")
    }

    @Test func everySegmentAndTheOverallMatchStatsmodelsAndScipy() throws {
        let a = try Self.analysis()
        let expected = try CampaignFixtures.json("expected")
        let segments = expected["segments"] as! [[String: Any]]
        #expect(a.segments.count == segments.count)
        for (r, want) in zip(a.segments, segments) { Self.check(r, want) }
        Self.check(a.overall, expected["overall"] as! [String: Any])
        let counts = expected["counts"] as! [String: Int]
        #expect(a.campaignRows == counts["campaign_rows"] && a.matched == counts["matched"])
        #expect(a.campaignOnly == counts["campaign_only"] && a.notInCampaign == counts["not_in_campaign"])
        #expect(a.firstCampaignOnlyLine == counts["first_campaign_only_line"])
    }

    @Test func verdictsAndConclusionsFollowTheAdjustedTests() throws {
        let a = try Self.analysis()
        let by = Dictionary(uniqueKeysWithValues: a.segments.map { ($0.segmentName, $0) })
        #expect(by["Lapsed big spenders"]?.conclusion == .increase)
        #expect(by["Lapsed big spenders"]?.verdict.hasPrefix("Lapsed big spenders: +6.4 pts (CI 4.2 to 8.6), significant") == true)
        #expect(by["At risk"]?.conclusion == .noDetectableEffect)
        #expect(by["At risk"]?.verdict.hasPrefix("At risk: no detectable effect (-0.2 pts, CI -2.7 to 2.3; about 403,071 customers per group") == true)
        #expect(by["Treated only"]?.conclusion == .insufficientData)
        #expect(by["Treated only"]?.verdict == "Treated only: no control customers (30 treated): nothing to compare")
        #expect(by["Dormant"]?.conclusion == .insufficientData)
        #expect(a.overall.conclusion == .increase)
        #expect(a.verdicts.count == a.segments.count + 1)
        // Unmatched customers and the thin segment are warned about; the untestable one is not "thin".
        #expect(a.warnings.contains { $0.contains("3 of 6824 customers") && $0.contains("line 2") })
        #expect(a.warnings.contains { $0.contains("25 assigned customers") })
        #expect(a.warnings.contains { $0.contains("'Tiny'") })
        #expect(!a.warnings.contains { $0.contains("'Dormant'") })
    }

    @Test func revenueOnlyCampaignsConcludeOnRevenue() throws {
        let dir = temporaryDirectory()
        var text = "customer_id,group,revenue\n"
        for i in 0..<40 { text += "c\(i),\(i % 2 == 0 ? "treatment" : "control"),\(i % 2 == 0 ? 20 + i % 7 : 10 + i % 5)\n" }
        try text.write(toFile: dir + "/c.csv", atomically: true, encoding: .utf8)
        let run = SegmentRunFiles(ids: (0..<40).map { "c\($0)" }, labels: (0..<40).map { Int32($0 % 4 < 2 ? 0 : 1) }, k: 2,
                                  names: ["A", "B"], centersOriginal: nil, features: nil, profiles: nil)
        let a = try CampaignAnalysis.analyze(SegmentMembership(run: run), try CampaignFile.read(CampaignSettings(path: dir + "/c.csv")))
        #expect(a.responseColumn == nil && a.revenueColumn == "revenue")
        #expect(a.overall.response == nil && a.overall.conclusion == .increase)
        #expect(a.overall.verdict.hasPrefix("All customers: revenue per customer +"))
        let record = try JSONSerialization.jsonObject(with: JSONOutput.line(a.record)) as! [String: Any]
        let overall = record["overall"] as! [String: Any]
        #expect(overall["uplift"] is NSNull && overall["p_value"] is NSNull && overall["significant"] is NSNull)
        #expect(overall["revenue_p_value"] is Double)
    }
}
