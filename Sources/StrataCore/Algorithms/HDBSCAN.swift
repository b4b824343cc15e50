import Foundation
import StrataKernels

/// HDBSCAN options (Campello, Moulavi & Sander 2013). Defaults are scikit-learn's `HDBSCAN`.
public struct HDBSCANOptions: Sendable {
    /// The smallest group counted as a cluster. Default 5.
    public var minClusterSize: Int = 5
    /// Neighbours (the row itself included) defining a row's core distance. nil: minClusterSize.
    public var minSamples: Int? = nil
    /// "eom" (excess of mass, default) or "leaf".
    public var selection: ClusterSelection = .eom
    /// Largest n accepted (Prim's tree is O(n²) time). Default 200,000 (about 2 min at x 8 on
    /// 2 cores); fit a sample, then `predict` the rest, beyond that.
    public var rowLimit: Int = 200_000
    public var threads: Int = defaultThreadCount

    public init(minClusterSize: Int = 5, minSamples: Int? = nil) { self.minClusterSize = minClusterSize; self.minSamples = minSamples }

    /// How flat clusters are read off the condensed tree.
    public enum ClusterSelection: String, SettingChoice, CaseIterable {
        public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
        public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }
        /// Excess of mass: the most persistent clusters (scikit-learn's default).
        case eom
        /// The leaves of the condensed tree: smaller, more homogeneous clusters.
        case leaf
    }
}

/// An HDBSCAN result. Labels 0..<nClusters, -1 for noise; probabilities in [0, 1] (0 for noise).
public struct HDBSCANResult: Sendable {
    public var labels: [Int32]
    public var probabilities: [Double]
    public var nClusters: Int
    /// Per row: the core distance (distance to its min_samples-th neighbour, itself included).
    public var coreDistances: [Double]
    /// Per cluster: the lambda (1 / distance) at which it was born and the largest lambda of any
    /// of its points (probabilities are lambda / that).
    public var birthLambdas: [Double]
    public var maxLambdas: [Double]
    public var nNoise: Int { labels.lazy.filter { $0 < 0 }.count }
}

/// HDBSCAN: core distances (k-d tree), the minimum spanning tree of the mutual-reachability
/// graph (Prim, O(n) memory), the single-linkage tree, the condensed tree for
/// `minClusterSize`, and the excess-of-mass (or leaf) selection, as scikit-learn's `HDBSCAN`
/// (`_hdbscan/_linkage.pyx`, `_tree.pyx`, after the `hdbscan` package of McInnes, Healy &
/// Astels 2017). Labels equal scikit-learn's up to renumbering when no two MST edges tie;
/// scikit-learn sorts the edges with an unstable sort, Strata with a stable one.
/// Deterministic whatever `threads`. Complexity O(n² d) time, O(n) memory.
public enum HDBSCAN {
    /// - Throws: `StrataError.invalidSetting` for bad options or too many rows.
    public static func fit(_ data: Dataset, options o: HDBSCANOptions) throws -> HDBSCANResult {
        let n = data.rows
        let minSamples = o.minSamples ?? o.minClusterSize
        guard o.minClusterSize >= 2 else { throw StrataError.invalidSetting("min_cluster_size", "must be at least 2 (got \(o.minClusterSize))") }
        guard minSamples >= 1 else { throw StrataError.invalidSetting("min_samples", "must be at least 1 (got \(minSamples))") }
        guard o.minClusterSize <= n else {
            throw StrataError.invalidSetting("min_cluster_size", "\(o.minClusterSize) exceeds the \(n) rows of \(data.source)")
        }
        guard n > minSamples else { throw StrataError.insufficientData("\(data.source): HDBSCAN needs more rows (\(n)) than min_samples (\(minSamples))") }
        guard n <= o.rowLimit else {
            throw StrataError.invalidSetting("rows", "HDBSCAN is O(n²): \(n) rows exceed the limit of \(o.rowLimit); fit a sample (e.g. sample rows first) and assign the rest with `strata predict`")
        }
        let m = data.materialized()
        let d = m.cols
        return m.values.withUnsafeBufferPointer { vb in
            let x = UncheckedSendable(vb.baseAddress!)
            let tree = KDTree(x.value, rows: n, cols: d)
            let core = Parallel.map(n, threads: o.threads) { i in
                (tree.nearestDistances2(x.value + i * d, k: minSamples).last ?? 0).squareRoot()
            }
            let mst = PrimMST.edges(x.value, rows: n, cols: d, core: core, threads: o.threads)
            let order = mst.indices.sorted { (mst[$0].distance, $0) < (mst[$1].distance, $1) }
            let single = singleLinkage(order.map { mst[$0] }, n: n)
            var r = HDBSCANTree.labels(single, n: n, minClusterSize: o.minClusterSize, selection: o.selection)
            r.coreDistances = core
            return r
        }
    }

