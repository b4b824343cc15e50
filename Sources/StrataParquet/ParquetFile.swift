#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A top-level field of a Parquet file's schema.
public struct ParquetColumnInfo: Sendable, Equatable {
    public var name: String
    public var physicalType: PhysicalType
    public var kind: LogicalKind
    /// FIXED_LEN_BYTE_ARRAY width in bytes (0 otherwise).
    public var typeLength: Int
    /// OPTIONAL (may hold nulls).
    public var optional: Bool
    /// Why the field cannot be read (a group or a repeated field), nil for a flat column.
    public var unsupported: String?
    /// Index of the field's first leaf among the row group's column chunks.
    var leaf: Int

    /// True for types read as numbers (integers, decimals, floats, booleans, dates, timestamps).
    public var isNumeric: Bool {
        switch (physicalType, kind) {
        case (.byteArray, .decimal), (.fixedLenByteArray, .decimal): return true
        case (.byteArray, _), (.fixedLenByteArray, _): return false
        default: return unsupported == nil
        }
    }
}

extension ParquetColumnInfo {
    /// A column of another columnar source (a PostgreSQL result) described in Parquet's types.
    public init(name: String, physicalType: PhysicalType, kind: LogicalKind, optional: Bool = true, unsupported: String? = nil) {
        self.name = name
        self.physicalType = physicalType
        self.kind = kind
        self.typeLength = 0
        self.optional = optional
        self.unsupported = unsupported
        self.leaf = -1
    }
}

/// One column of one row group (or of a whole file): its schema entry, a value per row and,
/// for an optional column, which rows hold a value.
public struct ParquetColumn: Sendable {
    public var info: ParquetColumnInfo
    public var values: ParquetValues
    /// nil: no nulls possible (a required column).
    public var valid: [Bool]?

    public init(info: ParquetColumnInfo, values: ParquetValues, valid: [Bool]?) {
        self.info = info
        self.values = values
        self.valid = valid
    }

    public var count: Int { values.count }
    public func isNull(_ i: Int) -> Bool { valid.map { !$0[i] } ?? false }
}

/// A Parquet file opened for reading: the footer is read and decoded at once; row groups are
/// read on demand, only the columns asked for (projection pushdown).
///
/// Source: the Parquet format specification (https://github.com/apache/parquet-format: file
/// layout `PAR1` ... footer, footer length, `PAR1`; parquet.thrift). Flat schemas: a group or a
/// repeated field is listed with `unsupported` set, is an error when selected and is otherwise
/// never read. Memory: the footer, plus per `readRowGroup` call the selected columns' chunks.
/// Every error is a `ParquetError` naming the file and, where known, row group and column.
public final class ParquetFile: @unchecked Sendable {
    public let path: String
    public let columns: [ParquetColumnInfo]
    public let rowCount: Int
    public let createdBy: String?
    let meta: FileMeta
    private let fd: Int32
    private let size: Int
    private let footerStart: Int

