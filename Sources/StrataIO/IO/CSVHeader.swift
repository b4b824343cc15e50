import Foundation
import StrataCore

/// The header of a CSV file: its first record, read with the one CSV tokenizer (quotes, BOM and
/// CRLF handled as everywhere else). Reads at most the first `limit` bytes.
public enum CSVHeader {
    /// Column names, trimmed of spaces. Throws `StrataError.unreadable` / `.badData`; an empty
    /// file has no columns.
    public static func read(path: String, delimiter: UInt8 = UInt8(ascii: ","), limit: Int = 1 << 20) throws -> [String] {
        let bytes = try readFileBytes(path, limit: limit)
        return try bytes.withUnsafeBufferPointer { buf in
            var tok = CSVTokenizer(bytes: buf, delimiter: delimiter, file: path)
            var fields: [FieldSpan] = []
            guard try tok.next(into: &fields) != nil else { return [] }
            return fields.map { tok.string($0).trimmingCharacters(in: .whitespaces) }
        }
    }
}
