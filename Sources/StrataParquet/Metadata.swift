/// Parquet's file metadata (the footer) and page headers, decoded from and encoded to the Thrift
/// compact protocol. Only the fields Strata uses are kept; every other field is skipped.
///
/// Source: the Parquet format specification, `parquet.thrift`
/// (https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift); field
/// ids below are that file's.

/// Physical types (`Type` in parquet.thrift).
public enum PhysicalType: Int32, Sendable {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7
}

/// Page and column compression (`CompressionCodec`). LZO, BROTLI and the Hadoop-framed LZ4 are
/// recognised so that a file using them gets a clear error.
public enum ParquetCodec: Int32, Sendable, CaseIterable {
    case uncompressed = 0, snappy = 1, gzip = 2, lzo = 3, brotli = 4, lz4 = 5, zstd = 6, lz4Raw = 7
}

/// Value and level encodings (`Encoding`).
public enum ParquetEncoding: Int32, Sendable {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5, deltaLengthByteArray = 6,
         deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9
}

/// `FieldRepetitionType`.
public enum Repetition: Int32, Sendable { case required = 0, optional = 1, repeated = 2 }

/// Time units of TIMESTAMP logical types.
public enum TimeUnit: Sendable, Equatable { case millis, micros, nanos }

/// What a column's values mean, from its logical type (or, in older files, converted type).
public enum LogicalKind: Sendable, Equatable {
    /// No annotation: the physical type's own values.
    case none
    case string
    /// A signed or unsigned integer of `bits` bits.
    case integer(bits: Int, signed: Bool)
    /// unscaled / 10^scale.
    case decimal(precision: Int, scale: Int)
    /// Days since 1970-01-01.
    case date
    /// Since the epoch in `unit`; `utc`: adjusted to UTC (a time zone was given).
    case timestamp(unit: TimeUnit, utc: Bool)
    /// Time of day (read as a number in its unit).
    case time(unit: TimeUnit)
    /// Another annotation (JSON, BSON, UUID, ENUM, ...): read as its physical type.
    case other
}

/// `SchemaElement`.
struct SchemaElement {
    var type: PhysicalType?
    var typeLength: Int32 = 0
    var repetition: Repetition?
    var name = ""
    var numChildren: Int32 = 0
    var convertedType: Int32?
    var scale: Int32 = 0
    var precision: Int32 = 0
    var logical: LogicalKind?

    static func decode(_ r: inout ThriftReader) throws -> SchemaElement {
        var e = SchemaElement()
        try r.readStruct { r, id, t in
            switch id {
            case 1: e.type = PhysicalType(rawValue: try r.i32(t))
                if e.type == nil { throw Corrupt("schema has an unknown physical type") }
            case 2: e.typeLength = try r.i32(t)
            case 3: e.repetition = Repetition(rawValue: try r.i32(t))
            case 4: e.name = try r.string(t)
            case 5: e.numChildren = try r.i32(t)
            case 6: e.convertedType = try r.i32(t)
            case 7: e.scale = try r.i32(t)
            case 8: e.precision = try r.i32(t)
            case 10: e.logical = try decodeLogicalType(&r, t)
            default: try r.skip(t)
            }
        }
        return e
    }

    /// `LogicalType` union.
    private static func decodeLogicalType(_ r: inout ThriftReader, _ t: ThriftType) throws -> LogicalKind {
        guard t == .structure else { throw Corrupt("schema's logical type is not a struct") }
        var kind = LogicalKind.other
        try r.readStruct { r, id, t in
            switch id {
            case 1: kind = .string; try r.skip(t)
            case 5:
                var scale: Int32 = 0, precision: Int32 = 0
                try r.readStruct { r, id, t in
                    switch id { case 1: scale = try r.i32(t); case 2: precision = try r.i32(t); default: try r.skip(t) }
                }
                kind = .decimal(precision: Int(precision), scale: Int(scale))
            case 6: kind = .date; try r.skip(t)
            case 7, 8:
                var utc = false, unit = TimeUnit.millis
                try r.readStruct { r, fid, ft in
                    switch fid {
                    case 1: utc = try r.bool(ft)
                    case 2: unit = try decodeUnit(&r, ft)
                    default: try r.skip(ft)
                    }
                }
                kind = id == 8 ? .timestamp(unit: unit, utc: utc) : .time(unit: unit)
            case 10:
                var bits: Int32 = 64, signed = true
                try r.readStruct { r, id, t in
                    switch id { case 1: bits = try r.i32(t); case 2: signed = try r.bool(t); default: try r.skip(t) }
                }
                kind = .integer(bits: Int(bits), signed: signed)
            case 11: kind = .none; try r.skip(t)
            default: try r.skip(t)
            }
        }
        return kind
    }

