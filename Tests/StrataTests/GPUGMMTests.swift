import Foundation
import Testing
import StrataCore
import StrataKernels

/// Gaussian-mixture fits with the E-steps on a device (OpenCL under PoCL, on the CPU) against
/// the CPU fit: diag and spherical covariances, n not a multiple of any block (16-row tiles,
/// 256-row blocks, 16,384-row chunks), d = 1..40, k = 1..16. Promise checked: weights, means,
/// covariances, precision factors, every iteration's lower bound, the score and the labels
/// bit-identical to `--device cpu`.
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

    /// Full and tied covariances are not run on a device: a one-line invalid-argument error.
    @Test func fullAndTiedOnDeviceAreRejected() throws {
        let backend = try Self.openCL()
        for type in [CovarianceType.full, .tied] {
            var o = GMMOptions(k: 2)
            o.covarianceType = type
            o.gpu = backend
            #expect(throws: StrataError.self) { try GMM.fit(Self.data(n: 50, d: 2, k: 2, seed: 1), options: o) }
        }
    }
}
