import Foundation
import StrataKernels

/// How new rows are assigned to the clusters of a hierarchical, DBSCAN or HDBSCAN model, whose
/// clusters have no centers to compare with: by the stored training rows ("prototypes").
public enum PrototypeRule: Sendable, Equatable {
    /// The label of the nearest prototype (hierarchical: the training rows, or the
    /// micro-cluster centers in two-stage mode). Score: the squared Euclidean distance to it (as K-Means labels files).
    case nearest
    /// DBSCAN's inductive rule (scikit-learn's documentation for new data): the cluster of the
    /// nearest core point when it lies within eps, else noise (-1). Score: that squared distance.
    case dbscan(eps: Double)
    /// HDBSCAN's approximate prediction (McInnes et al., `hdbscan.approximate_predict`), at the
    /// level of the selected clusters: the new row's core distance is its distance to its
    /// (min_samples - 1)-th nearest training row; it joins the cluster of the training row
    /// nearest by mutual reachability among its 2 x min_samples nearest rows, unless that row is
    /// noise or the reach exceeds 1 / the cluster's birth lambda (then noise). Score: the
    /// membership probability min(lambda, max lambda) / max lambda, lambda = 1 / reach.
    /// A row identical to a training row takes that row's label and probability, so the fit's own
    /// rows are reproduced exactly (`probabilities`: the training rows', may be empty).
    case hdbscan(minSamples: Int, coreDistances: [Double], birthLambdas: [Double], maxLambdas: [Double], probabilities: [Double])
}

public enum PrototypeAssignment {
    /// Assigns every row of `data` (n x d) given `prototypes` (p x d) with `labels` (p).
    /// - Returns: per row the label (-1: noise) and the rule's score.
    /// - Complexity: a k-d tree over the prototypes, one query per row; parallel over fixed chunks,
    ///   deterministic whatever `threads`.
    public static func assign(_ data: Dataset, prototypes: [Float], labels: [Int32], rule: PrototypeRule,
                              threads: Int = defaultThreadCount) -> (labels: [Int32], scores: [Double]) {
        let m = data.materialized()
        let n = m.rows, d = m.cols
        let p = labels.count
        guard p > 0, prototypes.count == p * d else { return ([Int32](repeating: -1, count: n), [Double](repeating: .nan, count: n)) }
        // DBSCAN: only core points are kept as prototypes by the model, so all rules search the tree.
        let out: [(Int32, Double)] = prototypes.withUnsafeBufferPointer { pb in
            m.values.withUnsafeBufferPointer { xb in
                let tree = KDTree(pb.baseAddress!, rows: p, cols: d)
                let x = UncheckedSendable(xb.baseAddress ?? UnsafePointer(bitPattern: 16)!)
                let partition = RowPartition(rows: n, chunkRows: 1024)
                let chunks: [[(Int32, Double)]] = Parallel.map(partition.count, threads: threads) { c in
                    partition.range(c).map { i -> (Int32, Double) in
                        let q = x.value + i * d
                        switch rule {
                        case .nearest:
                            let (row, d2) = tree.nearest(q)!
                            return (labels[row], d2)
                        case let .dbscan(eps):
                            let (row, d2) = tree.nearest(q)!
                            return d2 <= eps * eps ? (labels[row], d2) : (-1, d2)
                        case let .hdbscan(minSamples, core, births, maxLambdas, probabilities):
                            return hdbscanAssign(q, tree: tree, prototypes: pb.baseAddress!, d: d, labels: labels, minSamples: minSamples,
                                                 core: core, births: births, maxLambdas: maxLambdas, probabilities: probabilities)
                        }
                    }
                }
                return chunks.flatMap { $0 }
            }
        }
        return (out.map(\.0), out.map(\.1))
    }

    static func hdbscanAssign(_ q: UnsafePointer<Float>, tree: KDTree, prototypes: UnsafePointer<Float>, d: Int, labels: [Int32], minSamples: Int,
                              core: [Double], births: [Double], maxLambdas: [Double], probabilities: [Double]) -> (Int32, Double) {
        let k = min(labels.count, max(2 * minSamples, 1))
        var near: [(Int, Double)] = []
        let r2 = tree.nearestDistances2(q, k: k).last ?? 0
        tree.forEachWithin(q, radius2: r2) { j, d2 in near.append((j, d2.squareRoot())) }
        near.sort { ($0.1, $0.0) < ($1.1, $1.0) }
        if let (j, dist) = near.first, dist == 0, probabilities.count == labels.count { return (labels[j], probabilities[j]) }
        let ownCore = minSamples <= 1 ? 0 : near[min(near.count - 1, minSamples - 2)].1
        var best = -1, bestReach = Double.infinity
        for (j, dist) in near.prefix(k) {
            let reach = max(core[j], ownCore, dist)
            if reach < bestReach { bestReach = reach; best = j }
        }
        guard best >= 0 else { return (-1, 0) }
        let c = labels[best]
        guard c >= 0 else { return (-1, 0) }
        let lambda = bestReach > 0 ? 1 / bestReach : Double.greatestFiniteMagnitude
        guard lambda >= births[Int(c)] else { return (-1, 0) }
        let maxL = maxLambdas[Int(c)]
        return (c, maxL > 0 ? min(lambda, maxL) / maxL : 1)
    }
}
