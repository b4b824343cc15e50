import StrataCore
import Foundation
import Dispatch

/// The temporary files and directories of this process, removed when it is stopped by SIGINT
/// or SIGTERM (the signals are then handled on a dispatch queue, outside signal context, and the
/// process exits with 128 + the signal number). A process killed by SIGKILL cannot clean up:
/// the next run removes what it left (`OutputBatch`, `RunDirectory`, `TemporaryFiles.sweep`).
public final class TemporaryFiles: @unchecked Sendable {
    public static let shared = TemporaryFiles()
    private let lock = NSLock()
    /// Held while outputs are renamed into place: a signal waits for it, so a run is never cut
    /// in the middle of publishing (it completes, then the process exits).
    private let publishing = NSRecursiveLock()
    private var paths: Set<String> = []
    private var sources: [DispatchSourceSignal] = []
    private var onStop: ((Int32) -> Void)?

    /// Runs `body` with the exit code (128 + signal) when SIGINT/SIGTERM stops the process,
    /// before the temporaries are removed (the CLI writes the job's metrics file with it).
    public func onSignalExit(_ body: @escaping (Int32) -> Void) { lock.lock(); onStop = body; lock.unlock() }

    /// Installs the SIGINT/SIGTERM handlers (once; the CLI calls it at start).
    public func installSignalHandlers() {
        lock.lock(); defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [unowned self] in
                self.publishing.lock()   // never released: the process exits below
                self.lock.lock(); let stop = self.onStop; self.lock.unlock()
                stop?(128 + sig)
                self.removeAll()
                FileHandle.standardError.write(Data("strata: stopped by signal \(sig); temporary files removed\n".utf8))
                _exit(128 + sig)
            }
            s.resume()
            sources.append(s)
        }
    }

    /// Runs `body` (renames that publish outputs) so that SIGINT/SIGTERM wait for it to finish.
    public func critical<T>(_ body: () throws -> T) rethrows -> T {
        publishing.lock(); defer { publishing.unlock() }
        return try body()
    }

    public func register(_ path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    public func unregister(_ path: String) { lock.lock(); paths.remove(path); lock.unlock() }

    /// Removes every registered path (files and directories).
    public func removeAll() {
        lock.lock(); let all = paths; paths = []; lock.unlock()
        for p in all { if unlink(p) != 0 { try? FileManager.default.removeItem(atPath: p) } }
    }

    /// Removes, in `directory`, the entries named with `prefix` + `-PID-` whose process is gone:
    /// what a killed run left. O(entries in the directory).
    public static func sweep(directory: String, prefix: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            guard let pid = Int32(rest.split(separator: "-").first ?? ""), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
        }
    }

    /// Removes every temporary output of a dead process in `directory`, whatever its name:
    /// `.NAME.tmp-PID-N` (and its `.bak`). O(entries in the directory).
    public static func sweepDeadOutputs(directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".") {
            guard let r = name.range(of: ".tmp-", options: .backwards) else { continue }
            let digits = name[r.upperBound...].prefix { $0.isNumber }
            guard let pid = Int32(digits), pid != getpid(), name[r.upperBound...].dropFirst(digits.count).hasPrefix("-") else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + name) }
        }
    }
}

/// Named points where the tests stop the process the hard way: with `STRATA_TEST_KILL_AT=NAME`
/// in the environment, reaching point NAME sends this process SIGKILL (no clean-up runs), so the
/// kill harness can check what a crash at exactly that point leaves behind. Unset: a no-op.
public enum FailurePoint {
    private static let target = ProcessInfo.processInfo.environment["STRATA_TEST_KILL_AT"]

    private static let pause = ProcessInfo.processInfo.environment["STRATA_TEST_PAUSE_AT"]

    /// With `STRATA_TEST_PAUSE_AT=NAME`, reaching NAME sleeps 30 s (the tests send a signal then).
    public static func hit(_ name: String) {
        if let target, target == name { kill(getpid(), SIGKILL) }
        if let pause, pause == name { sleep(30) }
    }
}
