import Foundation
import Strata
import Testing

/// `strata campaign` and the segment job's `campaign:` block, through the built binary.
@Suite struct CampaignCLITests {
    static let campaignDir = fixtures + "/campaign"
    static let contractKeys = ["segment_id", "segment_name", "treated", "control", "response_rate_treated", "response_rate_control", "uplift",
                               "uplift_ci", "relative_uplift", "p_value", "p_value_adjusted", "significant", "revenue_uplift", "revenue_uplift_ci"]

    @Test func jsonCarriesTheContractKeysTheReferenceValuesAndTheWarnings() throws {
        let dir = tempDir()
        let r = try CLI.run(["campaign", "--assignments", "\(Self.campaignDir)/assignments.csv", "--campaign", "\(Self.campaignDir)/campaign.csv",
                             "--json", "--out", "\(dir)/out"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        let segments = try #require(j["segments"] as? [[String: Any]])
        let overall = try #require(j["overall"] as? [String: Any])
        for row in segments + [overall] {
            for key in Self.contractKeys { #expect(row[key] != nil, "missing \(key)") }
        }
        // Unmatched customers both ways: counted and warned about.
        let warnings = try #require(j["warnings"] as? [String])
        #expect(warnings.contains { $0.contains("3 of 6824 customers") && $0.contains("(first: line 2)") }, "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("25 assigned customers are not in") })
        #expect(r.stderr.contains("strata: warning: 3 of 6824 customers"))
        let counts = try #require(j["counts"] as? [String: Int])
        #expect(counts["campaign_only"] == 3 && counts["not_in_campaign"] == 25 && counts["matched"] == 6821)
        // The values are statsmodels' and scipy's (the library test checks every one; here the
        // JSON path end to end).
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.campaignDir)/expected.json"))) as! [String: Any]
        for (row, want) in zip(segments + [overall], (expected["segments"] as! [[String: Any]]) + [expected["overall"] as! [String: Any]]) {
            for key in ["uplift", "p_value", "p_value_adjusted", "revenue_uplift", "revenue_p_value", "revenue_degrees_of_freedom"] {
                if let w = want[key] as? Double {
                    let got = row[key] as? Double ?? .nan
                    #expect(abs(got - w) <= 1e-9 * abs(w), "\(want["segment_name"]!): \(key) \(got) vs \(w)")
                } else {
                    #expect(row[key] is NSNull, "\(want["segment_name"]!): \(key) should be null")
                }
            }
            #expect(row["significant"] as? Bool == want["significant"] as? Bool)
            #expect(row["sample_size_per_group"] as? Int == want["sample_size_per_group"] as? Int)
        }
        // Undefined values are null, not missing: no control customers, nobody responded.
        let treatedOnly = try #require(segments.first { $0["segment_name"] as? String == "Treated only" })
        #expect(treatedOnly["uplift"] is NSNull && treatedOnly["uplift_ci"] is NSNull && treatedOnly["response_rate_control"] is NSNull)
        #expect(treatedOnly["conclusion"] as? String == "insufficient_data")
        let dormant = try #require(segments.first { $0["segment_name"] as? String == "Dormant" })
        #expect(dormant["uplift"] as? Double == 0 && dormant["p_value"] is NSNull && dormant["revenue_uplift_ci"] is NSNull)
        // The files: campaign.json as the result's keys, campaign.csv one row per segment + overall.
        let file = try jsonFile("\(dir)/out/campaign.json")
        #expect((file["segments"] as? [Any])?.count == segments.count && file["verdicts"] != nil)
        let csv = try String(contentsOfFile: "\(dir)/out/campaign.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + segments.count + 1)
        #expect(csv.first?.hasPrefix("scope,segment_id,segment_name,treated,control,") == true)
        #expect(csv.last?.hasPrefix("overall,,All customers,3476,3345,") == true)
        #expect((j["outputs"] as? [String: String])?["csv"] == "\(dir)/out/campaign.csv")
    }

    @Test func humanSummaryPrintsOneVerdictPerSegment() throws {
        let r = try CLI.run(["campaign", "--assignments", "\(Self.campaignDir)/assignments.csv", "--campaign", "\(Self.campaignDir)/campaign.csv"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("  Lapsed big spenders: +6.4 pts (CI 4.2 to 8.6), significant; revenue per customer +4.36 (CI 2.70 to 6.02), significant"))
        #expect(r.stdout.contains("  At risk: no detectable effect (-0.2 pts, CI -2.7 to 2.3;"))
        #expect(r.stdout.contains("  Treated only: no control customers (30 treated): nothing to compare"))
        #expect(r.stdout.contains("  All customers: +3.4 pts (CI 1.8 to 5.0), significant"))
    }

    /// (campaign file text, extra flags, exit code, what the one-line message must contain).
    static let badInputs: [(String, [String], Int32, String)] = [
        ("customer_id,group,response\na,treatment,1\nb,control,0\na,control,1\n", [], 65,
         "c.csv, line 4, column 'customer_id': customer id 'a' appears twice (first on line 2)"),
        ("customer_id,group,response\na,treatment,1\nb,holdout,0\n", [], 65,
         "c.csv, line 3, column 'group': group 'holdout' is neither the treatment value 'treatment' nor the control value 'control'"),
        ("customer_id,group,response\na,treatment,1\nb,control,2\n", [], 65, "c.csv, line 3, column 'response': response '2' is not 0 or 1"),
        ("customer_id,group,response\na,treatment,yes\n", [], 65, "c.csv, line 2, column 'response': response 'yes' is not 0 or 1"),
        ("customer_id,group,revenue\na,treatment,12.5\nb,control,\n", [], 65, "c.csv, line 3, column 'revenue': revenue is empty"),
        ("customer_id,group,revenue\na,treatment,1e400\n", [], 65, "c.csv, line 2, column 'revenue': revenue '1e400' is not a finite number"),
        ("customer_id,group,response\na,treatment,1,9\n", [], 65, "c.csv, line 2: row has 4 fields but the header has 3"),
        ("customer_id,group\na,treatment\n", [], 64, "--response-column:"),
        ("customer_id,group,response\na,treatment,1\n", ["--group-column", "arm"], 64, "--group-column: 'arm' is not a column of"),
        ("customer_id,group,response\na,treatment,1\n", ["--revenue-column", "spend"], 64, "--revenue-column: 'spend' is not a column of"),
        ("customer_id,group,response\n", [], 65, "c.csv: the file has a header but no data rows"),
        ("customer_id,group,response\nzz,treatment,1\n", [], 65, "no customer of"),
    ]

    @Test func badInputIsAOneLineErrorNamingFileLineAndColumn() throws {
        let dir = tempDir()
        write("customer_id,segment_id,segment_name\na,0,A\nb,1,B\n", "\(dir)/a.csv")
        for (text, flags, code, message) in Self.badInputs {
            write(text, "\(dir)/c.csv")
            let r = try CLI.run(["campaign", "--assignments", "\(dir)/a.csv", "--campaign", "\(dir)/c.csv", "--json"] + flags)
            #expect(r.code == code, "\(message): exit \(r.code), \(r.stderr)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").filter { $0.hasPrefix("strata: error:") }.count == 1)
            let error = r.json?["error"] as? [String: Any]
            #expect(error?["exit_code"] as? Int == Int(code), "--json error object: \(r.stdout)")
        }
    }

    @Test func groupValuesAndColumnsCanBeRenamed() throws {
        let dir = tempDir()
        write("customer_id,segment_id\na,0\nb,0\nc,0\nd,0\n", "\(dir)/a.csv")
        write("cid,arm,bought\na, Mailed ,1\nb,HELD,0\nc,mailed,0\nd,held,1\n", "\(dir)/c.csv")
        let r = try CLI.run(["campaign", "--assignments", "\(dir)/a.csv", "--campaign", "\(dir)/c.csv", "--json", "--id-column", "cid",
                             "--group-column", "arm", "--response-column", "bought", "--treatment-value", "mailed", "--control-value", "held"])
        #expect(r.code == 0, "\(r.stderr)")
        let overall = try #require(r.json?["overall"] as? [String: Any])
        #expect(overall["treated"] as? Int == 2 && overall["control"] as? Int == 2 && overall["uplift"] as? Double == 0)
        #expect(overall["revenue_uplift"] is NSNull && overall["revenue_uplift_ci"] is NSNull)
        let same = try CLI.run(["campaign", "--assignments", "\(dir)/a.csv", "--campaign", "\(dir)/c.csv", "--id-column", "cid",
                                "--group-column", "arm", "--treatment-value", "held", "--control-value", "HELD"])
        #expect(same.code == 64 && same.stderr.contains("--control-value:"), "\(same.stderr)")
    }

    @Test func outWritesBothFilesTogetherAndAFailedRunChangesNothing() throws {
        let dir = tempDir()
        let out = "\(dir)/out"
        let args = ["campaign", "--assignments", "\(Self.campaignDir)/assignments.csv", "--out", out]
        #expect(try CLI.run(args + ["--campaign", "\(Self.campaignDir)/campaign.csv"]).code == 0)
        let json = bytes("\(out)/campaign.json"), csv = bytes("\(out)/campaign.csv")
        #expect(json != nil && csv != nil)
        // Bad input: nothing is written.
        write("customer_id,group,response\nC00001,treatment,7\n", "\(dir)/bad.csv")
        #expect(try CLI.run(args + ["--campaign", "\(dir)/bad.csv"]).code == 65)
        #expect(bytes("\(out)/campaign.json") == json && bytes("\(out)/campaign.csv") == csv)
        // One output cannot be renamed into place (a directory took campaign.csv's name): the
        // other is not replaced either.
        try FileManager.default.removeItem(atPath: "\(out)/campaign.csv")
        try FileManager.default.createDirectory(atPath: "\(out)/campaign.csv", withIntermediateDirectories: false)
        write("customer_id,group,response\nC00001,treatment,1\nC00002,control,0\n", "\(dir)/small.csv")
        let r = try CLI.run(args + ["--campaign", "\(dir)/small.csv"])
        #expect(r.code == 73, "\(r.stderr)")
        #expect(bytes("\(out)/campaign.json") == json)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporaries left: \(leftovers)")
    }

    @Test func segmentJobReportsTheCampaignAndCampaignReadsItsOutputDirectory() throws {
        let dir = tempDir()
        let (customers, truth) = plantedCustomers(rows: 1600, seed: 11)
        write(customers, "\(dir)/c.csv")
        // Treated customers of planted group 0 respond more; the campaign names its own columns.
        var rng = SeededRandom(seed: 5)
        var campaign = "id,arm,converted,spend\n"
        for (i, g) in truth.enumerated() where i % 5 != 0 {
            let treated = i % 2 == 0
            let p = g == 0 && treated ? 0.35 : 0.12
            let converted = rng.nextUnit() < p
            campaign += "P\(100000 + i),\(treated ? "T" : "C"),\(converted ? 1 : 0),\(converted ? String(format: "%.2f", 20 + 40 * rng.nextUnit()) : "0")\n"
        }
        campaign += "Q1,T,1,5\n"
        write(campaign, "\(dir)/campaign.csv")
        write("""
            customers: \(dir)/c.csv
            k: 4
            out: \(dir)/out
            campaign:
              path: \(dir)/campaign.csv
              id_column: id
              group_column: arm
              response_column: converted
              revenue_column: spend
              treatment_value: T
              control_value: C
            """, "\(dir)/job.yaml")
        let r = try CLI.run(["segment", "--config", "\(dir)/job.yaml", "--json", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        let job = try #require(r.json?["campaign"] as? [String: Any])
        let segments = try #require(job["segments"] as? [[String: Any]])
        #expect(segments.count == 4)
        #expect(segments.contains { $0["conclusion"] as? String == "increase" }, "\(segments.map { $0["verdict"] ?? "" })")
        #expect((r.json?["warnings"] as? [String])?.contains { $0.contains("1 of") && $0.contains("not in this run's customers") } == true)
        let report = try String(contentsOfFile: "\(dir)/out/report.html", encoding: .utf8)
        #expect(report.contains("<h2>Campaign results</h2>") && report.contains("id=\"chart-campaign\"") && report.contains("id=\"campaign-verdicts\""))
        #expect(report.contains("chart-campaign"))
        let file = try jsonFile("\(dir)/out/campaign.json")
        #expect((file["segments"] as? [[String: Any]])?.map { $0["uplift"] as? Double } == segments.map { $0["uplift"] as? Double })
        // `strata campaign` on the run directory: the same numbers (every segment reported).
        let c = try CLI.run(["campaign", "--assignments", "\(dir)/out", "--campaign", "\(dir)/campaign.csv", "--json", "--id-column", "id",
                             "--group-column", "arm", "--response-column", "converted", "--revenue-column", "spend",
                             "--treatment-value", "T", "--control-value", "C"])
        #expect(c.code == 0, "\(c.stderr)")
        let again = try #require(c.json?["segments"] as? [[String: Any]])
        #expect(again.map { $0["segment_name"] as? String } == segments.map { $0["segment_name"] as? String })
        #expect(again.map { $0["p_value"] as? Double } == segments.map { $0["p_value"] as? Double })
        #expect(again.map { $0["revenue_uplift_ci"] as? [Double] } == segments.map { $0["revenue_uplift_ci"] as? [Double] })
        // Under the privacy threshold the campaign is reported on the report's groups: small
        // segments merged into other (or left out with it), never on their own (flags this time).
        let p = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--k", "7", "--min-segment-size", "300", "--out", "\(dir)/small",
                             "--campaign", "\(dir)/campaign.csv", "--campaign-id-column", "id", "--campaign-group-column", "arm",
                             "--campaign-response-column", "converted", "--campaign-treatment-value", "T", "--campaign-control-value", "C",
                             "--json", "--quiet"])
        #expect(p.code == 0, "\(p.stderr)")
        let profiles = try jsonFile("\(dir)/small/profiles.json")
        let reported = ((profiles["segments"] as? [[String: Any]]) ?? []).map { $0["name"] as? String }
            + ((profiles["other"] as? [String: Any]).map { [$0["name"] as? String] } ?? [])
        let small = try #require(p.json?["campaign"] as? [String: Any])
        #expect(((small["segments"] as? [[String: Any]]) ?? []).map { $0["segment_name"] as? String } == reported)
        #expect((small["segments"] as? [[String: Any]])?.allSatisfy { ($0["treated"] as? Int ?? 0) + ($0["control"] as? Int ?? 0) > 0 } == true)
        #expect(profiles["other"] != nil || profiles["other_suppressed"] as? Bool == true, "the run should have small segments")
        // Customers of a suppressed other are counted, and left out of the overall too.
        let unreported = try #require((small["counts"] as? [String: Int])?["unreported"])
        #expect(profiles["other_suppressed"] as? Bool == true ? unreported > 0 : unreported == 0, "unreported \(unreported)")
        // A bad campaign block fails before any work, naming the job key.
        write("customers: \(dir)/c.csv\nout: \(dir)/out2\ncampaign:\n  path: \(dir)/campaign.csv\n  id_column: nope\n", "\(dir)/bad.yaml")
        let bad = try CLI.run(["segment", "--config", "\(dir)/bad.yaml", "--quiet"])
        #expect(bad.code == 64 && bad.stderr.contains("campaign.id_column: 'nope' is not a column"), "\(bad.stderr)")
        write("customers: \(dir)/c.csv\ncampaign:\n  path: x.csv\n  id_colum: id\n", "\(dir)/typo.yaml")
        let typo = try CLI.run(["segment", "--config", "\(dir)/typo.yaml", "--quiet"])
        #expect(typo.code == 64 && typo.stderr.contains("unknown option 'campaign.id_colum'; did you mean 'campaign.id_column'?"), "\(typo.stderr)")
    }
}
