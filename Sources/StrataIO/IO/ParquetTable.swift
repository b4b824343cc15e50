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
            return !((try? datasetFiles(path)) ?? []).isEmpty
        }
        return isGlob(path) && ((try? files(path)) ?? []).first.map { $0.lowercased().hasSuffix(".parquet") } == true
    }

    static func isGlob(_ path: String) -> Bool { path.contains { $0 == "*" || $0 == "?" || $0 == "[" } && !FileManager.default.fileExists(atPath: path) }

    /// The files of a Parquet input in reading order: the file itself; a directory's `.parquet`
    /// files (not hidden, not `_`-prefixed: a Spark/pandas/pyarrow dataset's part files), also
    /// those in Hive-style partition directories (`country=DE/part-0.parquet`, any depth), sorted
    /// by path; a glob's matches sorted by name.
    /// - Throws: `StrataError.unreadable` when nothing matches.
    public static func files(_ path: String) throws -> [String] {
        var dir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &dir) {
            guard dir.boolValue else { return [path] }
            let found = try datasetFiles(path)
            guard !found.isEmpty else { throw StrataError.unreadable(path: path, reason: "the directory holds no .parquet files") }
            return found
        }
        guard isGlob(path) else { throw StrataError.unreadable(path: path, reason: "no such file or directory") }
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(path, 0, nil, &g) == 0, g.gl_pathc > 0 else { throw StrataError.unreadable(path: path, reason: "the pattern matches no file") }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.filter { $0.lowercased().hasSuffix(".parquet") }.sorted()
    }

    /// A directory's part files and those of its `key=value` subdirectories, sorted by path.
    static func datasetFiles(_ dir: String) throws -> [String] {
        var out: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir).sorted() where !name.hasPrefix(".") && !name.hasPrefix("_") {
            let full = (dir as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                if partition(name) != nil { out += try datasetFiles(full) }
            } else if name.lowercased().hasSuffix(".parquet") {
                out.append(full)
            }
        }
        return out
    }

    /// `(key, value)` of a Hive-style partition directory name (`country=DE`; the value
    /// percent-decoded; `__HIVE_DEFAULT_PARTITION__` is a null), nil otherwise.
    static func partition(_ name: String) -> (key: String, value: String?)? {
        guard let eq = name.firstIndex(of: "="), eq != name.startIndex else { return nil }
        let key = String(name[..<eq]), raw = String(name[name.index(after: eq)...])
        let value = raw.removingPercentEncoding ?? raw
        return (key, value == "__HIVE_DEFAULT_PARTITION__" ? nil : value)
    }

    /// The partition values of `file` below the dataset directory `root` (outermost first).
    static func partitions(of file: String, root: String) -> [(key: String, value: String?)] {
        let rootParts = URL(fileURLWithPath: root).standardizedFileURL.pathComponents
        let parts = URL(fileURLWithPath: file).standardizedFileURL.pathComponents
        guard parts.count > rootParts.count + 1 else { return [] }
        return parts[rootParts.count..<(parts.count - 1)].compactMap(partition)
    }
}

/// A Parquet file or dataset (a directory or glob of files with one schema) opened for reading:
/// footers only; row groups are read on demand, only the selected columns, so memory is one
/// row group of those columns at a time plus what the caller keeps.
public final class ParquetTable: ColumnarTable {
    /// The input as given (file, directory or glob).
    public let path: String
    public let files: [ParquetFile]
    /// The top-level columns (of the first file; every file must have the same names and types),
    /// then a Hive-style dataset's partition keys (`country=DE/...`): int64 when every value is
    /// an integer, double when every value is a number, else strings; null for
    /// `__HIVE_DEFAULT_PARTITION__`.
    public let columns: [ParquetColumnInfo]
    public var rowCount: Int { files.reduce(0) { $0 + $1.rowCount } }
    /// Columns stored in the files (the first `fileColumns` of `columns`).
    let fileColumns: Int
    /// Per file, its partition values (aligned with the partition columns).
    let partitionValues: [[String?]]

