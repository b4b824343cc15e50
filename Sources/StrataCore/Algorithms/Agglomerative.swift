import Foundation
import StrataKernels
import StrataLinalg

/// The linkage criterion of agglomerative clustering (scipy `linkage(method=...)`).
public enum Linkage: String, SettingChoice, CaseIterable {
    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

    /// Ward's minimum variance: d(A, B) = sqrt(2 |A||B| / (|A| + |B|)) ||c_A - c_B||.
    case ward
    /// Farthest pair.
    case complete
    /// Mean pairwise distance (UPGMA).
    case average
    /// Nearest pair (the minimum spanning tree).
    case single
}

/// Agglomerative clustering options. Exactly one of `nClusters` and `distanceThreshold`.
public struct AgglomerativeOptions: Sendable {
    public var linkage: Linkage = .ward
    /// Cut the tree into this many clusters (undo the last k - 1 merges).
    public var nClusters: Int? = nil
    /// Or cut where merges exceed this height: rows joined by merges of height <= T share a
    /// cluster (scipy `fcluster(criterion="distance")`).
    public var distanceThreshold: Double? = nil
    /// Two-stage mode: K-Means with this many micro-clusters first, then the linkage on their
    /// centers weighted by their sizes. nil: exact when it fits (`exactRowLimit` rows, and for
    /// complete/average the condensed distances within `memoryBudget`), else 2,000 micro-clusters.
    public var microClusters: Int? = nil
    /// Largest n run exactly when `microClusters` is nil. Default 50,000 (O(n²) time: about 30 s
    /// for Ward at 50k x 8 on 2 cores).
    public var exactRowLimit: Int = 50_000
    /// Bytes the condensed distance matrix of complete/average linkage may take.
    public var memoryBudget: Int = MemoryBudget.defaultBytes
    /// Seed of the micro-cluster K-Means.
    public var seed: UInt64 = 0
    public var threads: Int = defaultThreadCount

    public init(linkage: Linkage = .ward, nClusters: Int? = nil, distanceThreshold: Double? = nil) {
        self.linkage = linkage; self.nClusters = nClusters; self.distanceThreshold = distanceThreshold
    }
}

/// One merge in scipy's linkage-matrix format: clusters `a` < `b` (ids < n are leaves, n + i is
/// the cluster formed by merge i), their distance `height`, and the new cluster's leaf count.
public struct LinkageStep: Sendable, Equatable {
    public var a: Int
    public var b: Int
    public var height: Double
    public var size: Int
}

public struct AgglomerativeResult: Sendable {
    /// The n_leaves - 1 merges, by increasing height (scipy `linkage` output).
    public var merges: [LinkageStep]
    /// Per row: 0..<nClusters, numbered by first appearance in row order.
    public var labels: [Int32]
    public var nClusters: Int
    /// False when the tree was built on micro-clusters.
    public var exact: Bool
    /// Micro-cluster centers (M x d) and each row's micro-cluster, in two-stage mode.
    public var microCenters: Matrix<Float>?
    public var microLabels: [Int32]?
    /// Per leaf (row, or micro-cluster): its cluster.
    public var leafLabels: [Int32]
    /// Weighted mean of each cluster's rows (nClusters x d).
    public var centroids: Matrix<Float>
    public var sizes: [Int]
    public var warnings: [String] = []
}

