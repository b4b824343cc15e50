import CStrataKernels
import Foundation

/// The E-step of a Gaussian-mixture fit on a device. Diagonal/spherical (`eStep`): bit-identical
/// to `GMMBlock.eStepDiag` (the CPU's `strata_gmm_estep_diag`): per row the k log-densities, the
/// most probable component, the responsibilities and the row's log-sum-exp, with the CPU's exp/log
/// polynomials and contraction (`strata_kernels_fuse_multiply_add`). Full/tied (`eStepFull`,
/// `strata_gmm_estep_full`): each row projected through each component's precision Cholesky factor
/// in feature order (FMA per term), then the same; equal to the CPU's where its SGEMM sums in that
/// order, else within float rounding of the projections.
///
/// How: the rows minus the fit's center are formed on the host exactly as `GMMBlock.load` forms
/// them (Double difference rounded to Float) and uploaded once per fit, chunk by chunk of the
/// fixed `RowPartition`; per EM iteration only the k x d means and precisions and the k constants
/// go up, `strata_gmm_estep_diag` runs one work-item per row, and the responsibilities (k x n,
/// component-major), labels and per-row log-sum-exp come back. The sufficient statistics are then
/// formed on the host from these responsibilities by the CPU's own DGEMM blocks (`GMMStatistics`),
/// so they, the log-likelihood and the M-step equal the CPU's bit for bit.
/// Device memory n*(d + k + 2)*4 bytes plus O(k d); host copies n*(k + 2)*4 bytes.
public final class GPUGMMEStep {
    public let backend: any GPUBackend
    public let rows: Int
    public let d: Int
    public let k: Int
    /// Step times so far (`upload`, `estep`, `download`).
    public private(set) var times = GPUStepTimes()
    /// The last E-step's responsibilities, k x n component-major (resp[c * n + i]).
    public private(set) var responsibilities: [Float]
    /// The last E-step's most probable component per row.
    public private(set) var labels: [Int32]
    /// The last E-step's log-sum-exp per row (Float, as the CPU tile holds it).
    public private(set) var logSumExp: [Float]
    let fuse: Int32
    let x, mu, prec, cst, resp, lab, lse: GPUBuffer
    /// Full/tied: Ct (k*d x d); nil for diag/spherical.
    let ct: GPUBuffer?

    /// Uploads `source`'s rows minus `center` (d values). Throws `GPUError`.
    /// `full`: room for full/tied factors (k*d*d floats more on the device).
    public init<S: RowBlockSource>(backend: any GPUBackend, source: S, center: [Double], k: Int, partition: RowPartition,
                                   full: Bool = false) throws {
        precondition(partition.rows == source.rows && k >= 1 && center.count == source.cols)
        self.backend = backend
        rows = source.rows; d = source.cols; self.k = k
        fuse = strata_kernels_fuse_multiply_add()
        let t0 = Date()
        let n = max(1, rows), d = source.cols
        let xb = try backend.allocate(bytes: n * d * 4)
        x = xb
        var lo = 0
        var buffer = [Float]()
        while lo < rows {
            let hi = min(rows, lo + partition.chunkRows)
            buffer.removeAll(keepingCapacity: true)
            source.withRows(lo..<hi) { p in
                for i in 0..<((hi - lo) * d) { buffer.append(Float(Double(p[i]) - center[i % d])) }
            }
            try buffer.withUnsafeBytes { try backend.upload($0.baseAddress!, bytes: $0.count, to: xb, offset: lo * d * 4) }
            lo = hi
        }
        mu = try backend.allocate(bytes: k * d * 4)
        prec = try backend.allocate(bytes: k * d * 4)
        cst = try backend.allocate(bytes: k * 4)
        resp = try backend.allocate(bytes: n * k * 4)
        lab = try backend.allocate(bytes: n * 4)
        lse = try backend.allocate(bytes: n * 4)
        ct = full ? try backend.allocate(bytes: k * d * d * 4) : nil
        responsibilities = [Float](repeating: 0, count: rows * k)
        labels = [Int32](repeating: 0, count: rows)
        logSumExp = [Float](repeating: 0, count: rows)
        times.add("upload", since: t0)
    }

