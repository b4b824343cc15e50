import Foundation
import Testing

/// `strata clv --json` on heavy-tailed spend (issue 16's reproducer): `gamma_gamma.valid` false
/// with a warning, no negative value in the CSV; the discount convention in the JSON.
@Suite struct CLVValidityCLITests {
    @Test func heavyTailedSpendIsFlaggedAndNothingIsNegative() throws {
        let dir = tempDir()
        let rows = [("a", 2.0, 3), ("b", 191, 2), ("c", 229, 3), ("d", 279, 2), ("e", 2522, 2), ("f", 2546183, 3)]
        var text = "customer_id,date,amount\n"
        for (id, amount, n) in rows { for m in 1...n { text += "\(id),2024-0\(m * 2)-0\(1 + m),\(amount)\n" } }
        write(text, "\(dir)/o.csv")
        let r = try CLI.run(["clv", "--transactions", "\(dir)/o.csv", "--out", "\(dir)/clv.csv", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let gg = try #require(r.json?["gamma_gamma"] as? [String: Any])
        #expect(gg["valid"] as? Bool == false, "q = \(gg["q"] ?? "?")")
        #expect((r.json?["warnings"] as? [String])?.contains { $0.contains("gamma_gamma.valid: false") } == true)
        let lines = try String(contentsOfFile: "\(dir)/clv.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(lines.count == 6)
        for line in lines {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            let spend = Double(f[7]) ?? -1, clv = Double(f[8]) ?? -1
            #expect(spend > 0 && clv >= 0, "\(line)")
        }
        // The discount: 10% a year compounded to a week unless --discount is given.
        #expect(abs((r.json?["discount"] as? Double ?? 0) - 0.0018283) < 1e-6 && r.json?["annual_discount"] as? Double == 0.1)
        let d = try CLI.run(["clv", "--transactions", "\(dir)/o.csv", "--discount", "0.01", "--json"])
        #expect(d.json?["discount"] as? Double == 0.01 && d.json?["annual_discount"] is NSNull)
    }

    /// `strata clv --calibration-end --holdout-end --json` on CDNOW: the contract's keys (holdout,
    /// <param>_se, <param>_ci), interval columns in the CSV, the three SVG charts, and clear errors
    /// for inconsistent dates.
    @Test func holdoutEvaluationContract() throws {
        let dir = tempDir()
        let base = ["clv", "--transactions", "\(fixtures)/cdnow/CDNOW_sample.txt", "--customer-column", "2", "--date-column", "3",
                    "--amount-column", "5", "--delimiter", "whitespace", "--no-header", "--date-format", "%Y%m%d"]
        let r = try CLI.run(base + ["--calibration-end", "1997-09-30", "--holdout-end", "1998-06-30", "--interval-draws", "20", "--compare-models",
                                    "--out", "\(dir)/clv.csv", "--charts", "\(dir)/charts", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        let bg = try #require(j["bgnbd"] as? [String: Any]), gg = try #require(j["gamma_gamma"] as? [String: Any])
        for p in ["r", "alpha", "a", "b"] {
            #expect(bg["\(p)_se"] is Double && (bg["\(p)_ci"] as? [Double])?.count == 2, "\(p)")
        }
        for p in ["p", "q", "gamma"] { #expect(gg["\(p)_se"] is Double && (gg["\(p)_ci"] as? [Double])?.count == 2, "\(p)") }
        #expect(gg["valid"] as? Bool == true)
        let h = try #require(j["holdout"] as? [String: Any])
        #expect(h["period_end"] as? String == "1998-06-30" && h["customers"] as? Int == 2357 && h["actual_repeat_purchases"] as? Int == 1882)
        #expect(abs((h["predicted_repeat_purchases"] as? Double ?? 0) - 1653.4) < 8, "\(h["predicted_repeat_purchases"] ?? "?")")
        for k in ["mae", "rmse", "correlation"] { #expect(h[k] is Double, "\(k)") }
        let bins = try #require(h["by_frequency"] as? [[String: Any]])
        #expect(bins.first?["frequency"] as? Int == 0 && bins.first?["customers"] as? Int == 1411)
        #expect(Set(bins.first!.keys) == ["frequency", "customers", "actual_mean", "predicted_mean"])
        let weekly = try #require(h["weekly"] as? [[String: Any]])
        #expect(weekly.count == 78 && weekly.last?["actual_cumulative"] as? Int == 4339 && weekly.last?["predicted_cumulative"] is Double)
        #expect(j["warnings"] is [Any])
        let header = try String(contentsOfFile: "\(dir)/clv.csv", encoding: .utf8).split(separator: "\n").first!
        #expect(header.hasSuffix("clv,expected_purchases_p05,expected_purchases_p95,clv_p05,clv_p95"))
        for name in ["holdout_tracking.svg", "holdout_by_frequency.svg", "holdout_spend.svg"] {
            let svg = try String(contentsOfFile: "\(dir)/charts/\(name)", encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("</svg>"), "\(name)")
        }
        #expect(j["model"] as? String == "bgnbd" && j["pareto_nbd"] is NSNull)
        let comparison = try #require(j["model_comparison"] as? [[String: Any]])
        #expect(comparison.map { $0["model"] as? String } == ["bgnbd", "pareto_nbd"])
        #expect(comparison.allSatisfy { $0["mae"] is Double && $0["log_likelihood"] is Double && $0["predicted_repeat_purchases"] is Double })
        // Pareto/NBD: its own block with standard errors; the BG/NBD block is null.
        let p = try CLI.run(base + ["--model", "pnbd", "--interval-draws", "0", "--json"])
        #expect(p.code == 0, "\(p.stderr)")
        let pn = try #require(p.json?["pareto_nbd"] as? [String: Any])
        for k in ["r", "alpha", "s", "beta"] { #expect(pn[k] is Double && pn["\(k)_se"] is Double && (pn["\(k)_ci"] as? [Double])?.count == 2, "\(k)") }
        #expect(p.json?["bgnbd"] is NSNull && p.json?["model"] as? String == "pnbd")
        #expect(try CLI.run(base + ["--model", "paretonbd"]).code == 64)
        // No intervals on request: the columns go, the key is null.
        let none = try CLI.run(base + ["--interval-draws", "0", "--out", "\(dir)/plain.csv", "--json"])
        #expect(none.json?["intervals"] is NSNull && none.json?["holdout"] is NSNull && none.json?["model_comparison"] is NSNull)
        #expect(try String(contentsOfFile: "\(dir)/plain.csv", encoding: .utf8).split(separator: "\n").first!.hasSuffix(",clv"))
        // Inconsistent dates: usage errors naming the options.
        let noCal = try CLI.run(base + ["--holdout-end", "1998-06-30"])
        #expect(noCal.code == 64 && noCal.stderr.contains("--calibration-end"))
        let backwards = try CLI.run(base + ["--calibration-end", "1997-09-30", "--holdout-end", "1997-01-01"])
        #expect(backwards.code == 64 && backwards.stderr.contains("must be after --calibration-end"), "\(backwards.stderr)")
    }

    /// Nothing in the holdout goes unmentioned: customers first seen in it and rows after its end
    /// are counted and warned about by `clv` and by the segment job (with and without CLV).
    @Test func holdoutEdgesAreCountedAndWarned() throws {
        let dir = tempDir()
        var text = "customer_id,date,amount\n"
        for c in 0..<30 {
            for m in stride(from: 1 + c % 3, through: 6, by: 2) { text += "c\(c),2024-0\(m)-1\(c % 10),\(10 + c)\n" }
            if c % 2 == 0 { text += "c\(c),2024-08-0\(1 + c % 9),\(12 + c)\n" }
        }
        for c in 0..<3 { text += "new\(c),2024-08-15,20\n" }          // first seen in the holdout
        text += "c1,2024-10-05,30\nc2,2024-11-05,30\n"                // after the holdout end
        write(text, "\(dir)/o.csv")
        let r = try CLI.run(["clv", "--transactions", "\(dir)/o.csv", "--calibration-end", "2024-06-30", "--holdout-end", "2024-09-30",
                             "--interval-draws", "0", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let h = try #require(r.json?["holdout"] as? [String: Any])
        #expect(h["customers"] as? Int == 30 && h["customers_first_seen_in_holdout"] as? Int == 3 && h["holdout_transactions"] as? Int == 18)
        #expect(h["actual_repeat_purchases"] as? Int == 15)
        let warnings = r.json?["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.contains("3 customers first bought in the holdout period") }, "\(warnings)")
        #expect(warnings.contains { $0.contains("2 order rows dated after --holdout-end were left out") }, "\(warnings)")
        for clv in [true, false] {
            let s = try CLI.run(["segment", "--transactions", "\(dir)/o.csv", "--calibration-end", "2024-06-30", "--holdout-end", "2024-09-30",
                                 "--k", "2", "--min-segment-size", "1", "--out", "\(dir)/seg\(clv)", "--json", "--quiet"] + (clv ? [] : ["--no-clv"]))
            #expect(s.code == 0, "\(s.stderr)")
            let counts = try #require((try jsonFile("\(dir)/seg\(clv)/run.json"))["counts"] as? [String: Any])
            #expect(counts["holdout_transactions"] as? Int == 18 && counts["after_holdout_end"] as? Int == 2 && counts["holdout_only_customers"] as? Int == 3,
                    "\(counts)")
            let w = s.json?["warnings"] as? [String] ?? []
            #expect(w.contains { $0.contains("3 customers first bought in the holdout period") }, "clv \(clv): \(w)")
            #expect(w.contains { $0.contains("2 order rows dated after transactions.holdout_end") }, "clv \(clv): \(w)")
            if !clv { #expect(w.contains { $0.contains("are not used") }, "\(w)") }
        }
    }
}
