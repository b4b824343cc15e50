import StrataKernels

extension GMMModel {
    /// Posterior probabilities (n x k, row-major), most probable components, and the mean
    /// log-likelihood per row. `data` must have the model's features in the model's order.
    /// One pass, O(n k d^2) (full/tied) or O(n k d); deterministic for any thread count.
    public func predict(_ data: Dataset, threads: Int = defaultThreadCount) throws
        -> (labels: [Int32], probabilities: [Double], meanLogLikelihood: Double) {
        guard data.cols == d else {
            throw StrataError.invalidArgument("\(data.source) has \(data.cols) feature columns; the model needs \(d)")
        }
        // Center for the full/tied GEMM: the mixture's mean (no extra pass over the data).
        let center = (0..<d).map { j in (0..<k).reduce(0.0) { $0 + weights[$1] * means[$1 * d + j] } }
        var labels = [Int32](repeating: 0, count: data.rows)
        var proba = [Double](repeating: 0, count: data.rows * k)
        let stats = data.withRows { rows, _ in
            labels.withUnsafeMutableBufferPointer { lp in
                proba.withUnsafeMutableBufferPointer { pp in
                    GMMStatistics.pass(rows, k: k, type: covarianceType, center: center, partition: RowPartition(rows: data.rows),
                                       threads: threads, responsibilities: .model(self), labelsOut: lp.baseAddress,
                                       probaOut: pp.baseAddress, accumulate: false)
                }
            }
        }
        return (labels, proba, stats.logLikelihood / Double(data.rows))
    }
}
