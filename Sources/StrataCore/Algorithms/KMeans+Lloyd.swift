import Foundation
import StrataKernels
import StrataLinalg

/// The result of one Lloyd run (one restart).
struct LloydRun {
    var centers: Matrix<Float>
    var inertia: Double
    var nIter: Int
    var converged: Bool
    var iterations: [KMeansIteration]
    var clusterWeights: [Double]
}

/// The Lloyd-step policy, chosen once per fit (mlpack style): it hands out the assigner for each
/// iteration's centers, so the pass itself never branches on the variant.
protocol LloydStepper {
    associatedtype Assigner: CentroidAssigner
    mutating func assigner(for centers: Matrix<Float>) -> Assigner
}

/// Plain Lloyd: every row against every center.
struct PlainStepper<A: CentroidAssigner>: LloydStepper {
    let make: (Matrix<Float>) -> A
    func assigner(for centers: Matrix<Float>) -> A { make(centers) }
}

/// Hamerly: bounds per row, valid against the centers of the previous call.
struct HamerlyStepper: LloydStepper {
    let bounds: HamerlyBounds
    var previous: Matrix<Float>? = nil

    init(rows: Int) { bounds = HamerlyBounds(rows: rows) }

    mutating func assigner(for centers: Matrix<Float>) -> HamerlyAssigner {
        defer { previous = centers }
        if let p = previous { return HamerlyAssigner(centroids: centers, previous: p, bounds: bounds) }
        return HamerlyAssigner(initial: centers, bounds: bounds)
    }
}

extension KMeans {
    /// One Lloyd run from `initial`, as scikit-learn's `_kmeans_single_lloyd`:
    /// each iteration assigns rows to the current centers and accumulates the new centers in the
    /// same pass; empty clusters are relocated to the rows farthest from their centers; the run
    /// stops when no label changes ("strict convergence") or the total squared center shift is
    /// <= `absTol`. A final assignment pass makes labels, distances and inertia match the
    /// returned centers. With `device`, its passes replace `lloydPass` (bit-identical to the
    /// plain SIMD stepper's); labels and distances come back to the host only for empty-cluster
    /// relocation and after the final pass.
    static func lloyd<S: LloydStepper>(
        _ rows: DenseRows, weights: UnsafePointer<Float>?, initial: Matrix<Double>, options o: KMeansOptions,
        run: Int, absTol: Double, partition: RowPartition,
        labels: inout [Int32], dist: inout [Float], stepper: inout S, device: GPULloyd? = nil
    ) throws -> LloydRun {
        let k = initial.rows, d = initial.cols
        var centers = initial
        var iterations: [KMeansIteration] = []
        var converged = false
        var nIter = 0
        var weightsPerCluster = [Double](repeating: 0, count: k)
        try device?.setLabels(labels)
        func pass(_ c: Matrix<Float>, _ stepper: inout S) throws -> ClusterStatistics {
            if let device { return try device.pass(centroids: c) }
            let assigner = stepper.assigner(for: c)
            return labels.withUnsafeMutableBufferPointer { l in
                dist.withUnsafeMutableBufferPointer { dp in
                    lloydPass(source: rows, weights: weights, assigner: assigner, labels: l.baseAddress!, dist: dp.baseAddress!,
                              partition: partition, threads: o.threads, group: o.group)
                }
            }
        }
        for it in 1...o.maxIterations {
            let t0 = Date()
            let stats = try pass(toFloat(centers), &stepper)
            if let device, stats.weights.contains(0) { try device.download(labels: &labels, dist: &dist) }
            var sums = stats.sums
            var w = stats.weights
            let relocated = relocateEmptyClusters(rows, weights: weights, labels: labels, dist: dist, sums: &sums, clusterWeights: &w,
                                                  partition: partition, group: o.group)
            var next = centers
            var shift = 0.0
            for c in 0..<k {
                if w[c] > 0 {
                    let inv = 1.0 / w[c]
                    for j in 0..<d { next[c, j] = sums[c * d + j] * inv }
                }
                // A cluster whose only row was moved away keeps its previous center.
                for j in 0..<d { let t = next[c, j] - centers[c, j]; shift += t * t }
            }
            centers = next
            weightsPerCluster = w
            nIter = it
            let record = KMeansIteration(iteration: it, inertia: stats.inertia, centerShift: shift, changed: stats.changed,
                                         relocated: relocated, fullyAssigned: stats.fullyAssigned, seconds: Date().timeIntervalSince(t0))
            iterations.append(record)
            o.onIteration?(run, record)
            if it > 1 && stats.changed == 0 { converged = true; break }
            if shift <= absTol { converged = true; break }
        }
        // Final assignment so labels and inertia belong to the returned centers.
        let final = toFloat(centers)
        let stats = try pass(final, &stepper)
        try device?.download(labels: &labels, dist: &dist)
        return LloydRun(centers: final, inertia: stats.inertia, nIter: nIter, converged: converged, iterations: iterations,
                        clusterWeights: stats.weights.isEmpty ? weightsPerCluster : stats.weights)
    }

