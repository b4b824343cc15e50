import StrataCore
import Foundation
import StrataKernels

/// A read-only memory mapping of a whole file (used for float32 `.npy` inputs: the algorithms
/// read rows straight from the page cache, the file is never copied whole).
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let base: UnsafeRawPointer
    public let length: Int

    public init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        length = Int(st.st_size)
        guard length > 0, let p = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw StrataError.unreadable(path: path, reason: "cannot memory-map the file: \(String(cString: strerror(errno)))")
        }
        madvise(p, length, MADV_SEQUENTIAL)
        base = UnsafeRawPointer(p)
        self.path = path
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }
}
