import ArgumentParser
import Foundation
import Strata
import StrataKernels
import StrataLinalg

/// `strata partial-stats`: the per-partition step of a K-Means iteration for an external engine
/// (Spark's `mapPartitions`, see Scripts/spark/): centers and float32 rows in on stdin, per-cluster
/// sums, counts and inertia out on stdout, all binary little-endian (no text parsing per iteration).
///
/// stdin:  "STRP", u32 k, u32 d, k*d f32 centers, then rows of d f32 until end of input.
/// stdout: "STRS", u32 k, u32 d, u64 rows, k*d f64 sums, k f64 counts, f64 inertia.
struct PartialStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partial-stats",
        abstract: "K-Means sufficient statistics of float32 row blocks on stdin (binary protocol for Spark and other engines).",
        discussion: """
            stdin: 'STRP', u32 k, u32 d, k*d float32 centers, then float32 rows (d each) to the end. \
            stdout: 'STRS', u32 k, u32 d, u64 rows, k*d float64 sums, k float64 counts, float64 inertia \
            (little-endian). Rows are read in blocks of --block-rows and reduced in order, so the \
            output depends only on the input bytes.
            """
    )

    @Option(name: .customLong("block-rows"), help: "Rows per block read from stdin.") var blockRows: Int = 65_536
    @Option(name: .long, help: "Worker threads.") var threads: Int = 1

    func run() throws {
        let input = FileHandle.standardInput
        func readExactly(_ count: Int) -> Data? {
            var out = Data()
            while out.count < count {
                let chunk = input.readData(ofLength: count - out.count)
                if chunk.isEmpty { return out.isEmpty ? nil : out }
                out.append(chunk)
            }
            return out
        }
        func fail(_ m: String) -> Never { Report.fail("partial-stats: \(m)", code: 65, json: false) }
        guard let head = readExactly(12), head.count == 12, head.prefix(4) == Data("STRP".utf8) else { fail("stdin does not start with the STRP header") }
        let k = Int(head.subdata(in: 4..<8).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        let d = Int(head.subdata(in: 8..<12).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) })
        guard k >= 1, d >= 1, k * d <= 1 << 26 else { fail("bad k (\(k)) or d (\(d))") }
        guard let cdata = readExactly(k * d * 4), cdata.count == k * d * 4 else { fail("stdin ended inside the centers") }
        let centers = Matrix<Float>(rows: k, cols: d, storage: cdata.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
        let assigner = SIMDAssigner(centroids: centers)
        var total = ClusterStatistics(k: k, d: d)
        var rows = 0
        let rowBytes = d * 4
        while let block = readExactly(blockRows * rowBytes) {
            guard block.count % rowBytes == 0 else { fail("stdin ended inside a row (\(block.count % rowBytes) stray bytes)") }
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
        var out = Data("STRS".utf8)
        withUnsafeBytes(of: UInt32(k).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(d).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(rows).littleEndian) { out.append(contentsOf: $0) }
        for v in total.sums + total.weights + [total.inertia] { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        FileHandle.standardOutput.write(out)
    }
}
