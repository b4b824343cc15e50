import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

@Suite struct RFMTests {
    static let cdnow = "\(Fixtures.dir)/cdnow"

    /// The BTYD summary of CDNOW_sample.txt (calibration end 1997-09-30, weeks) equals lifetimes'
    /// cdnow_customers_summary.csv: frequency exactly, recency and T to its two decimals.
    @Test func cdnowSummaryMatchesLifetimes() throws {
        var t = TransactionOptions()
        t.customer = .position(2)
        t.date = .position(3)
        t.amount = .position(5)
        t.delimiter = .whitespace
        t.hasHeader = false
        t.dateFormat = "%Y%m%d"
        var o = RFMOptions()
        o.calibrationEnd = CivilDate.days(year: 1997, month: 9, day: 30)
        o.unit = .weeks
        let (customers, report) = try RFM.summarize(path: "\(Self.cdnow)/CDNOW_sample.txt", transactions: t, options: o)
        #expect(report.badRows == 0 && report.afterCalibration > 0)
        let expected = try String(contentsOfFile: "\(Self.cdnow)/cdnow_customers_summary.csv", encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(customers.count == expected.count)
        let byId = Dictionary(uniqueKeysWithValues: customers.map { (Int($0.id)!, $0) })
        var mismatches = 0
        for row in expected {
            guard let c = byId[Int(row[0])!] else { mismatches += 1; continue }
            if c.btydFrequency != Int(row[1])! || abs(c.btydRecency - Double(row[2])!) > 0.005 + 1e-9 || abs(c.btydT - Double(row[3])!) > 0.005 + 1e-9 {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
        // Customer 1: purchases 1997-01-01, 01-18, 08-02 in calibration.
        let c1 = byId[1]!
        #expect(c1.btydFrequency == 2 && abs(c1.btydRecency - 213.0 / 7) < 1e-12 && abs(c1.btydT - 272.0 / 7) < 1e-12)
    }

    func write(_ text: String) -> String {
        let path = temporaryDirectory() + "/t.csv"
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func edgeCasesAndScores() throws {
        let path = write("""
            customer_id,date,amount
            a,2024-01-01,10
            a,2024-01-01,5
            a,2024-01-10,20
            a,2024-02-01,-5
            b,2024-01-05,100
            c,2024-03-01,7
            d,not-a-date,3
            ,2024-01-02,4
            e,2024-01-03,abc

            """)
        var o = RFMOptions()
        o.asOf = CivilDate.days(year: 2024, month: 2, day: 15)
        let (c, report) = try RFM.summarize(path: path, transactions: TransactionOptions(), options: o)
        #expect(report.badRows == 3 && report.firstBadRows.map(\.line) == [8, 9, 10])
        #expect(report.firstBadRows[0].column == "date" && report.firstBadRows[2].column == "amount")
        #expect(report.afterAsOf == 1)                       // c's only purchase is after the as-of day
        #expect(c.map(\.id) == ["a", "b"])
        let a = c[0], b = c[1]
        // Same-day repeats are one purchase day; the return counts against spend.
        #expect(a.purchaseDays == 3 && a.transactions == 4 && a.totalSpend == 30)
        #expect(a.btydFrequency == 2 && a.btydRecency == 31 && a.btydT == 45)
        #expect(a.btydMonetaryValue == (20 - 5) / 2.0)
        // One-purchase customer: frequency 0, monetary value 0.
        #expect(b.btydFrequency == 0 && b.btydMonetaryValue == 0 && b.recency == 41)
        #expect(a.rScore > b.rScore && a.fScore > b.fScore)
        #expect(RFM.segmentName(r: 5, f: 5) == "Champions" && RFM.segmentName(r: 1, f: 1) == "Lost" && RFM.segmentName(r: 2, f: 1) == "Hibernating")
        // Every R/F combination has a name.
        for r in 1...5 { for f in 1...5 { #expect(!RFM.segmentName(r: r, f: f).isEmpty) } }
        // Strict mode: the first bad row is an error naming line and column.
        var strict = TransactionOptions()
        strict.strict = true
        #expect { try RFM.summarize(path: path, transactions: strict, options: o) } throws: { e in
            (e as? StrataError)?.description.contains("line 8") == true && (e as? StrataError)?.description.contains("'date'") == true
        }
        // As-of before every purchase, and an empty file: clear errors.
        o.asOf = CivilDate.days(year: 2020, month: 1, day: 1)
        #expect(throws: StrataError.self) { try RFM.summarize(path: path, transactions: TransactionOptions(), options: o) }
        #expect(throws: StrataError.self) { try RFM.summarize(path: write("\n"), transactions: TransactionOptions(), options: RFMOptions()) }
    }

    @Test func dates() {
        #expect(CivilDate.days(year: 1970, month: 1, day: 1) == 0)
        #expect(CivilDate.string(CivilDate.days(year: 2024, month: 2, day: 29)) == "2024-02-29")
        #expect(CivilDate.parse("2024-02-30", format: nil) == nil)
        #expect(CivilDate.parse("19970930", format: "%Y%m%d") == CivilDate.days(year: 1997, month: 9, day: 30))
        #expect(CivilDate.parse("2024-03-01T10:00:00Z", format: nil) == CivilDate.days(year: 2024, month: 3, day: 1))
        #expect(CivilDate.parse("01/03/2024", format: "%d/%m/%Y") == CivilDate.days(year: 2024, month: 3, day: 1))
    }
}

@Suite struct ABCTests {
    @Test func classesByHand() {
        // 50, 30, 10, 6, 4 of 100: cumulative share before each: 0, .5, .8, .9, .96.
        let (p, classes) = ABC.classify(["p1": 50, "p2": 30, "p3": 10, "p4": 6, "p5": 4, "p6": 0])
        #expect(p.map(\.id) == ["p1", "p2", "p3", "p4", "p5", "p6"])
        #expect(p.map(\.abcClass) == ["A", "A", "B", "B", "C", "C"])
        #expect(abs(p[2].cumulativeShare - 0.9) < 1e-12)
        #expect(classes["A"]!.products == 2 && abs(classes["A"]!.valueShare - 0.8) < 1e-12)
        #expect(abs(classes["C"]!.productShare - 2.0 / 6) < 1e-12)
    }

    @Test func fromTransactionsWithSegments() throws {
        let path = temporaryDirectory() + "/t.csv"
        try """
            customer_id,date,amount,product,qty
            a,2024-01-01,90,x,1
            a,2024-01-02,5,y,10
            b,2024-01-01,5,z,2
            b,2024-01-03,50,y,1

            """.write(toFile: path, atomically: true, encoding: .utf8)
        var t = TransactionOptions()
        t.product = .name("product")
        t.quantity = .name("qty")
        let r = try ABC.run(path: path, transactions: t, measure: .revenue, segments: ["a": "big", "b": "small"], a: 0.8, b: 0.95)
        #expect(r.overall.map(\.id) == ["x", "y", "z"] && r.overall.map(\.abcClass) == ["A", "A", "C"])
        #expect(r.bySegment["big"]!.first!.id == "x" && r.bySegment["small"]!.first!.id == "y")
        let q = try ABC.run(path: path, transactions: t, measure: .quantity, a: 0.8, b: 0.95)
        #expect(q.overall.first!.id == "y" && q.overall.first!.value == 11)
        #expect(throws: StrataError.self) { try ABC.run(path: path, transactions: t, measure: .margin, a: 0.8, b: 0.95) }
    }
}
