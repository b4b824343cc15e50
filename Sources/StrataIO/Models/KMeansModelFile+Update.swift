import StrataCore
import Foundation
import StrataKernels
import StrataLinalg

/// What one online update did.
public struct KMeansUpdateReport: Sendable {
    /// New rows assigned to each segment.
    public var assigned: [Int]
    /// Euclidean distance each center moved (model space).
    public var shift: [Double]
    /// Effective counts before (after decay) and after.
    public var countsBefore: [Double]
    public var countsAfter: [Double]
    public var decay: Double
    public var rows: Int
}

extension KMeansModelFile {
    /// Online update with new rows (Spark StreamingKMeans' rule): each new row goes to its
    /// nearest center; then c <- (c * n * a + sum_new) / (n * a + m) and n <- n * a + m, where n
    /// is the center's count so far (`cluster_sizes`, fractional after decay), a the decay factor
    /// (1: all history weighs equally; 0: only the new rows) and m the new rows' count. Segment
    /// ids never change; a center that gets no new rows keeps its place and only loses weight.
    /// One pass over `data` (model space, preprocessed as the model's stages do).
    public func updated(with data: Dataset, decay a: Double, threads: Int) throws -> (KMeansModelFile, KMeansUpdateReport) {
        guard a >= 0 && a <= 1 else { throw StrataError.invalidArgument("decay must be in [0, 1] (got \(a))") }
        guard data.cols == columns.count else {
            throw StrataError.invalidArgument("\(data.source) has \(data.cols) model features; the model needs \(columns.count)")
        }
        let d = columns.count
        let c = centroidMatrix
        var stats = ClusterStatistics(k: k, d: d)
        var labels = [Int32](repeating: -1, count: data.rows), dist = [Float](repeating: 0, count: data.rows)
        data.withRows { rows, w in
            labels.withUnsafeMutableBufferPointer { l in
                dist.withUnsafeMutableBufferPointer { dp in
                    stats = lloydPass(source: rows, weights: w, assigner: SIMDAssigner(centroids: c), labels: l.baseAddress!,
                                      dist: dp.baseAddress!, partition: RowPartition(rows: data.rows), threads: threads)
                }
            }
        }
        let assigned = ClusterLabels.counts(labels, k: k)
        let counts = (sizeWeights ?? clusterSizes.map(Double.init))
        var next = self
        var shift = [Double](repeating: 0, count: k), before = [Double](repeating: 0, count: k), after = [Double](repeating: 0, count: k)
        for s in 0..<k {
            let old = counts[s] * a
            before[s] = old
            let m = stats.weights[s]
            after[s] = old + m
            guard after[s] > 0 else { continue }
            var moved = 0.0
            for j in 0..<d {
                let v = (centroids[s][j] * old + stats.sums[s * d + j]) / after[s]
                moved += (v - centroids[s][j]) * (v - centroids[s][j])
                next.centroids[s][j] = v
            }
            shift[s] = moved.squareRoot()
        }
        next.sizeWeights = after
        next.clusterSizes = after.map { $0 < 9e18 ? Int($0.rounded()) : Int.max }   // weight sums of huge weights saturate, never trap
        next.trainingRows = trainingRows + data.rows
        next.strataVersion = Strata.version
        next.updates = (updates ?? 0) + 1
        return (next, KMeansUpdateReport(assigned: assigned, shift: shift, countsBefore: before, countsAfter: after, decay: a, rows: data.rows))
    }
}
