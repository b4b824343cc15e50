import Foundation

/// Per-cluster means and each row's squared distance to its own cluster's mean, for labelings
/// that have no centers of their own (agglomerative, DBSCAN, HDBSCAN). Rows labelled outside
/// 0..<k (noise, -1) are left out.
public enum ClusterMeans {
    /// k x d: the weighted mean of each cluster's rows (weights 1 without `data.weights`);
    /// zeros for a cluster without weight. O(n d), sums in Double.
    public static func weighted(_ data: Dataset, labels: [Int32], k: Int) -> [[Double]] {
        let m = data.materialized()
        let d = m.cols
        var sums = [Double](repeating: 0, count: k * d), w = [Double](repeating: 0, count: k)
        for i in 0..<m.rows where labels[i] >= 0 && Int(labels[i]) < k {
            let l = Int(labels[i]), wi = Double(m.weights?[i] ?? 1)
            w[l] += wi
            for j in 0..<d { sums[l * d + j] += wi * Double(m.values[i * d + j]) }
        }
        return (0..<k).map { c in (0..<d).map { w[c] > 0 ? sums[c * d + $0] / w[c] : 0 } }
    }

    /// Per row: the squared Euclidean distance to `means[label]`, NaN for rows outside 0..<k.
    public static func squaredDistances(_ data: Dataset, labels: [Int32], means: [[Double]]) -> [Double] {
        let m = data.materialized()
        let d = m.cols
        return (0..<m.rows).map { i in
            let l = Int(labels[i])
            guard l >= 0 && l < means.count else { return .nan }
            var s = 0.0
            for j in 0..<d { let t = Double(m.values[i * d + j]) - means[l][j]; s += t * t }
            return s
        }
    }
}
