/// Column types the writer produces (a closed choice): the physical type and annotation each
/// maps to in the file.
public enum ParquetWriteType: Sendable, Equatable {
    /// INT64.
    case int64
    /// DOUBLE.
    case double
    /// FLOAT.
    case float
    /// BYTE_ARRAY annotated STRING (UTF8); dictionary-encoded.
    case string
    /// BOOLEAN.
    case boolean
    /// INT32 annotated DATE (days since 1970-01-01).
    case date

    var physical: PhysicalType {
        switch self {
        case .int64: return .int64
        case .double: return .double
        case .float: return .float
        case .string: return .byteArray
        case .boolean: return .boolean
        case .date: return .int32
        }
    }
}

/// Page codecs the writer offers (a closed choice).
public enum ParquetWriteCodec: String, Sendable, CaseIterable {
    case zstd, snappy, uncompressed
    var codec: ParquetCodec {
        switch self { case .zstd: return .zstd; case .snappy: return .snappy; case .uncompressed: return .uncompressed }
    }
}

/// One column to write: values in the storage of `type` (`.int64` for int64, `.int32` for date,
/// `.bytes` UTF-8 for string, ...), one per row; `valid` false marks a null row (nil: no nulls;
/// the column is OPTIONAL either way).
public struct ParquetWriteColumn: Sendable {
    public var name: String
    public var type: ParquetWriteType
    public var values: ParquetValues
    public var valid: [Bool]?

    public init(name: String, type: ParquetWriteType, values: ParquetValues, valid: [Bool]? = nil) {
        self.name = name
        self.type = type
        self.values = values
        self.valid = valid
    }

    public static func strings(_ name: String, _ values: [String?]) -> ParquetWriteColumn {
        var b = ByteArrays()
        b.offsets.reserveCapacity(values.count + 1)
        for v in values { if let v { b.append(v.utf8) } else { b.offsets.append(b.data.count) } }
        return ParquetWriteColumn(name: name, type: .string, values: .bytes(b), valid: values.contains(nil) ? values.map { $0 != nil } : nil)
    }

    public static func doubles(_ name: String, _ values: [Double?]) -> ParquetWriteColumn {
        ParquetWriteColumn(name: name, type: .double, values: .double(values.map { $0 ?? 0 }), valid: values.contains(nil) ? values.map { $0 != nil } : nil)
    }

    public static func int64s(_ name: String, _ values: [Int64?]) -> ParquetWriteColumn {
        ParquetWriteColumn(name: name, type: .int64, values: .int64(values.map { $0 ?? 0 }), valid: values.contains(nil) ? values.map { $0 != nil } : nil)
    }
}

/// Writes a flat Parquet file (format version 1 metadata, v1 data pages): every column OPTIONAL
/// with RLE definition levels, strings dictionary-encoded (RLE_DICTIONARY) while the dictionary
/// stays below `maxDictionaryValues` distinct values (else PLAIN), other types PLAIN; each page
/// compressed with the codec and carrying its CRC-32; row groups of at most `rowGroupRows` rows.
///
/// Bytes go to `sink` in order (the caller decides where: `OutputBatch.stageStreaming` makes the
/// file appear atomically). Memory: one row group's encoded pages per column.
///
/// Source: the Parquet format specification (file layout, parquet.thrift, Encodings.md).
public final class ParquetWriter {
    public struct Options: Sendable {
        public var codec: ParquetWriteCodec = .zstd
        /// Rows per row group (default 1,048,576).
        public var rowGroupRows = 1 << 20
        /// Rows per data page (default 65,536).
        public var pageRows = 1 << 16
        public var zstdLevel: Int32 = 3
        public var maxDictionaryValues = 1 << 16
        public init(codec: ParquetWriteCodec = .zstd, rowGroupRows: Int = 1 << 20) {
            self.codec = codec
            self.rowGroupRows = rowGroupRows
        }
    }

    private let schema: [(name: String, type: ParquetWriteType)]
    private let options: Options
    private let sink: ([UInt8]) throws -> Void
    private var offset = 0
    private var rowGroups: [RowGroupMeta] = []
    private var chunkSizes: [[(Int64, [ParquetEncoding])]] = []
    private var rows = 0
    private var closed = false

    /// Starts a file (writes the leading magic).
    public init(schema: [(name: String, type: ParquetWriteType)], options: Options = Options(), sink: @escaping ([UInt8]) throws -> Void) throws {
        precondition(options.rowGroupRows > 0 && options.pageRows > 0)
        self.schema = schema
        self.options = options
        self.sink = sink
        try emit(Array("PAR1".utf8))
    }