    deinit { for b in [x, mu, prec, cst, resp, lab, lse] + (ct.map { [$0] } ?? []) { backend.free(b) } }

    /// One E-step: `mu` (k x d, means minus the center), `prec` (k x d, 1/sigma), `cst` (k) as
    /// `GMMStatistics.EStepPlan` makes them. Fills `responsibilities` (when `withResponsibilities`),
    /// `labels` and `logSumExp`.
    public func eStep(mu m: [Float], prec p: [Float], cst c: [Float], withResponsibilities: Bool = true) throws {
        precondition(m.count == k * d && p.count == k * d && c.count == k)
        var t0 = Date()
        try m.withUnsafeBytes { try backend.upload($0.baseAddress!, bytes: $0.count, to: mu) }
        try p.withUnsafeBytes { try backend.upload($0.baseAddress!, bytes: $0.count, to: prec) }
        try c.withUnsafeBytes { try backend.upload($0.baseAddress!, bytes: $0.count, to: cst) }
        times.add("upload", since: t0)
        t0 = Date()
        try backend.launch(.gmmEStepDiag, items: rows, [.buffer(x), .int64(Int64(rows)), .int64(Int64(d)), .int64(Int64(k)), .buffer(mu),
                                                       .buffer(prec), .buffer(cst), .buffer(resp), .buffer(lab), .buffer(lse), .int32(fuse)])
        times.add("estep", since: t0)
        try fetch(withResponsibilities)
    }

    /// One full/tied E-step: `ct` (k*d x d, Ct[c*d + j][t] = C_c[t][j]), `mC` (k x d,
    /// C_c^T (mu_c - center)), `cst` (k) as `GMMStatistics.EStepPlan` makes them. Needs `full`.
    public func eStepFull(ct t: [Float], mC m: [Float], cst c: [Float], withResponsibilities: Bool = true) throws {
        precondition(t.count == k * d * d && m.count == k * d && c.count == k)
        guard let ct else { preconditionFailure("GPUGMMEStep made without full") }
        var t0 = Date()
        try t.withUnsafeBytes { try backend.upload($0.baseAddress!, bytes: $0.count, to: ct) }
        try m.withUnsafeBytes { try backend.upload($0.baseAddress!, bytes: $0.count, to: mu) }
        try c.withUnsafeBytes { try backend.upload($0.baseAddress!, bytes: $0.count, to: cst) }
        times.add("upload", since: t0)
        t0 = Date()
        try backend.launch(.gmmEStepFull, items: rows, [.buffer(x), .int64(Int64(rows)), .int64(Int64(d)), .int64(Int64(k)), .buffer(ct),
                                                       .buffer(mu), .buffer(cst), .buffer(resp), .buffer(lab), .buffer(lse), .int32(fuse)])
        times.add("estep", since: t0)
        try fetch(withResponsibilities)
    }

    private func fetch(_ withResponsibilities: Bool) throws {
        let t0 = Date()
        if withResponsibilities {
            try responsibilities.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(resp, bytes: $0.count, to: $0.baseAddress!) } }
        }
        try labels.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(lab, bytes: $0.count, to: $0.baseAddress!) } }
        try logSumExp.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(lse, bytes: $0.count, to: $0.baseAddress!) } }
        times.add("download", since: t0)
    }

    /// The log-likelihood of rows `lo..<lo + m` (one `GMMBlock` block) summed as the CPU E-step
    /// sums it: per 16-row tile 0 + lse_i in Double in row order, the tiles added to 0 in order.
    public func blockLogLikelihood(lo: Int, rows m: Int) -> Double {
        var total = 0.0
        var i0 = 0
        while i0 < m {
            let e = min(m, i0 + 16)
            var t = 0.0
            for i in i0..<e { t += Double(logSumExp[lo + i]) }
            total += t
            i0 = e
        }
        return total
    }
}
