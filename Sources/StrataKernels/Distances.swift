import CStrataKernels
import StrataLinalg

/// Squared Euclidean distances between the rows of X (n x d) and C (k x d).
///
/// Computed by the norm expansion ||x||^2 + ||c||^2 - 2 x.c with one sgemm per row block;
/// round-off negatives are clamped to 0. Numerical caveat: the expansion loses relative
/// precision when distances are tiny compared with the norms (data far from the origin);
/// center the data first, or use `nearestCentroid`, which recomputes the winner's distance
/// exactly.
public enum SquaredEuclidean {
    /// Rows per block so that one block of distances (rows x k floats) plus its GEMM input fits
    /// `memoryBudget` bytes.
    public static func blockRows(k: Int, memoryBudget: Int) -> Int {
        max(16, min(65_536, memoryBudget / max(1, 4 * (k + 1))))
    }

    /// Streams the n x k distance matrix block by block: `body(rowRange, block)` receives a
    /// (rows x k) view valid only during the call. Memory O(blockRows * k), never O(n * k).
    /// Blocks arrive in row order on the calling thread.
    public static func forEachBlock<S: RowBlockSource>(
        _ x: S, _ c: Matrix<Float>, memoryBudget: Int = defaultBlockMemoryBudget,
        _ body: (Range<Int>, MatrixView<Float>) throws -> Void
    ) rethrows {
        precondition(x.cols == c.cols, "X has \(x.cols) columns, C has \(c.cols)")
        let k = c.rows, d = c.cols
        let br = blockRows(k: k, memoryBudget: memoryBudget)
        var buf = [Float](repeating: 0, count: br * k)
        var xn = [Float](repeating: 0, count: br)
        let cn = rowNorms(c)
        var lo = 0
        while lo < x.rows {
            let hi = min(x.rows, lo + br)
            let m = hi - lo
            try x.withRows(lo..<hi) { xp in
                try buf.withUnsafeMutableBufferPointer { b in
                    try xn.withUnsafeMutableBufferPointer { xnp in
                        try c.storage.withUnsafeBufferPointer { cp in
                            try cn.withUnsafeBufferPointer { cnp in
                                block(xp, m, d, cp.baseAddress!, k, cnp.baseAddress!, xnp.baseAddress!, b.baseAddress!)
                                try body(lo..<hi, MatrixView(b.baseAddress!, rows: m, cols: k))
                            }
                        }
                    }
                }
            }
            lo = hi
        }
    }

    /// The full n x k matrix (only when the caller really wants O(n*k) memory). Parallel over
    /// fixed row chunks; identical output for any thread count.
    public static func pairwise<S: RowBlockSource>(_ x: S, _ c: Matrix<Float>, threads: Int = defaultThreadCount) -> Matrix<Float> {
        precondition(x.cols == c.cols, "X has \(x.cols) columns, C has \(c.cols)")
        let n = x.rows, k = c.rows, d = c.cols
        var out = Matrix<Float>(rows: n, cols: k)
        let cn = rowNorms(c)
        let part = RowPartition(rows: n, chunkRows: 4_096)
        out.storage.withUnsafeMutableBufferPointer { o in
            let ob = UncheckedSendable(o.baseAddress!)
            c.storage.withUnsafeBufferPointer { cp in
                cn.withUnsafeBufferPointer { cnp in
                    let shared = UncheckedSendable((cp.baseAddress!, cnp.baseAddress!))
                    Parallel.forEachChunk(part.count, threads: threads) { chunk in
                        let r = part.range(chunk)
                        var xn = [Float](repeating: 0, count: r.count)
                        x.withRows(r) { xp in
                            xn.withUnsafeMutableBufferPointer { xnp in
                                block(xp, r.count, d, shared.value.0, k, shared.value.1, xnp.baseAddress!, ob.value + r.lowerBound * k)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Squared norms of each row.
    public static func rowNorms(_ m: Matrix<Float>) -> [Float] {
        var out = [Float](repeating: 0, count: m.rows)
        m.storage.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { strata_row_sqnorms(p.baseAddress, Int64(m.rows), Int64(m.cols), $0.baseAddress) }
        }
        return out
    }

    private static func block(_ x: UnsafePointer<Float>, _ m: Int, _ d: Int, _ c: UnsafePointer<Float>, _ k: Int,
                              _ cn: UnsafePointer<Float>, _ xn: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        strata_row_sqnorms(x, Int64(m), Int64(d), xn)
        if d == 0 {
            out.update(repeating: 0, count: m * k)
        } else {
            BLAS.gemm(transB: true, MatrixView(x, rows: m, cols: d), MatrixView(c, rows: k, cols: d),
                      into: MutableMatrixView(out, rows: m, cols: k))
        }
        strata_expand_sqdist(out, Int64(m), Int64(k), xn, cn, out)
    }
}

/// Nearest centroid for every row: labels and squared distances, nothing n x k materialized.
/// The route (SIMD or GEMM) is chosen by shape unless given. Deterministic for any `threads`.
public func nearestCentroid<S: RowBlockSource>(
    _ x: S, centroids: Matrix<Float>, route: AssignmentRoute? = nil, threads: Int = defaultThreadCount
) -> (labels: [Int32], distances: [Float]) {
    var labels = [Int32](repeating: -1, count: x.rows)
    var dist = [Float](repeating: 0, count: x.rows)
    let part = RowPartition(rows: x.rows)
    labels.withUnsafeMutableBufferPointer { l in
        dist.withUnsafeMutableBufferPointer { dp in
            switch route ?? AssignmentRoute.choose(k: centroids.rows, d: centroids.cols) {
            case .simd:
                _ = lloydPass(source: x, weights: nil, assigner: SIMDAssigner(centroids: centroids), labels: l.baseAddress!,
                              dist: dp.baseAddress!, partition: part, threads: threads, accumulate: false)
            case .gemm:
                _ = lloydPass(source: x, weights: nil, assigner: GEMMAssigner(centroids: centroids), labels: l.baseAddress!,
                              dist: dp.baseAddress!, partition: part, threads: threads, accumulate: false)
            }
        }
    }
    return (labels, dist)
}