    /// scikit-learn's `make_single_linkage`: merges of the sorted MST edges, left = the source's
    /// cluster, right = the target's, new cluster n + i.
    static func singleLinkage(_ edges: [MSTEdge], n: Int) -> [LinkageStep] {
        var forest = MergeForest(nodes: 2 * n - 1)
        var size = [Int](repeating: 1, count: 2 * n - 1)
        var out: [LinkageStep] = []
        out.reserveCapacity(n - 1)
        for (i, e) in edges.enumerated() {
            let a = forest.find(Int(e.source)), b = forest.find(Int(e.target))
            let s = size[a] + size[b]
            out.append(LinkageStep(a: a, b: b, height: e.distance, size: s))
            forest.attach(a, under: n + i); forest.attach(b, under: n + i); size[n + i] = s
        }
        return out
    }
}

/// The condensed tree and flat cluster extraction of HDBSCAN (scikit-learn `_tree.pyx`:
/// `_condense_tree`, `_compute_stability`, `_get_clusters`, `do_labelling`,
/// `get_probabilities`), with allow_single_cluster = false and cluster_selection_epsilon = 0.
enum HDBSCANTree {
    struct Edge { var parent: Int; var child: Int; var lambda: Double; var size: Int }

    static func labels(_ hierarchy: [LinkageStep], n: Int, minClusterSize: Int, selection: HDBSCANOptions.ClusterSelection) -> HDBSCANResult {
        let condensed = condense(hierarchy, n: n, minClusterSize: minClusterSize)
        var stability = computeStability(condensed, n: n)
        let root = n
        let maxParent = condensed.map(\.parent).max() ?? root
        // Nodes are numbered in topological order (children after parents).
        let clusterEdges = condensed.filter { $0.size > 1 }
        var children = [Int: [Int]]()
        var clusterSize = [Int: Int]()
        for e in clusterEdges { children[e.parent, default: []].append(e.child); clusterSize[e.child] = e.size }
        var isCluster = [Int: Bool]()
        let nodeList = Array(stride(from: maxParent, to: root, by: -1))   // excludes the root
        for c in nodeList { isCluster[c] = true }
        func descendants(_ c: Int) -> [Int] {
            var out: [Int] = [], queue = [c]
            while !queue.isEmpty { out += queue; queue = queue.flatMap { children[$0] ?? [] } }
            return out
        }
        switch selection {
        case .eom:
            for node in nodeList {
                let sub = (children[node] ?? []).reduce(0.0) { $0 + (stability[$1] ?? 0) }
                if sub > (stability[node] ?? 0) {
                    isCluster[node] = false
                    stability[node] = sub
                } else {
                    for s in descendants(node) where s != node { isCluster[s] = false }
                }
            }
        case .leaf:
            for c in nodeList { isCluster[c] = children[c] == nil }
        }
        let clusters = isCluster.filter(\.value).map(\.key).sorted()
        var clusterID = [Int: Int32]()
        for (i, c) in clusters.enumerated() { clusterID[c] = Int32(i) }
        // do_labelling: points joined to their selected ancestor cluster, else noise.
        var forest = MergeForest(nodes: maxParent + 1)
        // Join each child to its parent's top unless the child is a selected cluster (the top is
        // then the selected ancestor, or the root for noise).
        for e in condensed where clusterID[e.child] == nil { forest.attach(e.child, under: forest.find(e.parent)) }
        var labels = [Int32](repeating: -1, count: n)
        for i in 0..<n {
            let c = forest.find(i)
            labels[i] = c > root ? (clusterID[c] ?? -1) : -1
        }
        // Probabilities: lambda / the cluster's largest lambda (scikit-learn `get_probabilities`).
        var deaths = [Double](repeating: 0, count: maxParent + 1)
        for e in condensed { deaths[e.parent] = max(deaths[e.parent], e.lambda) }
        var probabilities = [Double](repeating: 0, count: n)
        for e in condensed where e.child < root {
            let l = labels[e.child]
            guard l >= 0 else { continue }
            let maxLambda = deaths[clusters[Int(l)]]
            probabilities[e.child] = (maxLambda == 0 || e.lambda.isInfinite) ? 1 : min(e.lambda, maxLambda) / maxLambda
        }
        var births = [Double](repeating: 0, count: maxParent + 1)
        for e in condensed where e.child >= root { births[e.child] = e.lambda }
        return HDBSCANResult(labels: labels, probabilities: probabilities, nClusters: clusters.count, coreDistances: [],
                             birthLambdas: clusters.map { births[$0] }, maxLambdas: clusters.map { deaths[$0] })
    }

