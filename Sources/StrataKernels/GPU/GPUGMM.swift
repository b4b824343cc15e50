import CStrataKernels
import Foundation

/// The diagonal-covariance E-step on a device, bit-identical to `strata_gmm_estep_diag` (the
/// CPU's `GMMBlock.eStepDiag`): per row the k log-densities, the most probable component, the
/// responsibilities and the row's log-sum-exp, with the CPU's exp/log polynomials and
/// contraction. A one-shot form for the kernel tests; `GMM.fit` uses `GPUGMMEStep`.
/// - Parameters:
///   - centered: n x d rows minus the fit's center (as `strata_gmm_center_rows` makes them);
///     `mu`, `prec`: k x d; `cst`: k.
/// - Returns: responsibilities k x n (component-major), labels n, per-row log-sum-exp n (the CPU
///   adds them in Double per 16-row tile, in row order). Cost O(n k d); device memory
///   n*(d + k + 2)*4 bytes.
public func deviceGMMEStepDiag(backend: any GPUBackend, centered: [Float], n: Int, d: Int, k: Int,
                               mu: [Float], prec: [Float], cst: [Float]) throws -> (resp: [Float], labels: [Int32], lse: [Float]) {
    precondition(centered.count == n * d && mu.count == k * d && prec.count == k * d && cst.count == k)
    let x = try backend.upload(centered), m = try backend.upload(mu), p = try backend.upload(prec), c = try backend.upload(cst)
    let r = try backend.allocate(bytes: max(1, n * k) * 4), l = try backend.allocate(bytes: max(1, n) * 4), e = try backend.allocate(bytes: max(1, n) * 4)
    defer { for b in [x, m, p, c, r, l, e] { backend.free(b) } }
    try backend.launch(.gmmEStepDiag, items: n, [.buffer(x), .int64(Int64(n)), .int64(Int64(d)), .int64(Int64(k)), .buffer(m), .buffer(p),
                                                .buffer(c), .buffer(r), .buffer(l), .buffer(e), .int32(strata_kernels_fuse_multiply_add())])
    var resp = [Float](repeating: 0, count: n * k), labels = [Int32](repeating: 0, count: n), lse = [Float](repeating: 0, count: n)
    try resp.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(r, bytes: $0.count, to: $0.baseAddress!) } }
    try labels.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(l, bytes: $0.count, to: $0.baseAddress!) } }
    try lse.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(e, bytes: $0.count, to: $0.baseAddress!) } }
    return (resp, labels, lse)
}
