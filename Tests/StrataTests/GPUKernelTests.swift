import CStrataGPU
import CStrataKernels
import Foundation
import Testing
import StrataCore
import StrataKernels
import StrataLinalg

/// The device kernels against the CPU path, on the CPU: through OpenCL under PoCL (CI installs
/// `pocl-opencl-icd` with Scripts/install-deps; without it these tests fail, never skip) and
/// through the plain-C reference build. Promise checked: labels, distances, per-cluster sums and
/// weights, inertia and change counts bit-identical to `lloydPass` with a `SIMDAssigner`.
@Suite(.serialized) struct GPUKernelTests {
    /// One OpenCL backend for the suite (PoCL compiles the kernels once, about a second).
    nonisolated(unsafe) static var shared: Result<OpenCLBackend, Error>? = nil
    static func openCL() throws -> OpenCLBackend {
        if shared == nil { shared = Result { try OpenCLBackend() } }
        switch shared! {
        case let .success(b): return b
        case let .failure(e):
            Issue.record("OpenCL (PoCL) is required for the GPU kernel tests; Scripts/install-deps installs pocl-opencl-icd and ocl-icd-libopencl1: \(e)")
            throw e
        }
    }

    /// Rows in a few blobs plus exact duplicates of centers (ties: the lowest index must win).
    static func data(n: Int, d: Int, k: Int, seed: UInt64) -> (x: [Float], c: [Float], w: [Float]) {
        var s = seed &* 0x9E3779B97F4A7C15 | 1
        func next() -> Float { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return Float(s >> 40) / Float(1 << 24) }
        var x = [Float](repeating: 0, count: n * d)
        for i in 0..<n { let blob = Float(i % 5); for j in 0..<d { x[i * d + j] = blob * 3 + next() * 4 - 2 + Float(j % 3) * 0.1 } }
        var c = [Float](repeating: 0, count: k * d)
        for a in 0..<k { for j in 0..<d { c[a * d + j] = x[(a * 7919 % n) * d + j] } }
        if k >= 3 { for j in 0..<d { c[2 * d + j] = c[j] } }  // two identical centers
        let w = (0..<n).map { _ in next() * 2 }
        return (x, c, w)
    }

    struct Pass: Equatable {
        var labels: [Int32]; var dist: [UInt32]; var sums: [UInt64]; var weights: [UInt64]; var inertia: UInt64; var changed: Int; var full: Int
        init(_ s: ClusterStatistics, labels: [Int32], dist: [Float]) {
            self.labels = labels; self.dist = dist.map(\.bitPattern); sums = s.sums.map(\.bitPattern); weights = s.weights.map(\.bitPattern)
            inertia = s.inertia.bitPattern; changed = s.changed; full = s.fullyAssigned
        }
    }

    static func cpuPass(x: [Float], n: Int, d: Int, centers: [[Float]], w: [Float]?, partition: RowPartition, accumulate: Bool) -> [Pass] {
        var labels = [Int32](repeating: 0, count: n), dist = [Float](repeating: 0, count: n)
        var out: [Pass] = []
        x.withUnsafeBufferPointer { xp in
            for c in centers {
                let s = labels.withUnsafeMutableBufferPointer { l in
                    dist.withUnsafeMutableBufferPointer { dp in
                        optionalPointer(w) { wp in
                            lloydPass(source: DenseRows(xp.baseAddress!, rows: n, cols: d), weights: wp,
                                      assigner: SIMDAssigner(centroids: Matrix(rows: c.count / d, cols: d, storage: c)),
                                      labels: l.baseAddress!, dist: dp.baseAddress!, partition: partition, threads: 2, accumulate: accumulate)
                        }
                    }
                }
                out.append(Pass(s, labels: labels, dist: dist))
            }
        }
        return out
    }

    static func devicePass(_ backend: any GPUBackend, x: [Float], n: Int, d: Int, centers: [[Float]], w: [Float]?,
                           partition: RowPartition, accumulate: Bool) throws -> [Pass] {
        let k = centers[0].count / d
        let lloyd = try x.withUnsafeBufferPointer { xp in
            try optionalPointer(w) { wp in
                try GPULloyd(backend: backend, source: DenseRows(xp.baseAddress!, rows: n, cols: d), weights: wp, k: k, partition: partition)
            }
        }
        try lloyd.setLabels([Int32](repeating: 0, count: n))
        var out: [Pass] = []
        for c in centers {
            let s = try lloyd.pass(centroids: Matrix(rows: k, cols: d, storage: c), accumulate: accumulate)
            var labels = [Int32](repeating: 0, count: n), dist = [Float](repeating: 0, count: n)
            try lloyd.download(labels: &labels, dist: &dist)
            out.append(Pass(s, labels: labels, dist: dist))
        }
        return out
    }

