import Foundation
import Testing
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

/// The data contract (issue 13): every input read the same careful way; each fault class has
/// its reproducer here with the right value.
@Suite struct DataContractTests {
    func file(_ text: String, _ name: String = "t.csv") -> String {
        let dir = NSTemporaryDirectory() + "strata-contract-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func rfm(_ text: String, _ t: TransactionOptions = TransactionOptions(), _ o: RFMOptions = RFMOptions(),
             today: Int = CivilDate.days(year: 2026, month: 11, day: 30)) throws -> ([String: CustomerSummary], RFMReport) {
        let (c, r) = try RFM.summarize(path: file(text), transactions: t, options: o, today: today)
        return (Dictionary(uniqueKeysWithValues: c.map { ($0.id, $0) }), r)
    }

    // MARK: 1. Quoted fields in order logs

    @Test func quotedIdsAndProductsAreKeptWhole() throws {
        let log = "customer_id,date,amount,product\n\"ACME, Inc\",2024-01-01,100,\"Mug, blue\"\n\"ACME, Ltd\",2024-01-05,55,\"Mug, red\"\n"
            + "\"ACME, Inc\",2024-02-01,50,\"Mug \"\"big\"\"\"\n"
        let (c, r) = try rfm(log)
        #expect(c.count == 2 && r.badRows == 0)
        #expect(c["ACME, Inc"]?.totalSpend == 150 && c["ACME, Inc"]?.purchaseDays == 2 && c["ACME, Ltd"]?.totalSpend == 55)
        var t = TransactionOptions()
        t.product = .name("product")
        let abc = try ABC.run(path: file(log), transactions: t, measure: .revenue, a: 0.8, b: 0.95)
        #expect(Set(abc.overall.map(\.id)) == ["Mug, blue", "Mug, red", "Mug \"big\""])
    }

    @Test func commaInTheFirstColumnAndNewlinesInQuotesAsPythonWritesThem() throws {
        // Python's csv module: CRLF line ends, quotes only where needed, a line break in a name.
        let log = "customer_id,date,amount\r\n\"Smith, John\",2024-01-01,10\r\n\"Doe,\nJane\",2024-01-02,20\r\nplain,2024-01-03,5\r\n"
        let (c, r) = try rfm(log)
        #expect(r.badRows == 0 && r.transactions == 3)
        #expect(c["Smith, John"]?.totalSpend == 10 && c["Doe,\nJane"]?.totalSpend == 20 && c["plain"]?.totalSpend == 5)
    }

    @Test func recordsSplitAcrossReadChunksAreTheSame() throws {
        // The splitter is fed in arbitrary pieces (as 4 MiB reads would cut a big file): the
        // records and their lines do not depend on where the cuts fall.
        let text = Array("a,b\n\"x,\ny\",2\r\n\n\"q\"\"\",3\nlast,4".utf8)
        func records(cuts: [Int]) throws -> [String] {
            var s = RecordSplitter(delimiter: UInt8(ascii: ","), quotes: true)
            var out: [String] = []
            var start = 0
            for end in cuts + [text.count] where end >= start {
                try text[start..<end].withUnsafeBufferPointer { b in try s.feed(b) { r, line in out.append("\(line):" + String(decoding: r, as: UTF8.self)) } }
                start = end
            }
            try s.finish { r, line in out.append("\(line):" + String(decoding: r, as: UTF8.self)) }
            return out
        }
        let whole = try records(cuts: [])
        #expect(whole == ["1:a,b", "2:\"x,\ny\",2", "5:\"q\"\"\",3", "6:last,4"])
        var rng = SeededRandom(seed: 7)
        for _ in 0..<200 {
            let cuts = (0..<3).map { _ in Int(rng.next() % UInt64(text.count + 1)) }.sorted()
            #expect(try records(cuts: cuts) == whole)
        }
    }

    // MARK: 3. Dates and numbers as exported by real systems

