import Foundation
import Strata
import Testing

/// Planted mixed data: three groups that differ mainly in two categorical columns (plan 97%,
/// device 95% tied to the group) and only weakly in two numeric columns (shifts of 2/3 and 1/4
/// standard deviation), so one-hot K-Means is not enough but K-Prototypes with a categorical
/// weight is.
func plantedMixedCustomers(rows: Int = 1500, seed: UInt64 = 11) -> (csv: String, truth: [Int]) {
    var rng = SeededRandom(seed: seed)
    let plans = ["gold", "basic", "trial"], devices = ["ios", "android", "web"]
    var csv = "customer_id,plan,device,spend,visits\n"
    var truth: [Int] = []
    for i in 0..<rows {
        let u = rng.nextUnit()
        let g = u < 0.3 ? 0 : u < 0.8 ? 1 : 2
        truth.append(g)
        let plan = rng.nextUnit() < 0.97 ? plans[g] : plans[Int(rng.nextUnit() * 3) % 3]
        let device = rng.nextUnit() < 0.95 ? devices[g] : devices[Int(rng.nextUnit() * 3) % 3]
        let spend = 50 + 10 * Double(g) + 15 * rng.nextGaussian(), visits = 5 + 0.5 * Double(g) + 2 * rng.nextGaussian()
        csv += "C\(100000 + i),\(plan),\(device),\(String(format: "%.2f", spend)),\(String(format: "%.2f", visits))\n"
    }
    return (csv, truth)
}

