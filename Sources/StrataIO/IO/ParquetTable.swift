import Foundation
import StrataCore
import StrataParquet

/// Which inputs are Parquet, and the files they stand for.
public enum ParquetInput {
    /// True for a path ending in `.parquet`, a directory holding `.parquet` files, or a glob
    /// pattern (`*`, `?`, `[`) whose matches end in `.parquet`.
    public static func isParquet(_ path: String) -> Bool {
        if path.lowercased().hasSuffix(".parquet") && !isGlob(path) { return true }
        var dir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &dir), dir.boolValue {
            return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).contains { $0.lowercased().hasSuffix(".parquet") }
        }
        return isGlob(path) && ((try? files(path)) ?? []).first.map { $0.lowercased().hasSuffix(".parquet") } == true
    }

    static func isGlob(_ path: String) -> Bool { path.contains { $0 == "*" || $0 == "?" || $0 == "[" } && !FileManager.default.fileExists(atPath: path) }

    /// The files of a Parquet input in reading order: the file itself; a directory's `.parquet`
    /// files (not hidden, not recursive: a Spark/pandas/pyarrow dataset's part files) sorted by
    /// name; a glob's matches sorted by name.
    /// - Throws: `StrataError.unreadable` when nothing matches.
    public static func files(_ path: String) throws -> [String] {
        var dir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &dir) {
            guard dir.boolValue else { return [path] }
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { $0.lowercased().hasSuffix(".parquet") && !$0.hasPrefix(".") && !$0.hasPrefix("_") }.sorted()
            guard !names.isEmpty else { throw StrataError.unreadable(path: path, reason: "the directory holds no .parquet files") }
            return names.map { (path as NSString).appendingPathComponent($0) }
        }
        guard isGlob(path) else { throw StrataError.unreadable(path: path, reason: "no such file or directory") }
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(path, 0, nil, &g) == 0, g.gl_pathc > 0 else { throw StrataError.unreadable(path: path, reason: "the pattern matches no file") }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.filter { $0.lowercased().hasSuffix(".parquet") }.sorted()
    }
}

/// A Parquet file or dataset (a directory or glob of files with one schema) opened for reading:
/// footers only; row groups are read on demand, only the selected columns, so memory is one
/// row group of those columns at a time plus what the caller keeps.
public final class ParquetTable: ColumnarTable {
    /// The input as given (file, directory or glob).
    public let path: String
    public let files: [ParquetFile]
    /// The top-level columns (of the first file; every file must have the same names and types).
    public let columns: [ParquetColumnInfo]
    public var rowCount: Int { files.reduce(0) { $0 + $1.rowCount } }

    /// - Throws: `StrataError.unreadable` / `.badData` (one line naming file, row group and
    ///   column) for a missing or corrupt file, or files whose schemas differ.
    public init(path: String) throws {
        self.path = path
        files = try Self.map { try ParquetInput.files(path).map { try ParquetFile(path: $0) } }
        columns = files.first?.columns ?? []
        for f in files.dropFirst() {
            let a = f.columns.map { "\($0.name) \($0.physicalType) \($0.kind)" }, b = columns.map { "\($0.name) \($0.physicalType) \($0.kind)" }
            if a != b {
                throw StrataError.badData(file: f.path, line: nil, column: nil,
                                          message: "its schema differs from \(files[0].path)'s (\(Excerpt.list(a)) vs \(Excerpt.list(b))); a dataset's files must share one schema")
            }
        }
        var seen = Set<String>()
        for c in columns where !seen.insert(c.name).inserted {
            throw StrataError.badData(file: path, line: nil, column: c.name, message: "column name appears twice in the schema; rename one")
        }
    }

    /// Calls `body` for every row group of every file, in order, with the columns at `indices`
    /// (`rowOffset`: rows before this group). O(bytes of the selected column chunks).
    public func forEachRowGroup(columns indices: [Int], _ body: (_ file: String, _ group: Int, _ rowOffset: Int, [ParquetColumn]) throws -> Void) throws {
        var offset = 0
        for f in files {
            for g in 0..<f.rowGroupCount {
                let cols = try Self.map { try f.readRowGroup(g, columns: indices) }
                try body(f.path, g, offset, cols)
                offset += f.rowCount(ofRowGroup: g)
            }
        }
    }

    /// The first `limit` rows of the columns at `indices` (for sniffing).
    public func head(columns indices: [Int], limit: Int) throws -> [ParquetColumn] {
        var out: [ParquetColumn] = indices.map { ParquetColumn(info: columns[$0], values: .int32([]), valid: nil) }
        for f in files {
            for g in 0..<f.rowGroupCount {
                if (out.first?.count ?? limit) >= limit { return out }
                let cols = try Self.map { try f.readRowGroup(g, columns: indices) }
                for k in cols.indices {
                    if out[k].count == 0 { out[k] = cols[k] } else {
                        try Self.map { try out[k].values.appendValues(cols[k].values) }
                        out[k].valid = (out[k].valid ?? [Bool](repeating: true, count: out[k].count - cols[k].count)) + (cols[k].valid ?? [Bool](repeating: true, count: cols[k].count))
                    }
                }
            }
        }
        return out
    }

    public func observeInput(_ observe: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        for f in files {
            guard let h = FileHandle(forReadingAtPath: f.path) else { throw StrataError.unreadable(path: f.path, reason: "cannot open") }
            defer { try? h.close() }
            while true {
                let chunk = h.readData(ofLength: 4 << 20)
                if chunk.isEmpty { break }
                chunk.withUnsafeBytes { observe($0) }
            }
        }
    }

    /// Runs `body`, turning a `ParquetError` into the one-line `StrataError.badData` (file, row
    /// group and column).
    static func map<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ParquetError {
            throw StrataError.badData(file: e.file + (e.rowGroup.map { ", row group \($0)" } ?? ""), line: nil, column: e.column, message: e.message)
        }
    }
}
