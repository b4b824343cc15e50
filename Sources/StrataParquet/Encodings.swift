/// Parquet's integer encodings, decoded from a bounds-checked cursor (every overrun is `Corrupt`).
///
/// Source: the Parquet format specification, Encodings.md
/// (https://github.com/apache/parquet-format/blob/master/Encodings.md): the RLE/bit-packing
/// hybrid (levels, dictionary indices, booleans), DELTA_BINARY_PACKED (and through it
/// DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY's lengths).
enum Encodings {
    /// Number of bits needed for `v` (0 for 0).
    static func bitWidth(_ v: Int) -> Int { v == 0 ? 0 : Int.bitWidth - v.leadingZeroBitCount }

    /// `count` values of `width` bits (0...64), packed least-significant bit first, from `bytes`
    /// starting at bit 0, handed to `put`. The caller guarantees ceil(count*width/8) bytes.
    @inline(__always)
    static func unpack(_ bytes: UnsafeBufferPointer<UInt8>, width: Int, count: Int, _ put: (UInt64) throws -> Void) rethrows {
        if width == 0 { for _ in 0..<count { try put(0) }; return }
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        var bit = 0
        for _ in 0..<count {
            var i = bit >> 3
            var v = UInt64(bytes[i]) >> UInt64(bit & 7)
            var got = 8 - (bit & 7)
            i += 1
            while got < width { v |= UInt64(bytes[i]) << UInt64(got); got += 8; i += 1 }
            try put(v & mask)
            bit += width
        }
    }

    /// The RLE/bit-packing hybrid: exactly `count` values of `width` bits (0...32) to `put`.
    /// Throws `Corrupt` when the runs end before `count` values or a value is wider than `width`.
    static func rleHybrid(_ c: inout ByteCursor, width: Int, count: Int, _ put: (UInt32) throws -> Void) throws {
        guard width >= 0 && width <= 32 else { throw Corrupt("RLE bit width \(width) is out of range") }
        var left = count
        let valueBytes = (width + 7) / 8
        while left > 0 {
            let header = try c.uvarint()
            if header & 1 == 1 {
                let groups = Int(clamping: header >> 1)
                guard groups > 0 else { throw Corrupt("an empty bit-packed run") }
                let values = groups.multipliedReportingOverflow(by: 8)
                guard !values.overflow else { throw Corrupt("a bit-packed run is too long") }
                let take = min(values.partialValue, left)
                let need = (take * width + 7) / 8
                let full = groups > c.remaining ? c.remaining : min(groups * width, c.remaining)   // the run's bytes (the last run may be cut short)
                guard need <= c.remaining else { throw Corrupt("a bit-packed run runs past the end of the data") }
                let b = try c.take(max(need, full))
                try unpack(b, width: width, count: take) { v in try put(UInt32(truncatingIfNeeded: v)) }
                left -= take
            } else {
                let run = Int(clamping: header >> 1)
                let v = UInt32(truncatingIfNeeded: valueBytes == 0 ? 0 : try c.littleEndian(valueBytes))
                if width < 32 && v >> UInt32(width) != 0 { throw Corrupt("an RLE value is wider than \(width) bits") }
                guard run > 0 else { throw Corrupt("an empty RLE run") }
                let take = min(run, left)
                for _ in 0..<take { try put(v) }
                left -= take
            }
        }
    }

