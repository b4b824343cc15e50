import ArgumentParser
import Foundation
import Strata
import StrataLinalg

/// Messages, progress and errors on stderr; results on stdout.
enum Report {
    private static let stderrLock = NSLock()
    nonisolated(unsafe) private static var progressOpen = false

    /// One line on stderr (a progress line on the terminal is cleared first).
    static func stderr(_ s: String) {
        stderrLock.lock(); defer { stderrLock.unlock() }
        if progressOpen { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)); progressOpen = false }
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    nonisolated(unsafe) private static var progressEnded = false

    /// Clears the progress line for good: later `progressLine` calls draw nothing.
    static func endProgress() {
        stderrLock.lock(); defer { stderrLock.unlock() }
        progressEnded = true
        if progressOpen { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)); progressOpen = false }
    }

    /// Redraws the terminal's progress line (no newline).
    static func progressLine(_ s: String) {
        stderrLock.lock(); defer { stderrLock.unlock() }
        guard !progressEnded else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + s).utf8))
        progressOpen = true
    }

    static func clearProgressLine() {
        stderrLock.lock(); defer { stderrLock.unlock() }
        if progressOpen { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)); progressOpen = false }
    }

    /// `--log-format` of the running job (`JobLog`): with json, warnings and errors are events too.
    nonisolated(unsafe) static var logFormat = LogFormat.text
    nonisolated(unsafe) static var jobName = ""
    /// Called with the exit code just before `fail` exits (the job's metrics file).
    nonisolated(unsafe) static var beforeExit: ((Int32) -> Void)? = nil

    /// A value of a JSON log event.
    enum EventValue: Encodable {
        case string(String), number(Double), null
        indirect case object([String: EventValue])
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .object(o): try c.encode(o)
            case let .string(s): try c.encode(s)
            case let .number(x): if x.isFinite { try c.encode(x) } else { try c.encodeNil() }
            case .null: try c.encodeNil()
            }
        }
    }

    /// One JSON object on one stderr line: `time` (UTC, ISO 8601), `job`, then `fields`.
    static func event(_ fields: [String: EventValue]) {
        var all = fields
        all["time"] = .string(ISO8601DateFormatter().string(from: Date()))
        all["job"] = .string(jobName)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let d = try? e.encode(all) { stderr(String(decoding: d, as: UTF8.self)) }
    }

    /// The warnings of this run, in order: each is printed on stderr when it happens and listed
    /// again in the `--json` result (`warnings`, present and possibly empty in every result).
    final class Warnings: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
    }
    static let warnings = Warnings()

    /// Writes to standard output with write(2): a full disk or a closed reader is exit 73 with a
    /// message on stderr, never a crash (FileHandle.write traps on errors).
    static func writeStdout(_ data: Data) {
        fflush(nil)
        let failed: Int32? = data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) -> Int32? in
            var off = 0
            while off < buf.count {
                let w = write(STDOUT_FILENO, buf.baseAddress! + off, buf.count - off)
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { return errno }
                off += w
            }
            return nil
        }
        if let e = failed {
            stderr("strata: error: cannot write standard output: \(String(cString: strerror(e)))")
            exit(73)
        }
    }

    /// At the end of a run: printed text that could not be written (a full disk on stdout) is
    /// exit 73, not a silent success.
    static func flushStdout() {
        if fflush(nil) != 0 {
            stderr("strata: error: cannot write standard output: \(String(cString: strerror(errno)))")
            exit(73)
        }
    }

    /// At most one thing may go to standard output: `-` outputs and the `--json` result.
    static func checkStdout(_ outputs: [String?], json: Bool) throws {
        let wanting = outputs.filter { $0 == "-" }.count + (json ? 1 : 0)
        if wanting > 1 { throw ValidationError("only one output can go to standard output ('-' or --json); give the others file paths") }
    }

    /// Set by `--quiet`: warnings are recorded for the JSON result but not printed.
    nonisolated(unsafe) static var quiet = false

    /// Prints `strata: warning: MESSAGE` on stderr (unless `quiet`) and records it for the JSON result.
    static func warn(_ message: String) {
        warnings.add(message)
        guard !quiet else { return }
        if logFormat == .json { event(["event": .string("warning"), "message": .string(message)]) } else { stderr("strata: warning: " + message) }
    }

    /// Warnings about an order log: bad rows skipped (with the first reasons and lines), rows
    /// excluded as dated in the future.
    static func warnAboutRead(_ report: RFMReport, path: String) {
        if report.badRows > 0 { warn("\(path): " + report.read.badRowsText()) }
        if report.excludedFuture > 0, let c = report.futureCutoff {
            warn("\(path): \(report.excludedFuture) row\(report.excludedFuture == 1 ? "" : "s") dated after \(CivilDate.string(c)) (after the run day, or more than a year after the rest of the log) \(report.excludedFuture == 1 ? "was" : "were") excluded; give --as-of to keep them")
        }
    }

    /// Prints an `Encodable` result as one JSON line on stdout (keys sorted), with
    /// `peak_memory_bytes` added: the peak resident memory of this run, for scheduling and budget
    /// checks. Every command's `--json` result goes through here.
    static func json<T: Encodable>(_ value: T) {
        do {
            let data = try JSONOutput.line(WithPeakMemory(value: value, peak: peakResidentBytes(), warnings: warnings.all))
            writeStdout(data + Data("\n".utf8))
        } catch {
            fail("internal error: result could not be encoded as JSON (\(error)); please report it", code: 70, json: false)
        }
    }

    /// A result's own keys plus `peak_memory_bytes` and `warnings`.
    private struct WithPeakMemory<T: Encodable>: Encodable {
        let value: T
        let peak: Int?
        let warnings: [String]
        enum CodingKeys: String, CodingKey { case peak = "peak_memory_bytes", warnings }
        func encode(to encoder: Encoder) throws {
            try value.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(peak, forKey: .peak)
            try c.encode(warnings, forKey: .warnings)
        }
    }

    /// `{"error": {"message": ..., "exit_code": ...}}`, the `--json` result of a failed run.
    struct ErrorResult: Encodable {
        struct Detail: Encodable {
            var message: String
            var exitCode: Int
        }
        var error: Detail
    }

    /// VmHWM of this process image (getrusage's maxrss would include the parent's pages before exec).
    static func peakResidentBytes() -> Int? {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
           let kb = Int(line.split(separator: " ").dropFirst().first { !$0.isEmpty } ?? "") {
            return kb * 1024
        }
        var usage = rusage()
        return getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 ? Int(usage.ru_maxrss) * 1024 : nil
    }

    /// Runs a command body, turning Strata errors into a one-line message and an exit code.
    /// With `--json`, stdout also gets `{"error": {"message": ..., "exit_code": ...}}`.
    static func run(json: Bool, _ body: () throws -> Void) throws {
        TemporaryFiles.shared.installSignalHandlers()
        do {
            try body()
            flushStdout()
        } catch let StrataError.invalidSetting(key, message) {
            // The library names the setting (`holdout`); on the command line it is a flag.
            fail("--\(key.replacingOccurrences(of: "_", with: "-")): \(message)", code: 64, json: json)
        } catch let e as StrataError {
            fail(e.description, code: e.exitCode, json: json)
        } catch let e as GPUError {
            fail(e.description, code: GPUError.exitCode, json: json)
        } catch let e as LinalgError {
            fail(e.description, code: 70, json: json)
        } catch let e as EncodingError {
            // A result that cannot be written (a non-finite number in a model): never exit 1.
            fail("internal error: the result could not be encoded (\(Excerpt.of("\(e)", limit: 200))); please report it", code: 70, json: json)
        } catch let e as CocoaError {
            // Foundation file errors (a write that failed): map the POSIX cause to an exit code.
            let posix = (e.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? $0.code : nil }
            let reason = posix.map { String(cString: strerror(Int32($0))) } ?? e.localizedDescription
            let path = (e.userInfo[NSFilePathErrorKey] as? String) ?? e.filePath ?? "an output"
            fail("cannot write '\(path)': \(reason)", code: e.code.rawValue >= 512 && e.code.rawValue < 1024 ? 73 : 74, json: json)
        } catch {
            fail("internal error: \(Excerpt.of("\(error)", limit: 200)); please report it", code: 70, json: json)
        }
    }

    /// Prints the error on one line (control characters escaped, at most 2,000 characters) and
    /// exits with `code`; with `--json` also `{"error": {"message", "exit_code"}}` on stdout.
    static func fail(_ message: String, code: Int32, json: Bool) -> Never {
        let message = Excerpt.of(message, limit: 2000)
        beforeExit?(code)
        if logFormat == .json {
            event(["event": .string("error"), "message": .string(message), "exit_code": .number(Double(code))])
        } else {
            stderr("strata: error: \(message)")
        }
        if json { self.json(ErrorResult(error: .init(message: message, exitCode: Int(code)))) }
        exit(code)
    }
}

