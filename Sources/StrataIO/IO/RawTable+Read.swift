import Foundation
import StrataCore

extension RawTable {
    /// Reads a CSV with a header. Numeric columns: `numeric` if given, else every column (other
    /// than id and categorical ones) whose sampled values parse as numbers. Empty fields are
    /// missing values; a non-numeric value in a numeric column is an error naming line and column.
    public static func read(path: String, numeric wanted: [String]?, categorical: [String], idColumn: String?,
                            delimiter: UInt8 = UInt8(ascii: ",")) throws -> RawTable {
        let bytes = try readFileBytes(path)
        return try bytes.withUnsafeBufferPointer { buf in
            try read(bytes: buf, path: path, numeric: wanted, categorical: categorical, idColumn: idColumn, delimiter: delimiter)
        }
    }

    /// As `read(path:...)`, over the bytes of a file already in memory (`path` names it in errors).
    public static func read(bytes buf: UnsafeBufferPointer<UInt8>, path: String, numeric wanted: [String]?, categorical: [String],
                            idColumn: String?, delimiter: UInt8 = UInt8(ascii: ",")) throws -> RawTable {
        do {
            var tok = CSVTokenizer(bytes: buf, delimiter: delimiter, file: path)
            var fields: [FieldSpan] = []
            guard try tok.next(into: &fields) != nil else {
                throw StrataError.badData(file: path, line: nil, column: nil, message: "the file is empty; a header row naming the columns is required")
            }
            let header = fields.map { tok.string($0).trimmingCharacters(in: .whitespaces) }
            func index(_ name: String, _ option: String) throws -> Int {
                guard let i = header.firstIndex(of: name) else {
                    throw StrataError.invalidArgument("\(path): \(option) '\(name)' is not a column; columns are: \(header.joined(separator: ", "))")
                }
                return i
            }
            let idIndex = try idColumn.map { try index($0, "--id-column") }
                ?? header.firstIndex { TableReadOptions.inferredIdNames.contains($0.lowercased()) }
            let catIdx = try categorical.map { try index($0, "--categorical") }
            let start = tok
            var numIdx: [Int]
            if let wanted {
                numIdx = try wanted.map { try index($0, "--columns") }
            } else {
                var numeric = [Bool](repeating: true, count: header.count), seen = [Bool](repeating: false, count: header.count)
                var probe = start
                var sample = 0
                while sample < 1000, try probe.next(into: &fields) != nil {
                    sample += 1
                    for (j, f) in fields.enumerated() where j < header.count && numeric[j] {
                        switch probe.number(f) {
                        case .value, .nonFinite: seen[j] = true
                        case .empty: break
                        case .notANumber: numeric[j] = false
                        }
                    }
                }
                numIdx = (0..<header.count).filter { numeric[$0] && seen[$0] && $0 != idIndex && !catIdx.contains($0) }
            }
            var t = RawTable(source: path, rows: 0, numericNames: numIdx.map { header[$0] }, numeric: numIdx.map { _ in [] },
                             categoricalNames: catIdx.map { header[$0] }, categorical: catIdx.map { _ in [] },
                             idColumn: idIndex.map { header[$0] }, ids: idIndex == nil ? nil : [], lines: [])
            tok = start
            while let line = try tok.next(into: &fields) {
                guard fields.count == header.count else {
                    throw StrataError.badData(file: path, line: line, column: nil, message: "row has \(fields.count) fields but the header has \(header.count)")
                }
                for (s, j) in numIdx.enumerated() {
                    switch tok.number(fields[j]) {
                    case let .value(v): t.numeric[s].append(v)
                    case .empty: t.numeric[s].append(.nan)
                    case .nonFinite:
                        throw StrataError.badData(file: path, line: line, column: header[j], message: "value '\(tok.string(fields[j]))' is NaN, infinite or outside the Float range")
                    case .notANumber:
                        throw StrataError.badData(file: path, line: line, column: header[j], message: "value '\(tok.string(fields[j]))' is not a number")
                    }
                }
                for (s, j) in catIdx.enumerated() { t.categorical[s].append(tok.string(fields[j]).trimmingCharacters(in: .whitespaces)) }
                if let i = idIndex { t.ids!.append(tok.string(fields[i])) }
                t.lines.append(line)
                t.rows += 1
            }
            if t.rows == 0 { throw StrataError.badData(file: path, line: nil, column: nil, message: "the file has a header but no data rows") }
            return t
        }
    }
}
