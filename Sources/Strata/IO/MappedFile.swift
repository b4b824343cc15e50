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

/// Rows of a `Dataset` that live in a mapped file rather than in `values`.
public struct MappedRows: Sendable {
    public let file: MappedFile
    /// Byte offset of row 0 (4-byte aligned).
    public let offset: Int
    /// Rows per release window when the file exceeds the memory budget (0: keep pages).
    public let releaseWindowRows: Int

    public func rows(rows: Int, cols: Int) -> DenseRows {
        DenseRows((file.base + offset).assumingMemoryBound(to: Float.self), rows: rows, cols: cols, releaseWindowRows: releaseWindowRows)
    }
}

/// Memory budgets: parsing ("4G", "512M", "1.5g", bytes) and the default, half the physical RAM.
public enum MemoryBudget {
    public static var defaultBytes: Int { Int(ProcessInfo.processInfo.physicalMemory / 2) }

    public static func parse(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces).lowercased()
        let (k, m, g, t2): (Double, Double, Double, Double) = (1024, 1024 * 1024, 1024 * 1024 * 1024, 1024 * 1024 * 1024 * 1024)
        let units: [(String, Double)] = [("tb", t2), ("t", t2), ("gb", g), ("g", g), ("mb", m), ("m", m), ("kb", k), ("k", k), ("b", 1)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            guard let v = Double(t.dropLast(suffix.count)), v > 0 else { return nil }
            return Int(v * scale)
        }
        guard let v = Double(t), v > 0 else { return nil }
        return Int(v)
    }

    /// Release windows for a mapped file of `dataBytes`: none when it fits the budget, else
    /// windows of budget/8 (at most 256 MiB) so a few in flight stay well inside the budget.
    static func releaseWindowRows(dataBytes: Int, rowBytes: Int, budget: Int) -> Int {
        guard dataBytes > budget else { return 0 }
        let window = max(1 << 20, min(256 << 20, budget / 8))
        return max(16, window / max(1, rowBytes))
    }
}
