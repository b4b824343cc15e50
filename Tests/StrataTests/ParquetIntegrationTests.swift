import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataParquet
@testable import StrataSegment

/// The same customers and orders as CSV and as Parquet (written by our writer; the order log as a
/// two-file dataset directory) give the same tables, RFM summaries and segment assignments.
@Suite struct ParquetIntegrationTests {
    struct Inputs { var customersCSV, ordersCSV, customersParquet, ordersParquet: String }

    func writeParquet(_ path: String, _ columns: [ParquetWriteColumn], rowGroupRows: Int = 128) throws {
        var bytes: [UInt8] = []
        let w = try ParquetWriter(schema: columns.map { ($0.name, $0.type) }, options: .init(codec: .snappy, rowGroupRows: rowGroupRows)) { bytes += $0 }
        try w.write(columns)
        try w.close()
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func inputs(_ dir: String) throws -> Inputs {
        var ids: [String?] = [], ages: [Int64?] = [], income: [Double?] = [], region: [String?] = []
        var customers = "customer_id,age,income,region\n"
        for i in 0..<300 {
            let age = Int64(i % 2 == 0 ? 20 + i % 7 : 70 + i % 5)
            let inc: Double? = i % 17 == 5 ? nil : Double(1000 + (i * 37) % 500) + 0.25
            let reg = i % 3 == 0 ? "north" : (i % 3 == 1 ? "south" : "east")
            ids.append("c\(i)"); ages.append(age); income.append(inc); region.append(reg)
            customers += "c\(i),\(age),\(inc.map { "\($0)" } ?? ""),\(reg)\n"
        }
        var oc: [String?] = [], od: [Int32] = [], oa: [Double?] = [], op: [String?] = []
        var orders = "customer_id,date,amount,product\n"
        for i in 0..<300 {
            for o in 0...(i % 4) {
                let day = Int32(CivilDate.days(year: 2024, month: 1 + (i + o) % 12, day: 1 + (i * 7 + o) % 28))
                let amount = Double(10 + (i * 13 + o * 5) % 90) + 0.5
                oc.append("c\(i)"); od.append(day); oa.append(amount); op.append("p\((i + o) % 6)")
                orders += "c\(i),\(CivilDate.string(Int(day))),\(amount),p\((i + o) % 6)\n"
            }
        }
        let r = Inputs(customersCSV: dir + "/customers.csv", ordersCSV: dir + "/orders.csv",
                       customersParquet: dir + "/customers.parquet", ordersParquet: dir + "/orders")
        try customers.write(toFile: r.customersCSV, atomically: true, encoding: .utf8)
        try orders.write(toFile: r.ordersCSV, atomically: true, encoding: .utf8)
        try writeParquet(r.customersParquet, [.strings("customer_id", ids), .int64s("age", ages), .doubles("income", income), .strings("region", region)])
        try FileManager.default.createDirectory(atPath: r.ordersParquet, withIntermediateDirectories: true)
        let half = oc.count / 2
        func part(_ range: Range<Int>) -> [ParquetWriteColumn] {
            [.strings("customer_id", Array(oc[range])), ParquetWriteColumn(name: "date", type: .date, values: .int32(Array(od[range]))),
             .doubles("amount", Array(oa[range])), .strings("product", Array(op[range]))]
        }
        try writeParquet(r.ordersParquet + "/part-00000.parquet", part(0..<half))
        try writeParquet(r.ordersParquet + "/part-00001.parquet", part(half..<oc.count))
        return r
    }

    @Test func tablesAreTheSame() throws {
        let dir = temporaryDirectory()
        let p = try inputs(dir)
        let o = TableReadOptions(columns: ["age"], idColumn: "customer_id")
        let a = try TableReader.read(path: p.customersCSV, options: o), b = try TableReader.read(path: p.customersParquet, options: o)
        #expect(a.values == b.values && a.ids == b.ids && a.columns == b.columns)
        // A null feature is an error naming file, row group and column.
        let e = #expect(throws: StrataError.self) { try TableReader.read(path: p.customersParquet, options: TableReadOptions(idColumn: "customer_id")) }
        #expect(e?.description.contains("customers.parquet, row group 0, column 'income': row 6 of the group: missing value") == true)
        let ra = try RawTable.read(path: p.customersCSV, numeric: nil, categorical: ["region"], idColumn: nil)
        let rb = try RawTable.read(path: p.customersParquet, numeric: nil, categorical: ["region"], idColumn: nil)
        #expect(ra.numericNames == rb.numericNames && ra.categorical == rb.categorical && ra.ids == rb.ids)
        #expect(zip(ra.numeric, rb.numeric).allSatisfy { x, y in zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) } })
        #expect(try CSVHeader.read(path: p.customersParquet) == ["customer_id", "age", "income", "region"])
        // A glob reads the same files as the directory.
        #expect(try ParquetInput.files(p.ordersParquet + "/part-*.parquet") == ParquetInput.files(p.ordersParquet))
    }

    @Test func rfmIsTheSame() throws {
        let dir = temporaryDirectory()
        let p = try inputs(dir)
        var t = TransactionOptions()
        t.product = .name("product")
        let today = CivilDate.days(year: 2025, month: 6, day: 1)
        let (a, ra) = try RFM.summarize(path: p.ordersCSV, transactions: t, options: RFMOptions(), today: today)
        let (b, rb) = try RFM.summarize(path: p.ordersParquet, transactions: t, options: RFMOptions(), today: today)
        #expect(a == b && a.count == 300)
        #expect(ra.transactions == rb.transactions && rb.badRows == 0)
    }

    @Test func segmentAssignmentsAreTheSame() throws {
        let dir = temporaryDirectory()
        let p = try inputs(dir)
        func run(_ customers: String, _ orders: String, _ out: String) throws -> String {
            var c = SegmentConfig()
            c.customers = customers
            var t = SegmentConfig.Transactions(path: orders)
            t.clv = false
            t.productColumn = "product"
            c.transactions = t
            c.k = 3
            c.minSegmentSize = 10
            c.report = false
            c.out = out
            _ = try SegmentJob.run(c, log: { _ in })
            return try String(contentsOfFile: out + "/assignments.csv", encoding: .utf8)
        }
        let csv = try run(p.customersCSV, p.ordersCSV, dir + "/out-csv")
        let parquet = try run(p.customersParquet, p.ordersParquet, dir + "/out-parquet")
        #expect(csv.split(separator: "\n").count == 301)
        #expect(csv == parquet)
    }

    /// `format: parquet` writes assignments.parquet and features.parquet holding the CSV run's
    /// rows, typed; the next run reads them back for migration.
    @Test func segmentWritesParquetOutputs() throws {
        let dir = temporaryDirectory()
        let p = try inputs(dir)
        func config(_ out: String, _ format: TableFormat?) -> SegmentConfig {
            var c = SegmentConfig()
            c.customers = p.customersParquet
            var t = SegmentConfig.Transactions(path: p.ordersParquet)
            t.clv = false
            c.transactions = t
            c.k = 3
            c.report = false
            c.out = out
            c.format = format
            return c
        }
        _ = try SegmentJob.run(config(dir + "/csv", nil), log: { _ in })
        let r = try SegmentJob.run(config(dir + "/pq", .parquet), log: { _ in })
        #expect(r.record.k == 3)
        #expect(!FileManager.default.fileExists(atPath: dir + "/pq/assignments.csv"))
        for name in ["assignments", "features"] {
            let csv = try String(contentsOfFile: dir + "/csv/\(name).csv", encoding: .utf8)
            let header = csv.split(separator: "\n").first!.split(separator: ",").map(String.init)
            let rows = csv.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            let f = try ParquetFile(path: dir + "/pq/\(name).parquet")
            let cols = try ParquetReaderTests.readAll(f)
            #expect(cols.map(\.info.name) == header)
            #expect(f.rowCount == rows.count && rows.count == 300)
            for (j, c) in cols.enumerated() {
                for (i, row) in rows.enumerated() {
                    if let v = c.double(i), c.info.isNumeric { #expect(v == Double(row[j]), "\(name) \(c.info.name) \(i)") }
                    else { #expect((c.text(i) ?? "") == row[j], "\(name) \(c.info.name) \(i)") }
                }
            }
            #expect(cols[0].info.kind == .string)
        }
        var next = config(dir + "/pq2", .parquet)
        next.previous = dir + "/pq"
        let again = try SegmentJob.run(next, log: { _ in })
        #expect(again.migration != nil)
    }

    /// `rfm --out x.parquet`: the CSV table's rows as typed Parquet columns (dates as DATE, ids as text).
    @Test func tableOutputsAsParquet() throws {
        let dir = temporaryDirectory()
        let p = try inputs(dir)
        let (summaries, _) = try RFM.summarize(path: p.ordersParquet, transactions: TransactionOptions(), options: RFMOptions(),
                                               today: CivilDate.days(year: 2025, month: 6, day: 1))
        let csv = RFM.csv(summaries)
        var batch = OutputBatch()
        try batch.stageTable(csv: csv, to: dir + "/rfm.parquet")
        try batch.stageTable(csv: csv, to: dir + "/rfm.csv")
        try batch.commit()
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/rfm.csv")) == csv)
        let f = try ParquetFile(path: dir + "/rfm.parquet")
        let kinds = Dictionary(uniqueKeysWithValues: f.columns.map { ($0.name, ($0.physicalType, $0.kind)) })
        #expect(kinds["customer_id"]! == (.byteArray, .string) && kinds["first_purchase"]! == (.int32, .date))
        #expect(kinds["frequency"]! == (.int64, .none) && kinds["monetary_total"]! == (.double, .none))
        let cols = try ParquetReaderTests.readAll(f)
        let text = String(decoding: csv, as: UTF8.self).split(separator: "\n").dropFirst()
        for (i, line) in text.enumerated() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            for (j, c) in cols.enumerated() {
                if c.info.physicalType == .double { #expect(c.double(i) == Double(cells[j])) } else { #expect(c.text(i) == cells[j], "\(c.info.name)") }
            }
        }
    }

    /// Typed dates give the day the CSV date parser gives for the same instant written as text.
    @Test func timestampDaysMatchTheTextParser() throws {
        for name in ["v1_dict_snappy", "v1_int96", "v2_delta"] {
            let f = try ParquetFile(path: ParquetReaderTests.dir + "/\(name).parquet")
            let cols = try ParquetReaderTests.readAll(f, columns: ["ts_ms", "ts_us", "ts_ns", "day"].map { f.columnIndex(named: $0)! })
            for c in cols {
                for i in 0..<c.count where !c.isNull(i) {
                    let text = try #require(c.text(i))
                    #expect(c.day(i) == CivilDate.parse(Substring(text), format: nil), "\(name) \(c.info.name) \(text)")
                }
            }
        }
    }
}

extension ParquetIntegrationTests {
    /// Beyond --memory-budget a Parquet input goes through a temporary .npy (row group by row
    /// group) and is mapped, as a large CSV: the same rows, ids and columns.
    @Test func parquetBeyondTheMemoryBudgetIsStreamed() throws {
        let dir = temporaryDirectory()
        let p = try inputs(dir)
        var o = TableReadOptions(columns: ["age"], idColumn: "customer_id")
        let inMemory = try TableReader.read(path: p.customersParquet, options: o)
        o.memoryBudget = 1000
        let streamed = try TableReader.read(path: p.customersParquet, options: o).materialized()
        #expect(streamed.values == inMemory.values && streamed.ids == inMemory.ids && streamed.columns == ["age"])
        #expect(streamed.source == p.customersParquet)
    }
}

extension ParquetIntegrationTests {
    /// A text column of mostly numbers ("1", "2", "5+") is numeric as in a CSV: its non-numbers
    /// are missing values with imputation, an error without.
    @Test func textColumnsOfNumbersAreReadAsInCSV() throws {
        let dir = temporaryDirectory()
        let sizes: [String?] = (0..<60).map { $0 % 10 == 9 ? "5+" : ($0 % 7 == 3 ? nil : String(1 + $0 % 4)) }
        var csv = "id,size,plan\n"
        for (i, s) in sizes.enumerated() { csv += "c\(i),\(s ?? ""),\(i % 2 == 0 ? "basic" : "pro")\n" }
        try csv.write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        try writeParquet(dir + "/t.parquet", [.strings("id", (0..<60).map { "c\($0)" }), .strings("size", sizes),
                                              .strings("plan", (0..<60).map { $0 % 2 == 0 ? "basic" : "pro" })])
        let a = try RawTable.read(path: dir + "/t.csv", numeric: nil, categorical: ["plan"], idColumn: nil, unparsable: .missing)
        let b = try RawTable.read(path: dir + "/t.parquet", numeric: nil, categorical: ["plan"], idColumn: nil, unparsable: .missing)
        #expect(a.numericNames == ["size"] && b.numericNames == ["size"])
        #expect(zip(a.numeric[0], b.numeric[0]).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(b.warnings.contains { $0.contains("6 cells are not a number and read as missing") })
        #expect(throws: StrataError.self) { try RawTable.read(path: dir + "/t.parquet", numeric: ["size"], categorical: [], idColumn: nil) }
    }
}

/// A Hive-partitioned dataset written by pyarrow (`write_to_dataset`, partition_cols year and
/// region, a null region as `__HIVE_DEFAULT_PARTITION__`, a value with a space percent-encoded):
/// the partition keys become columns (year int64, region string), files are read in path order,
/// and every row matches hive.csv (written by the same script).
@Suite struct HivePartitionTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/parquet"

    @Test func partitionDirectoriesBecomeColumns() throws {
        let t = try ParquetTable(path: Self.dir + "/hive")
        #expect(t.names == ["id", "x", "year", "region"])
        #expect(t.columns[2].physicalType == .int64 && t.columns[3].physicalType == .byteArray)
        #expect(t.files.count == 8)
        let csv = try String(contentsOfFile: Self.dir + "/hive.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        var rows: [[String]] = []
        try t.forEachRowGroup(columns: [0, 1, 2, 3]) { _, _, offset, cols in
            #expect(offset == rows.count)
            for i in 0..<cols[0].count { rows.append(cols.map { $0.text(i) ?? "" }) }
        }
        #expect(rows.count == 60)
        #expect(rows.map { [$0[0], $0[2], $0[3]] } == csv.map { [$0[0], $0[2], $0[3]] })
        #expect(zip(rows, csv).allSatisfy { Double($0.0[1]) == Double($0.1[1]) })
        // Only the partition columns selected: values without reading the stored ones.
        let head = try t.head(columns: [3, 2], limit: 5)
        #expect(head[0].isNull(0) && head[1].double(0) == 2023)
        // As a feature table: the numeric partition key is a feature like any numeric column.
        let data = try TableReader.read(path: Self.dir + "/hive", options: TableReadOptions(columns: ["x", "year"], idColumn: "id"))
        #expect(data.rows == 60 && data.cols == 2 && data.ids?.first == "14")
    }
}
