import Foundation
import Testing

/// Runs the built `strata` binary (it sits next to the test bundle) and checks exit codes,
/// stdout JSON, error messages and the all-or-nothing output contract.
struct CLI {
    static let binary: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if dir.lastPathComponent == "MacOS" { dir = dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        return dir.appendingPathComponent("strata").path
    }()

    struct Result {
        let code: Int32
        let stdout: String
        let stderr: String
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
        }
    }

    static func run(_ args: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Both pipes are drained at once: a child filling one while we wait on the other would
        // block forever.
        final class Box: @unchecked Sendable { var data = Data() }
        let e = Box()
        let group = DispatchGroup()
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async(group: group) { e.data = errHandle.readDataToEndOfFile() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return Result(code: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e.data, as: UTF8.self))
    }
}

func tempDir() -> String {
    let path = NSTemporaryDirectory() + "strata-cli-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func write(_ text: String, _ path: String) { try! text.write(toFile: path, atomically: true, encoding: .utf8) }

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("StrataTests/Fixtures").path

@Suite struct CLITests {
    @Test func kmeansJSONHasTheContractKeysAndMatchesScikitLearn() throws {
        let dir = tempDir()
        let r = try CLI.run(["kmeans", "--input", "\(fixtures)/blobs_converge.csv", "--k", "4", "--json", "--max-iter", "100", "--tol", "0",
                             "--init", initCSV(dir, "blobs_converge"), "--model-out", "\(dir)/model.json", "--labels-out", "\(dir)/labels.csv"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        for key in ["inertia", "n_iter", "converged", "centroids", "columns"] { #expect(j[key] != nil, "missing \(key)") }
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/blobs_converge.json"))) as! [String: Any]
        let exp = expected["expected"] as! [String: Any]
        let inertia = j["inertia"] as! Double, want = exp["inertia"] as! Double
        #expect(abs(inertia - want) / want < 1e-5)
        #expect(j["n_iter"] as? Int == exp["n_iter"] as? Int)
        #expect(j["columns"] as? [String] == ["f0", "f1", "f2", "f3", "f4"])
        #expect((j["centroids"] as? [[Double]])?.count == 4)
        #expect((j["centroids"] as? [[Double]])?.allSatisfy { $0.count == 5 } == true)
        // Labels file: id,segment,distance; segments equal scikit-learn's labels.
        let lines = try String(contentsOfFile: "\(dir)/labels.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "id,segment,distance")
        let segs = lines.dropFirst().map { Int($0.split(separator: ",")[1])! }
        #expect(segs == exp["labels"] as! [Int])
        #expect(lines[1].split(separator: ",")[0] == "0")  // no id column: 0-based row numbers
        // Model round trip through predict.
        let p = try CLI.run(["predict", "--model", "\(dir)/model.json", "--input", "\(fixtures)/blobs_converge.csv",
                             "--labels-out", "\(dir)/pred.csv", "--json"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/pred.csv", encoding: .utf8) == String(contentsOfFile: "\(dir)/labels.csv", encoding: .utf8))
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/model.json"))) as! [String: Any]
        #expect(model["format_version"] as? Int == 1)
        #expect(model["model"] as? String == "kmeans")
    }

    /// Writes the fixture's initial centers as a CSV with a header and returns its path.
    func initCSV(_ dir: String, _ name: String) throws -> String {
        let c = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/\(name).json"))) as! [String: Any]
        let cols = c["columns"] as! [String]
        let rows = (c["init"] as! [[Double]]).map { $0.map { "\(Float($0))" }.joined(separator: ",") }
        let path = "\(dir)/init-\(name).csv"
        write(([cols.joined(separator: ",")] + rows).joined(separator: "\n") + "\n", path)
        return path
    }

    @Test func idColumnAndWeightsFlowToOutputs() throws {
        let dir = tempDir()
        let r = try CLI.run(["kmeans", "--input", "\(fixtures)/weighted.csv", "--k", "3", "--weights-column", "w", "--columns", "f0,f1,f2",
                             "--init", initCSV(dir, "weighted"), "--tol", "0", "--max-iter", "50", "--labels-out", "\(dir)/l.csv", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let lines = try String(contentsOfFile: "\(dir)/l.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines[1].hasPrefix("cust-0000,"))
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/weighted.json"))) as! [String: Any]
        let want = (expected["expected"] as! [String: Any])["inertia"] as! Double
        #expect(abs((r.json?["inertia"] as? Double ?? 0) - want) / want < 1e-5)
    }

    @Test func resultsDoNotDependOnThreads() throws {
        var outs: [String] = []
        for t in ["1", "2", "4"] {
            let r = try CLI.run(["kmeans", "--input", "\(fixtures)/uniform_tol.csv", "--k", "6", "--seed", "3", "--n-init", "3", "--threads", t, "--json"])
            #expect(r.code == 0)
            let j = try #require(r.json)
            outs.append("\(j["centroids"]!) \(j["inertia"]!) \(j["n_iter"]!)")
        }
        #expect(outs[0] == outs[1] && outs[1] == outs[2])
    }

    @Test func humanSummaryWithoutJSON() throws {
        let r = try CLI.run(["kmeans", "--input", "\(fixtures)/blobs_converge.csv", "--k", "4"])
        #expect(r.code == 0)
        #expect(r.stdout.contains("K-Means: k=4 on 400 rows x 5 columns"))
        #expect(r.json == nil)
    }

    // MARK: bad input: one-line message, non-zero exit, no partial outputs

    func expectFailure(_ args: [String], code: Int32, mentions: [String], dir: String) throws {
        write("previous model", "\(dir)/model.json")
        write("previous labels", "\(dir)/labels.csv")
        let r = try CLI.run(args + ["--model-out", "\(dir)/model.json", "--labels-out", "\(dir)/labels.csv"])
        #expect(r.code == code, "\(args): exit \(r.code), stderr: \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count >= 1)
        for m in mentions { #expect(r.stderr.contains(m), "\(args): '\(m)' not in \(r.stderr)") }
        #expect(try String(contentsOfFile: "\(dir)/model.json", encoding: .utf8) == "previous model")
        #expect(try String(contentsOfFile: "\(dir)/labels.csv", encoding: .utf8) == "previous labels")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test func badInputsFailCleanly() throws {
        let dir = tempDir()
        let good = "\(dir)/good.csv"
        write("id,a,b\nx,1,2\ny,3,4\nz,5,6\n", good)
        write("", "\(dir)/empty.csv")
        write("id,a,b\nx,1,2\ny,3\n", "\(dir)/ragged.csv")
        write("id,a,b\nx,1,2\ny,3,oops\n", "\(dir)/text.csv")
        write("id,a,b\nx,1,2\ny,NaN,4\n", "\(dir)/nan.csv")
        try expectFailure(["kmeans", "--input", good, "--k", "0"], code: 64, mentions: ["--k"], dir: dir)
        try expectFailure(["kmeans", "--input", good, "--k", "4"], code: 64, mentions: ["k = 4", "3"], dir: dir)
        try expectFailure(["kmeans", "--input", "\(dir)/empty.csv", "--k", "2"], code: 65, mentions: ["empty.csv", "empty"], dir: dir)
        try expectFailure(["kmeans", "--input", good, "--k", "2", "--columns", "a,zzz"], code: 64, mentions: ["zzz"], dir: dir)
        try expectFailure(["kmeans", "--input", "\(dir)/ragged.csv", "--k", "2"], code: 65, mentions: ["ragged.csv", "line 3"], dir: dir)
        try expectFailure(["kmeans", "--input", "\(dir)/text.csv", "--k", "2", "--columns", "a,b"], code: 65,
                          mentions: ["text.csv", "line 3", "column 'b'", "oops"], dir: dir)
        try expectFailure(["kmeans", "--input", "\(dir)/nan.csv", "--k", "2"], code: 65, mentions: ["line 3", "column 'a'"], dir: dir)
        try expectFailure(["kmeans", "--input", "\(dir)/does-not-exist.csv", "--k", "2"], code: 66, mentions: ["does-not-exist.csv"], dir: dir)
        try expectFailure(["kmeans", "--input", good, "--k", "2", "--init", "\(dir)/nope.csv"], code: 66, mentions: ["nope.csv"], dir: dir)
        // An output directory that does not exist: nothing is written anywhere.
        let r = try CLI.run(["kmeans", "--input", good, "--k", "2", "--model-out", "\(dir)/model2.json", "--labels-out", "\(dir)/no/such/labels.csv"])
        #expect(r.code == 73)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/model2.json"))
    }

    @Test func jsonModeReportsErrorsAsJSON() throws {
        let r = try CLI.run(["kmeans", "--input", "/nonexistent/x.csv", "--k", "2", "--json"])
        #expect(r.code == 66)
        let err = try #require(r.json?["error"] as? [String: Any])
        #expect((err["message"] as? String)?.contains("/nonexistent/x.csv") == true)
        #expect(err["exit_code"] as? Int == 66)
    }

    @Test func predictRejectsMissingColumnsAndBadModels() throws {
        let dir = tempDir()
        write("a,b\n1,2\n3,4\n", "\(dir)/d.csv")
        write("a,c\n1,2\n", "\(dir)/other.csv")
        let fit = try CLI.run(["kmeans", "--input", "\(dir)/d.csv", "--k", "2", "--model-out", "\(dir)/m.json"])
        #expect(fit.code == 0)
        let p = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", "\(dir)/other.csv"])
        #expect(p.code == 64 && p.stderr.contains("'b'"))
        write("{\"hello\": 1}", "\(dir)/bad.json")
        let q = try CLI.run(["predict", "--model", "\(dir)/bad.json", "--input", "\(dir)/d.csv"])
        #expect(q.code == 65 && q.stderr.contains("bad.json"))
    }

    @Test func demoRunsAndWritesOutputs() throws {
        let dir = tempDir()
        let r = try CLI.run(["demo", "--out", dir, "--rows", "3000", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        #expect((j["cluster_sizes"] as? [Int])?.reduce(0, +) == 3000)
        // The saved model carries its preprocessing: predict on the raw table reproduces the labels.
        let p = try CLI.run(["predict", "--model", "\(dir)/model.json", "--input", "\(dir)/customers.csv", "--labels-out", "\(dir)/p.csv"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/p.csv", encoding: .utf8) == String(contentsOfFile: "\(dir)/labels.csv", encoding: .utf8))
        for f in ["customers.csv", "model.json", "labels.csv"] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/\(f)"), "\(f)")
        }
    }
}

@Suite struct ScoreCLITests {
    /// Writes the metrics fixture's data and labels as CSV files; returns (data, labels, fixture).
    func files(_ dir: String, _ name: String) throws -> (String, String, [String: Any]) {
        let c = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/metrics_\(name).json"))) as! [String: Any]
        let rows = c["data"] as! [[Double]], labels = c["labels"] as! [Int]
        let cols = (0..<rows[0].count).map { "f\($0)" }
        write(([cols.joined(separator: ",")] + rows.map { $0.map { "\(Float($0))" }.joined(separator: ",") }).joined(separator: "\n") + "\n", "\(dir)/data.csv")
        write((["id,segment"] + labels.enumerated().map { "\($0.offset),\($0.element)" }).joined(separator: "\n") + "\n", "\(dir)/labels.csv")
        return ("\(dir)/data.csv", "\(dir)/labels.csv", c)
    }

    @Test func scoreJSONMatchesScikitLearn() throws {
        let dir = tempDir()
        let (data, labels, c) = try files(dir, "noisy_singleton")
        let r = try CLI.run(["score", "--input", data, "--labels", labels, "--json", "--metrics",
                             "silhouette,davies_bouldin,calinski_harabasz,inertia,simplified_silhouette", "--per-sample-out", "\(dir)/s.csv"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        for key in ["silhouette", "davies_bouldin", "calinski_harabasz", "inertia"] {
            let got = j[key] as! Double, want = c[key] as! Double
            #expect(abs(got - want) <= 1e-6 * max(1, abs(want)), "\(key): \(got) vs \(want)")
        }
        #expect(j["simplified_silhouette"] is Double)
        #expect(j["silhouette_method"] as? String == "exact")
        #expect(j["labels"] as? [String] == ["3", "7", "9", "42"])
        let lines = try String(contentsOfFile: "\(dir)/s.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 151 && lines[0] == "id,segment,silhouette")
    }

    @Test func sampledScoreAndReferenceLabels() throws {
        let dir = tempDir()
        let (data, labels, c) = try files(dir, "blobs")
        write((["id,segment"] + (c["labels"] as! [Int]).enumerated().map { "\($0.offset),\(($0.element + 1) % 4)" }).joined(separator: "\n") + "\n", "\(dir)/renamed.csv")
        let r = try CLI.run(["score", "--input", data, "--labels", labels, "--sample", "100", "--seed", "2",
                             "--reference-labels", "\(dir)/renamed.csv", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        let s = j["silhouette"] as! Double, se = j["silhouette_stderr"] as! Double, exact = c["silhouette"] as! Double
        #expect(j["silhouette_method"] as? String == "sampled" && j["silhouette_sample"] as? Int == 100)
        #expect(abs(s - exact) <= 4 * se)
        #expect(abs((j["adjusted_rand"] as? Double ?? 0) - 1) < 1e-12 && abs((j["adjusted_mutual_info"] as? Double ?? 0) - 1) < 1e-12)
    }

    @Test func scoreRejectsMismatchedLabels() throws {
        let dir = tempDir()
        let (data, _, _) = try files(dir, "two_clusters")
        write("id,segment\n0,1\n1,0\n", "\(dir)/short.csv")
        let r = try CLI.run(["score", "--input", data, "--labels", "\(dir)/short.csv"])
        #expect(r.code == 64 && r.stderr.contains("short.csv"))
        write("id,cluster\n0,1\n", "\(dir)/nocol.csv")
        let q = try CLI.run(["score", "--input", data, "--labels", "\(dir)/nocol.csv"])
        #expect(q.code == 65 && q.stderr.contains("segment"))
        let one = try CLI.run(["score", "--input", data, "--labels", "\(dir)/labels.csv", "--metrics", "bogus"])
        #expect(one.code == 64)
    }
}

@Suite struct SweepCLITests {
    @Test func sweepJSONTableAndChart() throws {
        let dir = tempDir()
        let r = try CLI.run(["sweep", "--input", "\(fixtures)/blobs_converge.csv", "--k", "2...6", "--seed", "1", "--n-init", "2",
                             "--holdout", "0.2", "--bootstrap", "2", "--plot-out", "\(dir)/sweep.svg", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        let results = try #require(j["results"] as? [[String: Any]])
        #expect(results.map { $0["k"] as? Int } == [2, 3, 4, 5, 6])
        for key in ["inertia", "silhouette", "davies_bouldin", "calinski_harabasz", "train_inertia_per_sample",
                    "test_inertia_per_sample", "stability_ari"] {
            #expect(results.allSatisfy { $0[key] is Double }, "\(key)")
        }
        #expect(j["recommended_k"] is Int && j["reason"] is String && j["elbow_k"] != nil)
        let svg = try String(contentsOfFile: "\(dir)/sweep.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        let text = try CLI.run(["sweep", "--input", "\(fixtures)/blobs_converge.csv", "--k", "2,3,4"])
        #expect(text.code == 0 && text.stdout.contains("recommended k ="))
        #expect(try CLI.run(["sweep", "--input", "\(fixtures)/blobs_converge.csv", "--k", "5..2"]).code == 64)
        #expect(try CLI.run(["sweep", "--input", "\(fixtures)/blobs_converge.csv", "--k", "2..4", "--algorithm", "banana"]).code == 64)
        // Gaussian mixtures: BIC/AIC per k, held-out log-likelihood, and the lowest BIC recommended.
        let g = try CLI.run(["sweep", "--input", "\(fixtures)/blobs_converge.csv", "--k", "2...6", "--algorithm", "gmm",
                             "--covariance", "diag", "--holdout", "0.25", "--json"])
        #expect(g.code == 0, "\(g.stderr)")
        let gj = try #require(g.json)
        let gr = try #require(gj["results"] as? [[String: Any]])
        for key in ["bic", "aic", "train_log_likelihood", "test_log_likelihood"] { #expect(gr.allSatisfy { $0[key] is Double }, "\(key)") }
        let bestBIC = gr.min { ($0["bic"] as! Double) < ($1["bic"] as! Double) }!["k"] as! Int
        #expect(gj["recommended_k"] as? Int == bestBIC && (gj["reason"] as? String)?.hasPrefix("lowest BIC") == true)
        #expect(bestBIC == 4)
    }
}

@Suite struct GMMCLITests {
    @Test(arguments: ["full", "diag", "tied", "spherical"])
    func gmmJSONShapesModelAndPredict(covariance: String) throws {
        let dir = tempDir()
        let input = "\(fixtures)/blobs_converge.csv"
        // A K-Means run seeds the mixture through its labels file.
        let km = try CLI.run(["kmeans", "--input", input, "--k", "4", "--seed", "3", "--labels-out", "\(dir)/km.csv"])
        #expect(km.code == 0)
        let r = try CLI.run(["gmm", "--input", input, "--k", "4", "--covariance", covariance, "--init-labels", "\(dir)/km.csv",
                             "--model-out", "\(dir)/gmm.json", "--labels-out", "\(dir)/labels.csv", "--proba-out", "\(dir)/proba.csv", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        for key in ["weights", "means", "covariances", "lower_bound", "n_iter", "converged", "bic", "aic"] { #expect(j[key] != nil, "\(key)") }
        #expect((j["weights"] as! [Double]).count == 4)
        let cov = j["covariances"]!
        switch covariance {
        case "full": #expect((cov as? [[[Double]]])?.count == 4 && (cov as? [[[Double]]])?[0].count == 5)
        case "diag": #expect((cov as? [[Double]])?.count == 4 && (cov as? [[Double]])?[0].count == 5)
        case "tied": #expect((cov as? [[Double]])?.count == 5 && (cov as? [[Double]])?[0].count == 5)
        default: #expect((cov as? [Double])?.count == 4)
        }
        // Probabilities: one row per input row, each summing to 1.
        let proba = try String(contentsOfFile: "\(dir)/proba.csv", encoding: .utf8).split(separator: "\n")
        #expect(proba[0] == "id,p0,p1,p2,p3" && proba.count == 401)
        for line in proba.dropFirst() {
            let p = line.split(separator: ",").dropFirst().map { Double($0)! }
            #expect(abs(p.reduce(0, +) - 1) < 1e-6)  // float responsibilities
        }
        // predict with the saved model reproduces the labels and probabilities.
        let p = try CLI.run(["predict", "--model", "\(dir)/gmm.json", "--input", input, "--labels-out", "\(dir)/pl.csv",
                             "--proba-out", "\(dir)/pp.csv", "--json"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/pl.csv", encoding: .utf8) == String(contentsOfFile: "\(dir)/labels.csv", encoding: .utf8))
        #expect(try String(contentsOfFile: "\(dir)/pp.csv", encoding: .utf8) == String(contentsOfFile: "\(dir)/proba.csv", encoding: .utf8))
        let header = try String(contentsOfFile: "\(dir)/labels.csv", encoding: .utf8).split(separator: "\n")[0]
        #expect(header == "id,segment,probability")
    }

    @Test func gmmErrors() throws {
        let dir = tempDir()
        write("a,b\n1,1\n1,1\n1,1\n5,5\n5,5\n5,5\n", "\(dir)/dup.csv")
        write("id,segment\n0,0\n1,0\n2,0\n3,1\n4,1\n5,1\n", "\(dir)/l.csv")
        write("previous", "\(dir)/m.json")
        let r = try CLI.run(["gmm", "--input", "\(dir)/dup.csv", "--k", "2", "--reg-covar", "0", "--init-labels", "\(dir)/l.csv",
                             "--model-out", "\(dir)/m.json"])
        #expect(r.code == 70 && r.stderr.contains("component") && r.stderr.contains("reg-covar"))
        #expect(try String(contentsOfFile: "\(dir)/m.json", encoding: .utf8) == "previous")
        #expect(try CLI.run(["gmm", "--input", "\(dir)/dup.csv", "--k", "2", "--covariance", "banana"]).code == 64)
        let fit = try CLI.run(["kmeans", "--input", "\(dir)/dup.csv", "--k", "2", "--model-out", "\(dir)/km.json"])
        #expect(fit.code == 0)
        let q = try CLI.run(["predict", "--model", "\(dir)/km.json", "--input", "\(dir)/dup.csv", "--proba-out", "\(dir)/p.csv"])
        #expect(q.code == 64)
    }
}

@Suite struct PCACLITests {
    @Test func pcaJSONModelAndProjections() throws {
        let dir = tempDir()
        let r = try CLI.run(["pca", "--input", "\(fixtures)/blobs_converge.csv", "--components", "2", "--model-out", "\(dir)/pca.json",
                             "--transform-out", "\(dir)/z.csv", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        for key in ["components", "explained_variance", "explained_variance_ratio", "singular_values", "mean"] { #expect(j[key] != nil, "\(key)") }
        #expect((j["components"] as? [[Double]])?.count == 2 && (j["mean"] as? [Double])?.count == 5)
        let ev = j["explained_variance"] as! [Double]
        #expect(ev[0] >= ev[1] && ev[1] > 0)
        let z = try String(contentsOfFile: "\(dir)/z.csv", encoding: .utf8).split(separator: "\n")
        #expect(z.count == 401 && z[0] == "id,pc0,pc1")
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/pca.json"))) as! [String: Any]
        #expect(model["model"] as? String == "pca")
        let v = try CLI.run(["pca", "--input", "\(fixtures)/blobs_converge.csv", "--variance", "0.9", "--json"])
        let ratios = try #require(v.json?["explained_variance_ratio"] as? [Double])
        #expect(ratios.reduce(0, +) > 0.9 && ratios.dropLast().reduce(0, +) <= 0.9)
        #expect(try CLI.run(["pca", "--input", "\(fixtures)/blobs_converge.csv"]).code == 64)
        #expect(try CLI.run(["pca", "--input", "\(fixtures)/blobs_converge.csv", "--components", "9"]).code == 64)
    }
}

@Suite struct PreprocessingCLITests {
    static let customers = """
        customer_id,spend,visits,region,tenure
        c1,120.5,4,north,3
        c2,,12,south,1
        c3,3000,40,north,7
        c4,15,1,east,
        c5,80,3,south,2
        c6,2500,35,north,6
        c7,10,1,east,1
        c8,95,5,west,2
        c9,2800,38,north,8
        c10,20,2,east,1
        c11,110,6,south,3
        c12,2600,33,north,5

        """

    @Test(arguments: ["kmeans", "gmm"])
    func fitSavePredictRoundTrip(command: String) throws {
        let dir = tempDir()
        write(Self.customers, "\(dir)/c.csv")
        var args = [command, "--input", "\(dir)/c.csv", "--k", "2", "--impute", "median", "--log", "spend,visits", "--clip", "iqr:3",
                    "--scale", "robust", "--categorical", "region", "--one-hot-max", "3", "--pca", "3", "--seed", "1",
                    "--model-out", "\(dir)/m.json", "--labels-out", "\(dir)/l.csv", "--json"]
        if command == "gmm" { args += ["--covariance", "diag", "--reg-covar", "1e-3"] }
        let r = try CLI.run(args)
        #expect(r.code == 0, "\(r.stderr)")
        let pre = try #require(r.json?["preprocessing"] as? [String: Any])
        #expect(pre["missing"] as? [String: Int] == ["spend": 1, "tenure": 1])
        // north (6) keeps a column; south and east tie at 3, and ties go alphabetically: east.
        #expect(pre["output_columns"] as? [String] == ["spend", "visits", "tenure", "region=north", "region=east", "region=other"])
        #expect(pre["pca_components"] as? Int == 3)
        // predict replays the stored stages: same labels on the training file.
        let p = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", "\(dir)/c.csv", "--labels-out", "\(dir)/p.csv"])
        #expect(p.code == 0, "\(p.stderr)")
        #expect(try String(contentsOfFile: "\(dir)/p.csv", encoding: .utf8) == String(contentsOfFile: "\(dir)/l.csv", encoding: .utf8))
        // An unseen category and a missing value at predict time are handled, not errors.
        write("customer_id,spend,visits,region,tenure\nn1,50,2,mars,\nn2,2900,36,north,6\n", "\(dir)/new.csv")
        let q = try CLI.run(["predict", "--model", "\(dir)/m.json", "--input", "\(dir)/new.csv", "--labels-out", "-"])
        #expect(q.code == 0, "\(q.stderr)")
        #expect(q.stdout.split(separator: "\n").count == 3)
        if command == "kmeans" {
            let units = try #require(r.json?["centroids_original_units"] as? [[Double]])
            #expect(units.count == 2 && units.allSatisfy { $0.count == 3 })
            // The big spenders' centroid is in the thousands in original units.
            #expect(units.map { $0[0] }.max()! > 1000)
        }
    }

    @Test func sweepAndScoreTakeTheSameStages() throws {
        let dir = tempDir()
        write(Self.customers, "\(dir)/c.csv")
        let stages = ["--impute", "median", "--log", "spend,visits", "--scale", "robust", "--categorical", "region"]
        let sweep = try CLI.run(["sweep", "--input", "\(dir)/c.csv", "--k", "2,3"] + stages + ["--json"])
        #expect(sweep.code == 0, "\(sweep.stderr)")
        #expect((sweep.json?["columns"] as? [String])?.contains("region=north") == true)
        let km = try CLI.run(["kmeans", "--input", "\(dir)/c.csv", "--k", "2", "--labels-out", "\(dir)/l.csv"] + stages)
        #expect(km.code == 0, "\(km.stderr)")
        let score = try CLI.run(["score", "--input", "\(dir)/c.csv", "--labels", "\(dir)/l.csv"] + stages + ["--json"])
        #expect(score.code == 0, "\(score.stderr)")
        #expect((score.json?["silhouette"] as? Double).map { $0 > 0.5 } == true)
    }

    @Test func preprocessingErrorsAreClear() throws {
        let dir = tempDir()
        write("a,b,c\n1,,5\n2,,5\n3,,5\n", "\(dir)/x.csv")
        let r = try CLI.run(["kmeans", "--input", "\(dir)/x.csv", "--k", "2", "--columns", "a,b", "--impute", "mean"])
        #expect(r.code == 65 && r.stderr.contains("column 'b'") && r.stderr.contains("no values"))
        // A constant column is left out with one warning; only an all-constant table is an error.
        let s = try CLI.run(["kmeans", "--input", "\(dir)/x.csv", "--k", "2", "--columns", "a,c", "--scale", "standard", "--json"])
        #expect(s.code == 0 && (s.json?["warnings"] as? [String])?.contains { $0.contains("constant columns left out of the features: c") } == true, "\(s.stderr)")
        #expect((s.json?["columns"] as? [String]) == ["a"])
        let all = try CLI.run(["kmeans", "--input", "\(dir)/x.csv", "--k", "2", "--columns", "c", "--scale", "standard"])
        #expect(all.code == 65 && all.stderr.contains("every feature column is constant"))
        write("a,b\n1,\n2,4\n3,5\n", "\(dir)/y.csv")
        let m = try CLI.run(["kmeans", "--input", "\(dir)/y.csv", "--k", "2", "--scale", "standard"])
        #expect(m.code == 65 && m.stderr.contains("line 2") && m.stderr.contains("--impute"))
        #expect(try CLI.run(["kmeans", "--input", "\(dir)/x.csv", "--k", "2", "--impute", "sometimes"]).code == 64)
    }
}

@Suite struct RFMCLITests {
    @Test func rfmOnCDNOWFeedsKMeans() throws {
        let dir = tempDir()
        let r = try CLI.run(["rfm", "--transactions", "\(fixtures)/cdnow/CDNOW_sample.txt", "--customer-column", "2", "--date-column", "3",
                             "--amount-column", "5", "--delimiter", "whitespace", "--no-header", "--date-format", "%Y%m%d",
                             "--calibration-end", "1997-09-30", "--unit", "weeks", "--out", "\(dir)/rfm.csv", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let j = try #require(r.json)
        #expect(j["customers"] as? Int == 2357 && j["transactions"] as? Int == 6919 && j["bad_rows"] as? Int == 0)
        #expect((j["segments"] as? [String: Int])?.values.reduce(0, +) == 2357)
        let lines = try String(contentsOfFile: "\(dir)/rfm.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2358 && lines[0].hasPrefix("customer_id,recency,frequency,monetary_total"))
        #expect(lines[1] == "0001,8.42857142857143,3,74.02,24.6733333333333,38.8571428571429,1997-01-01,1997-08-02,2,30.4285714285714,38.8571428571429,22.345,5,4,4,Champions")
        let km = try CLI.run(["kmeans", "--input", "\(dir)/rfm.csv", "--k", "3", "--columns", "recency,frequency,monetary_total",
                              "--log", "frequency,monetary_total", "--scale", "standard", "--json"])
        #expect(km.code == 0 && km.json?["id_column"] as? String == "customer_id")
    }

    @Test func clvJSONOnCDNOW() throws {
        let dir = tempDir()
        let r = try CLI.run(["clv", "--transactions", "\(fixtures)/cdnow/CDNOW_sample.txt", "--customer-column", "2", "--date-column", "3",
                             "--amount-column", "5", "--delimiter", "whitespace", "--no-header", "--date-format", "%Y%m%d",
                             "--calibration-end", "1997-09-30", "--unit", "weeks", "--horizon", "52", "--discount", "0.01",
                             "--out", "\(dir)/clv.csv", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let bg = try #require((r.json?["bgnbd"] as? [String: Any])?.compactMapValues { $0 as? Double })
        let gg = try #require((r.json?["gamma_gamma"] as? [String: Any])?.compactMapValues { $0 as? Double })
        #expect((r.json?["bgnbd"] as? [String: Any])?["at_bound"] as? Bool == false)
        #expect((r.json?["bgnbd"] as? [String: Any])?["converged"] as? Bool == true)
        #expect(abs(bg["r"]! - 0.243) < 0.0005 && abs(bg["alpha"]! - 4.414) < 0.005 && abs(bg["a"]! - 0.793) < 0.0005 && abs(bg["b"]! - 2.426) < 0.005)
        #expect(abs(bg["log_likelihood"]! - -9582.4) < 0.05)
        #expect(abs(gg["p"]! - 6.25) < 0.005 && abs(gg["q"]! - 3.74) < 0.005 && abs(gg["gamma"]! - 15.44) < 0.005)
        let lines = try String(contentsOfFile: "\(dir)/clv.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2358 && lines[0].hasSuffix("p_alive,expected_purchases,expected_avg_spend,clv,expected_purchases_p05,expected_purchases_p95,clv_p05,clv_p95"))
    }

    @Test func rfmBadRowsAndErrors() throws {
        let dir = tempDir()
        write("customer_id,date,amount\na,2024-01-01,10\nb,2024-13-01,5\nc,2024-01-02,x\n", "\(dir)/t.csv")
        let r = try CLI.run(["rfm", "--transactions", "\(dir)/t.csv", "--json"])
        #expect(r.code == 0)
        #expect(r.json?["bad_rows"] as? Int == 2)
        let rows = try #require(r.json?["first_bad_rows"] as? [[String: Any]])
        #expect(rows.map { $0["line"] as? Int } == [3, 4])
        let strict = try CLI.run(["rfm", "--transactions", "\(dir)/t.csv", "--strict"])
        #expect(strict.code == 65 && strict.stderr.contains("line 3") && strict.stderr.contains("'date'"))
        write("", "\(dir)/empty.csv")
        #expect(try CLI.run(["rfm", "--transactions", "\(dir)/empty.csv"]).code == 65)
        #expect(try CLI.run(["rfm", "--transactions", "\(dir)/t.csv", "--as-of", "yesterday"]).code == 64)
    }
}

@Suite struct JSONWarningsTests {
    /// Every `--json` result, success or failure, lists the run's warnings (empty when none).
    @Test func everyJSONResultCarriesWarnings() throws {
        let ok = try CLI.run(["kmeans", "--input", "\(fixtures)/blobs_converge.csv", "--k", "2", "--json"])
        #expect(ok.code == 0 && (ok.json?["warnings"] as? [String]) == [])
        let failed = try CLI.run(["kmeans", "--input", "\(fixtures)/does-not-exist.csv", "--k", "2", "--json"])
        #expect(failed.code == 66 && (failed.json?["warnings"] as? [String]) == [])
        // Four orders, one repeat: too little for BG/NBD, which says so on stderr and in the JSON.
        let dir = tempDir()
        try "customer_id,date,amount\nA,2024-01-01,10\nB,2024-01-02,20\nA,2024-02-01,10\nC,2024-03-01,5\n"
            .write(toFile: "\(dir)/t.csv", atomically: true, encoding: .utf8)
        let clv = try CLI.run(["clv", "--transactions", "\(dir)/t.csv", "--json"])
        let warnings = clv.json?["warnings"] as? [String] ?? []
        #expect(clv.code == 0 && warnings.contains { $0.contains("search bound") }, "\(clv.stderr)")
        for w in warnings { #expect(clv.stderr.contains("strata: warning: " + w)) }
    }
}
