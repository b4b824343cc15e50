import StrataCore
import StrataKernels
import StrataLinalg

extension KMeansModelFile {
    /// Assigns each row of `data` to the nearest centroid. `data` must have the model's columns
    /// in the model's order (read it with `TableReadOptions(columns: model.columns)`).
    /// O(n*k*d), deterministic for any thread count.
    public func predict(_ data: Dataset, threads: Int = defaultThreadCount) throws -> (labels: [Int32], distances: [Float], inertia: Double) {
        let r = try predict(data, threads: threads, gpu: nil)
        return (r.labels, r.distances, r.inertia)
    }

    /// As `predict(_:threads:)`; with `gpu`, the assignment runs on that device with the SIMD
    /// route's numerics (bit-identical to the CPU wherever the CPU takes the SIMD route: d < 128
    /// or k < 32), and `device` records it.
    public func predict(_ data: Dataset, threads: Int = defaultThreadCount, gpu: (any GPUBackend)?) throws
        -> (labels: [Int32], distances: [Float], inertia: Double, device: GPURunRecord?) {
        guard data.cols == columns.count else {
            throw StrataError.invalidArgument("\(data.source) has \(data.cols) feature columns; the model needs \(columns.count) (\(columns.joined(separator: ",")))")
        }
        var device: GPURunRecord? = nil
        let r = try data.withRows { rows, _ in
            guard let gpu else { return nearestCentroid(rows, centroids: centroidMatrix, threads: threads) }
            let pass = try GPULloyd(backend: gpu, source: rows, weights: nil, k: centroidMatrix.rows, partition: RowPartition(rows: rows.rows))
            _ = try pass.pass(centroids: centroidMatrix, accumulate: false)
            var labels = [Int32](repeating: 0, count: rows.rows), dist = [Float](repeating: 0, count: rows.rows)
            try pass.download(labels: &labels, dist: &dist)
            device = GPURunRecord(device: gpu.info, steps: pass.times)
            return (labels: labels, distances: dist)
        }
        var inertia = 0.0
        for (i, v) in r.distances.enumerated() { inertia += Double(v) * Double(data.weights?[i] ?? 1) }
        return (r.labels, r.distances, inertia, device)
    }
}