    /// - Throws: `StrataError.unreadable` / `.badData` (one line naming file, row group and
    ///   column) for a missing or corrupt file, or files whose schemas differ.
    public init(path: String) throws {
        self.path = path
        files = try Self.map { try ParquetInput.files(path).map { try ParquetFile(path: $0) } }
        let stored = files.first?.columns ?? []
        fileColumns = stored.count
        var isDir: ObjCBool = false
        let partitioned = FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
        let parts = files.map { partitioned ? ParquetInput.partitions(of: $0.path, root: path) : [] }
        let keys = parts.first?.map(\.key) ?? []
        for (f, p) in zip(files, parts) where p.map(\.key) != keys {
            throw StrataError.badData(file: f.path, line: nil, column: nil,
                                      message: "its partition directories (\(Excerpt.list(p.map(\.key)))) differ from \(files[0].path)'s (\(Excerpt.list(keys)))")
        }
        partitionValues = parts.map { $0.map(\.value) }
        columns = stored + keys.indices.map { j in
            let values = parts.compactMap { $0[j].value }
            // Numbers only when every value reads back as written (`zip=01234`, `month=01` stay text).
            let type: PhysicalType = values.allSatisfy({ v in Int64(v).map { String($0) == v } ?? false }) ? .int64
                : values.allSatisfy({ v in Double(v) != nil && !(v.count > 1 && v.hasPrefix("0") && !v.hasPrefix("0.")) }) ? .double : .byteArray
            return ParquetColumnInfo(name: keys[j], physicalType: type, kind: type == .int64 ? .integer(bits: 64, signed: true) : type == .byteArray ? .string : .none)
        }
        for f in files.dropFirst() {
            let a = f.columns.map { "\($0.name) \($0.physicalType) \($0.kind)" }, b = stored.map { "\($0.name) \($0.physicalType) \($0.kind)" }
            if a != b {
                throw StrataError.badData(file: f.path, line: nil, column: nil,
                                          message: "its schema differs from \(files[0].path)'s (\(Excerpt.list(a)) vs \(Excerpt.list(b))); a dataset's files must share one schema")
            }
        }
        var seen = Set<String>()
        for c in columns where !seen.insert(c.name).inserted {
            throw StrataError.badData(file: path, line: nil, column: c.name, message: "column name appears twice in the schema (or as a partition directory); rename one")
        }
    }

    /// Row group `g` of file `fi`: the stored columns read, the partition columns filled with the
    /// file's values, in the order of `indices`.
    func readRowGroup(file fi: Int, _ g: Int, columns indices: [Int]) throws -> [ParquetColumn] {
        let f = files[fi]
        let stored = indices.filter { $0 < fileColumns }
        let read = try Self.map { try f.readRowGroup(g, columns: stored) }
        guard stored.count < indices.count else { return read }
        let rows = f.rowCount(ofRowGroup: g)
        var next = 0
        return indices.map { i in
            if i < fileColumns { next += 1; return read[next - 1] }
            let value = partitionValues[fi][i - fileColumns], info = columns[i]
            let valid: [Bool]? = value == nil ? [Bool](repeating: false, count: rows) : nil
            switch info.physicalType {
            case .int64: return ParquetColumn(info: info, values: .int64([Int64](repeating: value.flatMap { Int64($0) } ?? 0, count: rows)), valid: valid)
            case .double: return ParquetColumn(info: info, values: .double([Double](repeating: value.flatMap { Double($0) } ?? 0, count: rows)), valid: valid)
            default:
                var b = ByteArrays()
                for _ in 0..<rows { b.append((value ?? "").utf8) }
                return ParquetColumn(info: info, values: .bytes(b), valid: valid)
            }
        }
    }

    /// Calls `body` for every row group of every file, in order, with the columns at `indices`
    /// (`rowOffset`: rows before this group). O(bytes of the selected column chunks).
    public func forEachRowGroup(columns indices: [Int], _ body: (_ file: String, _ group: Int, _ rowOffset: Int, [ParquetColumn]) throws -> Void) throws {
        var offset = 0
        for (fi, f) in files.enumerated() {
            for g in 0..<f.rowGroupCount {
                let cols = try readRowGroup(file: fi, g, columns: indices)
                try body(f.path, g, offset, cols)
                offset += f.rowCount(ofRowGroup: g)
            }
        }
    }

    /// The first `limit` rows of the columns at `indices` (for sniffing).
    public func head(columns indices: [Int], limit: Int) throws -> [ParquetColumn] {
        var out: [ParquetColumn] = indices.map { ParquetColumn(info: columns[$0], values: .int32([]), valid: nil) }
        for (fi, f) in files.enumerated() {
            for g in 0..<f.rowGroupCount {
                if (out.first?.count ?? limit) >= limit { return out }
                let cols = try readRowGroup(file: fi, g, columns: indices)
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
