import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataCustomers
@testable import StrataIO
@testable import StrataSegment

@Suite struct ReaderTests {
    func csv(_ text: String, _ options: TableReadOptions = TableReadOptions()) throws -> Dataset {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { try TableReader.parseCSV($0, file: "t.csv", options: options) }
    }

    func badData(_ text: String, _ options: TableReadOptions = TableReadOptions()) -> StrataError? {
        do { _ = try csv(text, options); return nil } catch let e as StrataError { return e } catch { return nil }
    }

    @Test func quotedFieldsCRLFAndTrailingBlankLines() throws {
        let d = try csv("id,\"a\",b,name\r\n\"x,1\",1.5,-2e3,\"he said \"\"hi\"\"\"\r\n7,\"3\",4,\"multi\nline\"\r\n\r\n\r\n")
        #expect(d.rows == 2 && d.cols == 2)
        #expect(d.columns == ["a", "b"])
        #expect(d.values == [1.5, -2000, 3, 4])
        #expect(d.ids == ["x,1", "7"])
        #expect(d.idColumn == "id")
    }

    @Test func byteOrderMarkAndNoFinalNewline() throws {
        let d = try csv("\u{FEFF}customer_id,x\nA,1\nB,2")
        #expect(d.idColumn == "customer_id" && d.ids == ["A", "B"] && d.values == [1, 2])
    }

    @Test func numericColumnsAreInferredAndOthersSkipped() throws {
        // A column with no values in the sampled rows is not inferred as numeric.
        #expect(try csv("a,b\n1,\n").columns == ["a"])
        let d = try csv("name,age,city,spend\nann,30,paris,10.5\nbob,40,rome,20\n")
        #expect(d.columns == ["age", "spend"])
        #expect(d.ids == nil)
        #expect(d.id(1) == "1")
    }

    @Test func explicitColumnsIdAndWeights() throws {
        let d = try csv("k,a,b,w\nr1,1,2,0.5\nr2,3,4,2\n", TableReadOptions(columns: ["b", "a"], idColumn: "k", weightsColumn: "w"))
        #expect(d.columns == ["b", "a"] && d.values == [2, 1, 4, 3] && d.weights == [0.5, 2] && d.ids == ["r1", "r2"])
    }

    @Test func errorsNameFileLineAndColumn() {
        #expect(badData("a,b\n1,2\n3,x\n", TableReadOptions(columns: ["a", "b"])) ==
            .badData(file: "t.csv", line: 3, column: "b", message: "value 'x' is not a number; fix or remove the cell (feature columns are numeric)"))
        #expect(badData("a,b\n1,2\n\n3\n") == .badData(file: "t.csv", line: 4, column: nil, message: "row has 1 fields but the header has 2"))
        if case let .badData(_, line, column, message)? = badData("a,b\n1,nan\n") {
            #expect(line == 2 && column == "b" && message.contains("NaN"))
        } else { Issue.record("NaN accepted") }
        if case let .badData(_, line, column, _)? = badData("a,b\n1,2\n3,\n") {
            #expect(line == 3 && column == "b")
        } else { Issue.record("missing value accepted") }
        if case let .badData(_, line, _, message)? = badData("a,b\n1,\"2\n") {
            #expect(line == 2 && message.contains("unterminated"))
        } else { Issue.record("unterminated quote accepted") }
        #expect(badData("") != nil)
        if case let .badData(_, _, _, message)? = badData("a,b\n") { #expect(message.contains("no data rows")) } else { Issue.record("header only") }
        if case let .badData(_, line, column, _)? = badData("a,w\n1,-1\n", TableReadOptions(weightsColumn: "w")) {
            #expect(line == 2 && column == "w")
        } else { Issue.record("negative weight accepted") }
        #expect(throws: StrataError.self) { try csv("a,b\n1,2\n", TableReadOptions(columns: ["c"])) }
        #expect(throws: StrataError.self) { try csv("a,a\n1,2\n") }
    }

