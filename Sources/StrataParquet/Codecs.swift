import CSnappy
import CZstd
import CZlib
import CLZ4

/// Page compression through the Debian C libraries: SNAPPY (libsnappy), GZIP (zlib, gzip
/// framing), ZSTD (libzstd), LZ4_RAW (liblz4's block format). Every decompression is told the
/// page's uncompressed size from its header and fails (never overruns) when the data disagree.
enum Codecs {
    /// Decompresses `src` to exactly `size` bytes. Throws `Corrupt` for an unsupported codec or
    /// data that do not decompress to `size` bytes. O(size).
    static func decompress(_ codec: ParquetCodec, _ src: UnsafeBufferPointer<UInt8>, size: Int) throws -> [UInt8] {
        guard size >= 0 else { throw Corrupt("negative uncompressed page size \(size)") }
        if codec == .uncompressed {
            guard src.count == size else { throw Corrupt("page holds \(src.count) bytes but its header says \(size)") }
            return Array(src)
        }
        var out = [UInt8](repeating: 0, count: size)
        if src.count == 0 && size == 0 { return out }
        let got: Int = try out.withUnsafeMutableBufferPointer { dst -> Int in
            let d = dst.baseAddress.map { UnsafeMutableRawPointer($0) } ?? UnsafeMutableRawPointer(bitPattern: 1)!
            let s = UnsafeRawPointer(src.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            switch codec {
            case .snappy:
                var n = 0
                guard snappy_uncompressed_length(s.assumingMemoryBound(to: CChar.self), src.count, &n) == SNAPPY_OK, n == size else {
                    throw Corrupt("SNAPPY page does not decompress to the \(size) bytes its header says")
                }
                guard snappy_uncompress(s.assumingMemoryBound(to: CChar.self), src.count, d.assumingMemoryBound(to: CChar.self), &n) == SNAPPY_OK else {
                    throw Corrupt("SNAPPY page is corrupt")
                }
                return n
            case .zstd:
                let n = ZSTD_decompress(d, size, s, src.count)
                if ZSTD_isError(n) != 0 { throw Corrupt("ZSTD page is corrupt: \(String(cString: ZSTD_getErrorName(n)))") }
                return n
            case .lz4Raw:
                guard src.count <= Int(Int32.max), size <= Int(Int32.max) else { throw Corrupt("LZ4_RAW page is too large") }
                let n = LZ4_decompress_safe(s.assumingMemoryBound(to: CChar.self), d.assumingMemoryBound(to: CChar.self), Int32(src.count), Int32(size))
                if n < 0 { throw Corrupt("LZ4_RAW page is corrupt") }
                return Int(n)
            case .gzip:
                return try inflateGzip(src, into: dst)
            case .lzo, .brotli, .lz4, .uncompressed:
                throw Corrupt("compression codec \(codec) is not supported (supported: UNCOMPRESSED, SNAPPY, GZIP, ZSTD, LZ4_RAW)")
            }
        }
        guard got == size else { throw Corrupt("\(codec) page decompresses to \(got) bytes but its header says \(size)") }
        return out
    }

    /// gzip (or zlib) stream, possibly several members, into `dst`; returns the bytes written.
    private static func inflateGzip(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        var z = z_stream()
        guard inflateInit2_(&z, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw Corrupt("zlib could not start") }
        defer { inflateEnd(&z) }
        z.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
        z.avail_in = UInt32(src.count)
        z.next_out = dst.baseAddress
        z.avail_out = UInt32(dst.count)
        while true {
            let rc = inflate(&z, Z_FINISH)
            if rc == Z_STREAM_END {
                if z.avail_in > 0 && z.avail_out > 0 { guard inflateReset(&z) == Z_OK else { throw Corrupt("GZIP page is corrupt") }; continue }
                break
            }
            if rc == Z_BUF_ERROR && z.avail_out == 0 { throw Corrupt("GZIP page decompresses to more bytes than its header says") }
            throw Corrupt("GZIP page is corrupt (zlib error \(rc))")
        }
        return dst.count - Int(z.avail_out)
    }

    /// Compresses `src` with `codec` (UNCOMPRESSED, SNAPPY, ZSTD at `level`, GZIP, LZ4_RAW).
    static func compress(_ codec: ParquetCodec, _ src: [UInt8], level: Int32 = 3) throws -> [UInt8] {
        if codec == .uncompressed || src.isEmpty && codec != .gzip { return src }
        return try src.withUnsafeBufferPointer { s -> [UInt8] in
            let sp = UnsafeRawPointer(s.baseAddress ?? UnsafePointer(bitPattern: 1)!)
            switch codec {
            case .snappy:
                var n = snappy_max_compressed_length(s.count)
                var out = [UInt8](repeating: 0, count: n)
                let rc = out.withUnsafeMutableBytes { snappy_compress(sp.assumingMemoryBound(to: CChar.self), s.count, $0.baseAddress!.assumingMemoryBound(to: CChar.self), &n) }
                guard rc == SNAPPY_OK else { throw Corrupt("SNAPPY compression failed") }
                out.removeLast(out.count - n)
                return out
            case .zstd:
                var out = [UInt8](repeating: 0, count: ZSTD_compressBound(s.count))
                let n = out.withUnsafeMutableBytes { ZSTD_compress($0.baseAddress!, $0.count, sp, s.count, level) }
                guard ZSTD_isError(n) == 0 else { throw Corrupt("ZSTD compression failed") }
                out.removeLast(out.count - n)
                return out
            case .lz4Raw:
                var out = [UInt8](repeating: 0, count: Int(LZ4_compressBound(Int32(s.count))))
                let n = out.withUnsafeMutableBytes { LZ4_compress_default(sp.assumingMemoryBound(to: CChar.self), $0.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(s.count), Int32($0.count)) }
                guard n > 0 else { throw Corrupt("LZ4_RAW compression failed") }
                out.removeLast(out.count - Int(n))
                return out
            case .gzip:
                var z = z_stream()
                guard deflateInit2_(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                    throw Corrupt("zlib could not start")
                }
                defer { deflateEnd(&z) }
                var out = [UInt8](repeating: 0, count: Int(deflateBound(&z, UInt(s.count))) + 32)
                let n: Int = out.withUnsafeMutableBufferPointer { o in
                    z.next_in = UnsafeMutablePointer(mutating: s.baseAddress)
                    z.avail_in = UInt32(s.count)
                    z.next_out = o.baseAddress
                    z.avail_out = UInt32(o.count)
                    _ = deflate(&z, Z_FINISH)
                    return o.count - Int(z.avail_out)
                }
                out.removeLast(out.count - n)
                return out
            default:
                throw Corrupt("cannot write with codec \(codec)")
            }
        }
    }

    /// CRC-32 (the page checksum of the Parquet spec: zlib's CRC-32 of the page's bytes after the header).
    static func crc32(_ b: UnsafeBufferPointer<UInt8>) -> UInt32 {
        UInt32(CZlib.crc32(0, b.baseAddress, UInt32(b.count)))
    }
}