    /// The RLE/bit-packing hybrid into an array: exactly `count` values of `width` bits (0...32).
    /// The fast path of `rleHybrid` (dictionary indices, definition levels): runs are filled and
    /// unpacked straight into the array. Throws `Corrupt` as `rleHybrid`.
    static func rleHybridArray(_ c: inout ByteCursor, width: Int, count: Int) throws -> [UInt32] {
        guard width >= 0 && width <= 32 else { throw Corrupt("RLE bit width \(width) is out of range") }
        guard count >= 0 else { throw Corrupt("negative value count") }
        // Every run takes at least one byte and yields at most 8 x 2^31 values; a count beyond
        // what the bytes can hold is corrupt before anything is allocated.
        let valueBytes = (width + 7) / 8
        return try [UInt32](unsafeUninitializedCapacity: count) { out, initialized in
            var n = 0
            defer { initialized = n }
            while n < count {
                let header = try c.uvarint()
                if header & 1 == 1 {
                    let groups = Int(clamping: header >> 1)
                    guard groups > 0, width == 0 || groups <= c.remaining else { throw Corrupt("a bit-packed run is empty or runs past the end of the data") }
                    let take = groups > (count - n) / 8 ? count - n : groups * 8
                    let need = (take * width + 7) / 8
                    guard need <= c.remaining else { throw Corrupt("a bit-packed run runs past the end of the data") }
                    // The run's bytes (the last run of a page may be cut short).
                    let b = try c.take(max(need, min(groups * width, c.remaining)))
                    if width == 0 {
                        (out.baseAddress! + n).initialize(repeating: 0, count: take)
                    } else {
                        let mask: UInt64 = (1 << UInt64(width)) - 1
                        var bit = 0
                        for k in 0..<take {
                            var i = bit >> 3
                            var v = UInt64(b[i]) >> UInt64(bit & 7)
                            var got = 8 - (bit & 7)
                            i += 1
                            while got < width { v |= UInt64(b[i]) << UInt64(got); got += 8; i += 1 }
                            (out.baseAddress! + n + k).initialize(to: UInt32(truncatingIfNeeded: v & mask))
                            bit += width
                        }
                    }
                    n += take
                } else {
                    let run = Int(clamping: header >> 1)
                    guard run > 0 else { throw Corrupt("an empty RLE run") }
                    let v = UInt32(truncatingIfNeeded: valueBytes == 0 ? 0 : try c.littleEndian(valueBytes))
                    if width < 32 && v >> UInt32(width) != 0 { throw Corrupt("an RLE value is wider than \(width) bits") }
                    let take = min(run, count - n)
                    (out.baseAddress! + n).initialize(repeating: v, count: take)
                    n += take
                }
            }
        }
    }

    /// DELTA_BINARY_PACKED: all values of the block stream (the header's total count); leaves the
    /// cursor after the last miniblock holding a value (where DELTA_LENGTH_BYTE_ARRAY's bytes start).
    static func deltaBinaryPacked(_ c: inout ByteCursor, limit: Int) throws -> [Int64] {
        let blockSize = Int(clamping: try c.uvarint())
        let miniblocks = Int(clamping: try c.uvarint())
        let total = Int(clamping: try c.uvarint())
        var last = try c.zigzag()
        guard blockSize > 0, blockSize <= 1 << 20, blockSize % 128 == 0, miniblocks > 0, blockSize % miniblocks == 0, (blockSize / miniblocks) % 32 == 0 else {
            throw Corrupt("DELTA_BINARY_PACKED header is invalid (block size \(blockSize), \(miniblocks) miniblocks)")
        }
        guard total <= limit else { throw Corrupt("DELTA_BINARY_PACKED holds \(total) values, more than the page's \(limit)") }
        var out: [Int64] = []
        out.reserveCapacity(min(total, 1 << 20))
        if total == 0 { return out }
        out.append(last)
        let perMini = blockSize / miniblocks
        while out.count < total {
            let minDelta = try c.zigzag()
            let widths = try c.take(miniblocks)
            for m in 0..<miniblocks where out.count < total {
                let w = Int(widths[m])
                guard w <= 64 else { throw Corrupt("DELTA_BINARY_PACKED bit width \(w) is out of range") }
                let b = try c.take(perMini * w / 8)
                let n = min(perMini, total - out.count)
                unpack(b, width: w, count: n) { d in
                    last = last &+ minDelta &+ Int64(bitPattern: d)
                    out.append(last)
                }
            }
        }
        return out
    }
}
