import Foundation
import Testing

/// Output durability (issue 14, items 1-5): the kill harness, the lock, signals, special files.
@Suite(.serialized) struct DurabilityTests {
    static let knownNames = ["assignments.csv", "model.json", "profiles.json", "report.html", "run.json", "migration.json", "features.csv"]

    /// What a reader sees in a run directory: each known name -> its bytes (absent names left out).
    /// run.json is compared without its timing and path fields.
    static func snapshot(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        for name in knownNames where name != "run.json" {
            if let d = FileManager.default.contents(atPath: "\(dir)/\(name)") { out[name] = d }
        }
        if let d = FileManager.default.contents(atPath: "\(dir)/run.json"),
           let j = try? JSONSerialization.jsonObject(with: d) as? [String: Any] {
            out["run.json"] = Data("k=\(j["k"] ?? "?") sizes=\(j["segment_sizes"] ?? "?")".utf8)
        }
        return out
    }

    /// Leftovers of killed runs: staging directories, temporary links and files.
    static func leftovers(_ dir: String) -> [String] {
        let top = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let gens = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/.generations")) ?? []
        return top.filter { $0.contains(".tmp-") || $0.contains(".link-") } + gens.filter { $0.hasPrefix(".tmp-") }
    }

    func customers(_ dir: String) -> String {
        var t = "customer_id,spend,visits\n"
        var rng: UInt64 = 7
        for i in 0..<600 {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            let g = i % 3
            t += "c\(i),\(Double(g * 100) + Double(rng >> 54)),\(g * 10 + Int(rng >> 60))\n"
        }
        write(t, "\(dir)/c.csv")
        return "\(dir)/c.csv"
    }

    /// Runs a command that kills itself at `point` (STRATA_TEST_KILL_AT).
    func killedAt(_ point: String, _ args: [String]) throws -> CLI.Result {
        try CLI.run(args, environment: ["STRATA_TEST_KILL_AT": point])
    }