    static func toFloat(_ m: Matrix<Double>) -> Matrix<Float> {
        Matrix(rows: m.rows, cols: m.cols, storage: m.storage.map { Float($0) })
    }

    /// scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes one of the rows
    /// farthest from their current centers (largest `dist` first, lowest index on ties); that
    /// row's contribution moves from its old cluster to the empty one. Rows of weight 0 are never
    /// taken (scikit-learn may take one, which leaves the cluster empty). Returns how many moved.
    /// O(n * log(empty)) for the selection.
    static func relocateEmptyClusters(_ rows: DenseRows, weights: UnsafePointer<Float>?, labels: [Int32], dist: [Float],
                                      sums: inout [Double], clusterWeights w: inout [Double],
                                      partition: RowPartition? = nil, group: any ChunkGroup = SingleProcess()) -> Int {
        let empty = w.indices.filter { w[$0] == 0 }
        if empty.isEmpty { return 0 }
        let d = rows.cols
        var far: [Int]
        if group.isDistributed, let partition {
            // Each rank's farthest rows among its own chunks; the global choice from the union
            // (same order rule), then each row's label from its owner.
            let local = group.localChunks(partition.count)
            let lo = local.isEmpty ? 0 : partition.range(local.lowerBound).lowerBound
            let hi = local.isEmpty ? 0 : partition.range(local.upperBound - 1).upperBound
            let mine = farthestRows(Array(dist[lo..<hi]), count: empty.count, weights: weights.map { $0 + lo }).map { $0 + lo }
            let width = 2 * empty.count
            var flat = [Double](repeating: -1, count: group.size * width)
            for (t, i) in mine.enumerated() { flat[group.rank * width + 2 * t] = Double(dist[i]); flat[group.rank * width + 2 * t + 1] = Double(i) }
            group.allGather(&flat, chunks: group.size, width: width)
            var all: [(Float, Int)] = []
            for t in stride(from: 0, to: flat.count, by: 2) where flat[t + 1] >= 0 { all.append((Float(flat[t]), Int(flat[t + 1]))) }
            all.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
            far = all.prefix(empty.count).map(\.1)
        } else {
            far = farthestRows(dist, count: empty.count, weights: weights)
        }
        for (e, i) in zip(empty, far) {
            let wi = weights.map { Double($0[i]) } ?? 1
            var old = Int(labels[i])
            if group.isDistributed, let partition {
                let chunk = i / partition.chunkRows
                old = group.broadcast(old, chunk: chunk, chunks: partition.count)
            }
            rows.withRows(i..<(i + 1)) { x in
                for j in 0..<d {
                    sums[old * d + j] -= Double(x[j]) * wi
                    sums[e * d + j] = Double(x[j]) * wi
                }
            }
            w[e] = wi
            w[old] -= wi
        }
        return empty.count
    }

    /// Indices of the `count` largest values, largest first, lower index first on ties; with
    /// `weights` (indexed like `dist`), among the rows of positive weight only.
    package static func farthestRows(_ dist: [Float], count: Int, weights: UnsafePointer<Float>? = nil) -> [Int] {
        // Min-heap of (value, index) of size count; small counts, simple sorted insertion.
        var top: [(Float, Int)] = []
        top.reserveCapacity(count + 1)
        func better(_ a: (Float, Int), _ b: (Float, Int)) -> Bool { a.0 > b.0 || (a.0 == b.0 && a.1 < b.1) }
        for (i, v) in dist.enumerated() {
            if let w = weights, !(w[i] > 0) { continue }
            if top.count == count, let last = top.last, !better((v, i), last) { continue }
            var pos = top.count
            while pos > 0 && better((v, i), top[pos - 1]) { pos -= 1 }
            top.insert((v, i), at: pos)
            if top.count > count { top.removeLast() }
        }
        return top.map { $0.1 }
    }
}
