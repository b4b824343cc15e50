import Foundation
import StrataKernels

/// DBSCAN options (Ester, Kriegel, Sander & Xu 1996). Defaults are scikit-learn's `DBSCAN`.
public struct DBSCANOptions: Sendable {
    /// Neighbourhood radius (Euclidean, inclusive: d <= eps), in model units. scikit-learn's
    /// default is 0.5; choose it from the data (`DBSCAN.suggestEps`).
    public var eps: Double = 0.5
    /// A row is a core point when its neighbourhood (itself included) holds at least this many
    /// rows, or this much weight with sample weights. Default 5 (scikit-learn).
    public var minSamples: Double = 5
    /// Worker threads for the neighbour queries (results do not depend on it).
    public var threads: Int = defaultThreadCount

    public init(eps: Double = 0.5, minSamples: Double = 5) { self.eps = eps; self.minSamples = minSamples }
}

/// A DBSCAN result. Labels: 0..<nClusters, -1 for noise.
public struct DBSCANResult: Sendable {
    public var labels: [Int32]
    public var isCore: [Bool]
    public var nClusters: Int
    public var nNoise: Int { labels.lazy.filter { $0 < 0 }.count }
    public var nCore: Int { isCore.lazy.filter { $0 }.count }
}

/// Exact DBSCAN with a k-d tree, in O(n + min_samples per non-core row + the core-neighbour pairs
/// of one block) memory.
///
/// Two passes of radius queries (`KDTree`), each parallel over fixed chunks of the rows in the
/// tree's (spatial) order:
/// 1. neighbourhood weight per row, counted only until it reaches min_samples -> core points; the
///    neighbours of the other rows (fewer than min_samples) are kept for step 3;
/// 2. blocks of 65,536 core rows: their core neighbours with a smaller row number become
///    union-find edges (memory: one block's edges, never all neighbourhoods as scikit-learn
///    keeps them);
/// 3. each non-core row within eps of a core row takes the smallest cluster id among them (no
///    query: its neighbours were kept in step 1).
/// Clusters are numbered by their smallest core row. This reproduces scikit-learn's labels
/// exactly: its depth-first expansion starts clusters in row order and a border row reachable
/// from several clusters keeps the first (smallest-numbered) one.
/// Deterministic whatever `threads`. Complexity: O(n log n) build plus three query passes.
public enum DBSCAN {
    /// - Parameter data: n x d rows; `data.weights` are sample weights when present.
    /// - Throws: `StrataError.invalidSetting` for a non-positive eps or min_samples.
    public static func fit(_ data: Dataset, options o: DBSCANOptions) throws -> DBSCANResult {
        guard o.eps > 0, o.eps.isFinite else { throw StrataError.invalidSetting("eps", "must be a positive number (got \(o.eps))") }
        guard o.minSamples >= 1 else { throw StrataError.invalidSetting("min_samples", "must be at least 1 (got \(o.minSamples))") }
        let m = data.materialized()
        let n = m.rows, d = m.cols
        let r2 = o.eps * o.eps
        return m.values.withUnsafeBufferPointer { vb in
            let x = UncheckedSendable(vb.baseAddress ?? UnsafePointer(bitPattern: 16)!)
            let tree = KDTree(x.value, rows: n, cols: d)
            let weights = m.weights
            // Queries run in the tree's order (neighbouring rows one after another: the nodes
            // one query touched are in cache for the next); results are stored by row.
            let rowAt = tree.treeOrder
            let partition = RowPartition(rows: n, chunkRows: 1024)
            // 1. Core points. A non-core row has fewer than min_samples neighbours (without
            //    negative weights): they are kept (at most 64 per row) for step 3, so border rows
            //    need no second query.
            let stopAt = (weights?.contains { $0 < 0 } ?? false) ? Double.infinity : o.minSamples
            let keep = stopAt.isFinite ? min(64, Int(o.minSamples.rounded(.up))) : 0
            let pass1: [[(row: Int32, core: Bool, neighbours: [Int32]?)]] = (weights ?? []).withUnsafeBufferPointer { wb in
                let w = UncheckedSendable(weights == nil ? nil : wb.baseAddress)
                return Parallel.map(partition.count, threads: o.threads) { c in
                    partition.range(c).map { p in
                        let i = Int(rowAt[p])
                        var list: [Int32] = []
                        var overflow = false
                        let total = tree.countWithin(x.value + i * d, radius2: r2, weights: w.value, atLeast: stopAt) { j in
                            if list.count < keep { list.append(Int32(j)) } else { overflow = true }
                        }
                        if total >= o.minSamples { return (Int32(i), true, nil) }
                        guard keep > 0 else { return (Int32(i), false, nil) }
                        return (Int32(i), false, overflow ? nil : list)
                    }
                }
            }
            var core = [Bool](repeating: false, count: n)
            var stored = [[Int32]?](repeating: nil, count: n)
            for chunk in pass1 { for e in chunk { core[Int(e.row)] = e.core; stored[Int(e.row)] = e.neighbours } }
            // 2. Components of the core points, block by block in tree order.
            var uf = UnionFind(count: n)
            let block = 65_536
            var start = 0
            while start < n {
                let end = min(n, start + block)
                let bp = RowPartition(rows: end - start, chunkRows: 1024)
                let edges: [[(Int32, Int32)]] = Parallel.map(bp.count, threads: o.threads) { c in
                    var e: [(Int32, Int32)] = []
                    for p in bp.range(c) {
                        let i = Int(rowAt[p + start])
                        guard core[i] else { continue }
                        tree.forEachWithin(x.value + i * d, radius2: r2) { j, _ in if j < i && core[j] { e.append((Int32(i), Int32(j))) } }
                    }
                    return e
                }
                for list in edges { for (a, b) in list { uf.union(Int(a), Int(b)) } }
                start = end
            }
            var clusterOfRoot = [Int32](repeating: -1, count: n)
            var labels = [Int32](repeating: -1, count: n)
            var next: Int32 = 0
            for i in 0..<n where core[i] {
                let r = uf.find(i)
                if clusterOfRoot[r] < 0 { clusterOfRoot[r] = next; next += 1 }
                labels[i] = clusterOfRoot[r]
            }
            // 3. Border points: the smallest cluster id among their core neighbours (from the
            //    stored lists; rows whose list overflowed are queried again).
            let coreLabels = labels
            let border: [[(Int32, Int32)]] = Parallel.map(partition.count, threads: o.threads) { c in
                partition.range(c).compactMap { p in
                    let i = Int(rowAt[p])
                    if core[i] { return nil }
                    var best = Int32.max
                    if let list = stored[i] {
                        for j in list where core[Int(j)] { best = min(best, coreLabels[Int(j)]) }
                    } else {
                        tree.forEachWithin(x.value + i * d, radius2: r2) { j, _ in if core[j] { best = min(best, coreLabels[j]) } }
                    }
                    return best == .max ? nil : (Int32(i), best)
                }
            }
            for chunk in border { for (i, l) in chunk { labels[Int(i)] = l } }
            return DBSCANResult(labels: labels, isCore: core, nClusters: Int(next))
        }
    }

