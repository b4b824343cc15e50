/// A Parquet file that cannot be read (or written), in one line naming the file and, where known,
/// the row group (0-based, as in the file's footer) and the column.
public struct ParquetError: Error, CustomStringConvertible, Equatable, Sendable {
    public var file: String
    public var rowGroup: Int?
    public var column: String?
    public var message: String

    public init(file: String, rowGroup: Int? = nil, column: String? = nil, message: String) {
        self.file = file
        self.rowGroup = rowGroup
        self.column = column
        self.message = message
    }

    public var description: String {
        var loc = file
        if let rowGroup { loc += ", row group \(rowGroup)" }
        if let column { loc += ", column '\(column)'" }
        return "\(loc): \(message)"
    }
}

/// What a decoder found wrong, before the caller adds file, row group and column
/// (`ParquetError`). Internal: every public entry point rethrows it as a `ParquetError`.
struct Corrupt: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
