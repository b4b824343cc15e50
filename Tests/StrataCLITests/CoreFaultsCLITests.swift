import Foundation
import Testing

/// Issue 13 at the command line: degenerate k warns (item 10), bad `.npy` headers and model
/// files are one-line errors with exit 65 (item 6), a mapped file that shrinks mid-run exits 74
/// with a message instead of SIGBUS, and weights that a command would ignore are refused (11).
@Suite struct CoreFaultsCLITests {
    /// 3 distinct rows, 40 copies each.
    static func threeDistinct(_ dir: String) -> String {
        let rows = ["1,2", "0,7", "4,4"]
        write("a,b\n" + (0..<120).map { rows[$0 % 3] }.joined(separator: "\n") + "\n", "\(dir)/three.csv")
        return "\(dir)/three.csv"
    }

    @Test(arguments: [["kmeans"], ["kmeans", "--algorithm", "minibatch"], ["gmm", "--covariance", "diag"]])
    func kAboveTheDistinctRowsWarns(command: [String]) throws {
        let dir = tempDir()
        let input = Self.threeDistinct(dir)
        let r = try CLI.run(command + ["--input", input, "--k", "5", "--json"])
        #expect(r.code == 0, "\(r.stderr)")
        let unit = command[0] == "gmm" ? "components" : "clusters"
        let expected = "k = 5 but the data (\(input)) have only 3 distinct rows; 2 \(unit) are empty or duplicates; lower k"
        #expect(r.json?["warnings"] as? [String] == [expected], "\(r.stdout)")
        #expect(r.stderr.contains("strata: warning: " + expected))
        // k = 3: no warning.
        let ok = try CLI.run(command + ["--input", input, "--k", "3", "--json"])
        #expect(ok.code == 0 && ok.json?["warnings"] as? [String] == [], "\(ok.stderr)")
    }