/// Progress on stderr for long work: silent for the first 2 seconds, then at most once a second.
final class Progress: @unchecked Sendable {
    private let start = Date()
    private var last = Date.distantPast
    private let lock = NSLock()
    let enabled: Bool

    init(enabled: Bool = true) { self.enabled = enabled }

    func report(_ message: @autoclosure () -> String) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        guard now.timeIntervalSince(start) >= 2, now.timeIntervalSince(last) >= 1 else { return }
        last = now
        Report.stderr(String(format: "[%6.1fs] ", now.timeIntervalSince(start)) + message())
    }

    var elapsed: Double { Date().timeIntervalSince(start) }
}

/// Formats numbers for human output.
func fmt(_ x: Double, _ digits: Int = 4) -> String {
    if x == 0 { return "0" }
    if abs(x) >= 1e6 || abs(x) < 1e-3 { return String(format: "%.\(digits)e", x) }
    return String(format: "%.\(digits)g", x)
}

func jsonFloats(_ values: [Float]) -> [Double] { values.map(JSONNumber.float) }

/// The `--json` of a command that writes one record file (migration.json, campaign.json,
/// monitor.json): the record's own keys, then `outputs` {name: path or null}, names in a fixed
/// order (the order given).
struct RecordWithOutputs<Record: Encodable>: Encodable {
    var record: Record
    var outputs: KeyValuePairs<String, String?>

    init(_ record: Record, outputs: KeyValuePairs<String, String?>) { self.record = record; self.outputs = outputs }

    func encode(to encoder: Encoder) throws {
        try record.encode(to: encoder)
        var c = encoder.container(keyedBy: JSONKey.self)
        var o = c.nestedContainer(keyedBy: JSONKey.self, forKey: JSONKey("outputs"))
        for (name, path) in outputs { try o.encode(OrNull(path), forKey: JSONKey(name)) }
    }
}

/// A JSON key known only at run time (parameter names, output names).
struct JSONKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