    @Test func datesInEveryAcceptedForm() throws {
        let jan1 = CivilDate.days(year: 2017, month: 1, day: 1)
        let cases: [(DateFormat, String, Int?)] = [
            (.yearFirst(separator: UInt8(ascii: "-")), "2017-01-01", jan1),
            (.yearFirst(separator: UInt8(ascii: "-")), "2017-01-01T08:26:00+01:00", jan1),
            (.yearFirst(separator: UInt8(ascii: "-")), "2017-01-01 08:26:00 UTC", jan1),
            (.yearFirst(separator: UInt8(ascii: "-")), "2017-01-01T08:26:00.123Z", jan1),
            (.yearFirst(separator: UInt8(ascii: "-")), "2017-02-30", nil),
            (.yearFirst(separator: UInt8(ascii: "-")), "2017-01-01 garbage", nil),
            (.yearFirst(separator: UInt8(ascii: "/")), "2017/1/1", jan1),
            (.compact, "20170101", jan1),
            (.monthFirst(separator: UInt8(ascii: "/")), "1/1/2017 8:26", jan1),
            (.monthFirst(separator: UInt8(ascii: "/")), "12/31/2016 11:59 PM", jan1 - 1),
            (.dayFirst(separator: UInt8(ascii: "/")), "31/12/2016", jan1 - 1),
            (.dayFirst(separator: UInt8(ascii: ".")), "1.2.2017", jan1 + 31),
            (.epochSeconds, "1483257600", jan1 + 0),          // 2017-01-01 08:00 UTC
            (.epochSeconds, "-1", -1),
            (.epochMilliseconds, "1483257600000", jan1),
            (.pattern("%d %b %Y"), "05 Mar 2017", jan1 + 63),
            (.pattern("%Y%m%d"), "20170101", jan1),
        ]
        for (f, text, want) in cases {
            let got = Array(text.utf8).withUnsafeBufferPointer { f.day($0) }
            #expect(got == want, "\(f) '\(text)'")
        }
    }