    @Test func aKilledSegmentRunLeavesExactlyTheOldOrTheNewSet() throws {
        let dir = tempDir()
        let input = customers(dir)
        let out = "\(dir)/out"
        let runA = ["segment", "--customers", input, "--k", "3", "--out", out, "--quiet"]
        let runB = ["segment", "--customers", input, "--k", "2", "--no-report", "--out", out, "--quiet"]
        // The two expected states, from clean runs.
        #expect(try CLI.run(runB).code == 0)
        let newSet = Self.snapshot(out)
        #expect(try CLI.run(runA).code == 0)
        let oldSet = Self.snapshot(out)
        #expect(oldSet["report.html"] != nil && newSet["report.html"] == nil && oldSet != newSet)
        let points = ["commit:renamed:1", "commit:renamed:3", "publish:staged", "publish:generation", "publish:links", "publish:switched"]
        for point in points {
            let r = try killedAt(point, runB)
            #expect(r.code == 9, "\(point): \(r.code) \(r.stderr)")
            let seen = Self.snapshot(out)
            #expect(seen == oldSet || seen == newSet, "\(point): a mixed set")
            // Points before the switch leave the old run current, from the switch on the new one.
            #expect(seen == (point == "publish:switched" ? newSet : oldSet), "\(point)")
            // The next run cleans up what the killed one left, and publishes normally.
            #expect(try CLI.run(runA).code == 0)
            #expect(Self.snapshot(out) == oldSet)
            #expect(Self.leftovers(out).isEmpty, "\(point): \(Self.leftovers(out))")
        }
        // Kills at random moments (SIGKILL from outside), seeded delays.
        var delay: UInt64 = 11
        for _ in 0..<6 {
            delay = delay &* 6364136223846793005 &+ 1442695040888963407
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            p.arguments = runB
            p.standardError = FileHandle.nullDevice
            try p.run()
            usleep(useconds_t(20_000 + (delay >> 40) % 400_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let seen = Self.snapshot(out)
            #expect(seen == oldSet || seen == newSet, "random kill: a mixed set")
            #expect(try CLI.run(runA).code == 0)
            #expect(Self.leftovers(out).isEmpty)
        }
        // Readers of a previous run resolve `current` once.
        #expect(try CLI.run(["migrate", "--before", out, "--after", out, "--json"]).code == 0)
    }

    @Test func aKilledKMeansLeavesTheOldOrTheNewLabelsAndNoTemporaries() throws {
        let dir = tempDir()
        let input = customers(dir)
        let labels = "\(dir)/labels.csv"
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", labels]).code == 0)
        let old = FileManager.default.contents(atPath: labels)
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "3", "--labels-out", labels]).code == 0)
        let new = FileManager.default.contents(atPath: labels)
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", labels]).code == 0)
        // Killed right after the rename (new file) and, with a model file first, between renames.
        let r = try killedAt("commit:renamed:1", ["kmeans", "--input", input, "--k", "3", "--labels-out", labels])
        #expect(r.code == 9 && FileManager.default.contents(atPath: labels) == new)
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", labels]).code == 0)
        _ = try killedAt("commit:renamed:1", ["kmeans", "--input", input, "--k", "3", "--model-out", "\(dir)/m.json", "--labels-out", labels])
        #expect(FileManager.default.contents(atPath: labels) == old, "each file is old or new, never partial")
        // A temporary of a dead process is removed by the next write into the directory.
        write("junk", "\(dir)/.labels.csv.tmp-999999-0")
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", labels]).code == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
    }

    @Test func twoRunsOnOneDirectoryDoNotInterleave() throws {
        let dir = tempDir()
        let input = customers(dir)
        let out = "\(dir)/out"
        #expect(try CLI.run(["segment", "--customers", input, "--k", "2", "--out", out, "--quiet"]).code == 0)
        let fd = open("\(out)/.strata.lock", O_RDWR)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        let r = try CLI.run(["segment", "--customers", input, "--k", "3", "--out", out, "--json"])
        #expect(r.code == 75 && r.stderr.contains("locked") && r.stderr.contains("another strata run"), "\(r.stderr)")
        #expect((r.json?["error"] as? [String: Any])?["exit_code"] as? Int == 75)
        close(fd)
        #expect(try CLI.run(["segment", "--customers", input, "--k", "3", "--out", out, "--quiet"]).code == 0)
    }

    @Test func sigtermRemovesTheRunsTemporaries() throws {
        let dir = tempDir()
        let input = customers(dir)
        let out = "\(dir)/out"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["segment", "--customers", input, "--k", "2", "--out", out, "--quiet"]
        p.environment = ProcessInfo.processInfo.environment.merging(["STRATA_TEST_PAUSE_AT": "outputs:written"]) { _, n in n }
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for the staging directory, then stop the run.
        var staged = false
        for _ in 0..<300 where !staged {
            usleep(50_000)
            let stagingDirs = ((try? FileManager.default.contentsOfDirectory(atPath: "\(out)/.generations")) ?? []).filter { $0.hasPrefix(".tmp-") }
            staged = stagingDirs.contains { d in ((try? FileManager.default.contentsOfDirectory(atPath: "\(out)/.generations/\(d)")) ?? []).contains { $0.contains("run.json") } }
        }
        #expect(staged)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 128 + SIGTERM)
        #expect(Self.leftovers(out).isEmpty, "\(Self.leftovers(out))")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/current"), "nothing was published")
    }

    @Test func specialFilesSymlinksAndStdoutAreWrittenThrough() throws {
        let dir = tempDir()
        let input = customers(dir)
        // /dev/null stays the device (as root, a rename would replace it).
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", "/dev/null", "--model-out", "/dev/null"]).code == 0)
        var st = stat()
        #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
        // A FIFO reader gets every byte.
        let fifo = "\(dir)/fifo"
        #expect(mkfifo(fifo, 0o644) == 0)
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/cat")
        reader.arguments = [fifo]
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", fifo]).code == 0)
        let got = pipe.fileHandleForReading.readDataToEndOfFile()
        reader.waitUntilExit()
        #expect(String(decoding: got, as: UTF8.self).split(separator: "\n").count == 601)
        #expect(lstat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
        // A symlink stays a link; the file it names gets the output.
        #expect(symlink("real.csv", "\(dir)/link.csv") == 0)
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", "\(dir)/link.csv"]).code == 0)
        #expect(lstat("\(dir)/link.csv", &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK)
        #expect((try? String(contentsOfFile: "\(dir)/real.csv", encoding: .utf8))?.hasPrefix("id,segment,distance") == true)
        // `-` is standard output, for every output option.
        write("customer_id,date,amount\na,2024-01-01,5\nb,2024-01-02,7\n", "\(dir)/o.csv")
        let r = try CLI.run(["rfm", "--transactions", "\(dir)/o.csv", "--out", "-"])
        #expect(r.code == 0 && r.stdout.hasPrefix("customer_id,recency,"), "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/-"))
        // A disk that is full (/dev/full): exit 73 with a JSON error.
        let full = try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", "/dev/full", "--json"])
        #expect(full.code == 73 && (full.json?["error"] as? [String: Any])?["exit_code"] as? Int == 73, "\(full.stderr)")
        // convert writes three files: a device is refused, not renamed over.
        #expect(symlink("/dev/null", "\(dir)/x.npy") == 0)
        #expect(try CLI.run(["convert", "--input", input, "--out", "\(dir)/x.npy"]).code == 73)
        #expect(stat("/dev/null", &st) == 0 && (st.st_mode & S_IFMT) == S_IFCHR)
    }

    @Test func hostileJobFilesAndWideTablesAreRefusedEarly() throws {
        let dir = tempDir()
        // Ten levels of aliases: refused at once, not expanded.
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<10 { yaml += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        write(yaml, "\(dir)/bomb.yaml")
        let t0 = Date()
        let bomb = try CLI.run(["segment", "--config", "\(dir)/bomb.yaml"])
        #expect(bomb.code == 64 && bomb.stderr.contains("more than 100000 values") && Date().timeIntervalSince(t0) < 20, "\(bomb.stderr)")
        // A YAML error never echoes the file (a job file holds the salt), and is one line.
        write("customers: c.csv\nsalt: supersecret-value\nk: 3\nk: 4\n", "\(dir)/dup.yaml")
        let dup = try CLI.run(["segment", "--config", "\(dir)/dup.yaml"])
        #expect(dup.code == 64 && !dup.stderr.contains("supersecret") && dup.stderr.split(separator: "\n").count == 1, "\(dup.stderr)")
        // A dense one-hot table beyond the memory budget: refused before it is allocated.
        var t = "a,cat\n"
        for i in 0..<2000 { t += "\(i % 17),v\(i)\n" }
        write(t, "\(dir)/wide.csv")
        let wide = try CLI.run(["kmeans", "--input", "\(dir)/wide.csv", "--k", "2", "--categorical", "cat", "--one-hot-max", "5000",
                                "--memory-budget", "1M"])
        #expect(wide.code == 64 && wide.stderr.contains("one-hot-max") && wide.stderr.contains("beyond the memory budget"), "\(wide.stderr)")
        var codes = "customer_id,a,cat\n"
        for i in 0..<2000 { codes += "c\(i),\(i % 17),v\(i % 700)\n" }
        write(codes, "\(dir)/codes.csv")
        let seg = try CLI.run(["segment", "--customers", "\(dir)/codes.csv", "--categorical", "cat", "--one-hot-max", "5000",
                               "--memory-budget", "1M", "--k", "2", "--out", "\(dir)/seg"])
        #expect(seg.code == 64 && seg.stderr.contains("beyond the memory budget") && !FileManager.default.fileExists(atPath: "\(dir)/seg"), "\(seg.stderr)")
        // The covariance PCA's d x d cost is checked against the budget too.
        var w = (0..<600).map { "c\($0)" }.joined(separator: ",") + "\n"
        for i in 0..<5 { w += (0..<600).map { "\(($0 * 7 + i) % 11)" }.joined(separator: ",") + "\n" }
        write(w, "\(dir)/d600.csv")
        let pca = try CLI.run(["pca", "--input", "\(dir)/d600.csv", "--solver", "covariance", "--components", "2", "--memory-budget", "1M"])
        #expect(pca.code == 64 && pca.stderr.contains("--solver randomized"), "\(pca.stderr)")
        // Messages are one line, control characters escaped.
        write("a,b\n1,\"x\u{0}\ny\"\n", "\(dir)/ctl.csv")
        let ctl = try CLI.run(["kmeans", "--input", "\(dir)/ctl.csv", "--k", "1", "--columns", "a,b"])
        #expect(ctl.code == 65 && ctl.stderr.split(separator: "\n").count == 1 && ctl.stderr.contains("\\u{0}\\ny"), "\(ctl.stderr)")
    }

    @Test func reviewFindings() throws {
        let dir = tempDir()
        let input = customers(dir)
        // A one-letter --out (NSString's parent of a one-character path trapped).
        let one = try CLI.run(["segment", "--customers", input, "--k", "2", "--out", "x", "--quiet"], cwd: dir)
        #expect(one.code == 0 && FileManager.default.fileExists(atPath: "\(dir)/x/assignments.csv"), "\(one.stderr)")
        #expect(try CLI.run(["segment", "--customers", input, "--k", "2", "--out", "-"], cwd: dir).code == 64)
        // A new directory is locked from the start: a second run on it fails fast while the first
        // is still working, and the first then publishes normally.
        let out = "\(dir)/fresh"
        let first = Process()
        first.executableURL = URL(fileURLWithPath: CLI.binary)
        first.arguments = ["segment", "--customers", input, "--k", "2", "--out", out, "--quiet"]
        first.environment = ProcessInfo.processInfo.environment.merging(["STRATA_TEST_PAUSE_AT": "outputs:written"]) { _, n in n }
        try first.run()
        var locked = false
        for _ in 0..<300 where !locked { usleep(50_000); locked = FileManager.default.fileExists(atPath: "\(out)/.strata.lock") }
        let second = try CLI.run(["segment", "--customers", input, "--k", "3", "--out", out, "--quiet"])
        #expect(second.code == 75, "\(second.stderr)")
        kill(first.processIdentifier, SIGTERM)   // the pause is before publishing: nothing waits
        first.waitUntilExit()
        #expect(first.terminationStatus == 143)
        // A failed run in a directory it created removes it again.
        write("customer_id,a\n1,2\n2,x\n3,4\n", "\(dir)/bad.csv")
        #expect(try CLI.run(["segment", "--customers", "\(dir)/bad.csv", "--impute", "none", "--out", "\(dir)/never"]).code == 65)
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/never"))
        // Temporaries of any name from dead processes go with the next write into the directory.
        for junk in [".l.csv.tmp-999999-1", ".m.json.tmp-999999-0.bak", ".p.csv.tmp-999998-2"] { write("junk", "\(dir)/\(junk)") }
        #expect(try CLI.run(["kmeans", "--input", input, "--k", "2", "--labels-out", "\(dir)/other.csv"]).code == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }.isEmpty)
        // A full standard output is exit 73, not a crash; data piped from '-' is never followed by
        // the summary; parse-time usage errors give the JSON error too.
        let fullOut = Process()
        fullOut.executableURL = URL(fileURLWithPath: CLI.binary)
        fullOut.arguments = ["kmeans", "--input", input, "--k", "2", "--json"]
        fullOut.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        fullOut.standardError = FileHandle.nullDevice
        try fullOut.run()
        fullOut.waitUntilExit()
        #expect(fullOut.terminationStatus == 73)
        let model = try CLI.run(["kmeans", "--input", input, "--k", "2", "--model-out", "-"])
        #expect(model.code == 0 && (try? JSONSerialization.jsonObject(with: Data(model.stdout.utf8))) != nil, "\(model.stdout.suffix(200))")
        let usage = try CLI.run(["kmeans", "--input", input, "--k", "0", "--json"])
        #expect(usage.code == 64 && (usage.json?["error"] as? [String: Any])?["exit_code"] as? Int == 64)
    }
}