    /// A `.npy` with this shape text and 100 x 3 float32 values.
    static func npy(_ path: String, shape: String, fortran: String = "False", rows: Int = 100) throws {
        var header = "{'descr': '<f4', 'fortran_order': \(fortran), 'shape': \(shape), }"
        while (11 + header.utf8.count) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        var rng = UInt64(7)
        for _ in 0..<(rows * 3) {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            bytes += withUnsafeBytes(of: Float(rng >> 40) / Float(1 << 24)) { Array($0) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func malformedNpyHeadersAreOneLineErrorsNotCrashes() throws {
        let dir = tempDir()
        let cases = [
            ("(-100, 3)", "False", "'shape' entry -100 is negative"),
            ("(9223372036854775807, 9223372036854775807)", "False", "describes more data than any file can hold"),
            ("('a', 3)", "False", "'shape' entry 'a' is not an integer"),
            ("(100, 3)", "Maybe", "'fortran_order' must be True or False (found 'Maybe')"),
        ]
        for (i, (shape, fortran, message)) in cases.enumerated() {
            let path = "\(dir)/x\(i).npy"
            try Self.npy(path, shape: shape, fortran: fortran)
            let r = try CLI.run(["kmeans", "--input", path, "--k", "2"])
            #expect(r.code == 65, "\(shape): exit \(r.code), \(r.stderr)")
            #expect(r.stderr.hasPrefix("strata: error: \(path): ") && r.stderr.contains(message), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && !r.stderr.contains("Backtrac"))
        }
    }

    @Test func aGarbageSidecarIsAnError() throws {
        let dir = tempDir()
        try Self.npy("\(dir)/x.npy", shape: "(100, 3)")
        write("{garbage", "\(dir)/x.npy.json")
        let r = try CLI.run(["kmeans", "--input", "\(dir)/x.npy", "--k", "2", "--labels-out", "\(dir)/labels.csv"])
        #expect(r.code == 65 && r.stderr.hasPrefix("strata: error: \(dir)/x.npy.json: not a valid sidecar"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/labels.csv"))
    }

    @Test func aFileShrinkingUnderAMappedRunExits74WithAMessage() throws {
        let dir = tempDir()
        let path = "\(dir)/big.npy"
        try Self.npy(path, shape: "(200000, 3)", rows: 200_000)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["kmeans", "--input", path, "--k", "64", "--max-iter", "1000", "--tol", "0", "--algorithm", "lloyd", "--threads", "1"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait until the file is mapped, then cut it to its header.
        var truncated = false
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline {
            if let maps = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/maps", encoding: .utf8), maps.contains(path) {
                truncated = truncate(path, 128) == 0
                break
            }
            usleep(1000)
        }
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(truncated, "the run ended before its input was mapped (\(stderr))")
        #expect(p.terminationReason == .exit, "killed by signal \(p.terminationStatus)")
        #expect(p.terminationStatus == 74, "\(stderr)")
        #expect(stderr.hasPrefix("strata: error: cannot read '\(path)': the file shrank while it was being read"), "\(stderr)")
    }

    /// Writes the K-Means model from `strata kmeans --scale standard` and returns its JSON.
    static func model(_ dir: String, command: [String]) throws -> [String: Any] {
        write("id,a,b\n" + (0..<30).map { "r\($0),\(Double($0 % 3) * 5 + Double($0) * 0.01),\($0 % 2)" }.joined(separator: "\n") + "\n", "\(dir)/train.csv")
        let r = try CLI.run(command + ["--input", "\(dir)/train.csv", "--k", "2", "--scale", "standard", "--model-out", "\(dir)/model.json"])
        #expect(r.code == 0, "\(r.stderr)")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/model.json"))) as! [String: Any]
    }

    static func save(_ model: [String: Any], _ path: String) throws {
        try JSONSerialization.data(withJSONObject: model).write(to: URL(fileURLWithPath: path))
    }

    @Test func corruptModelsAreRefusedOnLoad() throws {
        let dir = tempDir()
        var km = try Self.model(dir, command: ["kmeans"])
        var pre = km["preprocessing"] as! [String: Any]
        var numeric = pre["numeric"] as! [[String: Any]]
        numeric[0]["scale"] = 0
        pre["numeric"] = numeric
        km["preprocessing"] = pre
        try Self.save(km, "\(dir)/zero-scale.json")
        var short = try Self.model(dir, command: ["kmeans"])
        short["cluster_sizes"] = [15]
        try Self.save(short, "\(dir)/short.json")
        var gmm = try Self.model(dir, command: ["gmm", "--covariance", "diag"])
        gmm["log_det_precisions_cholesky"] = [1e308, 1e308]
        try Self.save(gmm, "\(dir)/logdet.json")
        var negative = try Self.model(dir, command: ["gmm", "--covariance", "diag"])
        negative["weights"] = [-0.5, 1.5]
        try Self.save(negative, "\(dir)/negative.json")
        let predict = ["predict", "--input", "\(dir)/train.csv", "--labels-out", "\(dir)/out.csv", "--model"]
        let cases: [([String], String, String)] = [
            (predict + ["\(dir)/zero-scale.json"], "zero-scale.json", "preprocessing.numeric[0].scale"),
            (["update", "--input", "\(dir)/train.csv", "--model", "\(dir)/short.json"], "short.json", "cluster_sizes"),
            (predict + ["\(dir)/logdet.json"], "logdet.json", "log_det_precisions_cholesky"),
            (predict + ["\(dir)/negative.json"], "negative.json", "weights"),
        ]
        for (args, file, key) in cases {
            let r = try CLI.run(args)
            #expect(r.code == 65, "\(args): exit \(r.code), \(r.stderr)")
            #expect(r.stderr.hasPrefix("strata: error: \(dir)/\(file), column '\(key)': "), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.csv"))
    }

    @Test func weightsThatWouldBeIgnoredAreRefused() throws {
        let dir = tempDir()
        write("a,b,w\n1,2,1\n3,4,0\n5,6,1\n7,8,1\n", "\(dir)/w.csv")
        write("id,segment,distance\n0,0,0\n1,0,0\n2,1,0\n3,1,0\n", "\(dir)/labels.csv")
        let gmm = try CLI.run(["gmm", "--input", "\(dir)/w.csv", "--k", "2", "--weights-column", "w"])
        #expect(gmm.code == 64 && gmm.stderr.contains("do not take sample weights"), "\(gmm.stderr)")
        let score = try CLI.run(["score", "--input", "\(dir)/w.csv", "--labels", "\(dir)/labels.csv", "--weights-column", "w"])
        #expect(score.code == 64 && score.stderr.contains("unweighted"), "\(score.stderr)")
        // K-Means takes them: the weight-0 row (3, 4) moves no center.
        let km = try CLI.run(["kmeans", "--input", "\(dir)/w.csv", "--k", "2", "--weights-column", "w", "--columns", "a,b", "--json"])
        #expect(km.code == 0, "\(km.stderr)")
        let centers = (km.json?["centroids"] as? [[Double]])?.sorted { $0[0] < $1[0] }
        #expect(centers == [[1, 2], [6, 7]], "\(km.stdout)")
    }
}
