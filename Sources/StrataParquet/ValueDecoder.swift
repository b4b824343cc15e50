/// Decodes the values section of one page (non-null values only) for every supported encoding.
///
/// Source: the Parquet format specification, Encodings.md: PLAIN, PLAIN_DICTIONARY /
/// RLE_DICTIONARY (a bit-width byte and RLE/bit-packed indices into the dictionary page), RLE
/// (booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and
/// BYTE_STREAM_SPLIT. O(page bytes); every read is bounds-checked.
struct ValueDecoder {
    let type: PhysicalType
    /// FIXED_LEN_BYTE_ARRAY width in bytes.
    let typeLength: Int

    /// `n` values from `c` with `encoding`; `dictionary` for the dictionary encodings.
    func decode(_ c: inout ByteCursor, encoding: ParquetEncoding, count n: Int, dictionary: ParquetValues?) throws -> ParquetValues {
        switch encoding {
        case .plain:
            return try plain(&c, count: n)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw Corrupt("a dictionary-encoded page has no dictionary page before it") }
            if n == 0 { return ParquetValues.empty(type) }
            let width = Int(try c.byte())
            return try dictionary.gather(try Encodings.rleHybridArray(&c, width: width, count: n))
        case .rle:
            guard type == .boolean else { throw Corrupt("RLE encoding is only valid for booleans here") }
            let len = Int(try c.int32())
            var sub = ByteCursor(try c.take(len))
            var out: [Bool] = []
            out.reserveCapacity(min(n, 1 << 20))
            try Encodings.rleHybrid(&sub, width: 1, count: n) { out.append($0 != 0) }
            return .boolean(out)
        case .deltaBinaryPacked:
            let v = try Encodings.deltaBinaryPacked(&c, limit: n)
            guard v.count == n else { throw Corrupt("DELTA_BINARY_PACKED holds \(v.count) values, the page \(n)") }
            switch type {
            case .int32: return .int32(v.map { Int32(truncatingIfNeeded: $0) })
            case .int64: return .int64(v)
            default: throw Corrupt("DELTA_BINARY_PACKED is not valid for \(type)")
            }
        case .deltaLengthByteArray:
            guard type == .byteArray else { throw Corrupt("DELTA_LENGTH_BYTE_ARRAY is not valid for \(type)") }
            return .bytes(try deltaLength(&c, count: n))
        case .deltaByteArray:
            guard type == .byteArray || type == .fixedLenByteArray else { throw Corrupt("DELTA_BYTE_ARRAY is not valid for \(type)") }
            let prefixes = try Encodings.deltaBinaryPacked(&c, limit: n)
            guard prefixes.count == n else { throw Corrupt("DELTA_BYTE_ARRAY holds \(prefixes.count) prefixes, the page \(n) values") }
            let suffixes = try deltaLength(&c, count: n)
            var out = ByteArrays()
            var previous: [UInt8] = []
            for i in 0..<n {
                let p = prefixes[i]
                guard p >= 0, p <= previous.count else { throw Corrupt("DELTA_BYTE_ARRAY prefix \(p) is longer than the previous value") }
                var value = Array(previous[0..<Int(p)])
                value.append(contentsOf: suffixes[i])
                out.append(value)
                previous = value
            }
            return .bytes(out)
        case .byteStreamSplit:
            let width: Int
            switch type {
            case .float, .int32: width = 4
            case .double, .int64: width = 8
            case .fixedLenByteArray: width = typeLength
            default: throw Corrupt("BYTE_STREAM_SPLIT is not valid for \(type)")
            }
            let (total, overflow) = n.multipliedReportingOverflow(by: width)
            guard !overflow else { throw Corrupt("page value count \(n) is too large") }
            let b = try c.take(total)
            var joined = [UInt8](repeating: 0, count: total)
            for k in 0..<width { for i in 0..<n { joined[i * width + k] = b[k * n + i] } }
            return try joined.withUnsafeBufferPointer { j in var jc = ByteCursor(j); return try plain(&jc, count: n) }
        case .bitPacked:
            throw Corrupt("the deprecated BIT_PACKED encoding is not supported for values")
        }
    }

    /// PLAIN: little-endian fixed width; booleans bit-packed; BYTE_ARRAY length-prefixed;
    /// FIXED_LEN_BYTE_ARRAY `typeLength` bytes; INT96 12 bytes (nanoseconds of day, Julian day),
    /// converted to nanoseconds since 1970-01-01.
    func plain(_ c: inout ByteCursor, count n: Int) throws -> ParquetValues {
        func fixed<T>(_ size: Int, _ make: (UnsafeRawBufferPointer) -> [T]) throws -> [T] {
            let (total, overflow) = n.multipliedReportingOverflow(by: size)
            guard !overflow else { throw Corrupt("page value count \(n) is too large") }
            return make(UnsafeRawBufferPointer(try c.take(total)))
        }
        switch type {
        case .boolean:
            let b = try c.take((n + 7) / 8)
            var out: [Bool] = []
            out.reserveCapacity(min(n, 1 << 20))
            for i in 0..<n { out.append(b[i >> 3] >> UInt8(i & 7) & 1 == 1) }
            return .boolean(out)
        case .int32:
            return .int32(try fixed(4) { r in (0..<n).map { Int32(littleEndian: r.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) } })
        case .int64:
            return .int64(try fixed(8) { r in (0..<n).map { Int64(littleEndian: r.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) } })
        case .float:
            return .float(try fixed(4) { r in (0..<n).map { Float(bitPattern: UInt32(littleEndian: r.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } })
        case .double:
            return .double(try fixed(8) { r in (0..<n).map { Double(bitPattern: UInt64(littleEndian: r.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) } })
        case .int96:
            return .int64(try fixed(12) { r in
                (0..<n).map { i in
                    let nanos = Int64(littleEndian: r.loadUnaligned(fromByteOffset: i * 12, as: Int64.self))
                    let julian = Int64(Int32(littleEndian: r.loadUnaligned(fromByteOffset: i * 12 + 8, as: Int32.self)))
                    return (julian - 2_440_588) &* 86_400_000_000_000 &+ nanos
                }
            })
        case .byteArray:
            var out = ByteArrays()
            out.offsets.reserveCapacity(min(n, 1 << 20) + 1)
            for _ in 0..<n {
                let len = Int(UInt32(truncatingIfNeeded: try c.int32()))
                out.append(try c.take(len))
            }
            return .bytes(out)
        case .fixedLenByteArray:
            guard typeLength > 0 else { throw Corrupt("FIXED_LEN_BYTE_ARRAY column has no type length") }
            let (total, overflow) = n.multipliedReportingOverflow(by: typeLength)
            guard !overflow else { throw Corrupt("page value count \(n) is too large") }
            let b = try c.take(total)
            var out = ByteArrays()
            out.data = Array(b)
            out.offsets = (0...n).map { $0 * typeLength }
            return .bytes(out)
        }
    }

    /// DELTA_LENGTH_BYTE_ARRAY: delta-packed lengths, then the bytes back to back.
    private func deltaLength(_ c: inout ByteCursor, count n: Int) throws -> ByteArrays {
        let lengths = try Encodings.deltaBinaryPacked(&c, limit: n)
        guard lengths.count == n else { throw Corrupt("DELTA_LENGTH_BYTE_ARRAY holds \(lengths.count) lengths, the page \(n) values") }
        var out = ByteArrays()
        out.offsets.reserveCapacity(min(n, 1 << 20) + 1)
        for len in lengths {
            guard len >= 0, len <= Int64(c.remaining) else { throw Corrupt("a byte-array length \(len) runs past the end of the page") }
            out.append(try c.take(Int(len)))
        }
        return out
    }
}
