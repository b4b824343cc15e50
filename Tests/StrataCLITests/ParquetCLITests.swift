import Foundation
import Testing

/// Parquet through the binary: the same order log as CSV and as a Parquet dataset directory gives
/// byte-identical `rfm` output; `--out x.parquet` writes Parquet; `segment --format parquet` from
/// flags; a corrupt input is a one-line data error (exit 65) naming file, row group and column.
@Suite struct ParquetCLITests {
    static let dir = fixtures + "/parquet"

    @Test func rfmFromParquetEqualsCSV() throws {
        let out = tempDir()
        let cols = ["--customer-column", "name", "--date-column", "day", "--amount-column", "f64", "--as-of", "2025-06-01"]
        let a = try CLI.run(["rfm", "--transactions", Self.dir + "/data.csv", "--out", out + "/a.csv"] + cols)
        let b = try CLI.run(["rfm", "--transactions", Self.dir + "/dataset", "--out", out + "/b.csv"] + cols)
        let c = try CLI.run(["rfm", "--transactions", Self.dir + "/dataset/part-*.parquet", "--out", out + "/c.parquet", "--json"] + cols)
        #expect(a.code == 0 && b.code == 0 && c.code == 0, "\(a.stderr) \(b.stderr) \(c.stderr)")
        let csv = try String(contentsOfFile: out + "/a.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count > 5)
        #expect(try String(contentsOfFile: out + "/b.csv", encoding: .utf8) == csv)
        let pq = try Data(contentsOf: URL(fileURLWithPath: out + "/c.parquet"))
        #expect(pq.prefix(4) == Data("PAR1".utf8) && pq.suffix(4) == Data("PAR1".utf8))
        // Both saw the same bad rows (nulls / empty cells).
        #expect(a.stderr.contains("skipped as bad") && b.stderr.contains("skipped as bad"))
    }

    @Test func segmentFormatParquetFromFlags() throws {
        let out = tempDir() + "/run"
        let r = try CLI.run(["segment", "--customers", Self.dir + "/v2_dict_zstd.parquet", "--id-column", "id", "--columns", "i32,f32,f64",
                             "--k", "2", "--no-report", "--quiet", "--format", "parquet", "--out", out])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/assignments.parquet"))
        #expect(!FileManager.default.fileExists(atPath: out + "/assignments.csv"))
        let bad = try CLI.run(["segment", "--customers", Self.dir + "/v2_dict_zstd.parquet", "--format", "xml", "--out", out])
        #expect(bad.code == 64 && bad.stderr.contains("valid values: csv, parquet"))
    }

    @Test func corruptParquetIsADataError() throws {
        let r = try CLI.run(["kmeans", "--input", Self.dir + "/bad_codec_brotli.parquet", "--columns", "f64", "--k", "2"])
        #expect(r.code == 65)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("bad_codec_brotli.parquet, row group 0, column 'f64': compression codec brotli is not supported"))
        let nested = try CLI.run(["kmeans", "--input", Self.dir + "/nested.parquet", "--columns", "tags", "--k", "2"])
        #expect(nested.code == 65 && nested.stderr.contains("column 'tags'") && nested.stderr.contains("nested"))
    }
}

/// `--input -` and `--customers -`: a feature table on standard input (CSV or Parquet, told apart
/// by its magic) gives the same result as the file, and its temporary copy is gone afterwards.
@Suite struct StandardInputTableTests {
    static func run(_ args: [String], stdin file: String) throws -> (code: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(["STRATA_TMPDIR": tempDir()]) { _, b in b }
        p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }
        let e = Box()
        let g = DispatchGroup()
        let h = err.fileHandleForReading
        DispatchQueue.global().async(group: g) { e.data = h.readDataToEndOfFile() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        g.wait()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e.data, as: UTF8.self))
    }

    @Test func featureTablesFromStdin() throws {
        let dir = ParquetCLITests.dir
        for file in [dir + "/data.csv", dir + "/v1_dict_snappy.parquet"] {
            let args = ["kmeans", "--columns", "f64,i64", "--k", "3", "--seed", "5", "--labels-out", "-"]
            let direct = try CLI.run(["kmeans", "--input", file] + args.dropFirst())
            let piped = try Self.run(["kmeans", "--input", "-"] + args.dropFirst(), stdin: file)
            #expect(direct.code == 65 || direct.code == 0)
            #expect(piped.code == direct.code && piped.stdout == direct.stdout, "\(file): \(piped.stderr)")
        }
        let csv = tempDir() + "/c.csv"
        try "id,a,b\n1,1,2\n2,1.5,2.2\n3,8,9\n4,8.2,9.1\n5,0.5,1.5\n6,9,8\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try Self.run(["kmeans", "--input", "-", "--k", "2", "--labels-out", "-"], stdin: csv)
        #expect(r.code == 0 && r.stdout.split(separator: "\n").count == 7, "\(r.stderr)")
        let seg = try Self.run(["segment", "--customers", "-", "--k", "2", "--min-segment-size", "1", "--no-report", "--quiet", "--out", tempDir() + "/s"], stdin: csv)
        #expect(seg.code == 0, "\(seg.stderr)")
    }
}
