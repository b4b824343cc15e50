import Foundation
import Testing

/// `--device` through the binary: `strata kmeans --device opencl` (PoCL on the CPU in CI) gives
/// the same labels file, model file and numbers as `--device cpu`; `--device cuda` without a
/// driver is the documented one-line error with exit code 69.
@Suite struct DeviceCLITests {
    /// Six overlapping blobs in 5 columns, 20,000 rows (two chunks of the fixed partition), with
    /// an id and a weights column.
    static func data(_ dir: String, rows: Int = 20_000) throws -> String {
        var s: UInt64 = 0x2545F4914F6CDD1D
        func next() -> Double { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return Double(s >> 11) / Double(1 << 53) }
        var text = "id,a,b,c,d,e,w\n"
        for i in 0..<rows {
            let blob = Double(i % 6)
            let f = (0..<5).map { j in String(format: "%.5f", blob * 1.5 + (next() - 0.5) * 4 + Double(j) * 0.01) }
            text += "\(i),\(f.joined(separator: ",")),\(String(format: "%.3f", 0.5 + next()))\n"
        }
        let path = "\(dir)/blobs.csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func kmeansOnOpenCLIsIdenticalToCPU() throws {
        let dir = tempDir()
        let input = try Self.data(dir)
        for (name, extra) in [("plain", ["--k", "7"]), ("weighted", ["--k", "5", "--weights-column", "w", "--init", "random", "--n-init", "2"])] {
            var json: [String: [String: Any]] = [:]
            for device in ["cpu", "opencl"] {
                let r = try CLI.run(["kmeans", "--input", input, "--id-column", "id", "--device", device, "--seed", "3",
                                     "--labels-out", "\(dir)/\(name)-\(device).csv", "--model-out", "\(dir)/\(name)-\(device).json", "--json"] + extra)
                #expect(r.code == 0, "\(device): \(r.stderr)")
                json[device] = try #require(r.json)
            }
            let (cpu, gpu) = (json["cpu"]!, json["opencl"]!)
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)-cpu.csv")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)-opencl.csv")), "\(name): labels differ")
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)-cpu.json")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)-opencl.json")), "\(name): models differ")
            for key in ["inertia", "n_iter", "cluster_sizes", "cluster_weights"] {
                #expect("\(cpu[key]!)" == "\(gpu[key]!)", "\(name): \(key)")
            }
            #expect((cpu["centroids"] as! [[Double]]) == (gpu["centroids"] as! [[Double]]))
            let device = try #require(gpu["device"] as? [String: Any])
            #expect(device["kind"] as? String == "opencl" && (device["memory_bytes"] as? Int ?? 0) > 0)
            #expect((device["steps"] as? [[String: Any]])?.map { $0["step"] as? String } == ["upload", "assign", "chunk_sums", "reduce", "download"])
            #expect((cpu["device"] as? [String: Any])?["kind"] as? String == "cpu")
            // predict with the model on the device: the same labels file.
            for device in ["cpu", "opencl"] {
                let p = try CLI.run(["predict", "--model", "\(dir)/\(name)-cpu.json", "--input", input, "--device", device,
                                     "--labels-out", "\(dir)/\(name)-predict-\(device).csv"])
                #expect(p.code == 0, "\(p.stderr)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)-predict-cpu.csv")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)-predict-opencl.csv")))
        }
    }

    /// `gmm --device opencl` (the E-steps on the device): diag and spherical give the same model,
    /// labels and probabilities files and the same numbers as `--device cpu`; full and tied the
    /// same numbers within 1e-4.
    @Test func gmmOnOpenCLIsIdenticalToCPU() throws {
        let dir = tempDir()
        let input = try Self.data(dir)
        for covariance in ["diag", "spherical"] {
            var json: [String: [String: Any]] = [:]
            for device in ["cpu", "opencl"] {
                let p = "\(dir)/gmm-\(covariance)-\(device)"
                let r = try CLI.run(["gmm", "--input", input, "--id-column", "id", "--k", "5", "--covariance", covariance, "--device", device,
                                     "--seed", "4", "--max-iter", "8", "--columns", "a,b,c,d,e",
                                     "--labels-out", "\(p)-labels.csv", "--model-out", "\(p)-model.json", "--proba-out", "\(p)-proba.csv", "--json"])
                #expect(r.code == 0, "\(device): \(r.stderr)")
                json[device] = try #require(r.json)
            }
            for file in ["labels.csv", "model.json", "proba.csv"] {
                #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/gmm-\(covariance)-cpu-\(file)"))
                        == Data(contentsOf: URL(fileURLWithPath: "\(dir)/gmm-\(covariance)-opencl-\(file)")), "\(covariance): \(file) differs")
            }
            let (cpu, gpu) = (json["cpu"]!, json["opencl"]!)
            for key in ["weights", "means", "covariances", "lower_bound", "n_iter", "converged", "bic", "aic", "score", "run_lower_bounds"] {
                #expect("\(cpu[key] ?? "missing")" == "\(gpu[key] ?? "missing")", "\(covariance): \(key)")
            }
            #expect((cpu["iterations"] as? [[String: Any]])?.map { "\($0["lower_bound"]!)" } == (gpu["iterations"] as? [[String: Any]])?.map { "\($0["lower_bound"]!)" })
            let device = try #require(gpu["device"] as? [String: Any])
            #expect(device["kind"] as? String == "opencl" && (device["memory_bytes"] as? Int ?? 0) > 0)
            #expect((device["steps"] as? [[String: Any]])?.map { $0["step"] as? String } == ["upload", "estep", "download"])
            #expect((cpu["device"] as? [String: Any])?["kind"] as? String == "cpu")
        }
        // Full and tied: the same number of iterations and parameters within 1e-4 (relative).
        for covariance in ["full", "tied"] {
            var json: [String: [String: Any]] = [:]
            for device in ["cpu", "opencl"] {
                let r = try CLI.run(["gmm", "--input", input, "--id-column", "id", "--columns", "a,b,c,d,e", "--k", "3", "--covariance", covariance,
                                     "--device", device, "--seed", "4", "--max-iter", "5", "--json"])
                #expect(r.code == 0, "\(covariance) \(device): \(r.stderr)")
                json[device] = try #require(r.json)
            }
            func flat(_ v: Any?) -> [Double] {
                if let a = v as? [Any] { return a.flatMap(flat) }
                return (v as? Double).map { [$0] } ?? []
            }
            let (cpu, gpu) = (json["cpu"]!, json["opencl"]!)
            #expect("\(cpu["n_iter"]!)" == "\(gpu["n_iter"]!)", "\(covariance)")
            for key in ["weights", "means", "covariances", "lower_bound", "bic"] {
                let (a, b) = (flat(cpu[key]), flat(gpu[key]))
                #expect(!a.isEmpty && a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) }, "\(covariance): \(key)")
            }
            #expect((gpu["device"] as? [String: Any])?["kind"] as? String == "opencl")
        }
    }

    /// `sweep --algorithm gmm --covariance diag --device opencl` (the mixtures' E-steps on the
    /// device): the same JSON as `--device cpu`, timings and the device record aside.
    @Test func sweepGMMOnOpenCLIsIdenticalToCPU() throws {
        let dir = tempDir()
        let input = try Self.data(dir, rows: 3_000)
        func strip(_ v: Any) -> Any {
            if let d = v as? [String: Any] {
                return d.filter { !$0.key.contains("seconds") && $0.key != "device" && $0.key != "peak_memory_bytes" }.mapValues(strip)
            }
            if let a = v as? [Any] { return a.map(strip) }
            return v
        }
        var out: [String] = []
        for device in ["cpu", "opencl"] {
            let r = try CLI.run(["sweep", "--input", input, "--id-column", "id", "--columns", "a,b,c,d,e", "--k", "2...4", "--algorithm", "gmm",
                                 "--covariance", "diag", "--seed", "2", "--device", device, "--json"])
            #expect(r.code == 0, "\(device): \(r.stderr)")
            let j = try #require(r.json)
            out.append(String(decoding: try JSONSerialization.data(withJSONObject: strip(j), options: [.sortedKeys]), as: UTF8.self))
        }
        #expect(out[0] == out[1])
    }

    /// The exact silhouette on OpenCL: the same per-row coefficients, mean and per-cluster means.
    @Test func scoreSilhouetteOnOpenCLIsIdenticalToCPU() throws {
        let dir = tempDir()
        let input = try Self.data(dir, rows: 2_000)
        let fit = try CLI.run(["kmeans", "--input", input, "--id-column", "id", "--k", "4", "--labels-out", "\(dir)/l.csv"])
        #expect(fit.code == 0, "\(fit.stderr)")
        var json: [String: [String: Any]] = [:]
        for device in ["cpu", "opencl"] {
            let r = try CLI.run(["score", "--input", input, "--id-column", "id", "--labels", "\(dir)/l.csv", "--metrics", "silhouette",
                                 "--device", device, "--per-sample-out", "\(dir)/s-\(device).csv", "--json"])
            #expect(r.code == 0, "\(device): \(r.stderr)")
            json[device] = try #require(r.json)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/s-cpu.csv")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/s-opencl.csv")))
        #expect("\(json["cpu"]!["silhouette"]!)" == "\(json["opencl"]!["silhouette"]!)")
        #expect((json["opencl"]!["device"] as? [String: Any])?["kind"] as? String == "opencl")
    }

    /// `strata segment --device opencl` (job key `device`): the sweep's and the model's fits on
    /// the device give the same published files; run.json records the device.
    @Test func segmentOnOpenCLIsIdenticalToCPU() throws {
        let dir = tempDir()
        let input = try Self.data(dir, rows: 3_000)
        for device in ["cpu", "opencl"] {
            let r = try CLI.run(["segment", "--customers", input, "--k-min", "2", "--k-max", "4", "--bootstrap", "2", "--gap-references", "0",
                                 "--device", device, "--out", "\(dir)/\(device)", "--no-report"])
            #expect(r.code == 0, "\(device): \(r.stderr)")
        }
        for file in ["assignments.csv", "model.json", "profiles.json"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/cpu/\(file)")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/opencl/\(file)")), "\(file)")
        }
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/opencl/run.json"))) as! [String: Any]
        let device = try #require(run["device"] as? [String: Any])
        #expect(device["kind"] as? String == "opencl" && device["name"] is String && device["memory_bytes"] is Int && device["steps"] is [Any])
        #expect((run["config"] as? [String: Any])?["device"] as? String == "opencl")
        let cpuRun = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/cpu/run.json"))) as! [String: Any]
        #expect(cpuRun["device"] == nil)
    }

    /// `segment --algorithm gmm --covariance diag --device opencl`: the same files, the device
    /// (with the GMM steps) in run.json.
    @Test func segmentGMMOnOpenCLIsIdenticalToCPU() throws {
        let dir = tempDir()
        let input = try Self.data(dir, rows: 2_000)
        for device in ["cpu", "opencl"] {
            let r = try CLI.run(["segment", "--customers", input, "--k", "4", "--algorithm", "gmm", "--covariance", "diag",
                                 "--device", device, "--out", "\(dir)/gmm-\(device)", "--no-report"])
            #expect(r.code == 0, "\(device): \(r.stderr)")
        }
        for file in ["assignments.csv", "model.json", "profiles.json"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/gmm-cpu/\(file)")) == Data(contentsOf: URL(fileURLWithPath: "\(dir)/gmm-opencl/\(file)")), "\(file)")
        }
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/gmm-opencl/run.json"))) as! [String: Any]
        let device = try #require(run["device"] as? [String: Any])
        #expect((device["steps"] as? [[String: Any]])?.map { $0["step"] as? String } == ["upload", "estep", "download"])
    }

    @Test func cudaWithoutADeviceIsExit69() throws {
        guard dlopen("libcuda.so.1", RTLD_NOW) == nil else { return }  // a machine with the NVIDIA driver
        let dir = tempDir()
        let input = try Self.data(dir)
        let r = try CLI.run(["kmeans", "--input", input, "--k", "3", "--device", "cuda", "--json"])
        #expect(r.code == 69)
        #expect(r.stderr.hasPrefix("strata: error: no CUDA device: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        let error = try #require(r.json?["error"] as? [String: Any])
        #expect(error["exit_code"] as? Int == 69)
        // A variant the device does not run is a usage error.
        let h = try CLI.run(["kmeans", "--input", input, "--k", "3", "--device", "opencl", "--algorithm", "hamerly"])
        #expect(h.code == 64, "\(h.stderr)")
        let bad = try CLI.run(["kmeans", "--input", input, "--k", "3", "--device", "tpu"])
        #expect(bad.code == 64 && bad.stderr.contains("auto"))
        let seg = try CLI.run(["segment", "--customers", input, "--k", "3", "--device", "cuda", "--out", "\(dir)/seg", "--no-report"])
        #expect(seg.code == 69, "\(seg.stderr)")
    }
}