    @Test func dateFormatDetectionAndAmbiguity() throws {
        func detect(_ s: [String]) throws -> DateFormat { try DateFormat.detect(s.map { Array($0.utf8) }, file: "f", column: "date") }
        #expect(try detect(["2017-01-01", "2017-01-02T08:00:00Z"]) == .yearFirst(separator: UInt8(ascii: "-")))
        #expect(try detect(["1/1/2017 8:26", "1/13/2017 10:00"]) == .monthFirst(separator: UInt8(ascii: "/")))
        #expect(try detect(["1/1/2017", "13/1/2017"]) == .dayFirst(separator: UInt8(ascii: "/")))
        #expect(try detect(["19970101", "19970218"]) == .compact)
        #expect(try detect(["1483257600", "1483344000"]) == .epochSeconds)
        #expect(try detect(["1483257600123"]) == .epochMilliseconds)
        #expect(try detect(["01.02.2017"]) == .dayFirst(separator: UInt8(ascii: ".")))
        #expect { try detect(["01/02/2017", "03/04/2017"]) } throws: { e in
            "\(e)".contains("could be day first or month first") && "\(e)".contains("--date-format")
        }
        #expect { try detect(["13/01/2017", "01/13/2017"]) } throws: { e in "\(e)".contains("both day first") }
        #expect { try detect(["yesterday"]) } throws: { e in "\(e)".contains("no recognised format") }
        // Forced formats: names and patterns; an unknown directive is a usage error.
        #expect(try DateFormat(forced: "epoch_ms") == .epochMilliseconds)
        #expect(throws: StrataError.self) { try DateFormat(forced: "%Q") }
    }

    @Test func anOrderLogInDayFirstDatesIsDetectedAndReported() throws {
        let (c, r) = try rfm("customer_id,date,amount\na,31/12/2017,5\nb,30/12/2017,6\na,1/12/2017,7\n")
        #expect(r.dateFormat == "D/M/YYYY (day first)" && r.dateFormatDetected && r.badRows == 0)
        #expect(c["a"]?.firstDay == CivilDate.days(year: 2017, month: 12, day: 1) && c["a"]?.totalSpend == 12)
    }

    @Test func amountsWithDecimalCommasCurrenciesAndThousands() {
        func parse(_ s: String, _ f: AmountFormat) -> Double? { Array(s.utf8).withUnsafeBufferPointer { f.parse($0) } }
        let plain = AmountFormat()
        #expect(parse("1234.5", plain) == 1234.5 && parse("-3", plain) == -3 && parse("1e3", plain) == 1000)
        for bad in ["1,234.50", "$5", "0x10", "nan", "inf", "", "1.2.3"] { #expect(parse(bad, plain) == nil, "\(bad)") }
        let euro = AmountFormat(decimal: .comma, currency: "€")
        #expect(parse("€1.234,50", euro) == 1234.5 && parse("1.234,50 €", euro) == 1234.5 && parse("-€3,25", euro) == -3.25)
        #expect(parse("12,5", AmountFormat(decimal: .comma)) == 12.5)
        let dollar = AmountFormat(currency: "$")
        #expect(parse("$1,234.50", dollar) == 1234.5 && parse("$-5", dollar) == -5 && parse("1,234,567", dollar) == 1_234_567)
        for bad in ["1,23.4", "12,3456", ",123", "$"] { #expect(parse(bad, dollar) == nil, "\(bad)") }
    }

    @Test func quantityTimesUnitPrice() throws {
        var t = TransactionOptions()
        t.quantity = .name("qty")
        t.price = .name("unit_price")
        let (c, _) = try rfm("customer_id,date,qty,unit_price\na,2024-01-01,3,2.5\na,2024-01-02,2,10\n", t)
        #expect(c["a"]?.totalSpend == 27.5)
    }

    @Test func aNonPlainAmountSaysWhichOptionReadsIt() throws {
        #expect { try rfm("customer_id,date,amount\na,2024-01-01,\"1,234.50\"\n") } throws: { e in
            "\(e)".contains("--decimal and --currency") && "\(e)".contains("line 2")
        }
        var t = TransactionOptions()
        t.amountFormat = AmountFormat(currency: "$")
        let (c, _) = try rfm("customer_id,date,amount\na,2024-01-01,\"$1,234.50\"\n", t)
        #expect(c["a"]?.totalSpend == 1234.5)
    }

    // MARK: 4. When every row is bad, say why

    @Test func everyRowBadNamesTheFirstReasonsAndLines() throws {
        var t = TransactionOptions()
        t.dateFormat = "iso8601"
        let e = #expect(throws: StrataError.self) { try rfm("customer_id,date,amount\na,31/12/2017,5\nb,30/12/2017,6\n", t) }
        let m = e.map { "\($0)" } ?? ""
        #expect(m.contains("(2 rows read, 2 bad)") && m.contains("2 rows were skipped"), "\(m)")
        #expect(m.contains("line 2, column date: date '31/12/2017'") && m.contains("line 3"), "\(m)")
    }

    @Test func messagesQuoteAtMost60CharactersOfAValue() throws {
        let huge = String(repeating: "x", count: 1_000_000)
        #expect { try rfm("customer_id,date,amount\na,2024-01-01,\(huge)\n") } throws: { e in
            "\(e)".count < 600 && "\(e)".contains("(1000000 characters)")
        }
        #expect(Excerpt.of("a\nb") == "a\\nb")
    }

    // MARK: 5. Ids

    @Test func numericLookingIdsJoinOnOneKey() {
        #expect(CustomerKey.normalized("900.0") == "900" && CustomerKey.normalized("-12.00") == "-12")
        for same in ["900", "007", "9.5", "1e3", "abc.0", ".0", "A1.00x"] { #expect(CustomerKey.normalized(same) == same) }
    }

    @Test func rowNumberColumnsAreFlagged() {
        #expect(looksLikeRowNumber([Float](stride(from: 1, through: 8, by: 1))))
        #expect(!looksLikeRowNumber([1, 2, 3, 5, 8] as [Float]))        // increasing but not a row number
        #expect(!looksLikeRowNumber([1, 2, 2, 3, 4] as [Float]))
        #expect(looksLikeRowNumber((0..<100).map { Float($0 * 2 + 1000) }))   // sequential ids with gaps, dense
    }

    // MARK: 7. Data conditions

    @Test func ordersAfterTheRunDayOrFarAfterTheBulkAreExcluded() throws {
        let log = "customer_id,date,amount\na,2017-01-01,5\nb,2017-03-01,6\na,2017-02-01,7\nc,2099-01-01,9\n"
        let (c, r) = try rfm(log)
        #expect(r.excludedFuture == 1 && c["c"] == nil && r.asOf == CivilDate.days(year: 2017, month: 3, day: 1))
        // With as_of, the user decides (2099 is then "after as of", not silently moved).
        var o = RFMOptions()
        o.asOf = CivilDate.days(year: 2100, month: 1, day: 1)
        let (c2, r2) = try rfm(log, TransactionOptions(), o)
        #expect(r2.excludedFuture == 0 && c2["c"] != nil)
        // A mistyped year far after the bulk, even if the run day is later still.
        #expect(RFM.futureCutoff(rowsPerDay: [100: 50, 101: 60, 900: 1], today: 5000) == 101)
        #expect(RFM.futureCutoff(rowsPerDay: [100: 5, 900: 5], today: 5000) == 5000)   // half the log: not an outlier
    }

    @Test func nobodyBoughtTwiceIsADataConditionAndReturnsOnlyCustomersAreWorthNothing() throws {
        let (c, _) = try rfm("customer_id,date,amount\na,2024-01-01,5\nb,2024-01-03,6\n")
        #expect { try CLV.run(Array(c.values), horizon: 52, discount: 0.01) } throws: { e in
            (e as? StrataError).map { $0.exitCode == 65 && $0.description.contains("two different days") } == true
        }
        var rows = "customer_id,date,amount\n"
        for i in 0..<40 { rows += "c\(i),2024-01-\(String(format: "%02d", 1 + i % 20)),\(10 + i)\nc\(i),2024-02-\(String(format: "%02d", 1 + i % 25)),\(12 + i)\n" }
        rows += "r,2024-01-05,-20\nr,2024-02-05,-15\n"
        let (all, _) = try RFM.summarize(path: file(rows), transactions: TransactionOptions(), options: RFMOptions())
        let values = try CLV.run(all, horizon: 52, discount: 0.01).results
        let r = try #require(values.first { $0.id == "r" })
        #expect(r.clv == 0 && r.expectedAverageSpend == 0)
        #expect(values.filter { $0.id != "r" }.allSatisfy { $0.clv > 0 })
    }

    // MARK: 8-9. Numbers

    @Test func hugeAmountsAreBadRowsAndSumsStayFinite() throws {
        let (c, r) = try rfm("customer_id,date,amount\na,2024-01-01,1e308\na,2024-01-02,1e308\nb,2024-01-03,5\n")
        #expect(r.badRows == 2 && r.firstBadRows.first?.message.contains("beyond +-1e15") == true && c["a"] == nil)
        // At the bound, totals stay finite and are written without trapping.
        let (big, _) = try rfm("customer_id,date,amount\na,2024-01-01,1e15\na,2024-01-02,1e15\na,2024-01-03,999999999999999.5\n")
        #expect(big["a"]!.totalSpend.isFinite)
        #expect(RFM.fmt2(big["a"]!.totalSpend) == "3e+15")
    }

    @Test func moneyKeepsItsCents() throws {
        let (c, _) = try rfm("customer_id,date,amount\na,2024-01-01,13990.93\nb,2024-01-01,0.1\nb,2024-01-02,0.2\n")
        let csv = String(decoding: RFM.csv(Array(c.values).sorted { $0.id < $1.id }), as: UTF8.self)
        #expect(csv.contains("a,1,1,13990.93,13990.93,"))
        #expect(csv.contains("b,0,2,0.3,0.15,"))   // not 0.30000000000000004
        #expect(CSVOutput.number(1e15 + 0.5) == "1e+15" && CSVOutput.number(-2) == "-2" && CSVOutput.number(.nan) == "")
    }

    // MARK: 2, 6 (readers)

    @Test func mostlyNumericColumnsErrorAndMostlyTextColumnsAreReported() throws {
        let bad = file("a,b\n1,2\n3,hello\n4,5\n6,7\n")
        #expect { try TableReader.read(path: bad) } throws: { e in
            e as? StrataError == .badData(file: bad, line: 3, column: "b", message: "value 'hello' is not a number; fix or remove the cell (feature columns are numeric)")
        }
        let named = file("id,name,a\n1,Ann,1\n2,Bob,3\n3,Cy,2\n")
        let d = try TableReader.read(path: named)
        #expect(d.columns == ["a"] && d.warnings.count == 1 && d.warnings[0].contains("text columns ignored (not features): name"))
        // With imputation (the raw table path) the cell is a counted missing value.
        let t = try RawTable.read(path: bad, numeric: nil, categorical: [], idColumn: nil, unparsable: .missing)
        #expect(t.numericNames == ["a", "b"] && t.numeric[1][1].isNaN && t.warnings.first?.contains("1 cell is not a number and read as missing (first: line 3, 'hello')") == true)
    }

    @Test func duplicateHeaderNamesAreRejectedByEveryTableReader() throws {
        let dup = file("id,a,a\n1,2,3\n")
        for read in [{ _ = try TableReader.read(path: dup) }, { _ = try RawTable.read(path: dup, numeric: nil, categorical: [], idColumn: nil) }] {
            #expect { try read() } throws: { e in "\(e)".contains("column 'a'") && "\(e)".contains("appears twice") }
        }
    }

    // MARK: 13. Rare binary flags

    @Test func rareFlagsAreNotClippedAwayAndConstantColumnsAreDroppedTogether() throws {
        var text = "spend,complaints,const1,const2\n"
        for i in 0..<300 { text += "\(10 + i % 37),\(i == 5 || i == 77 ? 1 : 0),4,\(i == 0 ? "" : "2")\n" }
        let t = try RawTable.read(path: file(text), numeric: nil, categorical: [], idColumn: nil)
        var o = PreprocessOptions()
        o.clip = .quantiles(0.01, 0.99)
        o.impute = .median
        o.scale = .standard
        let (p, d, report) = try FittedPipeline.fit(t, options: o)
        #expect(report.constantColumns == ["const1", "const2"] && p.inputNumeric == ["spend", "complaints"])
        #expect(report.clipped["complaints"] == nil && d.columns == ["spend", "complaints"])
        let flags: Set<Float> = Set((0..<d.rows).map { d.values[$0 * 2 + 1] })
        #expect(flags.count == 2)
        #expect(report.imputed["const2"] == nil && report.missing["const2"] == 1)
    }

    // MARK: Review findings (second pass)

    @Test func orderRowsWithExtraFieldsAreBadRowsNotCutAmounts() throws {
        let (c, r) = try rfm("customer_id,date,amount\nc1,2017-01-01,1,234.50\nc2,2017-01-02,5\n")
        #expect(r.badRows == 1 && c["c1"] == nil && c["c2"]?.totalSpend == 5)
        #expect(r.firstBadRows.first?.message.contains("row has 4 fields but the header has 3") == true)
    }

    @Test func aMistypedYearInASmallLogIsExcludedToo() throws {
        var log = "customer_id,date,amount\n"
        for i in 0..<20 { log += "c\(i % 5),2017-01-\(String(format: "%02d", 1 + i)),\(10 + i)\n" }
        log += "c9,2021-03-01,7\n"
        let (c, r) = try rfm(log)
        #expect(r.excludedFuture == 1 && c["c9"] == nil && r.asOf == CivilDate.days(year: 2017, month: 1, day: 20))
    }

    @Test func repeatSpendIsSummedNotSubtracted() throws {
        let (c, _) = try rfm("customer_id,date,amount\nc3,2024-01-01,123456789012.34\nc3,2024-01-02,0.01\nc1,2024-01-01,1e9\nc1,2024-01-02,0.15\n")
        #expect(c["c3"]?.btydMonetaryValue == 0.01 && c["c1"]?.btydMonetaryValue == 0.15)
    }

    @Test func longHeaderNamesAreCutInMessages() throws {
        let name = String(repeating: "H", count: 100_000)
        let path = file("\(name),b\n1,x\n")
        #expect { try TableReader.read(path: path, options: TableReadOptions(columns: ["zz"])) } throws: { e in "\(e)".count < 400 }
        #expect { try TableReader.read(path: path, options: TableReadOptions(columns: ["b"])) } throws: { e in "\(e)".count < 400 }
        #expect(Excerpt.list((0..<30).map { "c\($0)" }).hasSuffix("c19, and 10 more"))
    }

    @Test func abcJoinsSegmentsOnTheCustomerKeyAndRefusesNoMatch() throws {
        var t = TransactionOptions()
        t.product = .name("product")
        let path = file("customer_id,date,amount,product\n900.0,2024-01-01,10,p\n901,2024-01-02,5,q\n")
        let r = try ABC.run(path: path, transactions: t, measure: .revenue, segments: ["900": "A", "902": "B"], a: 0.8, b: 0.95)
        #expect(r.join.matchedRows == 1 && r.join.unmatchedRows == 1 && r.join.unmatchedExamples == ["901"] && r.bySegment["A"]?.count == 1)
        #expect { try ABC.run(path: path, transactions: t, measure: .revenue, segments: ["x": "A"], a: 0.8, b: 0.95) } throws: { e in
            "\(e)".contains("no order row's customer has a segment")
        }
    }

    @Test func weightsSurvivePreprocessingAndAreNeverFeatures() throws {
        let t = try RawTable.read(path: file("x,w\n1,1\n1,1\n5,1\n5,1\n1000,0\n"), numeric: nil, categorical: [], idColumn: nil, weightsColumn: "w")
        #expect(t.numericNames == ["x"] && t.weights == [1, 1, 1, 1, 0])
        var o = PreprocessOptions()
        o.scale = .standard
        let (_, d, _) = try FittedPipeline.fit(t, options: o)
        #expect(d.columns == ["x"] && d.weights == [1, 1, 1, 1, 0] && d.weightsColumn == "w")
        #expect(throws: StrataError.self) { try RawTable.read(path: file("x,w\n1,-1\n"), numeric: nil, categorical: [], idColumn: nil, weightsColumn: "w") }
    }

    @Test func aSingleCategoryColumnIsConstant() throws {
        let t = try RawTable.read(path: file("a,c,d\n1,x,u\n2,x,v\n3,x,u\n"), numeric: ["a"], categorical: ["c", "d"], idColumn: nil)
        var o = PreprocessOptions()
        o.categorical = ["c", "d"]
        let (_, d, report) = try FittedPipeline.fit(t, options: o)
        #expect(report.constantColumns == ["c"] && d.columns == ["a", "d=u", "d=v", "d=other"])
    }
}

/// migration.json's cell suppression against joint recovery (issue 14, found in review).
@Suite struct MigrationSuppressionTests {
    @Test func hiddenCellsAreNotDeterminedByTheTotalsJointly() {
        // Four small cells: each row, column, the stayed diagonal and the moved anti-diagonal
        // holds two of them, so no line has one alone; together the six totals fix all four.
        let m = [[5, 3, 40], [2, 6, 40], [40, 40, 40]]
        let stayed = [(0, 0), (1, 1)], moved = [(0, 1), (1, 0)]
        let rows = m.indices.map { r in m[r].indices.map { (r, $0) } }
        let cols = (0..<3).map { c in m.indices.map { ($0, c) } }
        let lines = rows + cols + [stayed, moved]
        let small = m.map { row in row.map { $0 > 0 && $0 < 10 } }
        #expect(Migration.determinedCell(small, lines: lines) != nil, "the naive suppression is solvable")
        let hide = Migration.suppressed(m, minCount: 10, extraLines: [stayed, moved])
        #expect(Migration.determinedCell(hide, lines: lines) == nil)
        #expect((0..<2).allSatisfy { r in (0..<2).allSatisfy { hide[r][$0] } })
    }
}
