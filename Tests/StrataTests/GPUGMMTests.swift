import CStrataGPU
import CStrataKernels
import Foundation
import Testing
import StrataCore
import StrataKernels

/// Gaussian-mixture fits with the E-steps on a device (OpenCL under PoCL, on the CPU) against
/// the CPU fit, n not a multiple of any block (16-row tiles, 256-row blocks, 16,384-row chunks),
/// d = 1..40, k = 1..16. Diag and spherical: weights, means, covariances, precision factors, every
/// iteration's lower bound, the score and the labels bit-identical to `--device cpu`; full and
/// tied: within 1e-4 (see below).
@Suite(.serialized) struct GPUGMMTests {
    /// Its own backend (an OpenCL backend is not shared across concurrently running suites).
    nonisolated(unsafe) static var shared: Result<OpenCLBackend, Error>? = nil
    static func openCL() throws -> OpenCLBackend {
        if shared == nil { shared = Result { try OpenCLBackend() } }
        switch shared! {
        case let .success(b): return b
        case let .failure(e):
            Issue.record("OpenCL (PoCL) is required for the GPU GMM tests; Scripts/install-deps installs pocl-opencl-icd and ocl-icd-libopencl1: \(e)")
            throw e
        }
    }

    /// Blobs around an offset far from the origin (the centering in Double matters).
    static func data(n: Int, d: Int, k: Int, seed: UInt64) -> Dataset {
        var s = seed &* 0x9E3779B97F4A7C15 | 1
        func next() -> Float { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return Float(s >> 40) / Float(1 << 24) }
        var x = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            let blob = Float(i % max(1, k))
            for j in 0..<d { x[i * d + j] = 1000 + blob * 2.5 * Float(1 + j % 2) + (next() - 0.5) * (2 + Float(j % 3)) }
        }
        return Dataset(rows: n, cols: d, values: x)
    }

    static func bits(_ v: [Double]) -> [UInt64] { v.map(\.bitPattern) }

    @Test func gmmFitOnDeviceIsBitIdenticalToCPU() throws {
        let backend = try Self.openCL()
        let cases: [(n: Int, d: Int, k: Int, type: CovarianceType, start: GMMInit, nInit: Int)] = [
            (1_001, 1, 1, .diag, .random, 1),
            (16_384 + 4_099, 3, 4, .diag, .kmeans, 1),
            (2_503, 16, 8, .diag, .random, 2),
            (777, 40, 16, .diag, .kMeansPlusPlus, 1),
            (3_001, 7, 5, .spherical, .random, 1),
            (513, 2, 16, .spherical, .kmeans, 1),
        ]
        for c in cases {
            let data = Self.data(n: c.n, d: c.d, k: c.k, seed: UInt64(c.n * 31 + c.d * 7 + c.k))
            var o = GMMOptions(k: c.k)
            o.covarianceType = c.type
            o.initialization = c.start
            o.nInit = c.nInit
            o.maxIterations = 6
            o.tolerance = 0
            o.seed = 11
            o.threads = 2
            o.regCovar = 1e-3
            let cpu = try GMM.fit(data, options: o)
            o.gpu = backend
            o.threads = 1
            let gpu = try GMM.fit(data, options: o)
            let label = "n \(c.n) d \(c.d) k \(c.k) \(c.type)"
            #expect(Self.bits(cpu.model.weights) == Self.bits(gpu.model.weights), "weights \(label)")
            #expect(Self.bits(cpu.model.means) == Self.bits(gpu.model.means), "means \(label)")
            #expect(Self.bits(cpu.model.covariances) == Self.bits(gpu.model.covariances), "covariances \(label)")
            #expect(Self.bits(cpu.model.precisionsCholesky) == Self.bits(gpu.model.precisionsCholesky), "precisions \(label)")
            #expect(Self.bits(cpu.iterations.map(\.lowerBound)) == Self.bits(gpu.iterations.map(\.lowerBound)), "lower bounds \(label)")
            #expect(Self.bits(cpu.runLowerBounds) == Self.bits(gpu.runLowerBounds), "run lower bounds \(label)")
            #expect(cpu.score.bitPattern == gpu.score.bitPattern && cpu.bic.bitPattern == gpu.bic.bitPattern, "score \(label)")
            #expect(cpu.labels == gpu.labels, "labels \(label)")
            #expect(cpu.gpu == nil)
            let steps = try #require(gpu.gpu).steps.steps
            #expect(steps.map(\.step) == ["upload", "estep", "download"], "\(label)")
            // One E-step per iteration plus the final labels pass, per restart (tolerance 0: all 6 run).
            #expect(steps.first { $0.step == "estep" }?.calls == c.nInit * 7, "\(label)")
        }
    }

    /// Full and tied: the device projects each row through the precision Cholesky factors in
    /// feature order (one FMA per term); the CPU by OpenBLAS SGEMM. Promise checked: the OpenCL
    /// build and the C reference of the kernel agree bit for bit; the fit agrees with the CPU's
    /// within 1e-4 (relative, parameters and lower bounds) and labels on >= 99.9% of rows; whether
    /// it was bit-identical is printed (it is where SGEMM sums K in order with FMA).
    @Test func gmmFullAndTiedFitOnDeviceMatchCPU() throws {
        let backend = try Self.openCL()
        func close(_ a: [Double], _ b: [Double]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($0)) }
        }
        let cases: [(n: Int, d: Int, k: Int, type: CovarianceType)] = [
            (1_001, 1, 1, .full), (16_384 + 1_027, 5, 4, .full), (2_503, 16, 8, .tied), (901, 40, 3, .full), (613, 9, 16, .tied),
        ]
        for c in cases {
            let data = Self.data(n: c.n, d: c.d, k: c.k, seed: UInt64(c.n * 17 + c.d * 5 + c.k))
            var o = GMMOptions(k: c.k)
            o.covarianceType = c.type
            o.initialization = .random
            o.maxIterations = 5
            o.tolerance = 0
            o.seed = 5
            o.threads = 2
            o.regCovar = 1e-3
            let cpu = try GMM.fit(data, options: o)
            o.gpu = backend
            let gpu = try GMM.fit(data, options: o)
            let label = "n \(c.n) d \(c.d) k \(c.k) \(c.type)"
            #expect(close(cpu.model.weights, gpu.model.weights), "weights \(label)")
            #expect(close(cpu.model.means, gpu.model.means), "means \(label)")
            #expect(close(cpu.model.covariances, gpu.model.covariances), "covariances \(label)")
            #expect(close(cpu.iterations.map(\.lowerBound), gpu.iterations.map(\.lowerBound)) && close([cpu.score], [gpu.score]), "lower bounds \(label)")
            let agree = zip(cpu.labels, gpu.labels).filter { $0 == $1 }.count
            #expect(agree * 1000 >= c.n * 999, "labels \(label): \(agree) of \(c.n)")
            let bitwise = Self.bits(cpu.model.means) == Self.bits(gpu.model.means) && Self.bits(cpu.model.covariances) == Self.bits(gpu.model.covariances)
                && cpu.lowerBound.bitPattern == gpu.lowerBound.bitPattern && cpu.labels == gpu.labels
            print("GPUGMMTests: \(label): device fit bit-identical to the CPU's: \(bitwise)")
            #expect(try #require(gpu.gpu).steps.steps.map(\.step) == ["upload", "estep", "download"])
        }
    }

    /// The full/tied kernel: OpenCL against the plain-C reference, bit for bit (n not a multiple
    /// of anything, d 1..40, k 1..16).
    @Test func gmmFullEStepKernelOpenCLEqualsReference() throws {
        let backend = try Self.openCL()
        for (n, d, k) in [(1, 1, 1), (37, 3, 4), (301, 16, 8), (129, 40, 16), (65, 7, 2)] {
            var s: UInt64 = UInt64(n * 131 + d * 7 + k)
            func next() -> Float { s = s &* 6364136223846793005 &+ 1442695040888963407; return Float(s >> 40) / Float(1 << 24) }
            let x = (0..<(n * d)).map { _ in next() * 6 - 3 }
            var ct = [Float](repeating: 0, count: k * d * d)
            for c in 0..<k { for j in 0..<d { for t in 0...j { ct[(c * d + j) * d + t] = t == j ? 0.5 + next() : next() - 0.5 } } }
            let mC = (0..<(k * d)).map { _ in next() * 2 - 1 }
            let cst = (0..<k).map { _ in -next() * 10 }
            var ref = (resp: [Float](repeating: 0, count: n * k), labels: [Int32](repeating: 0, count: n), lse: [Float](repeating: 0, count: n))
            strata_ref_gmm_estep_full(x, Int64(n), Int64(d), Int64(k), ct, mC, cst, &ref.resp, &ref.labels, &ref.lse, strata_kernels_fuse_multiply_add())
            let xb = try backend.upload(x), cb = try backend.upload(ct), mb = try backend.upload(mC), sb = try backend.upload(cst)
            let rb = try backend.allocate(bytes: n * k * 4), lb = try backend.allocate(bytes: n * 4), eb = try backend.allocate(bytes: n * 4)
            defer { for b in [xb, cb, mb, sb, rb, lb, eb] { backend.free(b) } }
            try backend.launch(.gmmEStepFull, items: n, [.buffer(xb), .int64(Int64(n)), .int64(Int64(d)), .int64(Int64(k)), .buffer(cb), .buffer(mb),
                                                        .buffer(sb), .buffer(rb), .buffer(lb), .buffer(eb), .int32(strata_kernels_fuse_multiply_add())])
            var resp = [Float](repeating: 0, count: n * k), labels = [Int32](repeating: 0, count: n), lse = [Float](repeating: 0, count: n)
            try resp.withUnsafeMutableBytes { try backend.download(rb, bytes: $0.count, to: $0.baseAddress!) }
            try labels.withUnsafeMutableBytes { try backend.download(lb, bytes: $0.count, to: $0.baseAddress!) }
            try lse.withUnsafeMutableBytes { try backend.download(eb, bytes: $0.count, to: $0.baseAddress!) }
            #expect(resp.map(\.bitPattern) == ref.resp.map(\.bitPattern), "resp n \(n) d \(d) k \(k)")
            #expect(labels == ref.labels && lse.map(\.bitPattern) == ref.lse.map(\.bitPattern), "labels/lse n \(n) d \(d) k \(k)")
        }
    }
}
