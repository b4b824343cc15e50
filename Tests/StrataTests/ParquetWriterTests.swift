import Foundation
import Testing
@testable import StrataParquet

/// Our writer read back by our reader (every type, nulls, both codecs, several row groups and
/// pages), projection, and corrupt files: one-line errors naming file, row group and column,
/// never a crash.
@Suite struct ParquetWriterTests {
    static let dir = Fixtures.dir + "/parquet"

    func temp(_ name: String) -> String {
        let d = NSTemporaryDirectory() + "strata-parquet-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d + "/" + name
    }

    func write(_ path: String, _ columns: [ParquetWriteColumn], options: ParquetWriter.Options) throws {
        var bytes: [UInt8] = []
        let w = try ParquetWriter(schema: columns.map { ($0.name, $0.type) }, options: options) { bytes += $0 }
        try w.write(columns)
        try w.close()
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func sample(_ n: Int) -> [ParquetWriteColumn] {
        let regions = ["north", "south", "east", "wést", ""]
        var names: [String?] = [], ids: [Int64?] = [], spend: [Double?] = [], score: [Float] = [], member: [Bool] = [], since: [Int32] = []
        for i in 0..<n {
            names.append(i % 7 == 3 ? nil : regions[i % 5])
            ids.append(Int64(i) * 1_000_003 - 7)
            spend.append(i % 11 == 0 ? nil : Double(i) * 1.25 - 100)
            score.append(Float(i) / 3)
            member.append(i % 3 == 0)
            since.append(Int32(19_000 + i))
        }
        let scoreValid = (0..<n).map { $0 % 5 != 0 }
        let memberValid = (0..<n).map { $0 % 13 != 1 }
        return [
            ParquetWriteColumn.int64s("id", ids),
            ParquetWriteColumn.doubles("spend", spend),
            ParquetWriteColumn(name: "score", type: .float, values: .float(score), valid: scoreValid),
            ParquetWriteColumn.strings("region", names),
            ParquetWriteColumn(name: "member", type: .boolean, values: .boolean(member), valid: memberValid),
            ParquetWriteColumn(name: "since", type: .date, values: .int32(since)),
        ]
    }

    @Test(arguments: [ParquetWriteCodec.zstd, .snappy, .uncompressed])
    func roundTrip(_ codec: ParquetWriteCodec) throws {
        let n = 1000
        let cols = sample(n)
        var o = ParquetWriter.Options(codec: codec, rowGroupRows: 300)
        o.pageRows = 70
        let path = temp("round-\(codec).parquet")
        try write(path, cols, options: o)
        let f = try ParquetFile(path: path)
        #expect(f.rowCount == n && f.rowGroupCount == 4)
        #expect(f.columns.map(\.name) == cols.map(\.name))
        #expect(f.columns[3].kind == .string && f.columns[5].kind == .date)
        let back = try ParquetReaderTests.readAll(f)
        for (c, b) in zip(cols, back) {
            #expect(b.values == c.values.maskingNulls(c.valid), "\(c.name)")
            #expect((b.valid ?? []) == (c.valid ?? [Bool](repeating: true, count: n)), "\(c.name)")
        }
        #expect(back[5].text(0) == "2022-01-08")
        #expect(back[3].text(0) == "north" && back[3].text(3) == nil && back[3].text(4) == "")
    }

    @Test func projectionReadsOnlySelectedColumns() throws {
        let path = temp("projection.parquet")
        try write(path, sample(200), options: ParquetWriter.Options(codec: .zstd, rowGroupRows: 1000))
        // Corrupt every byte of the 'region' chunk: a read that touched it would fail.
        let f0 = try ParquetFile(path: path)
        let chunk = f0.meta.rowGroups[0].columns[3]
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let start = Int(chunk.dictionaryPageOffset ?? chunk.dataPageOffset)
        for i in start..<start + Int(chunk.totalCompressedSize) { bytes[i] = 0xFF }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let f = try ParquetFile(path: path)
        let cols = try f.readRowGroup(0, columns: [1, 0])
        #expect(cols.map(\.info.name) == ["spend", "id"])
        #expect(cols[1].text(1) == "999996")
        let e = #expect(throws: ParquetError.self) { try f.readRowGroup(0, columns: [3]) }
        #expect(e?.rowGroup == 0 && e?.column == "region")
    }

    func error(_ path: String) -> ParquetError? {
        do {
            let f = try ParquetFile(path: path)
            for g in 0..<f.rowGroupCount { _ = try f.readRowGroup(g, columns: f.columns.indices.filter { f.columns[$0].unsupported == nil }) }
            return nil
        } catch let e as ParquetError { return e } catch { Issue.record("not a ParquetError: \(error)"); return nil }
    }

    @Test func corruptFilesGiveOneLineErrors() throws {
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/v2_plain_snappy_crc.parquet")))
        // Truncated.
        let cut = temp("truncated.parquet")
        try Data(good[0..<good.count / 2]).write(to: URL(fileURLWithPath: cut))
        let t = try #require(error(cut))
        #expect(t.description.hasPrefix(cut) && t.description.contains("truncated") && !t.description.contains("\n"))
        // Bad magic.
        let bad = temp("magic.parquet")
        try Data(Array("id,x\n1,2\n3,4\n".utf8)).write(to: URL(fileURLWithPath: bad))
        #expect(error(bad)?.description == "\(bad): not a Parquet file (no 'PAR1' magic number)")
        // A codec we do not have (BROTLI): names row group and column.
        let brotli = try #require(error(Self.dir + "/bad_codec_brotli.parquet"))
        #expect(brotli.rowGroup == 0 && brotli.column == "id" && brotli.message.contains("brotli is not supported"))
        // A flipped byte inside a data page: the page CRC catches it.
        let f = try ParquetFile(path: Self.dir + "/v2_plain_snappy_crc.parquet")
        let chunk = f.meta.rowGroups[1].columns[4]
        var flipped = good
        flipped[Int(chunk.dataPageOffset) + Int(chunk.totalCompressedSize) - 3] ^= 0x40
        let crcPath = temp("crc.parquet")
        try Data(flipped).write(to: URL(fileURLWithPath: crcPath))
        let c = try #require(error(crcPath))
        #expect(c.rowGroup == 1 && c.column == "f64" && c.message.contains("CRC"))
    }

    /// Single-byte corruptions and truncations all over a few fixtures: each read either succeeds
    /// or throws a ParquetError; none crashes.
    @Test func fuzzedFilesNeverCrash() throws {
        var rng = SystemRandomNumberGenerator()
        var errors = 0
        for name in ["v1_dict_snappy", "v2_delta", "v2_byte_stream_split", "v1_int96", "duckdb_zstd", "v2_dict_zstd"] {
            let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.dir + "/\(name).parquet")))
            let path = temp("fuzz-\(name).parquet")
            for k in 0..<100 {
                var b = good
                if k % 10 == 0 { b.removeLast(Int.random(in: 1..<b.count, using: &rng)) }
                else { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
                try Data(b).write(to: URL(fileURLWithPath: path))
                if let e = error(path) { errors += 1; #expect(!e.description.contains("\n")) }
            }
        }
        #expect(errors > 0)
    }
}

extension ParquetValues {
    /// The values a reader returns for `self` with nulls where `valid` is false (0 / false / empty).
    func maskingNulls(_ valid: [Bool]?) -> ParquetValues {
        guard let valid else { return self }
        switch self {
        case let .boolean(v): return .boolean(zip(v, valid).map { $1 && $0 })
        case let .int32(v): return .int32(zip(v, valid).map { $1 ? $0 : 0 })
        case let .int64(v): return .int64(zip(v, valid).map { $1 ? $0 : 0 })
        case let .float(v): return .float(zip(v, valid).map { $1 ? $0 : 0 })
        case let .double(v): return .double(zip(v, valid).map { $1 ? $0 : 0 })
        case let .bytes(b):
            var out = ByteArrays()
            for i in 0..<b.count { if valid[i] { out.append(b[i]) } else { out.offsets.append(out.data.count) } }
            return .bytes(out)
        }
    }
}
