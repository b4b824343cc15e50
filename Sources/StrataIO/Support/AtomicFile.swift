import StrataCore
import Foundation

/// Writes outputs so that a reader never sees a partial file and a failed run never destroys an
/// earlier output: each file is written to a temporary, flushed, and renamed into place.
///
/// Destinations:
/// - a regular file (or a new name): temporary sibling + rename(2), atomic per file;
/// - a symlink: written through to the file it points to (the link stays a link);
/// - `-`: standard output;
/// - a special file (`/dev/null`, `/dev/stdout`, a FIFO, a socket, a terminal): written through
///   with open(2)+write(2), never renamed over (a FIFO reader gets every byte);
/// - a directory: an error.
///
/// Use one `OutputBatch` when one run writes several files: nothing is renamed until every file
/// has been written; if a rename fails, those already renamed are rolled back; on failure every
/// temporary is removed. Files written through (stdout, special files) are written last, after
/// every rename succeeded. A set of separately named files is atomic per file, not as a set,
/// when the process is killed between renames: `RunDirectory` gives a set that.
///
/// Temporaries are named `.NAME.tmp-PID-N`; those of killed processes are removed by the next
/// batch that writes into the same directory, and by SIGINT/SIGTERM (`TemporaryFiles`).
public struct OutputBatch {
    private enum Destination {
        case rename(String)       // final path (a regular file or a new name)
        case through(String)      // a special file, opened and written
        case stdout
    }
    private var staged: [(tmp: String, destination: Destination, shown: String)] = []
    /// Tables bound for PostgreSQL (`stageTable` to a `postgresql://` URL), written on `commit()`.
    private var databaseTables: [PostgresTableOutput] = []

    public init() {}

    /// Writes `data` to a temporary for `path`; it appears at `path` only on `commit()`.
    public mutating func stage(_ data: Data, to path: String) throws {
        try stageStreaming(to: path) { write in try write(data) }
    }

    public mutating func stage(_ text: String, to path: String) throws {
        try stage(Data(text.utf8), to: path)
    }

