import CStrataKernels
import StrataLinalg

/// One worker's block workspace for a Gaussian-mixture pass: the E-step kernels and the
/// sufficient-statistics accumulation over blocks of at most `blockRows` rows (d features,
/// k components), Float storage, Double accumulation.
///
/// Use per block: `load` the rows, fill the responsibilities (`eStepDiag` / `eStepFull`, or
/// `setResponsibility`), then optionally `accumulate`; after the last block of a chunk,
/// `fullSecondMoments` (full/tied only). Each call visits the block's rows in order and every
/// workspace is private to one worker, so results depend only on the rows. Memory:
/// O(blockRows * k * d) for full/tied covariances, O(blockRows * (k + d)) otherwise.
public struct GMMBlock {
    /// Rows per block.
    public static let blockRows = 256
    public let k: Int
    public let d: Int
    /// Full/tied covariances (d x d second moments per component) rather than diag/spherical.
    public let full: Bool
    /// Rows in the current block (set by `load`).
    public private(set) var rows = 0

    private var xc: [Float]       // B x d, rows - center
    private var resp: [Float]     // k x B, component-major responsibilities
    private var yt: [Float]       // full: (k * d) x B, C_c^T (x - center)
    private var scratch: [Float]
    private var rd: [Double]      // k x B, Double responsibilities
    private var xd: [Double]      // B x d, Double rows - center
    private var x2: [Double]      // diag: B x d, squares of xd
    private var z: [Double]       // full: B x (k * d), rows weighted per component
    private var s2all: [Double]   // full: d x (k * d), X^T Z summed over the blocks

    public init(k: Int, d: Int, full: Bool) {
        let B = GMMBlock.blockRows
        self.k = k; self.d = d; self.full = full
        xc = [Float](repeating: 0, count: B * d)
        resp = [Float](repeating: 0, count: k * B)
        yt = [Float](repeating: 0, count: full ? k * d * B : 0)
        scratch = [Float](repeating: 0, count: Int(strata_gmm_scratch_floats(Int64(d), Int64(k))))
        rd = [Double](repeating: 0, count: k * B)
        xd = [Double](repeating: 0, count: B * d)
        x2 = [Double](repeating: 0, count: full ? 0 : B * d)
        z = [Double](repeating: 0, count: full ? B * k * d : 0)
        s2all = [Double](repeating: 0, count: full ? d * k * d : 0)
    }

    /// Takes block `x` (m <= blockRows rows, row-major, d floats each): stores x - center,
    /// computed in Double (so data far from the origin keep their fractions), in Double and
    /// rounded to Float, and with `squares` (diag/spherical accumulation) its squares.
    public mutating func load(_ x: UnsafePointer<Float>, rows m: Int, center: [Double], squares: Bool) {
        precondition(m <= GMMBlock.blockRows && center.count == d)
        rows = m
        x2.withUnsafeMutableBufferPointer { x2p in
            strata_gmm_center_rows(x, Int64(m), Int64(d), center, &xc, &xd, squares ? x2p.baseAddress : nil)
        }
    }

    /// E-step with diagonal/spherical precisions on the loaded (centered) block: `mu` k x d are
    /// the means minus the `load` center (differences taken in Double), `prec` k x d, `cst` k.
    /// Writes the responsibilities, the most probable component to `labels[0..<rows]` when
    /// given, and adds the block's log-likelihood to `logLikelihood`. O(rows * k * d).
    public mutating func eStepDiag(mu: [Float], prec: [Float], cst: [Float],
                                   labels: UnsafeMutablePointer<Int32>?, logLikelihood: inout Double) {
        strata_gmm_estep_diag(xc, Int64(rows), Int64(d), Int64(k), mu, prec, cst, &resp, Int64(GMMBlock.blockRows),
                              labels, &logLikelihood, &scratch)
    }

