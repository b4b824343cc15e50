import StrataCore
import Foundation

/// A labels file as `strata kmeans --labels-out` writes it (`id,segment,distance`), or any CSV
/// with a header naming a labels column.
public struct LabelsFile: Sendable {
    public var ids: [String]?
    public var labels: [String]

    /// Reads `column` (default `segment`; nil: the first of `segment`, `segment_name`,
    /// `segment_id` in the header, so `strata segment`'s assignments.csv works as it is) and,
    /// when present, the `id` (else `customer_id`) column.
    public static func read(path: String, column wanted: String? = "segment") throws -> LabelsFile {
        let bytes = try readFileBytes(path)
        return try bytes.withUnsafeBufferPointer { buf in
            var tok = CSVTokenizer(bytes: buf, file: path)
            var fields: [FieldSpan] = []
            guard try tok.next(into: &fields) != nil else {
                throw StrataError.badData(file: path, line: nil, column: nil, message: "the labels file is empty")
            }
            let header = fields.map { tok.string($0).trimmingCharacters(in: .whitespaces) }
            let column = wanted ?? ["segment", "segment_name", "segment_id"].first { header.contains($0) } ?? "segment"
            guard let li = header.firstIndex(of: column) else {
                throw StrataError.badData(file: path, line: 1, column: column,
                                          message: "no column '\(column)' (columns: \(Excerpt.list(header))); choose it with --labels-column")
            }
            let idi = header.firstIndex(of: "id") ?? header.firstIndex(of: "customer_id")
            var labels: [String] = [], ids: [String] = []
            while let line = try tok.next(into: &fields) {
                guard fields.count == header.count else {
                    throw StrataError.badData(file: path, line: line, column: nil, message: "row has \(fields.count) fields but the header has \(header.count)")
                }
                let v = tok.string(fields[li]).trimmingCharacters(in: .whitespaces)
                if v.isEmpty { throw StrataError.badData(file: path, line: line, column: column, message: "missing label") }
                labels.append(v)
                if let idi { ids.append(tok.idString(fields[idi])) }
            }
            if labels.isEmpty { throw StrataError.badData(file: path, line: nil, column: nil, message: "the labels file has no rows") }
            return LabelsFile(ids: idi == nil ? nil : ids, labels: labels)
        }
    }

    /// Checks that these labels belong to `data` row by row: same count and, when both sides
    /// have ids, the same id on every row (the first mismatch is named).
    public func check(against data: Dataset, path: String) throws {
        guard labels.count == data.rows else {
            throw StrataError.invalidArgument("\(path) has \(labels.count) labels but \(data.source) has \(data.rows) rows; they must be the same rows in the same order")
        }
        guard let ids else { return }
        for i in 0..<data.rows where ids[i] != data.id(i) {
            throw StrataError.badData(file: path, line: i + 2, column: "id",
                                      message: "id '\(Excerpt.of(ids[i]))' does not match row \(i) of \(data.source) ('\(Excerpt.of(data.id(i)))'); the labels must list the same rows in the same order")
        }
    }
}
