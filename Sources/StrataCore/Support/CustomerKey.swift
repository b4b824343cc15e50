import Foundation

/// The key two files' customer ids are joined on. Ids are strings compared exactly, except that
/// a numeric-looking id written with a zero fraction (`900.0`, as spreadsheets and pandas write
/// integer ids that passed through a float column) is the same customer as `900`. Leading zeros
/// stay significant (`007` is not `7`): those are codes, not numbers.
public enum CustomerKey {
    /// `900.0` -> `900`, `-12.00` -> `-12`; anything else unchanged. O(length).
    public static func normalized(_ id: String) -> String {
        let u = id.utf8
        guard let dot = u.firstIndex(of: UInt8(ascii: ".")) else { return id }
        let head = u[u.startIndex..<dot], tail = u[u.index(after: dot)...]
        guard !tail.isEmpty, tail.allSatisfy({ $0 == UInt8(ascii: "0") }) else { return id }
        var digits = head[...]
        if let f = digits.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return id }
        return String(decoding: head, as: UTF8.self)
    }
}

extension CustomerKey {
    /// An id's bytes as text without losing any, such that distinct byte strings are distinct
    /// Strings (Swift compares Strings by canonical equivalence, so "é" and "e" + U+0301 would
    /// otherwise be one customer in every join, count and duplicate check):
    /// - valid UTF-8 in Unicode normal form C (every ASCII id, nearly every other) is kept as written;
    /// - any other field (invalid UTF-8, which decoding with U+FFFD replacement used to merge into
    ///   one customer and one pseudonym, or text not in NFC) is written in ASCII: each byte
    ///   outside ASCII, and a backslash, as `\xNN` (two lowercase hex digits).
    /// Text Strata writes (`a\xff` in assignments.csv) reads back as the same id. The one
    /// collision left: an ASCII field spelling out the escapes of another (the text `a\xff` and
    /// the bytes `a` 0xFF) is the same id; a customer table reports it as a duplicate. O(length).
    public static func lossless(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        if let s = String(validating: bytes, as: UTF8.self), s.precomposedStringWithCanonicalMapping.utf8.elementsEqual(bytes) { return s }
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            if b < 0x80 && b != UInt8(ascii: "\\") { out.append(b); continue }
            out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), hex[Int(b >> 4)], hex[Int(b & 15)]]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
