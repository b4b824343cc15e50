import StrataCore
import Foundation

/// One field of a CSV record: bytes [start, end) of the file; `quoted` fields had their
/// surrounding quotes removed from the span and may contain doubled quotes ("").
package struct FieldSpan {
    package var start: Int
    package var end: Int
    package var quoted: Bool

    package init(start: Int, end: Int, quoted: Bool) {
        self.start = start
        self.end = end
        self.quoted = quoted
    }
}

/// A byte-level CSV tokenizer (RFC 4180 plus what real exports contain): quoted fields with
/// embedded delimiters, newlines and doubled quotes; LF or CRLF line ends; blank lines skipped.
///
/// Hand-written: the Swift CSV packages parse through `String` and were 10-40x slower here.
package struct CSVTokenizer {
    package let bytes: UnsafeBufferPointer<UInt8>
    package let delimiter: UInt8
    package let file: String
    private(set) var pos = 0
    /// 1-based physical line where the next record starts.
    private(set) var line = 1

    /// - Parameter firstLine: the 1-based line of the file where `bytes` start (a record handed
    ///   over by a streaming reader), for messages.
    /// - Parameter skipBOM: skip a UTF-8 byte-order mark at the start (a whole file); false for
    ///   one record cut from a stream (the stream's reader skipped the file's mark).
    package init(bytes: UnsafeBufferPointer<UInt8>, delimiter: UInt8 = UInt8(ascii: ","), file: String, firstLine: Int = 1, skipBOM: Bool = true) {
        self.bytes = bytes
        self.delimiter = delimiter
        self.file = file
        self.line = firstLine
        // Skip a UTF-8 byte-order mark.
        if skipBOM, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { pos = 3 }
    }

    /// Reads the next non-blank record into `fields`; returns its 1-based line, nil at the end.
    package mutating func next(into fields: inout [FieldSpan]) throws -> Int? {
        fields.removeAll(keepingCapacity: true)
        let b = bytes
        let n = b.count
        // Skip blank lines.
        while pos < n {
            if b[pos] == 0x0A { pos += 1; line += 1; continue }
            if b[pos] == 0x0D, pos + 1 < n, b[pos + 1] == 0x0A { pos += 2; line += 1; continue }
            if b[pos] == 0x0D, pos + 1 == n { pos += 1; continue }
            break
        }
        if pos >= n { return nil }
        let recordLine = line
        while true {
            if pos < n, b[pos] == 0x22 {
                // Quoted field.
                let start = pos + 1
                var i = start
                while true {
                    guard i < n else {
                        throw StrataError.badData(file: file, line: recordLine, column: nil,
                                                  message: "unterminated quoted field (a '\"' opened in field \(fields.count + 1) is never closed)")
                    }
                    if b[i] == 0x22 {
                        if i + 1 < n, b[i + 1] == 0x22 { i += 2; continue }
                        break
                    }
                    if b[i] == 0x0A { line += 1 }
                    i += 1
                }
                fields.append(FieldSpan(start: start, end: i, quoted: true))
                pos = i + 1
                if pos < n, b[pos] == delimiter { pos += 1; continue }
                if pos >= n { break }
                if b[pos] == 0x0A { pos += 1; line += 1; break }
                if b[pos] == 0x0D, pos + 1 < n, b[pos + 1] == 0x0A { pos += 2; line += 1; break }
                if b[pos] == 0x0D, pos + 1 == n { pos += 1; break }
                throw StrataError.badData(file: file, line: recordLine, column: nil,
                                          message: "unexpected character after the closing quote of field \(fields.count)")
            } else {
                let start = pos
                var i = pos
                while i < n {
                    let c = b[i]
                    if c == delimiter || c == 0x0A || c == 0x0D { break }
                    i += 1
                }
                fields.append(FieldSpan(start: start, end: i, quoted: false))
                pos = i
                if pos >= n { break }
                if b[pos] == delimiter { pos += 1; if pos >= n { fields.append(FieldSpan(start: n, end: n, quoted: false)); break }; continue }
                if b[pos] == 0x0A { pos += 1; line += 1; break }
                if b[pos] == 0x0D {
                    if pos + 1 < n, b[pos + 1] == 0x0A { pos += 2; line += 1; break }
                    if pos + 1 == n { pos += 1; break }
                    throw StrataError.badData(file: file, line: recordLine, column: nil, message: "bare carriage return inside a field")
                }
            }
        }
        return recordLine
    }

    /// The text of a field, with doubled quotes unescaped.
    package func string(_ f: FieldSpan) -> String {
        if f.start == f.end { return "" }
        let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[f.start..<f.end]), as: UTF8.self)
        return f.quoted && s.contains("\"\"") ? s.replacingOccurrences(of: "\"\"", with: "\"") : s
    }

    /// The bytes of an id field as text, losslessly (`CustomerKey.lossless`: invalid UTF-8 as
    /// `\xNN`, so distinct ids never merge), with doubled quotes unescaped.
    package func idString(_ f: FieldSpan) -> String {
        if f.start == f.end { return "" }
        let raw = UnsafeBufferPointer(rebasing: bytes[f.start..<f.end])
        guard f.quoted, raw.contains(0x22) else { return CustomerKey.lossless(raw) }
        var unescaped: [UInt8] = []
        unescaped.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            unescaped.append(raw[i])
            i += raw[i] == 0x22 && i + 1 < raw.count && raw[i + 1] == 0x22 ? 2 : 1
        }
        return unescaped.withUnsafeBufferPointer { CustomerKey.lossless($0) }
    }

    package func number(_ f: FieldSpan) -> ParsedNumber {
        NumberParser.parse(bytes.baseAddress! + f.start, f.end - f.start)
    }
}

/// Size of a file in bytes.
package func fileSizeOf(_ path: String) throws -> Int {
    var st = stat()
    guard stat(path, &st) == 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
    return Int(st.st_size)
}

/// Reads bytes [offset, offset + buffer.count) of a file into `buffer` with POSIX pread(2).
package func readFileRange(_ path: String, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var done = 0
    while done < buffer.count {
        let r = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
        if r < 0 { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        if r == 0 { throw StrataError.badData(file: path, line: nil, column: nil, message: "file ended early") }
        done += r
    }
}

/// Reads a whole file (or its first `limit` bytes) into memory with POSIX read(2).
package func readFileBytes(_ path: String, limit: Int = Int.max) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
    if (st.st_mode & S_IFMT) == S_IFDIR { throw StrataError.unreadable(path: path, reason: "it is a directory") }
    let size = min(Int(st.st_size), limit)
    var out = [UInt8](repeating: 0, count: size)
    var off = 0
    try out.withUnsafeMutableBytes { buf in
        while off < size {
            let r = read(fd, buf.baseAddress! + off, size - off)
            if r < 0 { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            if r == 0 { break }
            off += r
        }
    }
    if off < size { out.removeLast(size - off) }
    return out
}