    /// A suggested eps: the knee (Kneedle) of the sorted k-distance curve, k = `minSamples`
    /// (the distance of each row to its k-th nearest row, itself included, as scikit-learn's
    /// `NearestNeighbors(n_neighbors=min_samples).kneighbors(X)` gives it), on a seeded sample of
    /// at most `sample` rows queried against all rows (Ester et al. 1996, section 4.2; Rahmah &
    /// Sitanggang 2016). Returns the sorted curve too, for a chart.
    /// - Complexity: `sample` k-nearest queries on a tree of all rows.
    public static func suggestEps(_ data: Dataset, minSamples: Int, sample: Int = 10_000, seed: UInt64 = 0,
                                  threads: Int = defaultThreadCount) -> (eps: Double?, kDistances: [Double]) {
        let m = data.materialized()
        let n = m.rows, d = m.cols
        guard n > minSamples, minSamples >= 1 else { return (nil, []) }
        let rows = n > sample ? SeededRandom.sampleIndices(n, sample, seed: seed, stream: 0x4550) : Array(0..<n)
        let kd: [Double] = m.values.withUnsafeBufferPointer { vb in
            let x = UncheckedSendable(vb.baseAddress!)
            let tree = KDTree(x.value, rows: n, cols: d)
            return Parallel.map(rows.count, threads: threads) { r in
                (tree.nearestDistances2(x.value + rows[r] * d, k: minSamples).last ?? 0).squareRoot()
            }
        }
        let desc = kd.sorted(by: >)
        guard let knee = Kneedle.knee(x: desc.indices.map(Double.init), y: desc, shape: .decreasingConvex) else { return (nil, desc.reversed()) }
        return (desc[knee], desc.reversed())
    }
}
