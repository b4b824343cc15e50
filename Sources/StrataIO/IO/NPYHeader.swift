import StrataCore

/// The header of a NumPy `.npy` file (format versions 1-3), parsed as the Python dict literal
/// it is and validated: exactly the keys 'descr', 'fortran_order' and 'shape'; a supported
/// dtype; `True` or `False`; a shape of one or two non-negative integers whose byte size fits
/// in the file. Nothing in it is trusted: every fault is a one-line `badData` naming the file.
struct NPYHeader: Equatable {
    /// The element types Strata reads (little-endian).
    enum DType: String {
        case float32 = "<f4", float64 = "<f8", int32 = "<i4", int64 = "<i8"
        var width: Int { self == .float32 || self == .int32 ? 4 : 8 }
    }

    var dtype: DType
    var rows: Int
    var cols: Int
    /// Byte offset of the first element.
    var dataStart: Int
    /// rows * cols * width.
    var dataBytes: Int

    /// The largest header this reader accepts (numpy writes 128 bytes; its own limit is 10000).
    static let maxHeaderBytes = 65_536 - 12

    /// Parses the start of a file (`head`: at least the magic, the length field and the header,
    /// up to `maxHeaderBytes + 12` bytes) and checks the data size against `fileSize`.
    /// - Throws: `StrataError.badData(file: path, ...)` for bad magic bytes, an unsupported
    ///   version, a truncated or oversized header, a header that is not the expected dict, an
    ///   unsupported dtype, Fortran order (of a 2-D array with several rows and columns), a
    ///   shape that is not one or two non-negative integers, no rows or columns, or data bytes
    ///   beyond the file's size.
    static func parse(_ head: [UInt8], fileSize: Int, path: String) throws -> NPYHeader {
        func bad(_ m: String) -> StrataError { .badData(file: path, line: nil, column: nil, message: m) }
        guard head.count >= 10, head[0] == 0x93, Array(head[1...5]) == Array("NUMPY".utf8) else {
            throw bad("not a NumPy .npy file (bad magic bytes)")
        }
        let major = head[6]
        let headerLen: Int, headerStart: Int
        switch major {
        case 1:
            headerLen = Int(head[8]) | Int(head[9]) << 8; headerStart = 10
        case 2, 3:
            guard head.count >= 12 else { throw bad("truncated header") }
            headerLen = Int(head[8]) | Int(head[9]) << 8 | Int(head[10]) << 16 | Int(head[11]) << 24; headerStart = 12
        default:
            throw bad("unsupported .npy format version \(major)")
        }
        guard headerLen <= maxHeaderBytes else { throw bad("the header claims \(headerLen) bytes; at most \(maxHeaderBytes) are accepted") }
        guard head.count >= headerStart + headerLen else { throw bad("truncated header") }
        var scanner = DictScanner(bytes: Array(head[headerStart..<(headerStart + headerLen)]))
        let dict: [String: DictScanner.Value]
        do { dict = try scanner.dictionary() } catch let DictScanner.Failure.syntax(m) {
            throw bad("the header is not a valid Python dict literal: \(m)")
        }
        let expected: Set<String> = ["descr", "fortran_order", "shape"]
        guard Set(dict.keys) == expected else {
            let missing = expected.subtracting(dict.keys).sorted(), extra = Set(dict.keys).subtracting(expected).sorted()
            throw bad("the header must hold exactly the keys 'descr', 'fortran_order' and 'shape'"
                      + (missing.isEmpty ? "" : "; missing: \(missing.joined(separator: ", "))")
                      + (extra.isEmpty ? "" : "; unexpected: \(extra.map { quoted($0) }.joined(separator: ", "))"))
        }
        guard case let .string(descr)? = dict["descr"] else { throw bad("'descr' must be a dtype string such as '<f4' (structured dtypes are not supported)") }
        guard let dtype = DType(rawValue: descr) else {
            throw bad("dtype \(quoted(descr)) is not supported; use little-endian float32 or float64 ('<f4', '<f8'; '<i4', '<i8' are converted)")
        }
        guard case let .bool(fortran)? = dict["fortran_order"] else {
            throw bad("'fortran_order' must be True or False (found \(dict["fortran_order"]!.text))")
        }
        guard case let .tuple(entries)? = dict["shape"] else { throw bad("'shape' must be a tuple of integers (found \(dict["shape"]!.text))") }
        var dims: [Int] = []
        for e in entries {
            guard let v = Int(e) else {
                let digits = e.hasPrefix("-") ? e.dropFirst() : Substring(e)
                if !digits.isEmpty && digits.allSatisfy(\.isASCIIDigit) { throw bad("'shape' entry \(clipped(e)) is too large") }
                throw bad("'shape' entry \(clipped(e)) is not an integer")
            }
            guard v >= 0 else { throw bad("'shape' entry \(v) is negative") }
            dims.append(v)
        }
        let rows: Int, cols: Int
        switch dims.count {
        case 1: rows = dims[0]; cols = 1
        case 2: rows = dims[0]; cols = dims[1]
        default: throw bad("array has \(dims.count) dimensions; a 2-D (rows x features) array is required")
        }
        if fortran && rows > 1 && cols > 1 {
            throw bad("array is in Fortran order; save it with numpy.ascontiguousarray(a) first")
        }
        let (elements, o1) = rows.multipliedReportingOverflow(by: cols)
        let (dataBytes, o2) = elements.multipliedReportingOverflow(by: dtype.width)
        let dataStart = headerStart + headerLen
        guard !o1, !o2, dataBytes <= Int.max - dataStart else { throw bad("shape (\(rows), \(cols)) describes more data than any file can hold") }
        guard fileSize - dataStart >= dataBytes else {
            throw bad("file is truncated: shape (\(rows), \(cols)) needs \(dataBytes) data bytes, found \(max(0, fileSize - dataStart))")
        }
        if rows == 0 { throw bad("the array has no rows") }
        if cols == 0 { throw bad("the array has no columns") }
        return NPYHeader(dtype: dtype, rows: rows, cols: cols, dataStart: dataStart, dataBytes: dataBytes)
    }

