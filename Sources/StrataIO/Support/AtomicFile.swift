import StrataCore
import Foundation

/// Writes outputs so that a reader never sees a partial file and a failed run never destroys an
/// earlier output: each file is written to a temporary sibling, flushed, and renamed into place.
///
/// Use `OutputBatch` when one run writes several files: nothing is renamed until every file has
/// been written, and on failure every temporary is removed.
public struct OutputBatch {
    private var staged: [(tmp: String, final: String)] = []

    public init() {}

    /// Writes `data` to a temporary next to `path`; it appears at `path` only on `commit()`.
    public mutating func stage(_ data: Data, to path: String) throws {
        try stageStreaming(to: path) { write in try write(data) }
    }

    /// Writes a large output in pieces: `body` gets a `write` function to call as often as it
    /// likes (each call appends); the file appears at `path` only on `commit()`. Memory: one
    /// piece at a time, whatever the output's size.
    public mutating func stageStreaming(to path: String, _ body: (_ write: (Data) throws -> Void) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            discard()
            throw StrataError.unwritable(path: path, reason: "directory '\(dir)' does not exist")
        }
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(staged.count)"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            discard()
            throw StrataError.unwritable(path: path, reason: reason)
        }
        staged.append((tmp, path))
        do {
            try body { data in
                try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
                    var off = 0
                    while off < buf.count {
                        let w = Glibc.write(fd, buf.baseAddress! + off, buf.count - off)
                        if w <= 0 { throw StrataError.unwritable(path: path, reason: String(cString: strerror(errno))) }
                        off += w
                    }
                }
            }
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
        staged.append((temporary, path))
    }

    public mutating func stage(_ text: String, to path: String) throws {
        try stage(Data(text.utf8), to: path)
    }

    /// Renames every staged file into place, all or nothing: an existing file is first
    /// hard-linked to a backup, and if any rename fails the files already renamed are restored
    /// from their backups (or removed when they did not exist before), so the directory holds
    /// either every new output or every old one.
    public mutating func commit() throws {
        var done: [(final: String, backup: String?)] = []
        for (i, s) in staged.enumerated() {
            var backup: String? = nil
            if access(s.final, F_OK) == 0 {
                let b = s.tmp + ".bak"
                unlink(b)
                if link(s.final, b) == 0 { backup = b }
            }
            if rename(s.tmp, s.final) != 0 {
                let reason = String(cString: strerror(errno))
                if let backup { unlink(backup) }
                for d in done.reversed() {
                    if let b = d.backup { rename(b, d.final) } else { unlink(d.final) }
                }
                for rest in staged[i...] { unlink(rest.tmp) }
                staged = []
                throw StrataError.unwritable(path: s.final, reason: reason + "; no output was changed")
            }
            done.append((s.final, backup))
        }
        for d in done { if let b = d.backup { unlink(b) } }
        staged = []
    }

    /// Removes every staged temporary.
    public mutating func discard() {
        for s in staged { unlink(s.tmp) }
        staged = []
    }
}
