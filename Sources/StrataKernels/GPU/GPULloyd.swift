import CStrataKernels
import Foundation
import StrataLinalg

/// Wall-clock seconds per device step of a run (each step is synchronous, so host time around
/// it is the device's time for it, launch and synchronization included).
public struct GPUStepTimes: Sendable, Codable, Equatable {
    public struct Step: Sendable, Codable, Equatable {
        /// `upload`, `assign`, `chunk_sums`, `reduce`, `estep` (GMM), `download`.
        public var step: String
        public var calls: Int
        public var seconds: Double
    }
    public var steps: [Step] = []
    public init() {}

    /// Encoded as the plain list of steps.
    public func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(steps) }
    public init(from decoder: Decoder) throws { steps = try decoder.singleValueContainer().decode([Step].self) }

    /// Adds `other`'s calls and seconds step by step (restarts of one fit).
    public mutating func merge(_ other: GPUStepTimes) {
        for o in other.steps {
            if let i = steps.firstIndex(where: { $0.step == o.step }) { steps[i].calls += o.calls; steps[i].seconds += o.seconds }
            else { steps.append(o) }
        }
    }

    mutating func add(_ step: String, since start: Date) {
        let s = Date().timeIntervalSince(start)
        if let i = steps.firstIndex(where: { $0.step == step }) { steps[i].calls += 1; steps[i].seconds += s }
        else { steps.append(Step(step: step, calls: 1, seconds: s)) }
    }
}

/// What a run records about its device: the device and the time of each step. Encoded flat,
/// as every JSON output and run.json show it: `{"kind", "name", "memory_bytes", "steps"}`.
public struct GPURunRecord: Sendable, Encodable, Equatable {
    public var device: GPUDeviceInfo
    public var steps: GPUStepTimes
    public init(device: GPUDeviceInfo, steps: GPUStepTimes) { self.device = device; self.steps = steps }

    enum CodingKeys: String, CodingKey { case kind, name, steps; case memoryBytes = "memory_bytes" }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(device.backend, forKey: .kind)
        try c.encode(device.name, forKey: .name)
        try c.encode(device.memoryBytes, forKey: .memoryBytes)
        try c.encode(steps, forKey: .steps)
    }
}

/// The fused Lloyd pass on a device, bit-identical to `lloydPass` with a `SIMDAssigner`
/// (plain Lloyd on the SIMD route): labels, distances, per-cluster sums and weights, inertia and
/// change counts all equal the CPU path's, for any thread count there.
///
/// How: the rows are uploaded once (n x d floats, weights, labels); per pass the centers
/// (k x d floats) go up, `strata_assign` labels every row as `strata_nearest_rows` does (same
/// feature order, same contraction: `strata_kernels_fuse_multiply_add`), `strata_chunk_sums`
/// forms each chunk's statistics of the fixed `RowPartition` in row order and
/// `strata_reduce_chunks` adds the chunks in chunk order, all in Double, with no atomics; only
/// k*d + k + 3 doubles come back. Labels and distances stay on the device until `download`.
/// Device memory: n*(d + 2)*4 + n bytes, plus chunks*(k*d + k + 3)*8 for the partials.
public final class GPULloyd {
    public let backend: any GPUBackend
    public let rows: Int
    public let d: Int
    public let k: Int
    public let partition: RowPartition
    /// Rows per block of the CPU pass being matched (the inertia's inner sums).
    public let blockRows: Int
    /// Step times so far.
    public private(set) var times = GPUStepTimes()
    let fuse: Int32
    let weighted: Bool
    let x, w, labels, dist, changed, centers, partials, total: GPUBuffer

