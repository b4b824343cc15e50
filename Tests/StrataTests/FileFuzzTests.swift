import Foundation
import Testing
@testable import Strata
@testable import StrataCore
@testable import StrataIO
import StrataKernels
import StrataLinalg

/// Seeded mutation fuzzing of the `.npy` reader (header, sidecar, ids) and the model-file loader,
/// over the committed corpus in Fixtures/fuzz (issue 13, "Done when"). Each target mutates
/// corpus files with seeded byte flips, interesting bytes and tokens, truncations, insertions,
/// deletions and duplications, for a bounded time; every mutant must load or throw a
/// `StrataError` (a crash ends the test run, any other error is a failure). What loads is then
/// used (values read, a model applied and, for K-Means, updated), which must not crash either.
@Suite struct FileFuzzTests {
    /// Seconds per target (STRATA_FUZZ_SECONDS overrides, for a longer local run), and a cap on
    /// mutants so a fast machine stays bounded too (lifted with the override).
    static let longRun = ProcessInfo.processInfo.environment["STRATA_FUZZ_SECONDS"].flatMap(Double.init)
    static let budget = longRun ?? 1.5
    static let maxMutants = longRun == nil ? 4000 : Int.max

    static let corpus = Fixtures.dir + "/fuzz"

    /// Mutates bytes with a seeded generator (1 to 4 edits).
    struct Mutator {
        var rng: SeededRandom
        static let tokens: [String] = [
            "-", "-1", "0", "1e308", "1e999", "-1e999", "9223372036854775807", "99999999999999999999", "NaN", "nan", "null",
            "True", "False", "Maybe", "(", ")", "()", "(,)", "'", "\"", "{", "}", "[", "]", "[]", "{}", ",", ":", "L",
            "'<f4'", "'>f8'", "'|u1'", "'shape'", "'descr'", "'fortran_order'", "(2**63-1, 3)", "\\", "\n", " ", "\u{0}",
            "\"k\":0", "\"weights\":[-1]", "\"scale\":0", "[[1e39]]", "\"columns\":[]",
        ]

        static let numbers = ["0", "-0", "-1", "1", "3.5", "1e308", "1e999", "-1e999", "1e-320", "1e39", "9007199254740993",
                              "9223372036854775807", "99999999999999999999", "2", "100000"]

        mutating func int(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }

        static var jsonValues: [Any] {
            [0, -1, 1, 2.5, -0.0, 1e308, -1e308, 1e39, Double.leastNonzeroMagnitude, 9_007_199_254_740_993, Int.max, Int.min,
             "", "x", NSNull(), [Any](), [String: Any](), [1e308], [-1.0], true]
        }

        /// One edit somewhere in a JSON tree: a value replaced, a key removed or set, an array
        /// entry removed, repeated or added, an array emptied.
        mutating func mutate(json: Any) -> Any {
            if var a = json as? [Any] {
                if !a.isEmpty && int(3) != 0 {
                    let i = int(a.count)
                    a[i] = mutate(json: a[i])
                    return a
                }
                switch int(4) {
                case 0 where !a.isEmpty: a.remove(at: int(a.count))
                case 1 where !a.isEmpty: a.insert(a[int(a.count)], at: int(a.count + 1))
                case 2: a.append(Self.jsonValues[int(Self.jsonValues.count)])
                default: a = []
                }
                return a
            }
            if var d = json as? [String: Any] {
                let keys = d.keys.sorted()
                if !keys.isEmpty && int(3) != 0 {
                    let k = keys[int(keys.count)]
                    d[k] = mutate(json: d[k]!)
                    return d
                }
                if !keys.isEmpty && int(2) == 0 { d.removeValue(forKey: keys[int(keys.count)]) } else if !keys.isEmpty {
                    d[keys[int(keys.count)]] = Self.jsonValues[int(Self.jsonValues.count)]
                }
                return d
            }
            return Self.jsonValues[int(Self.jsonValues.count)]
        }