/// Agglomerative (hierarchical) clustering: the full merge tree and a flat cut.
///
/// Exact algorithms, as scipy's `linkage` (Müllner 2011, "Modern hierarchical, agglomerative
/// clustering algorithms"):
/// - ward: the nearest-neighbour chain on cluster centers and sizes, O(n) memory, O(n² d) time
///   (scipy runs the chain on the condensed matrix with the Lance-Williams update; the heights
///   are the same quantity);
/// - complete, average: the nearest-neighbour chain on the condensed distance matrix
///   (n(n-1)/2 Doubles: 10 GB at 50k rows, checked against `memoryBudget`);
/// - single: Prim's minimum spanning tree, O(n) memory (`PrimMST`).
/// Merges are sorted by height (stable) and relabelled as scipy's `label` does, so the matrix
/// equals scipy's up to float rounding; ties between equal heights are broken as scipy breaks
/// them (lowest slot first) when the floats agree.
/// Sample weights: ward and average use them as cluster sizes; complete and single ignore them.
/// Deterministic whatever `threads`.
public enum Agglomerative {
    /// - Throws: `StrataError.invalidSetting` for a bad option, errors of the micro-cluster
    ///   K-Means.
    public static func fit(_ data: Dataset, options o: AgglomerativeOptions) throws -> AgglomerativeResult {
        guard (o.nClusters == nil) != (o.distanceThreshold == nil) else {
            throw StrataError.invalidSetting("n_clusters", "give exactly one of a number of clusters and a distance threshold")
        }
        if let k = o.nClusters, k < 1 || k > data.rows { throw StrataError.invalidSetting("k", "must be in 1...\(data.rows) (got \(k))") }
        if let t = o.distanceThreshold, !(t >= 0) || !t.isFinite { throw StrataError.invalidSetting("distance_threshold", "must be a non-negative number") }
        let m = data.materialized()
        let n = m.rows, d = m.cols
        var warnings: [String] = []
        var micro = o.microClusters
        if micro == nil && !fitsExactly(n: n, options: o) {
            micro = min(2_000, n)
            warnings.append("\(n) rows are too many for exact \(o.linkage.rawValue) linkage (limit \(o.exactRowLimit) rows, or the condensed distances exceed the memory budget); built the tree on \(micro!) K-Means micro-clusters instead (approximate, exact: false); set micro_clusters to choose")
        }
        if let mc = micro {
            guard mc >= 2, mc <= n else { throw StrataError.invalidSetting("micro_clusters", "must be in 2...\(n) (got \(mc))") }
            if let k = o.nClusters, k > mc { throw StrataError.invalidSetting("k", "\(k) exceeds the \(mc) micro-clusters") }
            var ko = KMeansOptions(k: mc)
            ko.seed = o.seed; ko.threads = o.threads; ko.nInit = 1
            ko.initialization = n > 100_000 ? .kMeansParallel(oversampling: 2, rounds: 2) : .kMeansPlusPlus
            let km = try KMeans.fit(m, options: ko)
            let leafWeights = km.clusterWeights.map { Double($0) }
            let merges = tree(km.centroids.storage, leaves: mc, cols: d, weights: leafWeights, linkage: o.linkage, threads: o.threads)
            let leaf = cut(merges, leaves: mc, options: o)
            let labels = km.labels.map { leaf.labels[Int($0)] }
            var r = finish(m, labels: labels, k: leaf.k, merges: merges, leafLabels: leaf.labels, exact: false)
            r.microCenters = km.centroids
            r.microLabels = km.labels
            r.warnings = warnings + km.warnings
            return r
        }
        let weights = m.weights.map { $0.map(Double.init) } ?? [Double](repeating: 1, count: n)
        let merges = tree(m.values, leaves: n, cols: d, weights: weights, linkage: o.linkage, threads: o.threads)
        let leaf = cut(merges, leaves: n, options: o)
        var r = finish(m, labels: leaf.labels, k: leaf.k, merges: merges, leafLabels: leaf.labels, exact: true)
        r.warnings = warnings
        return r
    }

    /// The result `fit` with `nClusters: k` gives, from a tree already built on `data` by `fit`
    /// (the merges do not depend on k): labels, leaf labels, means and sizes for k. O(n d).
    public static func recut(_ tree: AgglomerativeResult, data: Dataset, k: Int) -> AgglomerativeResult {
        let leaves = tree.merges.count + 1
        let leaf = cut(tree.merges, leaves: leaves, options: AgglomerativeOptions(linkage: .ward, nClusters: min(max(1, k), leaves)))
        let labels = tree.microLabels.map { $0.map { leaf.labels[Int($0)] } } ?? leaf.labels
        var r = finish(data, labels: labels, k: leaf.k, merges: tree.merges, leafLabels: leaf.labels, exact: tree.exact)
        r.microCenters = tree.microCenters
        r.microLabels = tree.microLabels
        r.warnings = tree.warnings
        return r
    }

    /// Whether the exact algorithm fits the options' row limit and memory budget.
    public static func fitsExactly(n: Int, options o: AgglomerativeOptions) -> Bool {
        guard n <= o.exactRowLimit else { return false }
        switch o.linkage {
        case .ward, .single: return true
        case .complete, .average: return n * (n - 1) / 2 * 8 <= o.memoryBudget
        }
    }