    /// E-step with full/tied precisions: `ct` (k*d x d) with ct[c*d+j][t] = C_c[t][j], `mC` (k x d)
    /// = C_c^T (mu_c - center), `cst` k. Projects the loaded centered block by SGEMM, then as
    /// `eStepDiag`. O(rows * k * d^2).
    public mutating func eStepFull(ct: [Float], mC: [Float], cst: [Float],
                                   labels: UnsafeMutablePointer<Int32>?, logLikelihood: inout Double) {
        let B = GMMBlock.blockRows, m = rows, k = k, d = d
        ct.withUnsafeBufferPointer { ctp in
            xc.withUnsafeBufferPointer { xcp in
                yt.withUnsafeMutableBufferPointer { ytp in
                    BLAS.gemm(transB: true, MatrixView(ctp.baseAddress!, rows: k * d, cols: d),
                              MatrixView(xcp.baseAddress!, rows: m, cols: d),
                              into: MutableMatrixView(ytp.baseAddress!, rows: k * d, cols: m, ld: B))
                }
            }
        }
        strata_gmm_estep_full(yt, Int64(B), Int64(m), Int64(d), Int64(k), mC, cst, &resp, Int64(B),
                              labels, &logLikelihood, &scratch)
    }

    /// Responsibility of component `c` for row `i` of the block.
    public func responsibility(row i: Int, component c: Int) -> Float { resp[c * GMMBlock.blockRows + i] }

    public mutating func setResponsibility(row i: Int, component c: Int, _ value: Float) {
        resp[c * GMMBlock.blockRows + i] = value
    }

    /// Takes the loaded block's responsibilities from `source` (component-major, `ld` values per
    /// component, the block's rows from `offset` on), e.g. a device E-step's output.
    public mutating func setResponsibilities(from source: UnsafePointer<Float>, ld: Int, offset: Int) {
        let B = GMMBlock.blockRows, m = rows
        resp.withUnsafeMutableBufferPointer { r in
            for c in 0..<k { (r.baseAddress! + c * B).update(from: source + c * ld + offset, count: m) }
        }
    }

    /// Adds the block to the statistics in Double, by DGEMM: nk += row sums of R,
    /// s1 (k x d) += R^T X; diag/spherical: s2 (k x d) += R^T (X o X); full/tied: the workspace's
    /// X^T [r_c o X] (read it with `fullSecondMoments`). X is the centered block.
    public mutating func accumulate(nk: inout [Double], s1: inout [Double], s2: inout [Double]) {
        let B = GMMBlock.blockRows, m = rows, k = k, d = d, full = full
        strata_gmm_resp_to_double(resp, Int64(B), Int64(m), Int64(k), &rd, &nk)
        rd.withUnsafeBufferPointer { rp in
            xd.withUnsafeBufferPointer { xp in
                let R = MatrixView(rp.baseAddress!, rows: k, cols: m, ld: B)
                let X = MatrixView(xp.baseAddress!, rows: m, cols: d)
                s1.withUnsafeMutableBufferPointer { sp in
                    BLAS.gemm(R, X, beta: 1, into: MutableMatrixView(sp.baseAddress!, rows: k, cols: d))
                }
                if full {
                    z.withUnsafeMutableBufferPointer { zp in
                        strata_gmm_weighted_rows(rp.baseAddress, Int64(B), xp.baseAddress, Int64(m), Int64(d), Int64(k), zp.baseAddress)
                    }
                    z.withUnsafeBufferPointer { zp in
                        s2all.withUnsafeMutableBufferPointer { sp in
                            BLAS.gemm(transA: true, X, MatrixView(zp.baseAddress!, rows: m, cols: k * d), beta: 1,
                                      into: MutableMatrixView(sp.baseAddress!, rows: d, cols: k * d))
                        }
                    }
                } else {
                    x2.withUnsafeBufferPointer { x2p in
                        s2.withUnsafeMutableBufferPointer { sp in
                            BLAS.gemm(R, MatrixView(x2p.baseAddress!, rows: m, cols: d), beta: 1,
                                      into: MutableMatrixView(sp.baseAddress!, rows: k, cols: d))
                        }
                    }
                }
            }
        }
    }

    /// Full/tied: the second moments accumulated so far, per component (k x d x d) into `s2`.
    public func fullSecondMoments(into s2: inout [Double]) {
        precondition(full && s2.count == k * d * d)
        for c in 0..<k { for a in 0..<d { for b in 0..<d { s2[c * d * d + a * d + b] = s2all[a * k * d + c * d + b] } } }
    }
}
