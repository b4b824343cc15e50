import StrataCore
import Foundation

/// Reads initial centers for `--init FILE.csv`: a header naming the data's feature columns (in
/// any order; extra columns are ignored), or no header at all (columns in the data's order).
public enum CentersFile {
    public static func read(path: String, columns: [String]) throws -> [[Float]] {
        let bytes = try readFileBytes(path)
        return try bytes.withUnsafeBufferPointer { buf in
            var tok = CSVTokenizer(bytes: buf, file: path)
            var fields: [FieldSpan] = []
            guard let firstLine = try tok.next(into: &fields) else {
                throw StrataError.badData(file: path, line: nil, column: nil, message: "the centers file is empty")
            }
            let first = fields
            let headerless = first.allSatisfy { if case .value = tok.number($0) { return true } else { return false } }
            var rows: [[Float]] = []
            var map: [Int]
            var names: [String]
            if headerless {
                map = Array(0..<first.count)
                names = (0..<first.count).map { "column \($0 + 1)" }
            } else {
                let header = first.map { tok.string($0).trimmingCharacters(in: .whitespaces) }
                map = try columns.map { c in
                    guard let i = header.firstIndex(of: c) else {
                        throw StrataError.badData(file: path, line: 1, column: c, message: "the centers file has no column '\(c)' (data columns: \(Excerpt.list(columns)))")
                    }
                    return i
                }
                names = header
            }
            func parseRow(_ f: [FieldSpan], line: Int) throws {
                if f.count != first.count {
                    throw StrataError.badData(file: path, line: line, column: nil, message: "row has \(f.count) fields, expected \(first.count)")
                }
                rows.append(try map.map { j in
                    switch tok.number(f[j]) {
                    case let .value(v): return v
                    default: throw StrataError.badData(file: path, line: line, column: names[j], message: "value '\(tok.string(f[j]))' is not a finite number")
                    }
                })
            }
            if headerless { try parseRow(first, line: firstLine) }
            while let line = try tok.next(into: &fields) { try parseRow(fields, line: line) }
            if rows.isEmpty { throw StrataError.badData(file: path, line: nil, column: nil, message: "the centers file has no rows") }
            return rows
        }
    }
}