    private func emit(_ b: [UInt8]) throws {
        try sink(b)
        offset += b.count
    }

    /// Appends rows: `columns` in schema order, each with the same number of rows; split into
    /// row groups of at most `rowGroupRows`. O(rows x columns).
    /// - Throws: `Corrupt`-free `ParquetError` for mismatched columns; the sink's errors.
    public func write(_ columns: [ParquetWriteColumn]) throws {
        guard !closed else { throw ParquetError(file: "(writer)", message: "write after close") }
        guard columns.count == schema.count else { throw ParquetError(file: "(writer)", message: "\(columns.count) columns for a schema of \(schema.count)") }
        let n = columns.first?.values.count ?? 0
        for (c, s) in zip(columns, schema) where c.values.count != n || c.type != s.type || c.name != s.name || (c.valid.map { $0.count != n } ?? false) {
            throw ParquetError(file: "(writer)", column: c.name, message: "column does not match the schema or has \(c.values.count) rows, not \(n)")
        }
        var start = 0
        while start < n {
            let end = min(n, start + options.rowGroupRows)
            try writeRowGroup(columns, start..<end)
            start = end
        }
    }

    private func writeRowGroup(_ columns: [ParquetWriteColumn], _ range: Range<Int>) throws {
        var group = RowGroupMeta()
        group.numRows = Int64(range.count)
        var sizes: [(Int64, [ParquetEncoding])] = []
        for c in columns {
            let chunkStart = offset
            var meta = ColumnChunkMeta()
            meta.type = c.type.physical
            meta.path = [c.name]
            meta.codecCode = options.codec.codec.rawValue
            meta.numValues = Int64(range.count)
            var uncompressedTotal: Int64 = 0
            var encodings: [ParquetEncoding] = [.rle]
            // Dictionary for strings.
            var dictIndex: [UInt32]? = nil
            if c.type == .string, case let .bytes(b) = c.values {
                var map: [ArraySlice<UInt8>: UInt32] = [:]
                var dict = ByteArrays()
                var idx: [UInt32] = []
                idx.reserveCapacity(range.count)
                var fits = true
                for i in range where c.valid?[i] ?? true {
                    let v = b[i]
                    if let k = map[v] { idx.append(k); continue }
                    if map.count >= options.maxDictionaryValues { fits = false; break }
                    let k = UInt32(map.count)
                    map[v] = k
                    dict.append(v)
                    idx.append(k)
                }
                if fits {
                    var plain = ByteSink()
                    for i in 0..<dict.count { plain.littleEndian(UInt32(dict[i].count)); plain.append(contentsOf: dict[i]) }
                    meta.dictionaryPageOffset = Int64(offset)
                    uncompressedTotal += try page(dictionary: true, count: dict.count, encoding: .plain, body: plain.bytes)
                    dictIndex = idx
                    encodings += [.plain, .rleDictionary]
                }
            }
            if dictIndex == nil { encodings.append(.plain) }
            meta.dataPageOffset = Int64(offset)
            var consumed = 0   // non-null values written so far (index into dictIndex)
            var p = range.lowerBound
            while p < range.upperBound {
                let q = min(range.upperBound, p + options.pageRows)
                var body = ByteSink()
                // Definition levels (all columns are OPTIONAL): length-prefixed RLE/bit-packed.
                let levels = Self.bitPacked((p..<q).map { (c.valid?[$0] ?? true) ? 1 : 0 }, width: 1)
                body.littleEndian(UInt32(levels.count))
                body.append(contentsOf: levels)
                let present = (p..<q).filter { c.valid?[$0] ?? true }
                if let dictIndex {
                    let ids = Array(dictIndex[consumed..<consumed + present.count])
                    let width = max(1, Encodings.bitWidth(Int(ids.max() ?? 0)))
                    body.append(UInt8(width))
                    body.append(contentsOf: Self.bitPacked(ids, width: width))
                } else {
                    Self.plain(c.values, rows: present, into: &body)
                }
                consumed += present.count
                uncompressedTotal += try page(dictionary: false, count: q - p, encoding: dictIndex == nil ? .plain : .rleDictionary, body: body.bytes)
                p = q
            }
            meta.totalCompressedSize = Int64(offset - chunkStart)
            group.columns.append(meta)
            sizes.append((uncompressedTotal, encodings))
            group.totalByteSize += uncompressedTotal
        }
        rowGroups.append(group)
        chunkSizes.append(sizes)
        rows += range.count
    }

