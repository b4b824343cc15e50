import Foundation
import StrataCore
import StrataParquet
import StrataPostgres

/// A typed, column-at-a-time input read in row groups: a Parquet file or dataset
/// (`ParquetTable`), or a PostgreSQL table or query (`PostgresTable`, whose types are mapped to
/// Parquet's). Every reader of typed inputs (`dataset`, `rawTable`, `ColumnSniff`, the order-log
/// reader) is written once against this protocol.
public protocol ColumnarTable: AnyObject {
    /// The input as given and shown in messages (a PostgreSQL URL with its password masked).
    var path: String { get }
    /// The top-level columns, described in Parquet's types.
    var columns: [ParquetColumnInfo] { get }
    /// Calls `body` for every row group in order with the columns at `indices` (`source`: the
    /// file or URL the group comes from; `rowOffset`: rows before this group). Memory: one group.
    func forEachRowGroup(columns indices: [Int], _ body: (_ source: String, _ group: Int, _ rowOffset: Int, [ParquetColumn]) throws -> Void) throws
    /// The first `limit` rows of the columns at `indices` (for sniffing).
    func head(columns indices: [Int], limit: Int) throws -> [ParquetColumn]
    /// Feeds the input's bytes to `observe` (the run's input checksum): a Parquet input's file
    /// bytes, read now; a PostgreSQL input's COPY text of every row the next `forEachRowGroup` reads.
    func observeInput(_ observe: @escaping (UnsafeRawBufferPointer) -> Void) throws
}

extension ColumnarTable {
    public var names: [String] { columns.map(\.name) }

    /// Column `name`'s index, or an error naming `option` and listing the columns.
    public func index(of name: String, option: String) throws -> Int {
        guard let i = columns.firstIndex(where: { $0.name == name }) else {
            throw StrataError.invalidArgument("\(path): \(option) '\(name)' is not a column; columns are: \(Excerpt.list(names))")
        }
        if let why = columns[i].unsupported { throw StrataError.badData(file: path, line: nil, column: name, message: why) }
        return i
    }
}

extension PostgresURL {
    /// Parses `s`; a malformed URL is a usage error (`StrataError.invalidArgument`, exit 64).
    public static func parsed(_ s: String) throws -> PostgresURL {
        do { return try PostgresURL(s) } catch let e as PostgresError { throw StrataError.invalidArgument(e.message) }
    }
}

/// Opens typed inputs: `postgresql://` URLs and Parquet files, directories and globs.
public enum ColumnarInput {
    /// True when `path` is read as a `ColumnarTable` (a PostgreSQL URL or a Parquet input).
    public static func isColumnar(_ path: String) -> Bool { PostgresURL.isURL(path) || ParquetInput.isParquet(path) }

    /// The table for `path`, or nil when it is neither a PostgreSQL URL nor Parquet.
    /// - Throws: `StrataError` (connection, unknown table or query error, corrupt Parquet).
    public static func open(_ path: String) throws -> ColumnarTable? {
        if PostgresURL.isURL(path) { return try PostgresTable(url: path) }
        if ParquetInput.isParquet(path) { return try ParquetTable(path: path) }
        return nil
    }
}