    /// The merges (sorted, relabelled) of `leaves` points (leaves x cols, row-major) with
    /// `weights` as initial sizes.
    public static func tree(_ points: [Float], leaves n: Int, cols d: Int, weights: [Double], linkage: Linkage, threads: Int) -> [LinkageStep] {
        guard n > 1 else { return [] }
        var raw: [(Int, Int, Double)]
        switch linkage {
        case .single:
            raw = points.withUnsafeBufferPointer { p in
                PrimMST.edges(p.baseAddress!, rows: n, cols: d, threads: threads).map { (Int($0.source), Int($0.target), $0.distance) }
            }
        case .ward:
            raw = wardChain(points, n: n, d: d, weights: weights, threads: threads)
        case .complete, .average:
            raw = condensedChain(points, n: n, d: d, weights: weights, average: linkage == .average, threads: threads)
        }
        // scipy: stable sort by height, then `label` (union-find; the new cluster is n + i).
        let order = raw.indices.sorted { (raw[$0].2, $0) < (raw[$1].2, $1) }
        var forest = MergeForest(nodes: 2 * n - 1)
        var size = [Int](repeating: 1, count: 2 * n - 1)
        var merges: [LinkageStep] = []
        merges.reserveCapacity(n - 1)
        for (i, e) in order.enumerated() {
            let (x, y, h) = raw[e]
            let rx = forest.find(x), ry = forest.find(y)
            let new = n + i
            forest.attach(rx, under: new); forest.attach(ry, under: new)
            size[new] = size[rx] + size[ry]
            merges.append(LinkageStep(a: min(rx, ry), b: max(rx, ry), height: h, size: size[new]))
        }
        return merges
    }

    /// Ward by the nearest-neighbour chain over centers (scipy's `nn_chain` slot convention: the
    /// merged cluster takes the larger slot). Returns (slot x, slot y, height) in merge order.
    static func wardChain(_ points: [Float], n: Int, d: Int, weights: [Double], threads: Int) -> [(Int, Int, Double)] {
        var center = points.map(Double.init)
        var size = weights
        var active = Array(0..<n)          // ascending slots still in use
        var chain: [Int] = []
        var out: [(Int, Int, Double)] = []
        out.reserveCapacity(n - 1)
        let chunk = 2048
        for _ in 0..<(n - 1) {
            if chain.isEmpty { chain.append(active[0]) }
            var x = 0, y = 0, current = 0.0
            while true {
                x = chain[chain.count - 1]
                var prev = -1
                current = .infinity
                if chain.count > 1 {
                    prev = chain[chain.count - 2]
                    current = wardDistance(center, size, x, prev, d)
                }
                y = prev
                let m = active.count
                let chunks = (m + chunk - 1) / chunk
                let xs = x
                let found: [(Double, Int)] = center.withUnsafeBufferPointer { cb in
                    size.withUnsafeBufferPointer { sb in
                        active.withUnsafeBufferPointer { ab in
                            let c = UncheckedSendable(cb), s = UncheckedSendable(sb), a = UncheckedSendable(ab)
                            let body: (Int) -> (Double, Int) = { ch in
                                var bv = Double.infinity, bi = -1
                                for p in (ch * chunk)..<min(m, (ch + 1) * chunk) {
                                    let i = a.value[p]
                                    if i == xs { continue }
                                    let v = wardDistance(c.value, s.value, xs, i, d)
                                    if v < bv { bv = v; bi = i }
                                }
                                return (bv, bi)
                            }
                            return chunks == 1 ? [body(0)] : Parallel.map(chunks, threads: threads, body)
                        }
                    }
                }
                for (v, i) in found where i >= 0 && v < current { current = v; y = i }
                if chain.count > 1 && y == chain[chain.count - 2] { break }
                chain.append(y)
            }
            chain.removeLast(2)
            let (lo, hi) = x < y ? (x, y) : (y, x)
            out.append((lo, hi, current))
            let nx = size[lo], ny = size[hi]
            for j in 0..<d { center[hi * d + j] = (nx * center[lo * d + j] + ny * center[hi * d + j]) / (nx + ny) }
            size[hi] = nx + ny
            size[lo] = 0
            if let p = active.firstIndex(of: lo) { active.remove(at: p) }
        }
        return out
    }

    @inline(__always)
    static func wardDistance<C: RandomAccessCollection>(_ c: C, _ s: C, _ a: Int, _ b: Int, _ d: Int) -> Double where C.Element == Double, C.Index == Int {
        var q = 0.0
        for j in 0..<d { let t = c[a * d + j] - c[b * d + j]; q += t * t }
        let na = s[a], nb = s[b]
        return (2 * na * nb / (na + nb) * q).squareRoot()
    }