        /// Removes or repeats one list or tuple entry (from a `,` at or after `at` to the next `,`,
        /// `]` or `)`): shapes and array lengths change while the syntax stays valid.
        mutating func editListEntry(_ b: inout [UInt8], near at: Int, duplicate: Bool) {
            let comma = UInt8(ascii: ",")
            guard let lo = b.indices.dropFirst(min(at, b.count)).first(where: { b[$0] == comma })
                    ?? b.indices.first(where: { b[$0] == comma }) else { return }
            var hi = lo + 1
            while hi < b.count, b[hi] != comma, b[hi] != UInt8(ascii: "]"), b[hi] != UInt8(ascii: ")"), b[hi] != UInt8(ascii: "}") { hi += 1 }
            if duplicate { b.insert(contentsOf: Array(b[lo..<hi]), at: hi) } else { b.removeSubrange(lo..<hi) }
        }

        /// Replaces the first run of digits (with its sign, point and exponent) at or after `at`
        /// by an interesting number: keeps the file's syntax, so values reach the validation.
        mutating func replaceNumber(_ b: inout [UInt8], near at: Int) {
            func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
            guard let start = b.indices.dropFirst(min(at, b.count)).first(where: { isDigit(b[$0]) })
                    ?? b.indices.first(where: { isDigit(b[$0]) }) else { return }
            var lo = start, hi = start
            while lo > 0, isDigit(b[lo - 1]) || b[lo - 1] == UInt8(ascii: "-") || b[lo - 1] == UInt8(ascii: ".") { lo -= 1 }
            while hi < b.count, isDigit(b[hi]) || "-+.eE".utf8.contains(b[hi]) { hi += 1 }
            b.replaceSubrange(lo..<hi, with: Array(Self.numbers[int(Self.numbers.count)].utf8))
        }