    @Test func numberParserAgreesWithStrtof() {
        var rng = SeededRandom(seed: 77)
        var texts = ["0", "-0", "1", "+1", "0.1", ".5", "5.", "1e10", "1E-10", "3.4028235e38", "1.17549435e-38", "1e-45", "123456789",
                     "0.30000001192092896", "16777217", "9007199254740993", "1.000000059604644775390625", "7.038531e-26",
                     "  42  ", "1234567890123456789012", "0.000000000000000000000000000001"]
        for _ in 0..<20_000 {
            let mant = rng.next() % 10_000_000_000
            let frac = Int(rng.next() % 12)
            var s = String(mant)
            if frac > 0 && frac < s.count { s.insert(".", at: s.index(s.startIndex, offsetBy: s.count - frac)) }
            if rng.next() % 3 == 0 { s += "e\(Int(rng.next() % 40) - 20)" }
            if rng.next() % 2 == 0 { s = "-" + s }
            texts.append(s)
        }
        for t in texts {
            let bytes = Array(t.utf8)
            let got = bytes.withUnsafeBufferPointer { NumberParser.parse($0.baseAddress!, $0.count) }
            let want = strtof(t.trimmingCharacters(in: .whitespaces), nil)
            #expect(got == .value(want), "\(t)")
        }
        for bad in ["abc", "1.2.3", "1e", "--1", "1,5", "0x10"] {
            let bytes = Array(bad.utf8)
            #expect(bytes.withUnsafeBufferPointer { NumberParser.parse($0.baseAddress!, $0.count) } == .notANumber, "\(bad)")
        }
        for bad in ["nan", "-inf", "Infinity", "1e39"] {
            let bytes = Array(bad.utf8)
            #expect(bytes.withUnsafeBufferPointer { NumberParser.parse($0.baseAddress!, $0.count) } == .nonFinite, "\(bad)")
        }
    }

    static func npy(descr: String, shape: String, payload: [UInt8], fortran: Bool = false) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let len = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xff), UInt8(len >> 8)] + Array(header.utf8) + payload
    }

    @Test func npyFloat32AndFloat64() throws {
        let dir = temporaryDirectory()
        let f: [Float] = [1, 2, 3, 4, 5, 6]
        let p32 = f.withUnsafeBytes { Array($0) }
        try Data(Self.npy(descr: "<f4", shape: "(3, 2)", payload: p32)).write(to: URL(fileURLWithPath: dir + "/a.npy"))
        let a = try TableReader.read(path: dir + "/a.npy")
        #expect(a.rows == 3 && a.cols == 2 && a.materialized().values == f && a.columns == ["x0", "x1"])
        #expect(a.mapping != nil, "float32 .npy is memory-mapped, not copied")
        let dd: [Double] = [1.5, -2, 3, 4]
        try Data(Self.npy(descr: "<f8", shape: "(2, 2)", payload: dd.withUnsafeBytes { Array($0) })).write(to: URL(fileURLWithPath: dir + "/b.npy"))
        let b = try TableReader.read(path: dir + "/b.npy", options: TableReadOptions(columns: ["x1"]))
        #expect(b.values == [-2, 4])
        try Data(Self.npy(descr: "<f4", shape: "(3, 2)", payload: Array(p32.prefix(8)))).write(to: URL(fileURLWithPath: dir + "/c.npy"))
        #expect(throws: StrataError.self) { try TableReader.read(path: dir + "/c.npy") }
        try Data(Self.npy(descr: "<f4", shape: "(3, 2)", payload: p32, fortran: true)).write(to: URL(fileURLWithPath: dir + "/d.npy"))
        #expect(throws: StrataError.self) { try TableReader.read(path: dir + "/d.npy") }
        let nan: [Float] = [1, .nan]
        try Data(Self.npy(descr: "<f4", shape: "(1, 2)", payload: nan.withUnsafeBytes { Array($0) })).write(to: URL(fileURLWithPath: dir + "/e.npy"))
        #expect(throws: StrataError.self) { try TableReader.read(path: dir + "/e.npy") }
    }

    @Test func outputBatchIsAllOrNothing() throws {
        let dir = temporaryDirectory()
        try "old".write(toFile: dir + "/a.txt", atomically: false, encoding: .utf8)
        var batch = OutputBatch()
        try batch.stage("new", to: dir + "/a.txt")
        #expect(throws: StrataError.self) { try batch.stage("x", to: dir + "/missing-dir/b.txt") }
        #expect(try String(contentsOfFile: dir + "/a.txt", encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.txt"])
        var ok = OutputBatch()
        try ok.stage("new", to: dir + "/a.txt")
        try ok.commit()
        #expect(try String(contentsOfFile: dir + "/a.txt", encoding: .utf8) == "new")
    }

    @Test func centersFileWithAndWithoutHeader() throws {
        let dir = temporaryDirectory()
        try "b,a\n1,2\n3,4\n".write(toFile: dir + "/c1.csv", atomically: true, encoding: .utf8)
        #expect(try CentersFile.read(path: dir + "/c1.csv", columns: ["a", "b"]) == [[2, 1], [4, 3]])
        try "1,2\n3,4\n".write(toFile: dir + "/c2.csv", atomically: true, encoding: .utf8)
        #expect(try CentersFile.read(path: dir + "/c2.csv", columns: ["a", "b"]) == [[1, 2], [3, 4]])
        #expect(throws: StrataError.self) { try CentersFile.read(path: dir + "/c1.csv", columns: ["a", "z"]) }
    }
}
