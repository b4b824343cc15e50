import Foundation
import Testing

/// `strata hierarchical`, `dbscan`, `hdbscan` through the binary: the JSON contract of issue 17,
/// the reference numbers (scipy, scikit-learn fixtures), labels files with -1 for noise, model
/// files and `predict`, usage errors.
@Suite struct ClusteringCLITests {
    static let dir = fixtures + "/clustering"

    func fixture(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.dir)/\(name).json"))) as! [String: Any]
    }

    func labels(_ path: String) throws -> (header: String, segments: [Int32], scores: [String]) {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (lines[0], rows.map { Int32($0[1])! }, rows.map { $0[2] })
    }

    @Test func hierarchicalContractMatchesScipy() throws {
        let dir = tempDir()
        let c = try fixture("hier-average")
        let expected = c["expected"] as! [String: Any]
        let r = try CLI.run(["hierarchical", "--input", "\(Self.dir)/hier-average.csv", "--linkage", "average", "--k", "4",
                             "--linkage-out", "\(dir)/z.csv", "--labels-out", "\(dir)/l.csv", "--model-out", "\(dir)/m.json", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        for key in ["n_clusters", "merge_heights", "exact", "warnings"] { #expect(j[key] != nil, "missing key \(key)") }
        #expect(j["n_clusters"] as? Int == 4 && j["exact"] as? Bool == true)
        let heights = try #require(j["merge_heights"] as? [Double])
        let z = expected["merges"] as! [[Double]]
        #expect(heights.count == z.count)
        #expect(zip(heights, z).allSatisfy { abs($0 - $1[2]) <= 1e-9 * max(1, $1[2]) })
        // The linkage file is scipy's Z.
        let rows = try String(contentsOfFile: "\(dir)/z.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "cluster_a,cluster_b,distance,size" && rows.count == z.count + 1)
        let first = rows[1].split(separator: ",")
        #expect(Int(first[0]) == Int(z[0][0]) && Int(first[1]) == Int(z[0][1]) && Int(first[3]) == Int(z[0][3]))
        // predict with the model: every training row keeps its segment.
        let l = try labels("\(dir)/l.csv")
        #expect(l.header == "id,segment,distance")
        let p = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", "\(Self.dir)/hier-average.csv", "--labels-out", "\(dir)/p.csv", "--json"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect(try labels("\(dir)/p.csv").segments == l.segments)
        // By distance instead of k; both or neither is a usage error.
        let t = try CLI.run(["hierarchical", "--input", "\(Self.dir)/hier-average.csv", "--linkage", "average", "--distance-threshold",
                             String(c["distance_threshold"] as! Double), "--json"])
        #expect(t.code == 0 && t.json?["n_clusters"] as? Int == Set(expected["labels_threshold"] as! [Int]).count)
        let both = try CLI.run(["hierarchical", "--input", "\(Self.dir)/hier-average.csv", "--k", "3", "--distance-threshold", "1"])
        #expect(both.code == 64 && both.stderr.contains("exactly one of --k and --distance-threshold"))
        // Two-stage: approximate, said so.
        let m = try CLI.run(["hierarchical", "--input", "\(Self.dir)/hier-average.csv", "--k", "4", "--micro-clusters", "30", "--json"])
        #expect(m.code == 0 && m.json?["exact"] as? Bool == false && (m.json?["merge_heights"] as? [Double])?.count == 29)
    }

    @Test func dbscanContractLabelsAndPredict() throws {
        let dir = tempDir()
        let c = try fixture("dbscan-blobs")
        let want = (c["expected"] as! [String: Any])["labels"] as! [Int]
        let r = try CLI.run(["dbscan", "--input", "\(Self.dir)/dbscan-blobs.csv", "--eps", "\(c["eps"] as! Double)", "--min-samples", "6",
                             "--labels-out", "\(dir)/l.csv", "--model-out", "\(dir)/m.json", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        for key in ["n_clusters", "n_noise", "n_core", "warnings"] { #expect(j[key] != nil, "missing key \(key)") }
        #expect(j["n_clusters"] as? Int == Set(want.filter { $0 >= 0 }).count)
        #expect(j["n_noise"] as? Int == want.filter { $0 < 0 }.count)
        #expect(j["n_core"] as? Int == ((c["expected"] as! [String: Any])["core_sample_indices"] as! [Int]).count)
        let l = try labels("\(dir)/l.csv")
        #expect(l.header == "id,segment,core")
        #expect(l.segments == want.map(Int32.init), "labels equal scikit-learn's, -1 for noise")
        // predict: core points keep their cluster; a far point is noise.
        write("f0,f1\n100,100\n", "\(dir)/far.csv")
        let p = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", "\(dir)/far.csv", "--labels-out", "\(dir)/p.csv", "--json"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect(try labels("\(dir)/p.csv").segments == [-1])
        #expect(p.json?["n_noise"] as? Int == 1)
        // score leaves the noise out.
        let s = try CLI.run(["score", "--input", "\(Self.dir)/dbscan-blobs.csv", "--labels", "\(dir)/l.csv", "--json"])
        #expect(s.code == 0 && s.json?["noise_rows"] as? Int == want.filter { $0 < 0 }.count && s.json?["k"] as? Int == j["n_clusters"] as? Int)
        // Without --eps: the k-distance knee, said so.
        let auto = try CLI.run(["dbscan", "--input", "\(Self.dir)/dbscan-blobs.csv", "--json"])
        #expect(auto.code == 0 && auto.json?["eps_suggested"] as? Bool == true)
        #expect((auto.json?["warnings"] as? [String])?.contains { $0.contains("eps not given") } == true)
        let bad = try CLI.run(["dbscan", "--input", "\(Self.dir)/dbscan-blobs.csv", "--eps", "-1", "--json"])
        #expect(bad.code == 64 && (bad.json?["error"] as? [String: Any]) != nil)
    }

    @Test func hdbscanContractAndProbabilities() throws {
        let dir = tempDir()
        let c = try fixture("hdbscan-blobs")
        let expected = c["expected"] as! [String: Any]
        let want = expected["labels"] as! [Int], prob = expected["probabilities"] as! [Double]
        let r = try CLI.run(["hdbscan", "--input", "\(Self.dir)/hdbscan-blobs.csv", "--min-cluster-size", "15",
                             "--labels-out", "\(dir)/l.csv", "--model-out", "\(dir)/m.json", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        for key in ["n_clusters", "n_noise", "warnings"] { #expect(j[key] != nil, "missing key \(key)") }
        #expect(j["n_clusters"] as? Int == Set(want.filter { $0 >= 0 }).count && j["n_noise"] as? Int == want.filter { $0 < 0 }.count)
        let l = try labels("\(dir)/l.csv")
        #expect(l.header == "id,segment,probability")
        #expect(zip(l.segments, want).allSatisfy { ($0 < 0) == ($1 < 0) })
        #expect(zip(l.scores.map { Double($0)! }, prob).allSatisfy { abs($0 - $1) < 1e-9 })
        // predict on the training rows gives them back as fitted (label and probability).
        let p = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", "\(Self.dir)/hdbscan-blobs.csv", "--labels-out", "\(dir)/p.csv"])
        #expect(p.code == 0, "\(p.stderr)")
        let back = try labels("\(dir)/p.csv")
        #expect(back.segments == l.segments && back.scores == l.scores)
        // New rows follow the approximate rule: a far row is noise, a row next to a cluster core joins it.
        write("f0,f1\n100,100\n", "\(dir)/far.csv")
        let far = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", "\(dir)/far.csv", "--labels-out", "\(dir)/pf.csv"])
        #expect(far.code == 0)
        #expect(try labels("\(dir)/pf.csv").segments == [-1])
        let big = try CLI.run(["hdbscan", "--input", "\(Self.dir)/hdbscan-blobs.csv", "--min-cluster-size", "100000"])
        #expect(big.code == 64 && big.stderr.contains("--min-cluster-size"))
    }

    /// kprototypes takes kmeans' numeric preprocessing flags: scaled numbers (gamma's default then
    /// 0.5, as kmodes gives on standardized data), categories untouched, the stages in the model
    /// and replayed by predict.
    @Test func kprototypesScalesTheNumericPartAndPredictReplaysIt() throws {
        let dir = tempDir()
        let input = fixtures + "/kprototypes/kproto_default_gamma.csv"
        let r = try CLI.run(["kprototypes", "--input", input, "--k", "3", "--categorical", "c0,c1", "--scale", "standard", "--seed", "3",
                             "--labels-out", "\(dir)/l.csv", "--model-out", "\(dir)/m.json", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(abs((r.json?["gamma"] as? Double ?? 0) - 0.5) < 1e-6)
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/m.json"))) as! [String: Any]
        #expect(model["preprocessing"] != nil)
        let p = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", input, "--labels-out", "\(dir)/p.csv"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/p.csv", encoding: .utf8) == String(contentsOfFile: "\(dir)/l.csv", encoding: .utf8))
        let drop = try CLI.run(["kprototypes", "--input", input, "--k", "3", "--categorical", "c0,c1", "--impute", "drop"])
        #expect(drop.code == 64)
        // A missing number: an error naming line and column without --impute; imputed and counted with it.
        var text = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n").map(String.init)
        var cells = text[4].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        cells[1] = ""
        text[4] = cells.joined(separator: ",")
        write(text.joined(separator: "\n") + "\n", "\(dir)/gap.csv")
        let strict = try CLI.run(["kprototypes", "--input", "\(dir)/gap.csv", "--k", "3", "--categorical", "c0,c1", "--scale", "standard"])
        #expect(strict.code == 65 && strict.stderr.contains("line 5") && strict.stderr.contains("'n0'"), "\(strict.stderr)")
        let imputed = try CLI.run(["kprototypes", "--input", "\(dir)/gap.csv", "--k", "3", "--categorical", "c0,c1", "--impute", "median", "--json"])
        #expect(imputed.code == 0, "\(imputed.stderr)")
        #expect((imputed.json?["warnings"] as? [String])?.contains { $0.contains("1 numeric value(s) imputed: n0 1") } == true)
    }
}