    /// Opens `path` and decodes its footer. O(footer bytes).
    /// - Throws: `ParquetError` for an unreadable file, a file too short, a bad magic number, a
    ///   footer length beyond the file or a footer that does not decode.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError(file: path, message: "cannot open: \(String(cString: strerror(errno)))") }
        var ok = false
        defer { if !ok { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ParquetError(file: path, message: "cannot stat: \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ParquetError(file: path, message: "not a regular file") }
        let size = Int(st.st_size)
        guard size >= 12 else { throw ParquetError(file: path, message: "not a Parquet file: \(size) bytes is too short (truncated?)") }
        let head = try Self.pread(fd, path: path, offset: 0, count: 4)
        let tail = try Self.pread(fd, path: path, offset: size - 8, count: 8)
        let magic: [UInt8] = Array("PAR1".utf8)
        guard Array(tail[4..<8]) == magic else {
            throw ParquetError(file: path, message: Array(head) == magic ? "the file does not end with the Parquet magic 'PAR1' (truncated or still being written?)"
                               : "not a Parquet file (no 'PAR1' magic number)")
        }
        guard Array(head) == magic else { throw ParquetError(file: path, message: "not a Parquet file (no 'PAR1' magic number at the start)") }
        let footerLength = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard footerLength <= size - 12 else { throw ParquetError(file: path, message: "the footer length \(footerLength) is beyond the file's \(size) bytes (truncated?)") }
        let footerStart = size - 8 - footerLength
        let footer = try Self.pread(fd, path: path, offset: footerStart, count: footerLength)
        let meta: FileMeta
        do { meta = try footer.withUnsafeBufferPointer { try FileMeta.decode($0) } } catch let e as Corrupt {
            throw ParquetError(file: path, message: "the footer is corrupt: \(e.message)")
        }
        let columns = try Self.flatColumns(meta, path: path)
        for (g, group) in meta.rowGroups.enumerated() {
            guard group.columns.count == Self.leafCount(meta) else {
                throw ParquetError(file: path, rowGroup: g, message: "the row group has \(group.columns.count) column chunks but the schema \(Self.leafCount(meta)) leaves")
            }
            guard group.numRows >= 0 else { throw ParquetError(file: path, rowGroup: g, message: "negative row count") }
        }
        ok = true
        (self.fd, self.size, self.footerStart, self.meta) = (fd, size, footerStart, meta)
        (self.columns, rowCount, createdBy) = (columns, Int(meta.numRows), meta.createdBy)
    }

    deinit { close(fd) }

    public var rowGroupCount: Int { meta.rowGroups.count }
    public func rowCount(ofRowGroup g: Int) -> Int { Int(meta.rowGroups[g].numRows) }
    public func columnIndex(named name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// Reads the columns at `indices` (into `columns`) of row group `g`.
    /// - Complexity: the selected chunks' bytes; other columns are never read.
    /// - Throws: `ParquetError` naming file, row group and column: an unsupported (nested) column,
    ///   a chunk outside the file, a corrupt page, an unsupported codec or encoding.
    public func readRowGroup(_ g: Int, columns indices: [Int]) throws -> [ParquetColumn] {
        let group = meta.rowGroups[g]
        let rows = Int(group.numRows)
        return try indices.map { i in
            let info = columns[i]
            func fail(_ m: String) -> ParquetError { ParquetError(file: path, rowGroup: g, column: info.name, message: m) }
            if let why = info.unsupported { throw fail(why) }
            let chunk = group.columns[info.leaf]
            if chunk.filePath != nil { throw fail("the column chunk lives in another file (external column chunks are not supported)") }
            guard let codec = ParquetCodec(rawValue: chunk.codecCode) else { throw fail("unknown compression codec \(chunk.codecCode)") }
            if [.lzo, .brotli, .lz4].contains(codec) {
                throw fail("compression codec \(codec) is not supported (supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW)")
            }
            var start = Int(chunk.dataPageOffset)
            if let d = chunk.dictionaryPageOffset, d > 0, d < start { start = Int(d) }
            let length = Int(chunk.totalCompressedSize)
            guard start >= 4, length >= 0, start <= footerStart, length <= footerStart - start else {
                throw fail("the column chunk (offset \(start), \(length) bytes) lies outside the file's data (truncated or corrupt)")
            }
            let bytes = try Self.pread(fd, path: path, offset: start, count: length)
            let reader = ColumnChunkReader(type: info.physicalType, typeLength: info.typeLength, optional: info.optional, codec: codec)
            do {
                let (values, valid) = try bytes.withUnsafeBufferPointer { try reader.read($0, rows: rows) }
                guard values.count == rows else { throw Corrupt("decoded \(values.count) values for \(rows) rows") }
                return ParquetColumn(info: info, values: values, valid: valid)
            } catch let e as Corrupt {
                throw fail(e.message)
            }
        }
    }

    private static func pread(_ fd: Int32, path: String, offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 { if errno == EINTR { continue }; throw ParquetError(file: path, message: "read failed: \(String(cString: strerror(errno)))") }
            if n == 0 { throw ParquetError(file: path, message: "the file ended early (truncated?)") }
            done += n
        }
        return out
    }

    private static func leafCount(_ m: FileMeta) -> Int { m.schema.dropFirst().filter { $0.numChildren == 0 }.count }

    /// The root's children; a group or repeated field becomes an `unsupported` entry.
    private static func flatColumns(_ m: FileMeta, path: String) throws -> [ParquetColumnInfo] {
        guard let root = m.schema.first else { throw ParquetError(file: path, message: "the schema is empty") }
        var out: [ParquetColumnInfo] = []
        var i = 1, leaf = 0
        // Elements below index i that belong to the subtree of a field (depth-first, counts).
        func subtreeEnd(_ start: Int) throws -> (end: Int, leaves: Int) {
            var pending = 1, j = start, leaves = 0
            while pending > 0 {
                guard j < m.schema.count else { throw ParquetError(file: path, message: "the schema's child counts exceed its elements") }
                let c = Int(m.schema[j].numChildren)
                guard c >= 0 else { throw ParquetError(file: path, message: "the schema has a negative child count") }
                if c == 0 { leaves += 1 }
                pending += c - 1
                j += 1
            }
            return (j, leaves)
        }
        for _ in 0..<max(0, Int(root.numChildren)) {
            guard i < m.schema.count else { throw ParquetError(file: path, message: "the schema's child counts exceed its elements") }
            let e = m.schema[i]
            let (end, leaves) = try subtreeEnd(i)
            var info = ParquetColumnInfo(name: e.name, physicalType: e.type ?? .byteArray, kind: e.kind, typeLength: Int(e.typeLength),
                                         optional: e.repetition != .required, unsupported: nil, leaf: leaf)
            if e.numChildren > 0 {
                info.unsupported = "column '\(e.name)' is nested (a group of \(e.numChildren) fields); Strata reads flat columns only"
            } else if e.repetition == .repeated {
                info.unsupported = "column '\(e.name)' is repeated (a list); Strata reads flat columns only"
            } else if e.type == nil {
                throw ParquetError(file: path, column: e.name, message: "the column has no physical type")
            }
            out.append(info)
            leaf += leaves
            i = end
        }
        return out
    }
}