    /// Writes a large output in pieces: `body` gets a `write` function to call as often as it
    /// likes (each call appends); the file appears at `path` only on `commit()`. Memory: one
    /// piece at a time, whatever the output's size.
    ///
    /// - Throws: `.unwritable` naming `path` (missing directory, a directory at `path`, no space,
    ///   permission), with every temporary of the batch removed.
    public mutating func stageStreaming(to path: String, _ body: (_ write: (Data) throws -> Void) throws -> Void) throws {
        let destination: Destination
        let tmpDir: String
        do { (destination, tmpDir) = try Self.destination(of: path) } catch { discard(); throw error }
        let base = URL(fileURLWithPath: path == "-" ? "stdout" : path).lastPathComponent
        TemporaryFiles.sweepDeadOutputs(directory: tmpDir)
        let tmp = tmpDir + "/." + base + ".tmp-\(getpid())-\(staged.count)"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw StrataError.unwritable(path: path, reason: reason)
        }
        TemporaryFiles.shared.register(tmp)
        staged.append((tmp, destination, path))
        do {
            try body { data in try Self.writeAll(fd, data, path: path) }
            if fsync(fd) != 0 { throw StrataError.unwritable(path: path, reason: String(cString: strerror(errno))) }
            close(fd)
        } catch {
            close(fd)
            discard()
            throw error
        }
    }

    /// Takes over a temporary the caller already wrote (large streamed outputs).
    public mutating func adopt(temporary: String, as path: String) {
        TemporaryFiles.shared.register(temporary)
        staged.append((temporary, .rename(path), path))
    }

    /// Renames every staged file into place (SIGINT/SIGTERM wait until it is done), all or nothing: an existing file is first
    /// hard-linked to a backup, and if any rename fails the files already renamed are restored
    /// from their backups (or removed when they did not exist before), so the directory holds
    /// either every new output or every old one. Then writes the outputs that go through special
    /// files or to standard output.
    ///
    /// PostgreSQL tables staged with `stageDatabaseTable` are replaced first
    /// (`PostgresTableWriter`, one transaction per server): if that fails, no file is renamed.
    public mutating func commit() throws {
        if !databaseTables.isEmpty {
            let tables = databaseTables
            databaseTables = []
            do { try PostgresTableWriter.replace(tables) } catch { discard(); throw error }
        }
        try TemporaryFiles.shared.critical { try commitRenames() }
    }

    /// Adds a table to replace in PostgreSQL on `commit()` (nothing is sent before).
    public mutating func stageDatabaseTable(_ table: PostgresTableOutput) {
        databaseTables.append(table)
    }

    private mutating func commitRenames() throws {
        var done: [(final: String, backup: String?)] = []
        for (i, s) in staged.enumerated() {
            guard case let .rename(final) = s.destination else { continue }
            var backup: String? = nil
            if access(final, F_OK) == 0 {
                let b = s.tmp + ".bak"
                unlink(b)
                if link(final, b) == 0 { backup = b; TemporaryFiles.shared.register(b) }
            }
            if rename(s.tmp, final) != 0 {
                let reason = String(cString: strerror(errno))
                if let backup { unlink(backup) }
                for d in done.reversed() {
                    if let b = d.backup { rename(b, d.final) } else { unlink(d.final) }
                }
                for rest in staged[i...] { unlink(rest.tmp) }
                for s in staged { TemporaryFiles.shared.unregister(s.tmp) }
                staged = []
                throw StrataError.unwritable(path: final, reason: reason + "; no output was changed")
            }
            TemporaryFiles.shared.unregister(s.tmp)
            done.append((final, backup))
            FailurePoint.hit("commit:renamed:\(done.count)")
        }
        for d in done { if let b = d.backup { unlink(b); TemporaryFiles.shared.unregister(b) } }
        let rest = staged.filter { if case .rename = $0.destination { return false }; return true }
        staged = []
        defer { for s in rest { unlink(s.tmp); TemporaryFiles.shared.unregister(s.tmp) } }
        for s in rest {
            switch s.destination {
            case .stdout:
                try Self.copy(s.tmp, toFD: STDOUT_FILENO, path: "standard output")
                Self.divertLaterPrintsToStderr()
            case let .through(path):
                let fd = open(path, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw StrataError.unwritable(path: path, reason: String(cString: strerror(errno))) }
                defer { close(fd) }
                try Self.copy(s.tmp, toFD: fd, path: path)
            case .rename: break
            }
        }
    }

    /// Removes every staged temporary.
    public mutating func discard() {
        databaseTables = []
        for s in staged { unlink(s.tmp); TemporaryFiles.shared.unregister(s.tmp) }
        staged = []
    }

    /// After an output went to standard output, whatever the command prints next (its human
    /// summary) goes to stderr, so piped data is never followed by text.
    public static func divertLaterPrintsToStderr() {
        fflush(nil)
        _ = dup2(STDERR_FILENO, STDOUT_FILENO)
    }

    // MARK: destinations

    /// Where `path` is written, and the directory for its temporary.
    private static func destination(of path: String) throws -> (Destination, String) {
        if path == "-" { return (.stdout, temporaryDirectory) }
        var final = path
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                // Through any symlinks to the file itself: the link stays a link.
                if let real = realpath(path, nil) { final = String(cString: real); free(real) }
            case S_IFDIR: throw StrataError.unwritable(path: path, reason: "it is a directory")
            default: return (.through(path), temporaryDirectory)   // device, FIFO, socket, /dev/stdout
            }
        } else {
            // A dangling symlink: the file it names is created.
            var hops = 0
            while lstat(final, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
                hops += 1
                guard hops < 40 else { throw StrataError.unwritable(path: path, reason: "too many levels of symbolic links") }
                var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(final, &buf, buf.count - 1)
                guard n > 0 else { break }
                let target = String(cString: Array(buf[0..<n]) + [0])
                final = target.hasPrefix("/") ? target : (URL(fileURLWithPath: final).deletingLastPathComponent().path + "/" + target)
            }
        }
        let dir = URL(fileURLWithPath: final).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw StrataError.unwritable(path: path, reason: "directory '\(dir)' does not exist")
        }
        return (.rename(final), dir)
    }

    /// $STRATA_TMPDIR, else the system temporary directory.
    static var temporaryDirectory: String {
        let d = ProcessInfo.processInfo.environment["STRATA_TMPDIR"] ?? NSTemporaryDirectory()
        return d.hasSuffix("/") && d.count > 1 ? String(d.dropLast()) : d
    }

    private static func writeAll(_ fd: Int32, _ data: Data, path: String) throws {
        try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            var off = 0
            while off < buf.count {
                let w = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { throw StrataError.unwritable(path: path, reason: String(cString: strerror(errno))) }
                off += w
            }
        }
    }

    private static func copy(_ tmp: String, toFD out: Int32, path: String) throws {
        let fd = open(tmp, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StrataError.unwritable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw StrataError.unwritable(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { break }
            try buf.withUnsafeBytes { try writeAll(out, Data($0[0..<n]), path: path) }
        }
    }
}
