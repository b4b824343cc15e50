import Foundation
import Testing
@testable import StrataParquet

/// Reads every fixture written by Scripts/make-parquet-fixtures.py (pyarrow, DuckDB) and compares
/// each column, row by row, with the same data committed as data.csv.
@Suite struct ParquetReaderTests {
    static let dir = Fixtures.dir + "/parquet"

    /// data.csv: header and rows of cells (no quoting: the script writes none).
    static let csv: (header: [String], rows: [[String]]) = {
        let text = try! String(contentsOfFile: dir + "/data.csv", encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines.removeFirst()
        return (header, lines)
    }()

    /// Every row group of `file`, all columns, concatenated per column.
    static func readAll(_ file: ParquetFile, columns: [Int]? = nil) throws -> [ParquetColumn] {
        let idx = columns ?? Array(file.columns.indices)
        var out: [ParquetColumn]? = nil
        for g in 0..<file.rowGroupCount {
            let part = try file.readRowGroup(g, columns: idx)
            if out == nil { out = part; continue }
            for k in part.indices {
                try out![k].values.append(part[k].values, valid: nil)
                if let v = part[k].valid { out![k].valid!.append(contentsOf: v) }
            }
        }
        return out ?? []
    }

    /// Compares every column of `path` with data.csv (rows `range` of it).
    func compare(_ path: String, rows range: Range<Int>? = nil) throws {
        let file = try ParquetFile(path: path)
        let cols = try Self.readAll(file)
        let (header, all) = Self.csv
        let rows = Array(all[range ?? all.indices])
        #expect(file.rowCount == rows.count, "\(path)")
        for col in cols {
            let j = try #require(header.firstIndex(of: col.info.name), "\(col.info.name)")
            #expect(col.count == rows.count)
            for (i, row) in rows.enumerated() {
                let cell = row[j]
                let where_ = "\(URL(fileURLWithPath: path).lastPathComponent) \(col.info.name) row \(i)"
                if cell.isEmpty { #expect(col.isNull(i), "\(where_): expected null"); continue }
                #expect(!col.isNull(i), "\(where_): unexpected null")
                switch col.info.name {
                case "name": #expect(col.text(i) == cell, "\(where_)")
                case "flag": #expect(col.text(i) == cell, "\(where_)")
                case "day":
                    #expect(col.text(i) == cell, "\(where_)")
                    #expect(col.day(i).map(ParquetColumn.isoDate) == cell, "\(where_)")
                case "ts_ms", "ts_us", "ts_ns":
                    #expect(col.epochNanoseconds(i) == Int64(cell), "\(where_): \(String(describing: col.epochNanoseconds(i))) vs \(cell)")
                default:
                    #expect(col.double(i) == Double(cell), "\(where_): \(String(describing: col.double(i))) vs \(cell)")
                }
            }
        }
        #expect(cols.count == header.count)
    }

    @Test(arguments: [
        "v1_plain_uncompressed", "v1_dict_snappy", "v1_dict_gzip", "v2_dict_zstd", "v2_plain_lz4raw", "v2_plain_snappy_crc",
        "v1_dict_zstd_crc", "v2_delta", "v1_delta_length", "v2_byte_stream_split", "v1_int96", "v1_int96_dict",
        "v1_decimal_as_int", "duckdb_zstd",
    ])
    func fixtureMatchesCSV(_ name: String) throws {
        try compare(Self.dir + "/\(name).parquet")
    }

    @Test func datasetPartsInOrder() throws {
        try compare(Self.dir + "/dataset/part-0.parquet", rows: 0..<90)
        try compare(Self.dir + "/dataset/part-1.parquet", rows: 90..<200)
        try compare(Self.dir + "/dataset/part-2.parquet", rows: 200..<300)
    }

    @Test func schemaTypes() throws {
        let f = try ParquetFile(path: Self.dir + "/v1_dict_snappy.parquet")
        let kinds = Dictionary(uniqueKeysWithValues: f.columns.map { ($0.name, $0.kind) })
        #expect(kinds["day"] == .date)
        #expect(kinds["name"] == .string)
        #expect(kinds["dec"] == .decimal(precision: 7, scale: 2))
        #expect(kinds["ts_us"] == .timestamp(unit: .micros, utc: true))
        #expect(kinds["ts_ms"] == .timestamp(unit: .millis, utc: false))
        #expect(f.rowGroupCount == 3)
        #expect(!f.columns[f.columnIndex(named: "name")!].isNumeric)
        #expect(f.columns[f.columnIndex(named: "dec_wide")!].isNumeric)
    }

    @Test func nestedColumnIsAnErrorOnlyWhenSelected() throws {
        let f = try ParquetFile(path: Self.dir + "/nested.parquet")
        #expect(f.columns.map(\.name) == ["id", "tags", "x"])
        let flat = try f.readRowGroup(0, columns: [0, 2])
        #expect(flat[0].text(2) == "3")
        #expect(flat[1].double(1) == 2.5 && flat[1].isNull(2))
        let e = #expect(throws: ParquetError.self) { try f.readRowGroup(0, columns: [1]) }
        #expect(e?.column == "tags")
        #expect(e?.description.contains("nested") == true)
    }
}