    /// A value from the header for a message: quoted, at most 60 characters.
    static func quoted(_ s: String) -> String { "'" + clipped(s) + "'" }

    /// At most 60 characters of `s` (a header may be 64 KiB of anything).
    static func clipped(_ s: String) -> String { s.count > 60 ? String(s.prefix(57)) + "..." : s }
}

/// Reads the Python literal of a `.npy` header: `{'key': value, ...}` with values a string,
/// True/False, a tuple of integer literals, or anything else up to the next `,` or `}` (kept
/// as text for the message). No escapes, no nesting beyond the tuple: numpy writes nothing else.
struct DictScanner {
    enum Value: Equatable {
        case string(String), bool(Bool), tuple([String]), other(String)
        /// The value as written, at most 60 characters.
        var text: String {
            switch self {
            case let .string(s): return NPYHeader.quoted(s)
            case let .bool(b): return b ? "True" : "False"
            case let .tuple(t): return "(" + t.joined(separator: ", ") + ")"
            case let .other(s): return NPYHeader.quoted(s)
            }
        }
    }
    enum Failure: Error { case syntax(String) }

    let bytes: [UInt8]
    var pos = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func dictionary() throws -> [String: Value] {
        var out: [String: Value] = [:]
        try expect("{")
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") { pos += 1; break }
            let key = try string()
            try expect(":")
            let value = try self.value()
            if out.updateValue(value, forKey: key) != nil { throw Failure.syntax("key \(NPYHeader.quoted(key)) appears twice") }
            skipSpace()
            if peek == UInt8(ascii: ",") { pos += 1; continue }
            try expect("}")
            break
        }
        skipSpace()
        guard pos == bytes.count else { throw Failure.syntax("unexpected text after the closing '}' at byte \(pos)") }
        return out
    }

    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 }
    }

    mutating func expect(_ c: Character) throws {
        skipSpace()
        guard let b = peek, b == c.asciiValue! else {
            throw Failure.syntax("expected '\(c)' at byte \(pos)" + (peek == nil ? " (the header ended)" : ""))
        }
        pos += 1
    }

    mutating func string() throws -> String {
        skipSpace()
        guard let q = peek, q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else { throw Failure.syntax("expected a quoted key at byte \(pos)") }
        pos += 1
        let start = pos
        while let c = peek, c != q {
            if c == UInt8(ascii: "\\") { throw Failure.syntax("escape sequences are not supported (byte \(pos))") }
            pos += 1
        }
        guard peek == q else { throw Failure.syntax("unterminated string starting at byte \(start - 1)") }
        pos += 1
        return String(decoding: bytes[start..<(pos - 1)], as: UTF8.self)
    }

    mutating func value() throws -> Value {
        skipSpace()
        switch peek {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "("): return .tuple(try tuple())
        default:
            let word = bareWord()
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "": throw Failure.syntax("expected a value at byte \(pos)")
            default: return .other(word)
            }
        }
    }

    /// Text up to the next `,`, `}` or `)` (trimmed).
    mutating func bareWord() -> String {
        let start = pos
        while let c = peek, c != UInt8(ascii: ","), c != UInt8(ascii: "}"), c != UInt8(ascii: ")") { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self).trimmingSpaces
    }

    /// `(a, b, ...)`, `(a,)` or `()`: the entries as written (Python 2's `3L` without the L).
    mutating func tuple() throws -> [String] {
        try expect("(")
        var entries: [String] = []
        while true {
            skipSpace()
            if peek == UInt8(ascii: ")") { pos += 1; return entries }
            var e = bareWord()
            if e.isEmpty { throw Failure.syntax("empty tuple entry at byte \(pos)") }
            if e.count > 1, e.hasSuffix("L"), e.dropLast().allSatisfy({ $0.isASCIIDigit || $0 == "-" }) { e.removeLast() }
            entries.append(e)
            skipSpace()
            if peek == UInt8(ascii: ",") { pos += 1; continue }
            try expect(")")
            return entries
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\n" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