    /// scikit-learn `_condense_tree`.
    static func condense(_ h: [LinkageStep], n: Int, minClusterSize: Int) -> [Edge] {
        let root = 2 * (n - 1)
        var relabel = [Int](repeating: 0, count: root + 1)
        relabel[root] = n
        var nextLabel = n + 1
        var ignore = [Bool](repeating: false, count: root + 1)
        var out: [Edge] = []
        func count(_ node: Int) -> Int { node >= n ? h[node - n].size : 1 }
        func leavesBFS(_ start: Int) -> [Int] {
            var result: [Int] = [], queue = [start]
            while !queue.isEmpty {
                result += queue
                queue = queue.filter { $0 >= n }.flatMap { [h[$0 - n].a, h[$0 - n].b] }
            }
            return result
        }
        for node in leavesBFS(root) {
            if ignore[node] || node < n { continue }
            let s = h[node - n]
            let left = s.a, right = s.b
            let lambda = s.height > 0 ? 1 / s.height : .infinity
            let lc = count(left), rc = count(right)
            if lc >= minClusterSize && rc >= minClusterSize {
                relabel[left] = nextLabel; nextLabel += 1
                out.append(Edge(parent: relabel[node], child: relabel[left], lambda: lambda, size: lc))
                relabel[right] = nextLabel; nextLabel += 1
                out.append(Edge(parent: relabel[node], child: relabel[right], lambda: lambda, size: rc))
            } else if lc < minClusterSize && rc < minClusterSize {
                for side in [left, right] {
                    for sub in leavesBFS(side) {
                        if sub < n { out.append(Edge(parent: relabel[node], child: sub, lambda: lambda, size: 1)) }
                        ignore[sub] = true
                    }
                }
            } else if lc < minClusterSize {
                relabel[right] = relabel[node]
                for sub in leavesBFS(left) {
                    if sub < n { out.append(Edge(parent: relabel[node], child: sub, lambda: lambda, size: 1)) }
                    ignore[sub] = true
                }
            } else {
                relabel[left] = relabel[node]
                for sub in leavesBFS(right) {
                    if sub < n { out.append(Edge(parent: relabel[node], child: sub, lambda: lambda, size: 1)) }
                    ignore[sub] = true
                }
            }
        }
        return out
    }

    /// scikit-learn `_compute_stability`: sum over a cluster's children of
    /// (lambda - the cluster's birth lambda) x child size.
    static func computeStability(_ t: [Edge], n: Int) -> [Int: Double] {
        let root = n
        var birth = [Int: Double]()
        for e in t { birth[e.child] = min(birth[e.child] ?? .infinity, e.lambda) }
        birth[root] = 0
        var result = [Int: Double]()
        let maxParent = t.map(\.parent).max() ?? root
        for c in root...maxParent { result[c] = 0 }
        for e in t { result[e.parent, default: 0] += (e.lambda - (birth[e.parent] ?? 0)) * Double(e.size) }
        return result
    }
}
