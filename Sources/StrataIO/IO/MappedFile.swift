import StrataCore
import Foundation
import StrataKernels

/// A read-only memory mapping of a whole file (used for float32 `.npy` inputs: the algorithms
/// read rows straight from the page cache, the file is never copied whole).
///
/// A file that shrinks while mapped (another program truncates it during the run) would kill the
/// process with SIGBUS on the next read past its new end; the mapping is registered with
/// `MappingGuard`, so that read instead prints `strata: error: ...` naming the file and the
/// process exits with code 74 (EX_IOERR).
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let length: Int
    private let guardSlot: Int32

    /// Maps `path` whole.
    /// - Parameter minimumLength: the bytes the caller will read (a header's data size); checked
    ///   against the size at the moment of mapping, so a file that shrank since its header was
    ///   read is an error, not a fault.
    /// - Throws: `StrataError.unreadable` when the file cannot be opened or mapped,
    ///   `.badData` when it is shorter than `minimumLength`.
    public init(path: String, minimumLength: Int = 0) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        length = Int(st.st_size)
        guard length >= minimumLength else {
            throw StrataError.badData(file: path, line: nil, column: nil,
                                      message: "the file shrank to \(length) bytes while it was being opened (\(minimumLength) needed); another program is writing it")
        }
        guard length > 0, let p = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw StrataError.unreadable(path: path, reason: "cannot memory-map the file: \(String(cString: strerror(errno)))")
        }
        madvise(p, length, MADV_SEQUENTIAL)
        base = UnsafeRawPointer(p)
        self.path = path
        guardSlot = MappingGuard.register(base: base, length: length, message: Self.shrinkMessage(path))
    }

    deinit {
        MappingGuard.unregister(guardSlot)
        munmap(UnsafeMutableRawPointer(mutating: base), length)
    }

    /// What a read past the end of a file that shrank while mapped prints (exit code 74).
    static func shrinkMessage(_ path: String) -> String {
        "strata: error: cannot read '\(path)': the file shrank while it was being read (memory-mapped); another program truncated or rewrote it during the run — rerun once it is complete"
    }
}
