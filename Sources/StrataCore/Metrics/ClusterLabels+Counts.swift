extension ClusterLabels {
    /// Rows per label for labels in 0..<k (a label outside traps). O(n).
    public static func counts(_ labels: [Int32], k: Int) -> [Int] {
        var c = [Int](repeating: 0, count: k)
        for l in labels { c[Int(l)] += 1 }
        return c
    }
}