    private static func decodeUnit(_ r: inout ThriftReader, _ t: ThriftType) throws -> TimeUnit {
        guard t == .structure else { throw Corrupt("time unit is not a struct") }
        var unit = TimeUnit.millis
        try r.readStruct { r, id, t in
            switch id { case 1: unit = .millis; case 2: unit = .micros; case 3: unit = .nanos; default: break }
            try r.skip(t)
        }
        return unit
    }

    /// The logical type, else the converted type (ConvertedType codes of parquet.thrift).
    var kind: LogicalKind {
        if let logical { return logical }
        switch convertedType {
        case nil: return .none
        case 0: return .string
        case 5: return .decimal(precision: Int(precision), scale: Int(scale))
        case 6: return .date
        case 7: return .time(unit: .millis)
        case 8: return .time(unit: .micros)
        case 9: return .timestamp(unit: .millis, utc: true)
        case 10: return .timestamp(unit: .micros, utc: true)
        case 11: return .integer(bits: 8, signed: false)
        case 12: return .integer(bits: 16, signed: false)
        case 13: return .integer(bits: 32, signed: false)
        case 14: return .integer(bits: 64, signed: false)
        case 15: return .integer(bits: 8, signed: true)
        case 16: return .integer(bits: 16, signed: true)
        case 17: return .integer(bits: 32, signed: true)
        case 18: return .integer(bits: 64, signed: true)
        default: return .other
        }
    }
}

/// `ColumnMetaData` (with the `ColumnChunk` around it).
struct ColumnChunkMeta {
    var type: PhysicalType = .int32
    var path: [String] = []
    var codecCode: Int32 = 0
    var numValues: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var dictionaryPageOffset: Int64?
    var filePath: String?

    static func decodeChunk(_ r: inout ThriftReader) throws -> ColumnChunkMeta {
        var m = ColumnChunkMeta()
        var sawMeta = false
        try r.readStruct { r, id, t in
            switch id {
            case 1: m.filePath = try r.string(t)
            case 3:
                sawMeta = true
                guard t == .structure else { throw Corrupt("column chunk metadata is not a struct") }
                try r.readStruct { r, id, t in
                    switch id {
                    case 1: guard let p = PhysicalType(rawValue: try r.i32(t)) else { throw Corrupt("column chunk has an unknown physical type") }
                        m.type = p
                    case 3: m.path = try r.list(t) { r, et in try r.string(et) }
                    case 4: m.codecCode = try r.i32(t)
                    case 5: m.numValues = try r.i64(t)
                    case 7: m.totalCompressedSize = try r.i64(t)
                    case 9: m.dataPageOffset = try r.i64(t)
                    case 11: m.dictionaryPageOffset = try r.i64(t)
                    default: try r.skip(t)
                    }
                }
            default: try r.skip(t)
            }
        }
        guard sawMeta else { throw Corrupt("a column chunk has no metadata (encrypted files are not supported)") }
        return m
    }

    func encode(_ w: inout ThriftWriter, fileOffset: Int64, encodings: [ParquetEncoding], totalUncompressed: Int64) {
        w.i64(2, fileOffset)
        w.structure(3) { w in
            w.i32(1, type.rawValue)
            w.i32List(2, encodings.map(\.rawValue))
            w.stringList(3, path)
            w.i32(4, codecCode)
            w.i64(5, numValues)
            w.i64(6, totalUncompressed)
            w.i64(7, totalCompressedSize)
            w.i64(9, dataPageOffset)
            if let d = dictionaryPageOffset { w.i64(11, d) }
        }
    }
}