    static func optionalPointer<R>(_ w: [Float]?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        guard let w else { return try body(nil) }
        return try w.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Shapes: n never a multiple of a block (256) or chunk, d = 1..100, k = 1..300; small
    /// chunks so that every shape has several; weighted and not; a second pass with moved
    /// centers (change counts against the first pass's labels).
    static let shapes: [(n: Int, d: Int, k: Int, chunk: Int, weighted: Bool)] = [
        (1, 1, 1, 16, false), (37, 1, 3, 16, true), (257, 2, 5, 64, false), (1_001, 3, 8, 256, true),
        (999, 7, 31, 128, false), (513, 16, 64, 64, true), (700, 17, 2, 112, false), (333, 33, 300, 48, true),
        (611, 64, 9, 96, false), (401, 100, 40, 80, true), (2_049, 5, 300, 512, false), (90, 100, 1, 16, true),
    ]

    @Test func openCLLloydPassIsBitIdenticalToCPU() throws {
        let backend = try Self.openCL()
        for s in Self.shapes {
            let (x, c, w) = Self.data(n: s.n, d: s.d, k: s.k, seed: UInt64(s.n * 31 + s.d))
            let moved = c.enumerated().map { $0.element + (($0.offset % 3) == 0 ? 0.25 : -0.125) }
            let partition = RowPartition(rows: s.n, chunkRows: s.chunk)
            for accumulate in [true, false] {
                let cpu = Self.cpuPass(x: x, n: s.n, d: s.d, centers: [c, moved], w: s.weighted ? w : nil, partition: partition, accumulate: accumulate)
                let gpu = try Self.devicePass(backend, x: x, n: s.n, d: s.d, centers: [c, moved], w: s.weighted ? w : nil, partition: partition, accumulate: accumulate)
                #expect(cpu == gpu, "n \(s.n) d \(s.d) k \(s.k) chunk \(s.chunk) weighted \(s.weighted) accumulate \(accumulate)")
            }
        }
    }

    @Test func openCLDefaultChunksAcrossSeveralChunks() throws {
        let backend = try Self.openCL()
        let (n, d, k) = (40_000, 3, 6)
        let (x, c, w) = Self.data(n: n, d: d, k: k, seed: 7)
        let partition = RowPartition(rows: n)
        #expect(partition.count == 3)
        let cpu = Self.cpuPass(x: x, n: n, d: d, centers: [c], w: w, partition: partition, accumulate: true)
        let gpu = try Self.devicePass(backend, x: x, n: n, d: d, centers: [c], w: w, partition: partition, accumulate: true)
        #expect(cpu == gpu)
    }

    /// Whole fits: `KMeans.fit` with an OpenCL device equals the CPU's plain SIMD Lloyd bit for
    /// bit, including empty-cluster relocation (a far-away starting center), weights and restarts.
    @Test func kmeansFitOnOpenCLEqualsCPU() throws {
        let backend = try Self.openCL()
        let (n, d, k) = (3_001, 3, 5)
        let (x, c, w) = Self.data(n: n, d: d, k: k, seed: 11)
        var far = c
        for j in 0..<d { far[4 * d + j] = 1e4 }   // empty at the first pass: relocated
        for (weights, init_) in [(nil, KMeansInit.centers(Matrix(rows: k, cols: d, storage: far))), (w, .random)] as [([Float]?, KMeansInit)] {
            var o = KMeansOptions(k: k)
            o.initialization = init_
            o.nInit = 3
            o.algorithm = .lloyd
            o.route = .simd
            let data = Dataset(rows: n, cols: d, values: x, weights: weights)
            let cpu = try KMeans.fit(data, options: o)
            o.gpu = backend
            let gpu = try KMeans.fit(data, options: o)
            #expect(cpu.labels == gpu.labels)
            #expect(cpu.distances.map(\.bitPattern) == gpu.distances.map(\.bitPattern))
            #expect(cpu.centroids.storage.map(\.bitPattern) == gpu.centroids.storage.map(\.bitPattern))
            #expect(cpu.inertia.bitPattern == gpu.inertia.bitPattern && cpu.nIter == gpu.nIter)
            #expect(cpu.iterations.map { [$0.inertia, Double($0.changed), Double($0.relocated)] } == gpu.iterations.map { [$0.inertia, Double($0.changed), Double($0.relocated)] })
            #expect(gpu.gpu?.device.backend == "opencl" && cpu.gpu == nil)
            if weights == nil { #expect(cpu.iterations.contains { $0.relocated > 0 }) }
        }
    }

    /// The plain-C build of the same kernel source, against the CPU kernels.
    @Test func plainCReferenceMatchesCPU() {
        for s in Self.shapes.prefix(8) {
            let (x, c, w) = Self.data(n: s.n, d: s.d, k: s.k, seed: UInt64(s.k))
            let partition = RowPartition(rows: s.n, chunkRows: s.chunk)
            let cpu = Self.cpuPass(x: x, n: s.n, d: s.d, centers: [c], w: s.weighted ? w : nil, partition: partition, accumulate: true)[0]
            var labels = [Int32](repeating: 0, count: s.n), dist = [Float](repeating: 0, count: s.n), changed = [UInt8](repeating: 0, count: s.n)
            let fuse = strata_kernels_fuse_multiply_add()
            strata_ref_assign(x, Int64(s.n), Int64(s.d), c, Int64(s.k), &labels, &dist, &changed, fuse)
            let width = s.k * s.d + s.k + 3
            var p = [Double](repeating: 0, count: partition.count * width), total = [Double](repeating: 0, count: width)
            Self.optionalPointer(s.weighted ? w : nil) { wp in
                strata_ref_chunk_sums(x, Int64(s.n), Int64(s.d), Int64(s.k), wp, s.weighted ? 1 : 0, labels, dist, changed,
                                      Int64(partition.chunkRows), 256, Int64(partition.count), &p, fuse, 1)
            }
            strata_ref_reduce_chunks(p, Int64(partition.count), Int64(width), &total)
            var stats = ClusterStatistics(k: s.k, d: s.d)
            total.withUnsafeBufferPointer { stats.read(from: $0.baseAddress!) }
            #expect(cpu == Pass(stats, labels: labels, dist: dist), "n \(s.n) d \(s.d) k \(s.k)")
        }
    }

    /// The exact silhouette's distance sums: OpenCL and the plain-C reference against
    /// `ClusterDistanceSums`, bit for bit (clusters of 1, 3, 128 + 5 and 300 rows; d 1..100).
    @Test func silhouetteSumsAreBitIdenticalToCPU() throws {
        let backend = try Self.openCL()
        for (sizes, d) in [([1, 3, 133, 300], 1), ([7, 129, 4], 17), ([50, 50], 100), ([5, 1, 260, 2, 9], 5)] {
            let n = sizes.reduce(0, +)
            let (x, _, _) = Self.data(n: n, d: d, k: 1, seed: UInt64(n + d))
            let cpuRef = ClusterDistanceSums(sortedRows: x, d: d, clusterSizes: sizes)
            let k = sizes.count
            var cpu = [Double](repeating: 0, count: n * k)
            var scratch = cpuRef.makeScratch()
            var block: [Double] = []
            var p0 = 0
            while p0 < n {
                let m = min(ClusterDistanceSums.blockRows, n - p0)
                cpuRef.sums(ofRows: p0..<(p0 + m), into: &block, scratch: &scratch)
                for l in 0..<m { for c in 0..<k { cpu[(p0 + l) * k + c] = block[l * k + c] } }
                p0 += m
            }
            let gpu = try deviceClusterDistanceSums(backend: backend, sortedRows: x, d: d, clusterStarts: cpuRef.clusterStarts).sums
            #expect(cpu.map(\.bitPattern) == gpu.map(\.bitPattern), "sizes \(sizes) d \(d)")
            var ref = [Double](repeating: 0, count: n * k)
            strata_ref_silhouette_sums(x, Int64(n), Int64(d), cpuRef.clusterStarts.map(Int64.init), Int64(k), &ref, strata_kernels_fuse_multiply_add())
            #expect(cpu.map(\.bitPattern) == ref.map(\.bitPattern), "reference: sizes \(sizes) d \(d)")
        }
    }

    /// The diagonal GMM E-step: OpenCL and the C reference against `strata_gmm_estep_diag`:
    /// responsibilities, labels and the log-likelihood (per-tile Double sums) bit for bit.
    @Test func gmmDiagEStepIsBitIdenticalToCPU() throws {
        let backend = try Self.openCL()
        for (n, d, k) in [(1, 1, 1), (37, 3, 4), (300, 16, 8), (129, 7, 30), (65, 100, 3)] {
            let (x, _, _) = Self.data(n: n, d: d, k: 1, seed: UInt64(n * d + k))
            var s: UInt64 = UInt64(k * 977 + d)
            func next() -> Float { s = s &* 6364136223846793005 &+ 1442695040888963407; return Float(s >> 40) / Float(1 << 24) }
            let mu = (0..<(k * d)).map { _ in next() * 8 - 2 }
            let prec = (0..<(k * d)).map { _ in 0.2 + next() }
            let cst = (0..<k).map { _ in -next() * 10 }
            var resp = [Float](repeating: 0, count: n * k), labels = [Int32](repeating: 0, count: n), loglik = 0.0
            var scratch = [Float](repeating: 0, count: Int(strata_gmm_scratch_floats(Int64(d), Int64(k))))
            strata_gmm_estep_diag(x, Int64(n), Int64(d), Int64(k), mu, prec, cst, &resp, Int64(n), &labels, &loglik, &scratch)
            let gpu = try deviceGMMEStepDiag(backend: backend, centered: x, n: n, d: d, k: k, mu: mu, prec: prec, cst: cst)
            var ref = (resp: [Float](repeating: 0, count: n * k), labels: [Int32](repeating: 0, count: n), lse: [Float](repeating: 0, count: n))
            strata_ref_gmm_estep_diag(x, Int64(n), Int64(d), Int64(k), mu, prec, cst, &ref.resp, &ref.labels, &ref.lse, strata_kernels_fuse_multiply_add())
            for (name, r) in [("opencl", gpu), ("reference", ref)] {
                var total = 0.0
                for t0 in stride(from: 0, to: n, by: 16) {
                    var tile = 0.0
                    for i in t0..<min(n, t0 + 16) { tile += Double(r.lse[i]) }
                    total += tile
                }
                #expect(resp.map(\.bitPattern) == r.resp.map(\.bitPattern), "\(name) resp n \(n) d \(d) k \(k)")
                #expect(labels == r.labels, "\(name) labels n \(n) d \(d) k \(k)")
                #expect(loglik.bitPattern == total.bitPattern, "\(name) loglik n \(n) d \(d) k \(k): \(loglik) vs \(total)")
            }
        }
    }

    /// The contraction flag matters: the other rounding gives other distances (so the tests above
    /// would see a backend that contracted differently from the CPU clone in use).
    @Test func contractionFlagChangesDistances() {
        let (n, d, k) = (2_049, 5, 300)
        let (x, c, _) = Self.data(n: n, d: d, k: k, seed: 3)
        var l1 = [Int32](repeating: 0, count: n), l2 = l1, d1 = [Float](repeating: 0, count: n), d2 = d1, ch = [UInt8](repeating: 0, count: n)
        strata_ref_assign(x, Int64(n), Int64(d), c, Int64(k), &l1, &d1, &ch, 1)
        strata_ref_assign(x, Int64(n), Int64(d), c, Int64(k), &l2, &d2, &ch, 0)
        #expect(d1.map(\.bitPattern) != d2.map(\.bitPattern))
    }

    /// The CUDA loader on a machine without the driver: the documented one-line error.
    @Test func cudaWithoutDriverIsADocumentedError() throws {
        #expect(throws: GPUError.self) { try CUDABackend(library: "libcuda-absent-for-test.so.1") }
        do { _ = try CUDABackend(library: "libcuda-absent-for-test.so.1") } catch let e as GPUError {
            #expect(e.description.hasPrefix("no CUDA device: "))
            #expect(!e.description.contains("\n"))
        }
        #expect(GPUError.exitCode == 69)
        if dlopen("libcuda.so.1", RTLD_NOW) == nil {
            #expect(throws: GPUError.self) { try ComputeDevice.cuda.open() }
            #expect(try ComputeDevice.auto.open() == nil)
        }
        #expect(try ComputeDevice.cpu.open() == nil)
    }

    /// The embedded kernels were built from the kernel files as they are: the OpenCL source is
    /// their text, and the fatbin's recorded FNV-1a hash is theirs (run Scripts/build-gpu-kernels
    /// after changing them).
    @Test func embeddedKernelsMatchTheirSources() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../CSupport/CStrataGPU/kernels")
        let bytes = try ["strata_device.h", "strata_kernels.h"].flatMap { try Data(contentsOf: dir.appendingPathComponent($0)) }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let hex = String(h, radix: 16)
        #expect(String(cString: strata_gpu_sources_hash()) == String(repeating: "0", count: 16 - hex.count) + hex,
                "the kernels changed since the fatbin was built: run Scripts/build-gpu-kernels and commit generated.c")
        #expect(String(cString: strata_gpu_opencl_source_ptr()) == String(decoding: bytes, as: UTF8.self))
        // A fatbin starts with its magic 0xBA55ED50 (little-endian).
        #expect(strata_gpu_fatbin_bytes() > 1000)
        let p = strata_gpu_fatbin_ptr()!
        #expect([p[0], p[1], p[2], p[3]] == [0x50, 0xED, 0x55, 0xBA])
        #expect(String(cString: strata_gpu_nvcc()) == "13.0.88")
    }
}