    /// Complete or average linkage by the nearest-neighbour chain on the condensed matrix,
    /// exactly scipy's `nn_chain` (Lance-Williams updates).
    static func condensedChain(_ points: [Float], n: Int, d: Int, weights: [Double], average: Bool, threads: Int) -> [(Int, Int, Double)] {
        @inline(__always) func at(_ i: Int, _ j: Int) -> Int {
            let (a, b) = i < j ? (i, j) : (j, i)
            return n * a - (a * (a + 1)) / 2 + (b - a - 1)
        }
        var dist = [Double](repeating: 0, count: n * (n - 1) / 2)
        points.withUnsafeBufferPointer { p in
            dist.withUnsafeMutableBufferPointer { db in
                let x = UncheckedSendable(p.baseAddress!), out = UncheckedSendable(db.baseAddress!)
                Parallel.forEachChunk(n, threads: threads) { i in
                    let base = n * i - (i * (i + 1)) / 2 - i - 1
                    for j in (i + 1)..<n { out.value[base + j] = KDTree.distance2(x.value + i * d, x.value + j * d, d).squareRoot() }
                }
            }
        }
        var size = weights
        var active = Array(0..<n)          // ascending slots still in use
        var chain: [Int] = []
        var out: [(Int, Int, Double)] = []
        out.reserveCapacity(n - 1)
        dist.withUnsafeMutableBufferPointer { db in
            let D = db.baseAddress!
            for _ in 0..<(n - 1) {
                if chain.isEmpty { chain.append(active[0]) }
                var x = 0, y = 0, current = 0.0
                while true {
                    x = chain[chain.count - 1]
                    if chain.count > 1 { y = chain[chain.count - 2]; current = D[at(x, y)] } else { current = .infinity }
                    // Row x of the condensed matrix: D[at(i, x)] for i < x (strided), then
                    // contiguous from at(x, x + 1).
                    let rowBase = n * x - (x * (x + 1)) / 2 - x - 1
                    active.withUnsafeBufferPointer { a in
                        for i in a where i != x {
                            let v = i < x ? D[n * i - (i * (i + 1)) / 2 + (x - i - 1)] : D[rowBase + i]
                            if v < current { current = v; y = i }
                        }
                    }
                    if chain.count > 1 && y == chain[chain.count - 2] { break }
                    chain.append(y)
                }
                chain.removeLast(2)
                if x > y { swap(&x, &y) }
                out.append((x, y, current))
                let nx = size[x], ny = size[y]
                size[y] = nx + ny
                if let p = active.firstIndex(of: x) { active.remove(at: p) }
                for i in active where i != y {
                    let dx = D[at(i, x)], dy = D[at(i, y)]
                    D[at(i, y)] = average ? (nx * dx + ny * dy) / (nx + ny) : max(dx, dy)
                }
            }
        }
        return out
    }

    /// Flat clusters from the merges: the first n - k merges, or those of height <= threshold.
    /// Labels numbered by first appearance in leaf order.
    public static func cut(_ merges: [LinkageStep], leaves n: Int, options o: AgglomerativeOptions) -> (labels: [Int32], k: Int) {
        let applied: Int
        if let k = o.nClusters { applied = n - k } else {
            let t = o.distanceThreshold!
            applied = merges.prefix { $0.height <= t }.count
        }
        var forest = MergeForest(nodes: 2 * n - 1)
        for (i, s) in merges.prefix(applied).enumerated() { forest.attach(s.a, under: n + i); forest.attach(s.b, under: n + i) }
        var id = [Int: Int32]()
        var labels = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let r = forest.find(i)
            if let l = id[r] { labels[i] = l } else { let l = Int32(id.count); id[r] = l; labels[i] = l }
        }
        return (labels, id.count)
    }

    static func finish(_ data: Dataset, labels: [Int32], k: Int, merges: [LinkageStep], leafLabels: [Int32], exact: Bool) -> AgglomerativeResult {
        let means = ClusterMeans.weighted(data, labels: labels, k: k)
        let centroids = Matrix(rows: k, cols: data.cols, storage: means.flatMap { $0.map(Float.init) })
        return AgglomerativeResult(merges: merges, labels: labels, nClusters: k, exact: exact, microCenters: nil, microLabels: nil,
                                   leafLabels: leafLabels, centroids: centroids, sizes: ClusterLabels.counts(labels, k: k))
    }
}