@Suite struct SegmentKPrototypesTests {
    /// `strata segment --demo --algorithm kprototypes --k 4` end to end; predict replays it.
    @Test func demoRunsEndToEndAndPredictReproducesTheAssignments() throws {
        let dir = tempDir()
        let r = try CLI.run(["segment", "--demo", "--demo-customers", "2000", "--algorithm", "kprototypes", "--k", "4", "--out", "\(dir)/out", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/out/report.html"))
        let ids = try readCSVColumn("\(dir)/out/assignments.csv", "customer_id")
        #expect(ids.count == 2000 && Set(ids).count == 2000)
        let labels = try readCSVColumn("\(dir)/out/assignments.csv", "segment_id").map { Int($0)! }
        #expect(Set(labels) == [0, 1, 2, 3])
        let sizes = (0..<4).map { s in labels.filter { $0 == s }.count }
        #expect(sizes == sizes.sorted(by: >), "segments renumbered by size")
        // Profiles: every segment names the modal category of region and channel.
        let p = try jsonFile("\(dir)/out/profiles.json")
        let segs = try #require(p["segments"] as? [[String: Any]])
        #expect(segs.count == 4)
        for s in segs {
            let modal = try #require(s["modal_categories"] as? [[String: Any]])
            #expect(modal.map { $0["column"] as! String } == ["region", "channel"])
            for m in modal {
                #expect(["north", "south", "east", "west", "web", "store", "app"].contains(m["category"] as! String))
                let share = m["share"] as! Double, pop = m["population_share"] as! Double
                #expect(share > 0 && share <= 1 && pop > 0 && pop <= 1)
            }
        }
        let html = try String(contentsOfFile: "\(dir)/out/report.html", encoding: .utf8)
        #expect(html.contains("Modal categories"))
        // model.json is a K-Prototypes model with the numeric stages; the categories are not one-hot.
        let m = try jsonFile("\(dir)/out/model.json")
        #expect(m["model"] as? String == "kprototypes")
        #expect(m["categorical_columns"] as? [String] == ["region", "channel"])
        #expect((m["numeric_columns"] as? [String])?.contains { $0.contains("=") } == false)
        #expect(m["preprocessing"] != nil)
        #expect((m["segment_names"] as? [String])?.count == 4)
        let run = try jsonFile("\(dir)/out/run.json")
        #expect((run["model"] as? [String: Any])?["algorithm"] as? String == "kprototypes")
        // predict on the joined feature table (raw units) reproduces the assignments exactly.
        let pr = try CLI.run(["predict", "--model", "\(dir)/out/model.json", "--input", "\(dir)/out/features.csv", "--labels-out", "\(dir)/pred.csv"])
        #expect(pr.code == 0, "\(pr.stderr)")
        #expect(try readCSVColumn("\(dir)/pred.csv", "id") == ids)
        #expect(try readCSVColumn("\(dir)/pred.csv", "segment").map { Int($0)! } == labels)
        // Migration against a kprototypes run compares the numeric prototypes.
        let again = try CLI.run(["segment", "--demo", "--demo-customers", "2000", "--algorithm", "kprototypes", "--k", "4", "--out", "\(dir)/out2",
                                 "--previous", "\(dir)/out", "--quiet"])
        #expect(again.code == 0, "\(again.stderr)")
        let mig = try jsonFile("\(dir)/out2/migration.json")
        #expect((mig["method"] as? String)?.hasPrefix("centroid distance") == true)
        #expect(mig["stayed"] as? Int == 2000, "the same data and seed give the same segments")
    }

    /// Groups that differ mainly in categories are recovered; the k sweep finds 3.
    @Test func plantedCategoricalGroupsAreRecovered() throws {
        let dir = tempDir()
        let (csv, truth) = plantedMixedCustomers()
        write(csv, "\(dir)/c.csv")
        let r = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--algorithm", "kprototypes", "--gamma", "3", "--k-min", "2", "--k-max", "6",
                             "--out", "\(dir)/out", "--json", "--quiet"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.json?["k"] as? Int == 3, "the cost elbow should find the 3 planted groups")
        let labels = try readCSVColumn("\(dir)/out/assignments.csv", "segment_id").map { Int($0)! }
        let ari = try PartitionAgreement.adjustedRandIndex(labels, truth)
        #expect(ari > 0.9, "ARI \(ari)")
        let run = try jsonFile("\(dir)/out/run.json")
        let ks = try #require(run["k_selection"] as? [String: Any])
        #expect((ks["reason"] as? String)?.contains("K-Prototypes cost elbow") == true)
        #expect((ks["points"] as? [[String: Any]])?.count == 5)
        #expect((run["model"] as? [String: Any])?["gamma"] as? Double == 3)
        // Each planted group's plan is its segment's modal category.
        let segs = try #require(try jsonFile("\(dir)/out/profiles.json")["segments"] as? [[String: Any]])
        let plans = segs.map { (($0["modal_categories"] as! [[String: Any]]).first { $0["column"] as! String == "plan" }!["category"] as! String) }
        #expect(Set(plans) == ["gold", "basic", "trial"])
    }

    /// Determinism: 1 and 2 threads give byte-identical outputs (k chosen by the sweep).
    @Test func resultsDoNotDependOnThreads() throws {
        let dir = tempDir()
        write(plantedMixedCustomers(rows: 900, seed: 3).csv, "\(dir)/c.csv")
        for (name, threads) in [("a", "1"), ("b", "2")] {
            let r = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--algorithm", "kprototypes", "--k-max", "5", "--out", "\(dir)/\(name)",
                                 "--threads", threads, "--quiet"])
            #expect(r.code == 0, "\(r.stderr)")
        }
        for f in ["assignments.csv", "model.json", "profiles.json", "report.html"] {
            #expect(bytes("\(dir)/a/\(f)") == bytes("\(dir)/b/\(f)"), "\(f) differs between 1 and 2 threads")
        }
    }

    /// Without a categorical column kprototypes falls back to K-Means (warned); only categories: K-Modes.
    @Test func fallsBackToKMeansAndRunsKModes() throws {
        let dir = tempDir()
        var numeric = "id,a,b\n", categorical = "id,color,shape\n"
        var rng = SeededRandom(seed: 5)
        for i in 0..<300 {
            let g = i % 3
            numeric += "\(i),\(Double(g * 5) + rng.nextGaussian()),\(rng.nextGaussian())\n"
            categorical += "\(i),\(["red", "green", "blue"][g]),\(i % 7 == 0 ? "" : ["x", "y", "z"][g])\n"
        }
        write(numeric, "\(dir)/n.csv")
        write(categorical, "\(dir)/c.csv")
        let r = try CLI.run(["segment", "--customers", "\(dir)/n.csv", "--algorithm", "kprototypes", "--k", "3", "--out", "\(dir)/n", "--no-report"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr.contains("no categorical column: fitting kmeans instead"), "\(r.stderr)")
        #expect(try jsonFile("\(dir)/n/model.json")["model"] as? String == "kmeans")
        let m = try CLI.run(["segment", "--customers", "\(dir)/c.csv", "--algorithm", "kprototypes", "--k", "3", "--out", "\(dir)/c",
                             "--min-segment-size", "10", "--quiet"])
        #expect(m.code == 0, "\(m.stderr)")
        let model = try jsonFile("\(dir)/c/model.json")
        #expect(model["model"] as? String == "kmodes")
        #expect(try readCSVColumn("\(dir)/c/assignments.csv", "segment_id").map { Int($0)! }.filter { $0 == 0 }.count == 100)
        let pr = try CLI.run(["predict", "--model", "\(dir)/c/model.json", "--input", "\(dir)/c.csv", "--labels-out", "\(dir)/p.csv"])
        #expect(pr.code == 0, "\(pr.stderr)")
        #expect(try readCSVColumn("\(dir)/p.csv", "segment") == readCSVColumn("\(dir)/c/assignments.csv", "segment_id"))
        // gamma belongs to kprototypes.
        let bad = try CLI.run(["segment", "--customers", "\(dir)/n.csv", "--gamma", "2", "--out", "\(dir)/x"])
        #expect(bad.code == 64, "\(bad.stderr)")
        #expect(bad.stderr.contains("gamma"))
    }
}
