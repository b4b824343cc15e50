import Foundation
import StrataCore

/// `-` as a feature-table input (`--input -`, `--customers -`): standard input is copied once to
/// `$STRATA_TMPDIR` (else the temporary directory) as `strata-stdin-PID/stdin.csv` (or
/// `stdin.parquet` when it starts with Parquet's magic, `stdin.npy` with NumPy's), and that file is
/// read as any other, so every reader, sniffing pass and error message works unchanged (messages
/// name that file). A feature table is held in memory anyway; order logs do not come here: they
/// stream from `-` without a copy (`TransactionReader`). The copy is removed at exit and on
/// SIGINT/SIGTERM; a killed run's copy is removed by the next one.
public enum StandardInput {
    nonisolated(unsafe) private static var spooled: String? = nil
    private static let lock = NSLock()

    /// The path of the copy of standard input (made on the first call).
    /// - Throws: `StrataError.unreadable` (stdin unreadable, or empty), `.unwritable` (no space).
    public static func spool() throws -> String {
        lock.lock(); defer { lock.unlock() }
        if let spooled { return spooled }
        let tmp = ProcessInfo.processInfo.environment["STRATA_TMPDIR"] ?? NSTemporaryDirectory()
        TemporaryFiles.sweep(directory: tmp, prefix: "strata-stdin-")
        let dir = (tmp as NSString).appendingPathComponent("strata-stdin-\(getpid())")
        try? FileManager.default.removeItem(atPath: dir)
        guard mkdir(dir, 0o700) == 0 else { throw StrataError.unwritable(path: dir, reason: String(cString: strerror(errno))) }
        TemporaryFiles.shared.register(dir)
        let part = dir + "/stdin"
        let fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StrataError.unwritable(path: part, reason: String(cString: strerror(errno))) }
        var head: [UInt8] = []
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        defer { close(fd) }
        while true {
            let got = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress!, $0.count) }
            if got < 0 { if errno == EINTR { continue }; throw StrataError.unreadable(path: "stdin", reason: String(cString: strerror(errno))) }
            if got == 0 { break }
            if head.count < 8 { head += buffer[0..<min(got, 8 - head.count)] }
            var off = 0
            while off < got {
                let w = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + off, got - off) }
                if w < 0 { if errno == EINTR { continue }; throw StrataError.unwritable(path: part, reason: String(cString: strerror(errno))) }
                off += w
            }
            total += got
        }
        guard total > 0 else { throw StrataError.unreadable(path: "stdin", reason: "standard input is empty") }
        let ext = head.starts(with: Array("PAR1".utf8)) ? "parquet" : head.starts(with: [0x93] + Array("NUMPY".utf8)) ? "npy" : "csv"
        let path = dir + "/stdin." + ext
        rename(part, path)
        spooled = path
        atexit { if let d = StandardInput.spooledDirectory { try? FileManager.default.removeItem(atPath: d) } }
        return path
    }

    static var spooledDirectory: String? { spooled.map { ($0 as NSString).deletingLastPathComponent } }
}
