import Foundation
import Testing
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO

/// Seeded mutation fuzzing of the text readers (issue 13, "Done when"): the committed corpus in
/// Fixtures/fuzz/csv is mutated with a fixed seed for a bounded number of cases; every input must
/// be read or rejected with a `StrataError`, never crash, and the streaming path must agree with
/// the whole-buffer path. A few seconds in total.
@Suite struct FuzzTests {
    static let corpus: [[UInt8]] = {
        let dir = Fixtures.dir + "/fuzz/csv"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir).sorted()) ?? []
        return names.compactMap { FileManager.default.contents(atPath: dir + "/" + $0).map(Array.init) }
    }()

    /// One seeded mutation: flip, delete, insert a structural byte, duplicate or truncate.
    static func mutate(_ input: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var b = input
        let special: [UInt8] = [0x22, 0x2C, 0x0A, 0x0D, 0x3B, 0x20, 0x09, 0x00, 0xFF, 0xEF, 0x2E, 0x2D, 0x2F, 0x3A, 0x65, 0x30, 0x39]
        for _ in 0..<(1 + Int(rng.next() % 4)) {
            let at = b.isEmpty ? 0 : Int(rng.next() % UInt64(b.count))
            switch rng.next() % 6 {
            case 0: if !b.isEmpty { b[at] ^= UInt8(1 << (rng.next() % 8)) }
            case 1: if !b.isEmpty { b.remove(at: at) }
            case 2: b.insert(special[Int(rng.next() % UInt64(special.count))], at: at)
            case 3: if !b.isEmpty { b.insert(contentsOf: b[at..<min(b.count, at + Int(rng.next() % 16))], at: at) }
            case 4: b = Array(b.prefix(at))
            default: if !b.isEmpty { b[at] = special[Int(rng.next() % UInt64(special.count))] }
            }
        }
        return b
    }

    /// Every record of `bytes` by the whole-buffer tokenizer, nil when it throws a StrataError.
    static func wholeRecords(_ bytes: [UInt8]) throws -> [[String]]? {
        try bytes.withUnsafeBufferPointer { buf in
            var tok = CSVTokenizer(bytes: buf, file: "fuzz")
            var fields: [FieldSpan] = []
            var out: [[String]] = []
            do {
                while try tok.next(into: &fields) != nil {
                    out.append(fields.map { tok.string($0) })
                    if out.count > 100_000 { Issue.record("tokenizer does not advance"); return out }
                }
            } catch is StrataError { return nil }
            return out
        }
    }

    /// The same through the streaming splitter, fed in pieces cut at `cuts`.
    static func streamedRecords(_ bytes: [UInt8], cuts: [Int]) throws -> [[String]]? {
        var s = RecordSplitter(delimiter: UInt8(ascii: ","), quotes: true)
        var out: [[String]] = []
        var failed = false
        func take(_ r: UnsafeBufferPointer<UInt8>, _ line: Int) {
            var tok = CSVTokenizer(bytes: r, file: "fuzz", firstLine: line, skipBOM: false)
            var fields: [FieldSpan] = []
            do { if try tok.next(into: &fields) != nil { out.append(fields.map { tok.string($0) }) } } catch { failed = true }
        }
        // Skip a BOM as the reader does.
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        for end in cuts + [bytes.count] where end >= start {
            bytes[start..<end].withUnsafeBufferPointer { b in try? s.feed(b, take) }
            start = end
        }
        try s.finish(take)
        return failed ? nil : out
    }

    @Test func csvTokenizerAndSplitterAgreeAndNeverCrash() throws {
        #expect(Self.corpus.count >= 6, "the committed corpus is missing")
        var rng = SeededRandom(seed: 13)
        var compared = 0
        for round in 0..<3000 {
            let input = Self.mutate(Self.corpus[round % Self.corpus.count], &rng)
            let whole = try Self.wholeRecords(input)
            let cuts = (0..<2).map { _ in Int(rng.next() % UInt64(input.count + 1)) }.sorted()
            let streamed = try Self.streamedRecords(input, cuts: cuts)
            // When the whole file tokenizes cleanly, streaming it in pieces gives the same records.
            if let whole, let streamed {
                #expect(whole == streamed, "input \(input)")
                compared += 1
            }
        }
        #expect(compared > 500)
    }

    @Test func orderLogReaderNeverCrashes() throws {
        var rng = SeededRandom(seed: 14)
        let dir = NSTemporaryDirectory() + "strata-fuzz-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var read = 0
        for round in 0..<400 {
            let input = Self.mutate(Self.corpus[round % Self.corpus.count], &rng)
            let path = dir + "/log.csv"
            FileManager.default.createFile(atPath: path, contents: Data(input))
            var o = TransactionOptions()
            o.customer = .position(1); o.date = .position(2); o.amount = .position(3)
            o.delimiter = [.comma, .semicolon, .whitespace][round % 3]
            o.amountFormat = round % 2 == 0 ? AmountFormat() : AmountFormat(decimal: .comma, currency: "€")
            do {
                let s = try TransactionReader.read(path: path, options: o) { t in
                    #expect(t.amount.isFinite && abs(t.amount) <= TransactionReader.maxAmount)
                }
                #expect(s.rows + s.bad >= 0)
                read += 1
            } catch is StrataError {}
        }
        #expect(read > 100)
    }

    @Test func numberParsersNeverCrashAndMatchStrtof() {
        var rng = SeededRandom(seed: 15)
        let alphabet = Array("0123456789.-+eE ,x$€nai".utf8)
        for _ in 0..<20_000 {
            let bytes = (0..<Int(rng.next() % 24)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            bytes.withUnsafeBufferPointer { b in
                if b.isEmpty { return }
                if case let .value(v) = NumberParser.parse(b.baseAddress!, b.count) { #expect(v.isFinite) }
                if let d = NumberParser.parseDouble(b.baseAddress!, b.count) { #expect(d.isFinite) }
                for f in [AmountFormat(), AmountFormat(decimal: .comma, currency: "€"), AmountFormat(currency: "$")] {
                    if let d = f.parse(b) { #expect(d.isFinite) }
                }
            }
        }
        // Well-formed decimals: the byte parser equals strtof on every one.
        for _ in 0..<20_000 {
            var s = rng.next() % 2 == 0 ? "-" : ""
            s += String(rng.next() % 1_000_000)
            if rng.next() % 2 == 0 { s += "." + String(rng.next() % 1_000_000_000) }
            if rng.next() % 3 == 0 { s += "e" + String(Int(rng.next() % 60) - 30) }
            let got = Array(s.utf8).withUnsafeBufferPointer { NumberParser.parse($0.baseAddress!, $0.count) }
            let want = strtof(s, nil)
            if want.isFinite { #expect(got == .value(want), "\(s)") } else { #expect(got == .nonFinite, "\(s)") }
        }
    }

    @Test func dateParsersNeverCrashAndRoundTrip() throws {
        var rng = SeededRandom(seed: 16)
        let formats: [DateFormat] = [.yearFirst(separator: UInt8(ascii: "-")), .yearFirst(separator: UInt8(ascii: "/")), .compact,
                                     .monthFirst(separator: UInt8(ascii: "/")), .dayFirst(separator: UInt8(ascii: ".")),
                                     .epochSeconds, .epochMilliseconds, .pattern("%d %b %Y %H:%M %p %z")]
        let alphabet = Array("0123456789-/.:TZ+ APMUCjanJAN".utf8)
        for _ in 0..<20_000 {
            let bytes = (0..<Int(rng.next() % 32)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            for f in formats {
                if let d = bytes.withUnsafeBufferPointer({ f.day($0) }) { #expect(abs(d) < 4_000_000) }
            }
        }
        // Valid dates in every style read back as the same day.
        for _ in 0..<3000 {
            let y = 1900 + Int(rng.next() % 200), m = 1 + Int(rng.next() % 12), d = 1 + Int(rng.next() % 28)
            let day = CivilDate.days(year: y, month: m, day: d)
            let texts: [(DateFormat, String)] = [
                (formats[0], String(format: "%04d-%02d-%02dT%02d:%02d:00+01:00", y, m, d, rng.next() % 24, rng.next() % 60)),
                (formats[1], "\(y)/\(m)/\(d)"),
                (formats[2], String(format: "%04d%02d%02d", y, m, d)),
                (formats[3], "\(m)/\(d)/\(y) \(rng.next() % 12 + 1):\(String(format: "%02d", rng.next() % 60)) PM"),
                (formats[4], "\(d).\(m).\(y)"),
                (formats[5], String(day * 86_400 + Int(rng.next() % 86_400))),
                (formats[6], String(day * 86_400_000 + Int(rng.next() % 86_400_000))),
            ]
            for (f, text) in texts { #expect(Array(text.utf8).withUnsafeBufferPointer { f.day($0) } == day, "\(f) \(text)") }
        }
        // Detection on random samples: a format or a StrataError.
        for _ in 0..<2000 {
            let samples = (0..<Int(1 + rng.next() % 4)).map { _ in (0..<Int(rng.next() % 20)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] } }
            do { _ = try DateFormat.detect(samples, file: "f", column: "c") } catch is StrataError {}
        }
    }
}