    /// Compresses and writes one page with its header; returns its uncompressed size with header.
    private func page(dictionary: Bool, count: Int, encoding: ParquetEncoding, body: [UInt8]) throws -> Int64 {
        let compressed: [UInt8]
        do { compressed = try Codecs.compress(options.codec.codec, body, level: options.zstdLevel) } catch let e as Corrupt {
            throw ParquetError(file: "(writer)", message: e.message)
        }
        let crc = compressed.withUnsafeBufferPointer { Codecs.crc32($0) }
        let header = PageHeader.encode(dictionary: dictionary, numValues: Int32(count), encoding: encoding,
                                       uncompressed: Int32(body.count), compressed: Int32(compressed.count), crc: Int32(bitPattern: crc))
        try emit(header)
        try emit(compressed)
        return Int64(header.count + body.count)
    }

    /// One bit-packed run of the RLE/bit-packing hybrid holding `values` (padded to a multiple of 8).
    static func bitPacked<T: BinaryInteger>(_ values: [T], width: Int) -> [UInt8] {
        var s = ByteSink()
        let groups = (values.count + 7) / 8
        if groups == 0 { return [] }
        s.uvarint(UInt64(groups) << 1 | 1)
        var out = [UInt8](repeating: 0, count: groups * width)
        var bit = 0
        for v in values {
            var x = UInt64(v)
            var b = bit
            var left = width
            while left > 0 {
                out[b >> 3] |= UInt8(truncatingIfNeeded: x << UInt64(b & 7))
                let took = min(left, 8 - (b & 7))
                x >>= UInt64(took)
                b += took
                left -= took
            }
            bit += width
        }
        s.append(contentsOf: out)
        return s.bytes
    }

    /// PLAIN values of the rows `rows`.
    static func plain(_ values: ParquetValues, rows: [Int], into s: inout ByteSink) {
        switch values {
        case let .boolean(v):
            var out = [UInt8](repeating: 0, count: (rows.count + 7) / 8)
            for (k, i) in rows.enumerated() where v[i] { out[k >> 3] |= 1 << UInt8(k & 7) }
            s.append(contentsOf: out)
        case let .int32(v): for i in rows { s.littleEndian(v[i]) }
        case let .int64(v): for i in rows { s.littleEndian(v[i]) }
        case let .float(v): for i in rows { s.littleEndian(v[i].bitPattern) }
        case let .double(v): for i in rows { s.littleEndian(v[i].bitPattern) }
        case let .bytes(b): for i in rows { s.littleEndian(UInt32(b[i].count)); s.append(contentsOf: b[i]) }
        }
    }

    /// Writes the footer and the closing magic. The file is complete only after this.
    public func close() throws {
        guard !closed else { return }
        closed = true
        var w = ThriftWriter()
        w.structure(nil) { w in
            w.i32(1, 1)
            w.structList(2, [(name: "schema", type: ParquetWriteType?.none)] + schema.map { ($0.name, Optional($0.type)) }) { w, e in
                if let t = e.type {
                    w.i32(1, t.physical.rawValue)
                    w.i32(3, Repetition.optional.rawValue)
                    w.string(4, e.name)
                    if t == .string { w.i32(6, 0) }
                    if t == .date { w.i32(6, 6) }
                    if t == .string || t == .date {
                        w.structure(10) { w in w.structure(t == .string ? 1 : 6) { _ in } }
                    }
                } else {
                    w.string(4, e.name)
                    w.i32(5, Int32(schema.count))
                }
            }
            w.i64(3, Int64(rows))
            w.structList(4, Array(zip(rowGroups, chunkSizes))) { w, g in
                w.structList(1, Array(zip(g.0.columns, g.1))) { w, c in
                    c.0.encode(&w, fileOffset: c.0.dictionaryPageOffset ?? c.0.dataPageOffset, encodings: c.1.1, totalUncompressed: c.1.0)
                }
                w.i64(2, g.0.totalByteSize)
                w.i64(3, g.0.numRows)
            }
            w.string(6, "strata (StrataParquet)")
        }
        let footer = w.sink.bytes
        var tail = ByteSink()
        tail.littleEndian(UInt32(footer.count))
        tail.append(contentsOf: Array("PAR1".utf8))
        try emit(footer)
        try emit(tail.bytes)
    }
}
