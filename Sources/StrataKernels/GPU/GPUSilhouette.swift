import CStrataKernels
import Foundation

/// `ClusterDistanceSums` for every row of the reference at once, on a device: S[p * k + c] =
/// the sum of Euclidean distances from sorted row p to the rows of cluster c, bit-identical to
/// `ClusterDistanceSums.sums` (same blocks of 128, same groups of 4, same contraction,
/// correctly rounded sqrt). O(n^2 d) work, one work-item per row; device memory n*d*4 + n*k*8.
/// - Parameters:
///   - sortedRows: n x d row-major, sorted by cluster; `clusterStarts`: k + 1 offsets (n last).
/// - Returns: n x k sums and the step times (`upload`, `silhouette_sums`, `download`).
public func deviceClusterDistanceSums(backend: any GPUBackend, sortedRows: [Float], d: Int, clusterStarts: [Int]) throws
    -> (sums: [Double], times: GPUStepTimes) {
    let n = sortedRows.count / max(1, d), k = clusterStarts.count - 1
    var times = GPUStepTimes()
    var t0 = Date()
    let y = try backend.upload(sortedRows)
    defer { backend.free(y) }
    let starts = try backend.upload(clusterStarts.map(Int64.init))
    defer { backend.free(starts) }
    let out = try backend.allocate(bytes: max(1, n * k) * 8)
    defer { backend.free(out) }
    times.add("upload", since: t0)
    t0 = Date()
    try backend.launch(.silhouetteSums, items: n, [.buffer(y), .int64(Int64(n)), .int64(Int64(d)), .buffer(starts), .int64(Int64(k)),
                                                  .buffer(out), .int32(strata_kernels_fuse_multiply_add())])
    times.add("silhouette_sums", since: t0)
    t0 = Date()
    var sums = [Double](repeating: 0, count: n * k)
    try sums.withUnsafeMutableBytes { if $0.count > 0 { try backend.download(out, bytes: $0.count, to: $0.baseAddress!) } }
    times.add("download", since: t0)
    return (sums, times)
}
