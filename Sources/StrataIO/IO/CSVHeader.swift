import Foundation
import StrataCore

/// The header of a CSV file: its first record, read with the one CSV tokenizer (quotes, BOM and
/// CRLF handled as everywhere else). Reads at most the first `limit` bytes.
public enum CSVHeader {
    /// Column names, trimmed of spaces. Throws `StrataError.unreadable` / `.badData`; an empty
    /// file has no columns. For a Parquet input (file, directory, glob) or a PostgreSQL URL: its
    /// columns' names.
    public static func read(path: String, delimiter: UInt8 = UInt8(ascii: ","), limit: Int = 1 << 20) throws -> [String] {
        if let t = try ColumnarInput.open(path) { return t.names }
        let bytes = try readFileBytes(path, limit: limit)
        return try bytes.withUnsafeBufferPointer { buf in
            var tok = CSVTokenizer(bytes: buf, delimiter: delimiter, file: path)
            var fields: [FieldSpan] = []
            guard try tok.next(into: &fields) != nil else { return [] }
            return try names(fields, tokenizer: tok, file: path)
        }
    }

    /// The names of a header record, trimmed of spaces; a name that appears twice is an error
    /// (every reader would otherwise pick one of the two silently).
    package static func names(_ fields: [FieldSpan], tokenizer tok: CSVTokenizer, file: String) throws -> [String] {
        let header = fields.map { tok.string($0).trimmingCharacters(in: .whitespaces) }
        var seen = Set<String>()
        for h in header where !seen.insert(h).inserted {
            throw StrataError.badData(file: file, line: 1, column: Excerpt.of(h), message: "column name appears twice in the header; rename one")
        }
        return header
    }
}