    /// Uploads `source`'s rows and the weights (nil: all 1). Throws `GPUError`.
    public init<S: RowBlockSource>(backend: any GPUBackend, source: S, weights: UnsafePointer<Float>?, k: Int,
                                   partition: RowPartition, blockRows: Int = SIMDAssigner.blockRows) throws {
        precondition(partition.rows == source.rows && k >= 1)
        self.backend = backend
        rows = source.rows; d = source.cols; self.k = k; self.partition = partition; self.blockRows = blockRows
        fuse = strata_kernels_fuse_multiply_add()
        weighted = weights != nil
        let t0 = Date()
        let n = max(1, rows)
        let xb = try backend.allocate(bytes: n * d * 4)
        x = xb
        if rows > 0 {
            let d = source.cols
            var lo = 0
            // Through the source in partition chunks (a mapped file is read once, in order).
            while lo < rows {
                let hi = min(rows, lo + partition.chunkRows)
                try source.withRows(lo..<hi) { p in
                    try backend.upload(UnsafeRawPointer(p), bytes: (hi - lo) * d * 4, to: xb, offset: lo * d * 4)
                }
                lo = hi
            }
        }
        w = try backend.allocate(bytes: weights == nil ? 4 : n * 4)
        if let weights { try backend.upload(weights, bytes: rows * 4, to: w) }
        labels = try backend.allocate(bytes: n * 4)
        dist = try backend.allocate(bytes: n * 4)
        changed = try backend.allocate(bytes: n)
        centers = try backend.allocate(bytes: k * d * 4)
        let width = k * d + k + 3
        partials = try backend.allocate(bytes: max(1, partition.count) * width * 8)
        total = try backend.allocate(bytes: width * 8)
        times.add("upload", since: t0)
    }

    deinit { for b in [x, w, labels, dist, changed, centers, partials, total] { backend.free(b) } }

    /// Replaces the device labels (the "previous labels" the next pass counts changes against).
    public func setLabels(_ values: [Int32]) throws {
        precondition(values.count == rows)
        let t0 = Date()
        try values.withUnsafeBytes { if $0.count > 0 { try backend.upload($0.baseAddress!, bytes: $0.count, to: labels) } }
        times.add("upload", since: t0)
    }

    /// Copies the labels and distances of the last pass to the host arrays (n each).
    public func download(labels l: inout [Int32], dist dd: inout [Float]) throws {
        precondition(l.count == rows && dd.count == rows)
        let t0 = Date()
        try l.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(labels, bytes: $0.count, to: $0.baseAddress!) } }
        try dd.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(dist, bytes: $0.count, to: $0.baseAddress!) } }
        times.add("download", since: t0)
    }

    /// One pass against `centroids` (k x d): as `lloydPass(..., accumulate:)` with a
    /// `SIMDAssigner`, except that labels and distances stay on the device.
    public func pass(centroids: Matrix<Float>, accumulate: Bool = true) throws -> ClusterStatistics {
        precondition(centroids.rows == k && centroids.cols == d)
        var t0 = Date()
        try backend.upload(centroids.storage.withUnsafeBytes { $0.baseAddress! }, bytes: k * d * 4, to: centers)
        times.add("upload", since: t0)
        t0 = Date()
        try backend.launch(.assign, items: rows, [.buffer(x), .int64(Int64(rows)), .int64(Int64(d)), .buffer(centers), .int64(Int64(k)),
                                                  .buffer(labels), .buffer(dist), .buffer(changed), .int32(fuse)])
        times.add("assign", since: t0)
        let chunks = partition.count
        t0 = Date()
        try backend.launch(.chunkSums, items: chunks * (d + 2),
                           [.buffer(x), .int64(Int64(rows)), .int64(Int64(d)), .int64(Int64(k)), .buffer(w), .int32(weighted ? 1 : 0),
                            .buffer(labels), .buffer(dist), .buffer(changed), .int64(Int64(partition.chunkRows)), .int64(Int64(blockRows)),
                            .int64(Int64(chunks)), .buffer(partials), .int32(fuse), .int32(accumulate ? 1 : 0)])
        times.add("chunk_sums", since: t0)
        let width = k * d + k + 3
        t0 = Date()
        try backend.launch(.reduceChunks, items: width, [.buffer(partials), .int64(Int64(chunks)), .int64(Int64(width)), .buffer(total)])
        times.add("reduce", since: t0)
        t0 = Date()
        var flat = [Double](repeating: 0, count: width)
        try flat.withUnsafeMutableBytes { try backend.download(total, bytes: $0.count, to: $0.baseAddress!) }
        times.add("download", since: t0)
        var stats = ClusterStatistics(k: k, d: d)
        flat.withUnsafeBufferPointer { stats.read(from: $0.baseAddress!) }
        if !accumulate {
            var s = ClusterStatistics(k: 0, d: d)
            s.inertia = stats.inertia; s.changed = stats.changed; s.fullyAssigned = stats.fullyAssigned
            return s
        }
        return stats
    }
}

