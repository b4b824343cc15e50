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
