import Foundation
import Testing

/// `strata kprototypes`, `strata kmodes` and `strata predict` with their models: the JSON
/// contract, the kmodes package's numbers through the CLI, the labels file and the round trip.
@Suite struct KPrototypesCLITests {
    static let dir = fixtures + "/kprototypes"

    func fixture(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.dir)/\(name).json"))) as! [String: Any]
    }

    @Test func kprototypesContractAndParityFromACentersFile() throws {
        let dir = tempDir()
        let c = try fixture("kproto_gamma")
        let num = c["init_centroids"] as! [[Double]], modes = c["init_modes"] as! [[String]]
        let ncols = c["numeric_columns"] as! [String], ccols = c["categorical_columns"] as! [String]
        var centers = (ncols + ccols).joined(separator: ",") + "\n"
        for i in 0..<num.count { centers += (num[i].map { "\(Float($0))" } + modes[i]).joined(separator: ",") + "\n" }
        write(centers, "\(dir)/centers.csv")
        let expected = c["expected"] as! [String: Any]
        let r = try CLI.run(["kprototypes", "--input", "\(Self.dir)/kproto_gamma.csv", "--k", "3", "--categorical", ccols.joined(separator: ","),
                             "--gamma", "2.5", "--init", "\(dir)/centers.csv", "--labels-out", "\(dir)/labels.csv",
                             "--model-out", "\(dir)/model.json", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        for key in ["cost", "n_iter", "converged", "gamma", "centroids", "modes", "cluster_sizes", "warnings"] {
            #expect(j[key] != nil, "missing key \(key)")
        }
        let cost = try #require(j["cost"] as? Double)
        let want = expected["cost"] as! Double
        #expect(abs(cost - want) <= 1e-9 * want, "cost \(cost) vs kmodes \(want)")
        #expect(j["n_iter"] as? Int == expected["n_iter"] as? Int && j["gamma"] as? Double == 2.5)
        #expect(j["modes"] as? [[String]] == expected["modes"] as? [[String]])
        #expect((j["centroids"] as? [[Double]])?.count == 3 && (j["centroids"] as? [[Double]])?.first?.count == 2)
        // Labels file: id,segment,cost; segments are kmodes' labels.
        let lines = try String(contentsOfFile: "\(dir)/labels.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "id,segment,cost" && lines.count == 351)
        let segments = lines.dropFirst().map { Int32($0.split(separator: ",")[1])! }
        #expect(segments == (expected["labels"] as! [Int]).map(Int32.init))
        // The model file and predict: the same labels on the training rows.
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/model.json"))) as! [String: Any]
        #expect(model["model"] as? String == "kprototypes" && model["gamma"] as? Double == 2.5)
        let p = try CLI.run(["predict", "--model", "\(dir)/model.json", "--input", "\(Self.dir)/kproto_gamma.csv", "--labels-out", "\(dir)/p.csv", "--json"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/p.csv", encoding: .utf8) == String(contentsOfFile: "\(dir)/labels.csv", encoding: .utf8))
        #expect(abs((p.json?["cost"] as? Double ?? 0) - want) <= 1e-9 * want)
        #expect((p.json?["warnings"] as? [String]) == [])
        // Unseen categories mismatch every mode and are counted.
        write("id,n0,n1,c0,c1,c2\na,0.5,1,purple,red,red\nb,4,9,green,green,_x\n", "\(dir)/new.csv")
        let u = try CLI.run(["predict", "--model", "\(dir)/model.json", "--input", "\(dir)/new.csv", "--json"])
        #expect(u.code == 0, "\(u.stderr)")
        #expect((u.json?["unseen_categories"] as? [String: Int])?["c0"] == 1)
        #expect((u.json?["warnings"] as? [String])?.contains { $0.contains("column 'c0': 1 row has a category not seen in training") } == true, "\(u.stdout)")
        // A hand-edited model (a mode that is no training category) is a clean data error.
        let text = try String(contentsOfFile: "\(dir)/model.json", encoding: .utf8)
        let fitted = model["modes"] as! [[String]]
        var broken = model
        broken["modes"] = [["nope"] + fitted[0].dropFirst()] + fitted.dropFirst()
        try JSONSerialization.data(withJSONObject: broken).write(to: URL(fileURLWithPath: "\(dir)/broken.json"))
        let b = try CLI.run(["predict", "--model", "\(dir)/broken.json", "--input", "\(Self.dir)/kproto_gamma.csv", "--json"])
        #expect(b.code == 65 && b.stderr.contains("mode 'nope' is not a category of column 'c0'"), "\(b.stderr)")
        #expect(text.contains("\"model\" : \"kprototypes\""))
    }

    @Test func kmodesMatchesCaoEndToEndWhateverThreads() throws {
        let c = try fixture("kmodes_cao")
        let expected = c["expected"] as! [String: Any]
        var outputs: [String] = []
        for threads in ["1", "2"] {
            let dir = tempDir()
            let r = try CLI.run(["kmodes", "--input", "\(Self.dir)/kmodes_cao.csv", "--k", "6", "--threads", threads, "--json",
                                 "--labels-out", "\(dir)/l.csv", "--model-out", "\(dir)/m.json"])
            #expect(r.code == 0, "\(r.stderr)")
            let j = try #require(r.json)
            #expect(j["gamma"] == nil && j["centroids"] == nil && j["warnings"] as? [String] == [])
            #expect(j["cost"] as? Double == expected["cost"] as? Double && j["n_iter"] as? Int == expected["n_iter"] as? Int)
            #expect(j["modes"] as? [[String]] == expected["modes"] as? [[String]])
            #expect(j["categorical_columns"] as? [String] == ["c0", "c1", "c2", "c3"])   // default: every non-id column
            let labels = try String(contentsOfFile: "\(dir)/l.csv", encoding: .utf8)
            #expect(labels.split(separator: "\n").dropFirst().map { Int($0.split(separator: ",")[1])! } == expected["labels"] as! [Int])
            outputs.append(labels)
            let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/m.json"))) as! [String: Any]
            #expect(model["model"] as? String == "kmodes" && model["centroids"] == nil)
            let p = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", "\(Self.dir)/kmodes_cao.csv", "--labels-out", "-"])
            #expect(p.code == 0 && p.stdout == labels, "\(p.stderr)")
        }
        #expect(outputs[0] == outputs[1])
    }

    @Test func missingCategoriesAndErrors() throws {
        let dir = tempDir()
        write("id,x,c\n1,1,a\n2,2,\n3,9,b\n4,10,b\n5,1.5,\n", "\(dir)/t.csv")
        let r = try CLI.run(["kprototypes", "--input", "\(dir)/t.csv", "--k", "2", "--categorical", "c", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect((r.json?["missing_categories"] as? [String: Int])?["c"] == 2)
        #expect((r.json?["warnings"] as? [String])?.contains { $0.contains("2 empty cells are read as the category '(missing)'") } == true)
        write("id,x,c\n1,1,a\n2,,b\n3,9,b\n", "\(dir)/m.csv")
        let m = try CLI.run(["kprototypes", "--input", "\(dir)/m.csv", "--k", "2", "--categorical", "c", "--json"])
        #expect(m.code == 65 && m.stderr.contains("m.csv, line 3, column 'x'"), "\(m.stderr)")
        let k = try CLI.run(["kmodes", "--input", "\(dir)/t.csv", "--k", "9", "--categorical", "c"])
        #expect(k.code == 64, "\(k.stderr)")
        let g = try CLI.run(["kprototypes", "--input", "\(dir)/t.csv", "--k", "2", "--categorical", "nope"])
        #expect(g.code == 64 && g.stderr.contains("'nope' is not a column"), "\(g.stderr)")
    }
}
