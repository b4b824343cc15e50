import Foundation
import Testing
@testable import StrataIO
@testable import StrataCustomers

/// `CSVBytes` writes exactly what the String writers write: `CSVOutput.number` (integers,
/// `%.15g`, empty for non-finite), `CSVOutput.field` quoting, `CivilDate.string` dates.
@Suite struct CSVBytesTests {
    @Test func sameTextAsTheStringWriters() {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 1e-7, -2.5e-300, 123456789012345, 1e15, 1e16, -1e20, .pi, .nan, .infinity, -.infinity,
                                Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 19.99, 1.0 / 3]
        for _ in 0..<2000 { values.append(Double(bitPattern: rng.next()) .isFinite ? Double(bitPattern: rng.next() >> 2) : 1) }
        for _ in 0..<2000 { values.append(Double(Int64.random(in: -1_000_000...1_000_000)) / 100) }
        for v in values {
            var w = CSVBytes(header: "x")
            w.number(v)
            #expect(String(decoding: w.bytes, as: UTF8.self) == "x\n" + CSVOutput.number(v), "\(v)")
        }
        for i in [Int.min, -1, 0, 7, 10, 1_000_000, Int.max] {
            var w = CSVBytes(header: "x")
            w.integer(i)
            #expect(String(decoding: w.bytes, as: UTF8.self) == "x\n\(i)")
        }
        for d in [-719_528, -1, 0, 17_167, 2_932_896, 10_957] {
            var w = CSVBytes(header: "x")
            w.date(d)
            #expect(String(decoding: w.bytes, as: UTF8.self) == "x\n" + CivilDate.string(d))
        }
        for s in ["plain", "a,b", "say \"hi\"", "line\nbreak", "cr\r", "", "ünï"] {
            var w = CSVBytes(header: "x")
            w.text(s)
            #expect(String(decoding: w.bytes, as: UTF8.self) == "x\n" + CSVOutput.field(s))
        }
    }
}
