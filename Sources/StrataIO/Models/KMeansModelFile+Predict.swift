import StrataCore
import StrataKernels
import StrataLinalg

extension KMeansModelFile {
    /// Assigns each row of `data` to the nearest centroid. `data` must have the model's columns
    /// in the model's order (read it with `TableReadOptions(columns: model.columns)`).
    /// O(n*k*d), deterministic for any thread count.
    public func predict(_ data: Dataset, threads: Int = defaultThreadCount) throws -> (labels: [Int32], distances: [Float], inertia: Double) {
        guard data.cols == columns.count else {
            throw StrataError.invalidArgument("\(data.source) has \(data.cols) feature columns; the model needs \(columns.count) (\(columns.joined(separator: ",")))")
        }
        let r = data.withRows { rows, _ in nearestCentroid(rows, centroids: centroidMatrix, threads: threads) }
        var inertia = 0.0
        for (i, v) in r.distances.enumerated() { inertia += Double(v) * Double(data.weights?[i] ?? 1) }
        return (r.labels, r.distances, inertia)
    }
}
