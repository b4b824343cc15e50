import Foundation
import StrataCore
import StrataKernels
import StrataLinalg

/// The binary protocol of `strata partial-stats`: the per-partition step of a K-Means iteration
/// for an external engine (Spark's `mapPartitions`, see Scripts/spark/). No text parsing per
/// iteration; everything little-endian.
///
/// - Request:  "STRP", u32 k, u32 d, k*d float32 centers, then float32 rows (d each) to the end.
/// - Response: "STRS", u32 k, u32 d, u64 rows, k*d float64 sums, k float64 counts, float64 inertia.
///
/// Rows are read in blocks of `blockRows` and each block's statistics (`lloydPass`) are added in
/// order, so the response depends only on the request bytes, whatever `threads`.
public enum PartialStatsProtocol {
    /// Reads one request from `input` and writes the response to `output`.
    /// - Throws: `StrataError.badData` (file `<stdin>`) for a bad header, k or d, or a stream that
    ///   ends inside the centers or a row.
    /// - Complexity: O(rows x k x d) time; memory one block of rows.
    public static func serve(input: FileHandle, output: FileHandle, blockRows: Int, threads: Int) throws {
        func readExactly(_ count: Int) -> Data? {
            var out = Data()
            while out.count < count {
                let chunk = input.readData(ofLength: count - out.count)
                if chunk.isEmpty { return out.isEmpty ? nil : out }
                out.append(chunk)
            }
            return out
        }
        func bad(_ m: String) -> StrataError { .badData(file: "<stdin>", line: nil, column: nil, message: m) }
        guard let head = readExactly(12), head.count == 12, head.prefix(4) == Data("STRP".utf8) else { throw bad("stdin does not start with the STRP header") }
        let k = Int(head.subdata(in: 4..<8).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        let d = Int(head.subdata(in: 8..<12).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        guard k >= 1, d >= 1, k * d <= 1 << 26 else { throw bad("bad k (\(k)) or d (\(d))") }
        guard let cdata = readExactly(k * d * 4), cdata.count == k * d * 4 else { throw bad("stdin ended inside the centers") }
        let centers = Matrix<Float>(rows: k, cols: d, storage: cdata.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
        let assigner = SIMDAssigner(centroids: centers)
        var total = ClusterStatistics(k: k, d: d)
        var rows = 0
        let rowBytes = d * 4
        while let block = readExactly(blockRows * rowBytes) {
            guard block.count % rowBytes == 0 else { throw bad("stdin ended inside a row (\(block.count % rowBytes) stray bytes)") }
            let m = block.count / rowBytes
            var labels = [Int32](repeating: -1, count: m), dist = [Float](repeating: 0, count: m)
            let stats = block.withUnsafeBytes { raw in
                labels.withUnsafeMutableBufferPointer { l in
                    dist.withUnsafeMutableBufferPointer { dp in
                        lloydPass(source: DenseRows(raw.bindMemory(to: Float.self).baseAddress!, rows: m, cols: d), weights: nil, assigner: assigner,
                                  labels: l.baseAddress!, dist: dp.baseAddress!, partition: RowPartition(rows: m), threads: threads)
                    }
                }
            }
            total.add(stats)
            rows += m
            if m < blockRows { break }
        }
        output.write(response(k: k, d: d, rows: rows, total))
    }

    /// The response bytes for `total` over `rows` rows.
    static func response(k: Int, d: Int, rows: Int, _ total: ClusterStatistics) -> Data {
        var out = Data("STRS".utf8)
        withUnsafeBytes(of: UInt32(k).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(d).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(rows).littleEndian) { out.append(contentsOf: $0) }
        for v in total.sums + total.weights + [total.inertia] { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }
}
