import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

/// The privacy building blocks in-process: lossless ids, identifier-like columns, the
/// threshold in profiles, RFM mixes and migrations, and messages that quote no secret.
@Suite struct PrivacyTests {
    func file(_ bytes: [UInt8]) -> String {
        let path = temporaryDirectory() + "/f.csv"
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func lossless(_ bytes: [UInt8]) -> String { bytes.withUnsafeBufferPointer { CustomerKey.lossless($0) } }

    // MARK: item 9: ids are bytes

    @Test func invalidUTF8IsEscapedAndDistinctBytesStayDistinct() {
        #expect(lossless(Array("C-00ü\\x".utf8)) == "C-00ü\\x")                     // valid text: as written, backslash too
        #expect(lossless([0x61, 0xFF, 0x62]) == "a\\xffb")
        #expect(lossless([0x61, 0xFE, 0x62]) == "a\\xfeb")
        #expect(lossless([0xC3]) == "\\xc3")                                         // a truncated sequence
        #expect(lossless([0xE0, 0x80, 0x80]) == "\\xe0\\x80\\x80")                    // overlong
        #expect(lossless([0xED, 0xA0, 0x80]) == "\\xed\\xa0\\x80")                    // a surrogate
        #expect(lossless([0xF0, 0x9F, 0x98, 0x80, 0xFF]) == "\\xf0\\x9f\\x98\\x80\\xff")     // all of an invalid field in ASCII
        // Swift compares Strings by canonical equivalence: a non-NFC id is written in ASCII so
        // that it stays apart from its NFC twin.
        #expect(lossless(Array("é".utf8)) == "é" && lossless(Array("e\u{301}".utf8)) == "e\\xcc\\x81")
        #expect(lossless(Array("é".utf8)) != lossless(Array("e\u{301}".utf8)) && lossless(Array("\u{37E}".utf8)) != ";")
        // In an invalid field a backslash is escaped too, so no two byte strings collide.
        #expect(lossless(Array("\\xff".utf8) + [0xFE]) == "\\x5cxff\\xfe")
        #expect(lossless([0xFF, 0xFE]) == "\\xff\\xfe")
        // What Strata writes reads back as the same id.
        #expect(lossless(Array(lossless([0x61, 0xFF]).utf8)) == lossless([0x61, 0xFF]))
        // Every 1- and 2-byte string maps to a distinct id.
        var seen: [String: [UInt8]] = [:]
        for a in 0...255 {
            for b in [-1] + Array(0...255) {
                let bytes = b < 0 ? [UInt8(a)] : [UInt8(a), UInt8(b)]
                let id = lossless(bytes)
                #expect(seen.updateValue(bytes, forKey: id) == nil, "\(bytes) and \(seen[id] ?? []) both read as \(id)")
            }
        }
    }

    @Test func everyIdReaderKeepsInvalidBytes() throws {
        // Customer table (segment's reader, the kmeans reader) and order log.
        let table = file(Array("customer_id,x\n".utf8) + [0x61, 0xFF] + Array(",1\n".utf8) + [0x61, 0xFE] + Array(",2\n\"q".utf8) + [0xFF]
                         + Array("\"\"z\",3\n".utf8))
        let raw = try RawTable.read(path: table, numeric: ["x"], categorical: [], idColumn: "customer_id")
        #expect(raw.ids == ["a\\xff", "a\\xfe", "q\\xff\"z"])
        let data = try TableReader.read(path: table, options: TableReadOptions(idColumn: "customer_id"))
        #expect(data.ids == ["a\\xff", "a\\xfe", "q\\xff\"z"])
        let log = file(Array("customer_id,date,amount\n".utf8) + [0x61, 0xFF] + Array(",2024-01-01,10\n".utf8) + [0x61, 0xFE]
                       + Array(",2024-01-02,20\n".utf8))
        var customers: [String] = []
        _ = try TransactionReader.read(path: log, options: TransactionOptions()) { customers.append($0.customer) }
        #expect(customers == ["a\\xff", "a\\xfe"])
        let (summaries, _) = try RFM.summarize(path: log, transactions: TransactionOptions(), options: RFMOptions())
        #expect(Set(summaries.map(\.id)) == ["a\\xff", "a\\xfe"])
        // Distinct pseudonyms for the two customers U+FFFD used to merge.
        let p = Pseudonymizer(salt: "s")
        #expect(p.pseudonym("a\\xff") != p.pseudonym("a\\xfe"))
    }

    // MARK: item 7: identifier-like columns

    @Test func identifierLikeColumnsAreRecognized() {
        let n = 200
        #expect(IdentifierColumns.reason((0..<n).map { "user\($0)@mail.example.com" }) == .emails)
        // 10% e-mails among a repeated value: still a column of e-mails.
        #expect(IdentifierColumns.reason((0..<n).map { $0 % 10 == 0 ? "ref\($0 % 3)@x.org" : "organic" }) == .emails)
        #expect(IdentifierColumns.reason((0..<n).map { ["+44 20 7946 0958", "(555) 123-4567", "555-1234", "0612345678"][$0 % 4] }) == .phones)
        #expect(IdentifierColumns.reason((0..<n).map { "Customer Name \($0)" }) == .nearlyUnique)
        // Categories, dates, codes and sparse columns are not identifiers.
        #expect(IdentifierColumns.reason((0..<n).map { ["north", "south", "east"][$0 % 3] }) == nil)
        #expect(IdentifierColumns.reason((0..<n).map { "2024-01-\(String(format: "%02d", 1 + $0 % 28))" }) == nil)
        #expect(IdentifierColumns.reason((0..<n).map { ["12/03/2024", "1.5.2023"][$0 % 2] }) == nil)
        #expect(IdentifierColumns.reason((0..<n).map { "100\($0 % 9)234" }) == nil)        // bare 7-digit codes
        #expect(IdentifierColumns.reason((0..<n).map { "plan-\($0 % 19)" }) == nil)          // 19 values: a category
        #expect(IdentifierColumns.reason((0..<30).map { "v\($0 % 15)" }) == nil)              // few distinct values
        #expect(IdentifierColumns.reason(["", "", ""]) == nil)
        #expect(!IdentifierColumns.isEmail("a@b") && !IdentifierColumns.isEmail("@b.com") && !IdentifierColumns.isEmail("a b@c.de"))
        #expect(IdentifierColumns.isEmail("first.last+tag@sub.example.co.uk"))
    }

    @Test func identifierColumnsAndPIIColumnsNeverBecomeFeatures() throws {
        let dir = temporaryDirectory()
        var csv = "customer_id,referrer,phone,nickname,plan,spend\n"
        for i in 0..<120 {
            csv += "c\(i),\(i % 4 == 0 ? "friend\(i % 3)@mail.example" : "organic"),+1 555 010 \(String(format: "%04d", i)),n\(i % 30),"
                + "\(["basic", "gold"][i % 2]),\(10 + i % 13)\n"
        }
        try csv.write(toFile: "\(dir)/c.csv", atomically: true, encoding: .utf8)
        var c = SegmentConfig()
        c.customers = "\(dir)/c.csv"
        c.categorical = ["referrer", "phone", "plan"]         // asked for, and still left out when identifying
        c.piiColumns = ["nickname"]
        var logged: [String] = []
        let inputs = try SegmentInputs.read(c, threads: 1, log: { logged.append($0) })
        #expect(inputs.raw.categoricalNames == ["plan"] && inputs.raw.numericNames == ["spend"])
        #expect(logged.contains { $0.contains("'referrer' holds e-mail addresses") } && logged.contains { $0.contains("'phone' holds phone numbers") })
        #expect(!logged.contains { $0.contains("'nickname'") }, "a named pii column is left out silently")
        // A misspelt or contradictory pii column is an error naming the setting.
        c.piiColumns = ["nick_name"]
        #expect(throws: StrataError.self) { try SegmentInputs.read(c, threads: 1, log: { _ in }) }
        c.piiColumns = ["plan"]
        do { _ = try SegmentInputs.read(c, threads: 1, log: { _ in }); Issue.record("no error") } catch let StrataError.invalidSetting(key, message) {
            #expect(key == "pii_columns" && message.contains("also listed in categorical"))
        }
    }

    // MARK: item 6: the threshold in every figure

    /// `n` customers per segment (ids s<seg>-<i>), one feature, a city column and RFM segments.
    func table(_ sizes: [Int], city: (Int, Int) -> String) -> (RawTable, Dataset, [Int32], ProfileExtras) {
        var x: [Float] = [], cities: [String] = [], labels: [Int32] = [], ids: [String] = [], rfm: [String] = [], revenue: [Double] = []
        for (s, n) in sizes.enumerated() {
            for i in 0..<n {
                x.append(Float(10 * s) + Float(i % 5)); cities.append(city(s, i)); labels.append(Int32(s)); ids.append("s\(s)-\(i)")
                rfm.append(i < 3 ? "Champions" : i < 60 ? "Loyal" : "Lost"); revenue.append(Double(100 * (s + 1)))
            }
        }
        let n = x.count
        let raw = RawTable(source: "t", rows: n, numericNames: ["x"], numeric: [x], categoricalNames: ["city"], categorical: [cities],
                           idColumn: "id", ids: ids, lines: Array(2...(n + 1)))
        var extras = ProfileExtras()
        extras.rfmSegment = rfm
        extras.revenue = revenue
        return (raw, Dataset(rows: n, cols: 1, values: x), labels, extras)
    }

    @Test func otherIsReportedOnlyWhenItReachesTheThreshold() throws {
        // Segments of 200, 120, 30 and 25 at threshold 50: the two small ones merge into an
        // "other" of 55, which is reported.
        let (raw, data, labels, extras) = table([200, 120, 30, 25]) { s, i in s == 0 && i < 4 ? "Smallville" : ["A", "B", "C", "D"][s] }
        let p = SegmentProfiler.profile(raw: raw, model: data, labels: labels, k: 4, minSize: 50, extras: extras, threads: 1)
        #expect(p.segments.map(\.id) == [0, 1] && p.other?.size == 55 && p.other?.mergedSegments == [2, 3] && !p.otherSuppressed)
        #expect(p.population.size == 375 && p.smallSegments == [2, 3])
        // Categories: "C" and "D" are held by 30 and 25 of other's customers: neither is named,
        // nor Smallville (4 customers); "A" (196 of segment 0) is.
        #expect(p.segments[0].overRepresentedCategories.map(\.category) == ["A"])
        #expect(p.other!.overRepresentedCategories.isEmpty)
        // RFM mixes: Champions (3 per segment) are binned; the bin holds at least 50 of 2+ kinds.
        #expect(p.segments[0].rfmMix == ["Lost": 140, SegmentProfiler.smallRFMBin: 3 + 57])
        #expect(p.other?.rfmMix == [SegmentProfiler.smallRFMBin: 55] && p.population.rfmMix == ["Lost": 200, SegmentProfiler.smallRFMBin: 175])
        for g in p.segments + [p.other!, p.population] {
            let mix = try #require(g.rfmMix)
            #expect(mix.values.reduce(0, +) == g.size)
            #expect(mix.values.allSatisfy { $0 >= 50 }, "\(g.name): \(mix)")
        }

        // With only 30 + 15 small customers, "other" (45) is suppressed: the population is the
        // reported customers, so shares and revenue cannot be differenced.
        let (raw2, data2, labels2, extras2) = table([200, 120, 30, 15]) { s, _ in ["A", "B", "C", "D"][s] }
        let q = SegmentProfiler.profile(raw: raw2, model: data2, labels: labels2, k: 4, minSize: 50, extras: extras2, threads: 1)
        #expect(q.other == nil && q.otherSuppressed && q.smallSegments == [2, 3])
        #expect(q.population.size == 320 && q.segments.map(\.share) == [200.0 / 320, 120.0 / 320])
        #expect(q.population.revenue == 200 * 100 + 120 * 200 && abs(q.segments.map { $0.revenueShare! }.reduce(0, +) - 1) < 1e-12)
        #expect(q.population.features[0].count == 320 && q.population.features[0].mean == (200 * 2 + 120 * 12) / 320.0)
        #expect(!q.isReported(segment: 2) && q.isReported(segment: 1))
    }

    @Test func smallRFMCellsAreBinnedUntilTheBinIsSafe() {
        #expect(SegmentProfiler.binSmall(["A": 100, "B": 80], minSize: 50) == ["A": 100, "B": 80])
        // One small entry: the smallest shown one joins it, so the bin is neither small nor one kind.
        #expect(SegmentProfiler.binSmall(["A": 100, "B": 80, "C": 3], minSize: 50) == ["A": 100, SegmentProfiler.smallRFMBin: 83])
        // Two small entries that reach the threshold together stay as they are binned.
        #expect(SegmentProfiler.binSmall(["A": 100, "B": 30, "C": 25], minSize: 50) == ["A": 100, SegmentProfiler.smallRFMBin: 55])
        #expect(SegmentProfiler.binSmall(["A": 100, "B": 10, "C": 5], minSize: 50) == [SegmentProfiler.smallRFMBin: 115])
    }

    @Test func secondarySuppressionLeavesNoLoneHiddenCell() {
        let m = [[120, 3, 60], [0, 200, 70], [55, 90, 0]]
        let hide = Migration.suppressed(m, minCount: 50)
        #expect(hide[0][1])                                                          // the 3
        let lines = m.indices.map { r in m[r].indices.map { (r, $0) } } + (0..<3).map { c in (0..<3).map { ($0, c) } }
        for line in lines {
            let hidden = line.filter { hide[$0.0][$0.1] }.count
            #expect(hidden != 1, "a line with one hidden cell: \(line)")
        }
        // The 3 is protected by the cells that hide the fewest customers in all: the 60 beside
        // it, the 90 below it and the 0 that closes the square (153 customers; smallest-first
        // from the row's 60 would end the same, from a zero it can cost the 120 or the 200).
        #expect(hide == [[false, true, true], [false, false, false], [false, true, true]])
        #expect(Migration.suppressed(m, minCount: 1).joined().allSatisfy { !$0 })
    }

    @Test func migrationRecordMergesSmallSegmentsAndHidesSmallCells() throws {
        // Before: segments 0 (100) and 1 (6); after: 0 (100), 1 (3), 2 (3). Customer b0..b99
        // stay in 0; s0..s5 (segment 1) go to after 1 and 2; n0..n59 are new (in 0).
        let beforeIds = (0..<100).map { "b\($0)" } + (0..<6).map { "s\($0)" }
        let beforeLabels = [Int32](repeating: 0, count: 100) + [Int32](repeating: 1, count: 6)
        let afterIds = beforeIds + (0..<60).map { "n\($0)" }
        let afterLabels = [Int32](repeating: 0, count: 100) + [1, 1, 1, 2, 2, 2] + [Int32](repeating: 0, count: 60)
        let before = SegmentRunFiles(ids: beforeIds, labels: beforeLabels, k: 2, names: ["Big", "Tiny"], centersOriginal: nil, features: nil, profiles: nil)
        var after = SegmentRunFiles(ids: afterIds, labels: afterLabels, k: 3, names: ["Big", "T1", "T2"], centersOriginal: nil, features: nil, profiles: nil)
        #expect(try Migration.compute(before: before, after: after).record.matrix.count == 3)   // no threshold: 2 segments + new
        after.minCount = 50
        let r = try Migration.compute(before: before, after: after).record
        #expect(r.rows == ["before 0", "before other", "new"] && r.columns == ["after 0", "after other", "churned"])
        #expect(r.mapping.map(\.before) == [0] && r.mapping[0].afterName.value == "Big")
        #expect(r.matrix[0][0] == 100 && r.matrix[2][0] == 60 && r.matrix[1][1] == nil)
        #expect(r.stayed == 100 && r.moved == 0 && r.churned == 0 && r.new == 60 && r.minCellSize == 50)
        #expect(r.beforeShares[1] == nil && r.afterShares[1] == nil && r.rowShares[1][1] == nil)
        #expect(!r.mapping.contains { $0.beforeName == "Tiny" } && !["T1", "T2"].contains(r.mapping[0].afterName.value ?? ""))
    }

    // MARK: item 8: messages

    @Test func yamlErrorsQuoteNoValue() throws {
        let dir = temporaryDirectory()
        func message(_ yaml: String) throws -> String {
            try yaml.write(toFile: "\(dir)/job.yaml", atomically: true, encoding: .utf8)
            do { _ = try SegmentSettings.resolve(jobFile: "\(dir)/job.yaml", flags: []); return "" } catch let e as StrataError { return e.description }
        }
        let secret = "s3cr3t-salt-value"
        let dup = try message("customers: c.csv\nsalt: \(secret)\nk: 3\nsalt: \(secret)2\n")
        #expect(dup.contains("key 'salt' appears more than once") && dup.contains("line") && !dup.contains(secret), "\(dup)")
        let scan = try message("customers: c.csv\nsalt: \"\(secret)\n")
        #expect(scan.contains("not valid YAML or JSON: line") && !scan.contains(secret) && !scan.contains("\n"), "\(scan)")
        let parse = try message("customers: c.csv\nsalt: \(secret)\n  - x: [\n")
        #expect(!parse.contains(secret) && !parse.contains("\n"), "\(parse)")
    }

    @Test func withheldValuesLeaveNoValueInBadRowMessages() throws {
        let log = file(Array("customer_id,date,amount\nc1,jane@mail.example,10\nc2,2024-01-01,jane.doe\nc3,2024-01-02,1e99\nc4,2024-01-03,5\n".utf8))
        var o = TransactionOptions()
        o.quoteValues = false
        let r = try TransactionReader.read(path: log, options: o) { _ in }
        #expect(r.bad == 3)
        #expect(r.badRows.map(\.message) == ["date does not match ISO 8601 (YYYY-MM-DD)", "amount is not a number", "amount is beyond +-1e15"])
        o.quoteValues = true
        #expect(try TransactionReader.read(path: log, options: o) { _ in }.badRows[0].message.contains("'jane@mail.example'"))
        // Strict: the error itself quotes nothing either.
        o.quoteValues = false
        o.strict = true
        do { _ = try TransactionReader.read(path: log, options: o) { _ in }; Issue.record("no error") } catch let e as StrataError {
            #expect(!e.description.contains("jane"))
        }
        // Date detection names no example when values are withheld.
        let dates = file(Array("customer_id,date,amount\nc1,jane@mail.example,1\n".utf8))
        do { _ = try TransactionReader.read(path: dates, options: o) { _ in }; Issue.record("no error") } catch let e as StrataError {
            #expect(!e.description.contains("jane"), "\(e)")
        }
    }

    @Test func idsInSegmentMessagesArePseudonymsUnderPseudonymize() throws {
        let dir = temporaryDirectory()
        try "customer_id,x\nalice@mail.example,1\nbob,2\nalice@mail.example,3\n".write(toFile: "\(dir)/c.csv", atomically: true, encoding: .utf8)
        var c = SegmentConfig()
        c.customers = "\(dir)/c.csv"
        c.pseudonymize = true
        c.salt = "pepper"
        do { _ = try SegmentInputs.read(c, threads: 1, log: { _ in }); Issue.record("no error") } catch let e as StrataError {
            #expect(e.description.contains("customer id pseudonym \(Pseudonymizer(salt: "pepper").pseudonym("alice@mail.example")) appears twice"))
            #expect(!e.description.contains("alice"), "\(e)")
        }
        c.pseudonymize = false
        do { _ = try SegmentInputs.read(c, threads: 1, log: { _ in }); Issue.record("no error") } catch let e as StrataError {
            #expect(e.description.contains("customer id 'alice@mail.example' appears twice"))
        }
    }
}
