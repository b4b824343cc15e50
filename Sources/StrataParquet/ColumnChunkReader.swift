/// Reads one column chunk (the column's pages in one row group) into dense values and a validity
/// mask: dictionary page, then data pages v1 (levels inside the compressed data) or v2 (levels
/// uncompressed in front). Checks each page's CRC-32 when the writer stored one, its sizes
/// against the chunk, and the value counts against the row group.
///
/// Source: the Parquet format specification (README "Data Pages", "Nulls", "Checksumming";
/// parquet.thrift `PageHeader`, `DataPageHeaderV2`). Flat columns only: max repetition level 0,
/// max definition level 0 (required) or 1 (optional). Memory: the chunk's compressed bytes, one
/// decompressed page and the decoded values.
struct ColumnChunkReader {
    let type: PhysicalType
    let typeLength: Int
    let optional: Bool
    let codec: ParquetCodec

    /// Decodes `chunk` (the chunk's bytes, starting with its first page) holding `rows` rows.
    func read(_ chunk: UnsafeBufferPointer<UInt8>, rows: Int) throws -> (ParquetValues, [Bool]?) {
        var c = ByteCursor(chunk)
        let decoder = ValueDecoder(type: type, typeLength: typeLength)
        var dictionary: ParquetValues?
        var values = ParquetValues.empty(type)
        var valid: [Bool]? = optional ? [] : nil
        var done = 0
        var page = 0
        while done < rows {
            guard !c.atEnd else { throw Corrupt("the column chunk ends after \(done) of its \(rows) rows") }
            var r = ThriftReader(c)
            let h: PageHeader
            do { h = try PageHeader.decode(&r) } catch let e as Corrupt { throw Corrupt("page \(page) header: \(e.message)") }
            c = r.cursor
            guard h.compressedSize >= 0, Int(h.compressedSize) <= c.remaining else {
                throw Corrupt("page \(page) says it holds \(h.compressedSize) bytes but the column chunk has \(c.remaining) left")
            }
            guard h.uncompressedSize >= 0 else { throw Corrupt("page \(page) has a negative uncompressed size") }
            let body = try c.take(Int(h.compressedSize))
            if let crc = h.crc, Codecs.crc32(body) != UInt32(bitPattern: crc) {
                throw Corrupt("page \(page) fails its CRC-32 check (the file is corrupt)")
            }
            guard let encoding = ParquetEncoding(rawValue: h.encoding) else { throw Corrupt("page \(page) has an unknown encoding \(h.encoding)") }
            switch PageType(rawValue: h.type) {
            case .dictionaryPage:
                let bytes = try Codecs.decompress(codec, body, size: Int(h.uncompressedSize))
                guard h.numValues >= 0 else { throw Corrupt("dictionary page has a negative value count") }
                guard encoding == .plain || encoding == .plainDictionary else { throw Corrupt("dictionary page encoding \(encoding) is not PLAIN") }
                dictionary = try bytes.withUnsafeBufferPointer { b in
                    var dc = ByteCursor(b)
                    return try decoder.plain(&dc, count: Int(h.numValues))
                }
            case .dataPage:
                let n = Int(h.numValues)
                guard n >= 0, n <= rows - done else { throw Corrupt("page \(page) holds \(h.numValues) values, more than the \(rows - done) rows left") }
                let bytes = try Codecs.decompress(codec, body, size: Int(h.uncompressedSize))
                try bytes.withUnsafeBufferPointer { b in
                    var pc = ByteCursor(b)
                    var levels: [Bool]? = nil
                    if optional {
                        let len = Int(try pc.int32())
                        guard len >= 0 else { throw Corrupt("page \(page) has a negative definition-level length") }
                        var lc = ByteCursor(try pc.take(len))
                        levels = try definitionLevels(&lc, count: n)
                    }
                    let present = levels.map { $0.reduce(0) { $0 + ($1 ? 1 : 0) } } ?? n
                    let v = try decoder.decode(&pc, encoding: encoding, count: present, dictionary: dictionary)
                    try values.append(v, valid: levels.map { $0[...] })
                    if let levels { valid!.append(contentsOf: levels) }
                }
                done += n
            case .dataPageV2:
                let n = Int(h.numValues)
                guard n >= 0, n <= rows - done else { throw Corrupt("page \(page) holds \(h.numValues) values, more than the \(rows - done) rows left") }
                let rl = Int(h.repetitionLevelsLength), dl = Int(h.definitionLevelsLength)
                guard rl >= 0, dl >= 0, rl + dl <= body.count, rl + dl <= Int(h.uncompressedSize) else {
                    throw Corrupt("page \(page) level lengths (\(rl) + \(dl) bytes) exceed the page")
                }
                guard rl == 0 else { throw Corrupt("page \(page) has repetition levels (a repeated column)") }
                var levels: [Bool]? = nil
                if optional {
                    var lc = ByteCursor(UnsafeBufferPointer(rebasing: body[rl..<rl + dl]))
                    levels = try definitionLevels(&lc, count: n)
                }
                let rest = UnsafeBufferPointer(rebasing: body[(rl + dl)...])
                let size = Int(h.uncompressedSize) - rl - dl
                let bytes = h.isCompressed ? try Codecs.decompress(codec, rest, size: size) : Array(rest)
                try bytes.withUnsafeBufferPointer { b in
                    var pc = ByteCursor(b)
                    let present = levels.map { $0.reduce(0) { $0 + ($1 ? 1 : 0) } } ?? n
                    let v = try decoder.decode(&pc, encoding: encoding, count: present, dictionary: dictionary)
                    try values.append(v, valid: levels.map { $0[...] })
                    if let levels { valid!.append(contentsOf: levels) }
                }
                done += n
            case .indexPage:
                break
            case nil:
                throw Corrupt("page \(page) has an unknown page type \(h.type)")
            }
            page += 1
        }
        return (values, valid)
    }

    /// Definition levels of a flat optional column (bit width 1): true where a value is present.
    private func definitionLevels(_ c: inout ByteCursor, count n: Int) throws -> [Bool] {
        let raw = try Encodings.rleHybridArray(&c, width: 1, count: n)
        return raw.map { $0 == 1 }
    }
}