/// `RowGroup`.
struct RowGroupMeta {
    var columns: [ColumnChunkMeta] = []
    var numRows: Int64 = 0
    var totalByteSize: Int64 = 0

    static func decode(_ r: inout ThriftReader) throws -> RowGroupMeta {
        var g = RowGroupMeta()
        try r.readStruct { r, id, t in
            switch id {
            case 1: g.columns = try r.list(t) { r, et in
                    guard et == .structure else { throw Corrupt("row group columns are not structs") }
                    return try ColumnChunkMeta.decodeChunk(&r)
                }
            case 2: g.totalByteSize = try r.i64(t)
            case 3: g.numRows = try r.i64(t)
            default: try r.skip(t)
            }
        }
        return g
    }
}

/// `FileMetaData`.
struct FileMeta {
    var version: Int32 = 1
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroupMeta] = []
    var createdBy: String?

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws -> FileMeta {
        var r = ThriftReader(ByteCursor(bytes))
        var m = FileMeta()
        try r.readStruct { r, id, t in
            switch id {
            case 1: m.version = try r.i32(t)
            case 2: m.schema = try r.list(t) { r, et in
                    guard et == .structure else { throw Corrupt("schema elements are not structs") }
                    return try SchemaElement.decode(&r)
                }
            case 3: m.numRows = try r.i64(t)
            case 4: m.rowGroups = try r.list(t) { r, et in
                    guard et == .structure else { throw Corrupt("row groups are not structs") }
                    return try RowGroupMeta.decode(&r)
                }
            case 6: m.createdBy = try r.string(t)
            default: try r.skip(t)
            }
        }
        return m
    }
}

/// Page types (`PageType`).
enum PageType: Int32 { case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3 }

/// `PageHeader` with its data page (v1, v2) or dictionary page header.
struct PageHeader {
    var type: Int32 = -1
    var uncompressedSize: Int32 = 0
    var compressedSize: Int32 = 0
    var crc: Int32?
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    // v2 only
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var definitionLevelsLength: Int32 = 0
    var repetitionLevelsLength: Int32 = 0
    var isCompressed = true

    static func decode(_ r: inout ThriftReader) throws -> PageHeader {
        var h = PageHeader()
        try r.readStruct { r, id, t in
            switch id {
            case 1: h.type = try r.i32(t)
            case 2: h.uncompressedSize = try r.i32(t)
            case 3: h.compressedSize = try r.i32(t)
            case 4: h.crc = try r.i32(t)
            case 5, 7, 8:
                guard t == .structure else { throw Corrupt("page header field \(id) is not a struct") }
                try r.readStruct { r, fid, ft in
                    switch (id, fid) {
                    case (_, 1): h.numValues = try r.i32(ft)
                    case (5, 2), (7, 2), (8, 4): h.encoding = try r.i32(ft)
                    case (8, 2): h.numNulls = try r.i32(ft)
                    case (8, 3): h.numRows = try r.i32(ft)
                    case (8, 5): h.definitionLevelsLength = try r.i32(ft)
                    case (8, 6): h.repetitionLevelsLength = try r.i32(ft)
                    case (8, 7): h.isCompressed = try r.bool(ft)
                    default: try r.skip(ft)
                    }
                }
            default: try r.skip(t)
            }
        }
        return h
    }

    /// Writes a v1 data page header (`dictionary`: a dictionary page header instead). Levels are
    /// RLE-encoded (encoding 3).
    static func encode(dictionary: Bool, numValues: Int32, encoding: ParquetEncoding, uncompressed: Int32, compressed: Int32, crc: Int32) -> [UInt8] {
        var w = ThriftWriter()
        w.structure(nil) { w in
            w.i32(1, dictionary ? PageType.dictionaryPage.rawValue : PageType.dataPage.rawValue)
            w.i32(2, uncompressed)
            w.i32(3, compressed)
            w.i32(4, crc)
            w.structure(dictionary ? 7 : 5) { w in
                w.i32(1, numValues)
                w.i32(2, encoding.rawValue)
                if !dictionary {
                    w.i32(3, ParquetEncoding.rle.rawValue)
                    w.i32(4, ParquetEncoding.rle.rawValue)
                }
            }
        }
        return w.sink.bytes
    }
}
