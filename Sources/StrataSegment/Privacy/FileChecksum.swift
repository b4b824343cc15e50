import Crypto
import Foundation
import StrataCore

/// SHA-256 and size of an input file, recorded in run.json (`inputs`).
public struct InputFile: Encodable, Sendable, Equatable {
    public var path: String
    public var bytes: Int?
    public var sha256: String?
}

/// SHA-256 of bytes as they stream past: readers feed it while they read, so an input is never
/// read a second time just to be hashed.
public struct FileChecksum {
    private var hasher = SHA256()
    public private(set) var bytes = 0

    public init() {}

    public mutating func update(_ chunk: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: chunk)
        bytes += chunk.count
    }

    /// The digest as lowercase hex.
    public func finalize() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }

    /// The record for `path`.
    public func record(path: String) -> InputFile { InputFile(path: path, bytes: bytes, sha256: finalize()) }

    /// SHA-256 of a whole file, streamed in 4 MB reads (for inputs that are memory-mapped, not read).
    /// Throws `StrataError.unreadable`. O(file size) time, 4 MB memory.
    public static func sha256(path: String) throws -> (bytes: Int, hex: String) {
        try sha256(paths: [path])
    }

    /// SHA-256 of files one after the other (a Parquet dataset's part files in reading order).
    public static func sha256(paths: [String]) throws -> (bytes: Int, hex: String) {
        var sum = FileChecksum()
        for path in paths {
            guard let h = FileHandle(forReadingAtPath: path) else { throw StrataError.unreadable(path: path, reason: "cannot open") }
            defer { try? h.close() }
            while true {
                let chunk = h.readData(ofLength: 4 << 20)
                if chunk.isEmpty { break }
                chunk.withUnsafeBytes { sum.update($0) }
            }
        }
        return (sum.bytes, sum.finalize())
    }
}
