/// A bounds-checked reader over bytes: every read checks the remaining length first and throws
/// `Corrupt` instead of reading past the end (a truncated or corrupt file is an error, never a
/// crash). Little-endian fixed-width reads, ULEB128 varints and zigzag varints (Thrift compact
/// protocol, Parquet's RLE and delta encodings).
struct ByteCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }
    var atEnd: Bool { position >= bytes.count }

    @inline(__always)
    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw Corrupt("unexpected end of data") }
        defer { position += 1 }
        return bytes[position]
    }

    /// `n` bytes as a slice of the underlying buffer (no copy).
    mutating func take(_ n: Int) throws -> UnsafeBufferPointer<UInt8> {
        guard n >= 0, n <= remaining else { throw Corrupt("a length of \(n) bytes runs past the end of the data (\(remaining) left)") }
        defer { position += n }
        return UnsafeBufferPointer(rebasing: bytes[position..<position + n])
    }

    mutating func skip(_ n: Int) throws { _ = try take(n) }

    /// Unsigned LEB128 (at most 10 bytes).
    @inline(__always)
    mutating func uvarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw Corrupt("a varint is longer than 10 bytes") }
        }
    }

    /// Zigzag-encoded signed varint.
    mutating func zigzag() throws -> Int64 {
        let u = try uvarint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// A little-endian integer of `width` bytes (1...8).
    mutating func littleEndian(_ width: Int) throws -> UInt64 {
        let b = try take(width)
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(b[i]) << (8 * UInt64(i)) }
        return v
    }

    mutating func int32() throws -> Int32 { Int32(truncatingIfNeeded: try littleEndian(4)) }
}

/// A growable byte buffer with little-endian and varint writes (the writer's side of `ByteCursor`).
struct ByteSink {
    var bytes: [UInt8] = []

    mutating func append(_ b: UInt8) { bytes.append(b) }
    mutating func append<S: Sequence>(contentsOf s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }

    mutating func uvarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ v: Int64) { uvarint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    mutating func littleEndian<T: FixedWidthInteger>(_ v: T) {
        var x = v.littleEndian
        withUnsafeBytes(of: &x) { bytes.append(contentsOf: $0) }
    }
}