        mutating func mutate(_ input: [UInt8]) -> [UInt8] {
            var b = input
            for _ in 0...int(4) {
                let at = int(b.count + 1)
                switch int(12) {
                case 0 where !b.isEmpty: b[min(at, b.count - 1)] ^= UInt8(1) << UInt8(int(8))
                case 1 where !b.isEmpty: b[min(at, b.count - 1)] = UInt8(truncatingIfNeeded: rng.next())
                case 2: b = Array(b.prefix(at))
                case 3: b.insert(contentsOf: (0..<(1 + int(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
                case 4, 5: b.insert(contentsOf: Array(Self.tokens[int(Self.tokens.count)].utf8), at: at)
                case 6 where !b.isEmpty:
                    let end = min(b.count, at + 1 + int(16))
                    if at < end { b.removeSubrange(at..<end) }
                case 7 where !b.isEmpty:
                    let lo = min(at, b.count - 1), hi = min(b.count, lo + 1 + int(32))
                    b.insert(contentsOf: b[lo..<hi], at: int(b.count + 1))
                case 8, 9: replaceNumber(&b, near: at)
                case 10, 11: editListEntry(&b, near: at, duplicate: int(2) == 0)
                default:
                    if !b.isEmpty { b[int(b.count)] = Array("0123456789-,() '".utf8)[int(16)] }
                }
            }
            return b
        }
    }

    /// Runs `body` on mutants until the time or count budget is spent; returns how many ran and
    /// how many loaded. Errors other than `StrataError` are recorded as failures.
    static func fuzz(seed: UInt64, _ body: (inout Mutator) throws -> Bool) -> (runs: Int, loaded: Int) {
        var m = Mutator(rng: SeededRandom(seed: seed))
        let deadline = Date().addingTimeInterval(budget)
        var runs = 0, loaded = 0
        while runs < maxMutants && Date() < deadline {
            runs += 1
            do {
                if try body(&m) { loaded += 1 }
            } catch is StrataError {
            } catch {
                Issue.record("mutant \(runs) (seed \(seed)): \(type(of: error)) \(error) is not a StrataError")
            }
        }
        return (runs, loaded)
    }

    static func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// Reads a `.npy` and touches every value.
    static func load(npy path: String) throws -> Bool {
        let d = try TableReader.read(path: path)
        let values = d.materialized().values
        #expect(values.count == d.rows * d.cols && values.allSatisfy(\.isFinite))
        _ = distinctRowCount(d, atMost: 4)
        return true
    }

    @Test func npyHeaderAndDataMutants() throws {
        let src = Self.corpus + "/npy"
        let files = try FileManager.default.contentsOfDirectory(atPath: src).filter { $0.hasSuffix(".npy") && !$0.hasPrefix("sidecar") }.sorted()
        let originals = try files.map { try Self.read("\(src)/\($0)") }
        #expect(originals.count >= 5)
        let dir = temporaryDirectory()
        let path = dir + "/mutant.npy"
        // The corpus itself reads (all but the Fortran-order file).
        for (name, bytes) in zip(files, originals) where !name.contains("fortran") {
            try Self.write(bytes, path)
            #expect(try Self.load(npy: path), "\(name)")
        }
        let r = Self.fuzz(seed: 0x4E50) { m in
            try Self.write(m.mutate(originals[m.int(originals.count)]), path)
            return try Self.load(npy: path)
        }
        #expect(r.runs >= 100 && r.loaded > 0 && r.loaded < r.runs, "\(r)")
    }

    @Test func sidecarAndIdsMutants() throws {
        let src = Self.corpus + "/npy"
        let names = ["sidecar_3x2.npy", "sidecar_3x2.npy.json", "sidecar_3x2.npy.ids"]
        let originals = try names.map { try Self.read("\(src)/\($0)") }
        let dir = temporaryDirectory()
        let r = Self.fuzz(seed: 0x5343) { m in
            let target = m.int(3)
            for (i, name) in names.enumerated() { try Self.write(i == target ? m.mutate(originals[i]) : originals[i], "\(dir)/\(name)") }
            return try Self.load(npy: "\(dir)/sidecar_3x2.npy")
        }
        #expect(r.runs >= 100 && r.loaded > 0 && r.loaded < r.runs, "\(r)")
    }

    @Test func modelFileMutants() throws {
        let src = Self.corpus + "/models"
        let files = try FileManager.default.contentsOfDirectory(atPath: src).filter { $0.hasSuffix(".json") }.sorted()
        let originals = try files.map { try Self.read("\(src)/\($0)") }
        #expect(originals.count >= 6)
        let dir = temporaryDirectory()
        let path = dir + "/model.json"
        let input = dir + "/input.csv"
        try "id,spend,visits,tenure,region\nc1,12.5,2,10,north\nc2,201,9,3,south\nc3,55,4,30,west\n"
            .write(toFile: input, atomically: true, encoding: .utf8)
        // The corpus itself loads and predicts.
        for (name, bytes) in zip(files, originals) {
            try Self.write(bytes, path)
            #expect(try Self.use(model: path, input: input), "\(name)")
        }
        let trees = try originals.map { try JSONSerialization.jsonObject(with: Data($0)) }
        let r = Self.fuzz(seed: 0x4D46) { m in
            let i = m.int(originals.count)
            // Half the mutants edit the JSON tree (valid JSON, so values reach the checks), half the bytes.
            if m.int(2) == 0 {
                var tree = trees[i]
                for _ in 0...m.int(2) { tree = m.mutate(json: tree) }
                try JSONSerialization.data(withJSONObject: tree).write(to: URL(fileURLWithPath: path))
            } else {
                try Self.write(m.mutate(originals[i]), path)
            }
            return try Self.use(model: path, input: input)
        }
        #expect(r.runs >= 100 && r.loaded > 0 && r.loaded < r.runs, "\(r)")
    }

    /// Loads a model and, when it loads, replays its stages on `input` and predicts (K-Means:
    /// also updates). True when it loaded.
    static func use(model path: String, input: String) throws -> Bool {
        let file = try AnyModelFile.load(path: path)
        let data: Dataset
        do { data = try file.stages.apply(path: input, idColumn: "id", modelColumns: file.columns, threads: 1) } catch is StrataError {
            return true   // the mutant names columns the input lacks
        }
        switch file {
        case let .kmeans(m):
            let p = try m.predict(data, threads: 1)
            #expect(p.labels.allSatisfy { $0 >= 0 && Int($0) < m.k })
            _ = try m.updated(with: data, decay: 0.5, threads: 1)
        case let .gmm(m):
            let p = try m.mixture.predict(data, threads: 1)
            #expect(p.labels.allSatisfy { $0 >= 0 && Int($0) < m.k })
        case let .cluster(m):
            let p = m.predict(data, threads: 1)
            #expect(p.labels.allSatisfy { $0 >= -1 && Int($0) < m.k })
        case .kprototypes:
            break   // K-Prototypes models have their own tests (KPrototypesTests)
        }
        return true
    }
}
