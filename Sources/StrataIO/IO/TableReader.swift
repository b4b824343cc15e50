import StrataCore
import Foundation
import StrataPostgres

/// Which columns of an input file to read, and how.
public struct TableReadOptions: Sendable {
    /// Feature columns by name, in the order wanted. nil: every numeric column except the id
    /// and weights columns (a column is numeric when its values in the first 1000 rows parse).
    public var columns: [String]?
    /// The id column's name. nil: a column named `id` or `customer_id` (any case) is used if
    /// present, else ids are 0-based row numbers.
    public var idColumn: String?
    /// Sample weights column; nil: all weights 1.
    public var weightsColumn: String?
    /// Field delimiter for CSV (default ',').
    public var delimiter: UInt8 = UInt8(ascii: ",")
    /// Working-memory budget in bytes (default: half the physical RAM). A float32 `.npy` larger
    /// than this is streamed: its pages are released after each window of rows; a CSV larger than
    /// this is converted block by block to a temporary `.npy` first.
    public var memoryBudget: Int = MemoryBudget.defaultBytes
    /// MPI rank and rank count: a mapped `.npy` is then validated only on this rank's row
    /// chunks, so each rank reads only its shard.
    public var shard: (rank: Int, size: Int)? = nil

    public init(columns: [String]? = nil, idColumn: String? = nil, weightsColumn: String? = nil) {
        self.columns = columns
        self.idColumn = idColumn
        self.weightsColumn = weightsColumn
    }

    /// Names that make a column the id column when none is given.
    public static let inferredIdNames: Set<String> = ["id", "customer_id"]
}

/// Reads CSV (header row required), NumPy `.npy` and Parquet (a `.parquet` file, a directory of
/// them or a glob; `ParquetTable.dataset`) into a `Dataset`.
///
/// CSV throughput: one byte-level pass, ~1-3 M rows/s for 16 numeric columns in release builds;
/// memory: the file's bytes plus the Float table. Every error names the file, the 1-based line
/// and the column.
public enum TableReader {
    public static func read(path: String, options: TableReadOptions = TableReadOptions()) throws -> Dataset {
        if path.lowercased().hasSuffix(".npy") { return try NPYReader.read(path: path, options: options) }
        if PostgresURL.isURL(path) { return try PostgresTable(url: path).dataset(options: options) }
        if ParquetInput.isParquet(path) {
            // Beyond the memory budget (float32 rows of every column, an upper bound): row group by
            // row group to a temporary .npy, then mapped, as a large CSV.
            let table = try ParquetTable(path: path)
            if table.rowCount * max(1, table.columns.count) * 4 > options.memoryBudget { return try streamCSV(path: path, options: options) }
            return try table.dataset(options: options)
        }
        if let size = try? fileSizeOf(path), size > options.memoryBudget {
            return try streamCSV(path: path, options: options)
        }
        return try readCSV(path: path, options: options)
    }

    /// A CSV (or Parquet input) larger than the memory budget: converted block by block to a temporary float32
    /// `.npy` (in $STRATA_TMPDIR, else the system temporary directory), which is then mapped and
    /// unlinked at once (the mapping keeps it readable; the space is freed at exit).
    static func streamCSV(path: String, options: TableReadOptions) throws -> Dataset {
        if options.weightsColumn != nil {
            throw StrataError.invalidArgument("\(path): a weights column is not supported when the CSV exceeds --memory-budget; raise the budget")
        }
        let dir = ProcessInfo.processInfo.environment["STRATA_TMPDIR"] ?? NSTemporaryDirectory()
        // What a killed streaming run left (an input-sized .npy) goes first.
        TemporaryFiles.sweep(directory: dir, prefix: "strata-stream-")   // the converter sweeps its own temporaries
        let tmp = (dir as NSString).appendingPathComponent("strata-stream-\(getpid())-\(UInt64(Date().timeIntervalSince1970 * 1e6)).npy")
        for f in [tmp, tmp + ".json", tmp + ".ids"] { TemporaryFiles.shared.register(f) }
        defer { for f in [tmp, tmp + ".json", tmp + ".ids"] { unlink(f); TemporaryFiles.shared.unregister(f) } }
        let converted = try NPYConverter.convert(csv: path, to: tmp, options: options, blockBytes: max(1 << 20, min(64 << 20, options.memoryBudget / 4)))
        var o = options
        o.columns = nil
        var data = try NPYReader.read(path: tmp, options: o)
        data.source = path
        data.warnings = converted.warnings
        return data
    }

    public static func readCSV(path: String, options: TableReadOptions) throws -> Dataset {
        let bytes = try readFileBytes(path)
        return try bytes.withUnsafeBufferPointer { buf in
            try parseCSV(buf, file: path, options: options)
        }
    }

    package static func parseCSV(_ buf: UnsafeBufferPointer<UInt8>, file: String, options: TableReadOptions) throws -> Dataset {
        var tok = CSVTokenizer(bytes: buf, delimiter: options.delimiter, file: file)
        var fields: [FieldSpan] = []
        guard try tok.next(into: &fields) != nil else {
            throw StrataError.badData(file: file, line: nil, column: nil, message: "the file is empty; a header row naming the columns is required")
        }
        let header = try CSVHeader.names(fields, tokenizer: tok, file: file)
        func index(of name: String, option: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else {
                throw StrataError.invalidArgument("\(file): \(option) '\(name)' is not a column; columns are: \(Excerpt.list(header))")
            }
            return i
        }
        let idIndex: Int? = try options.idColumn.map { try index(of: $0, option: "--id-column") }
            ?? header.firstIndex { TableReadOptions.inferredIdNames.contains($0.lowercased()) }
        let weightIndex: Int? = try options.weightsColumn.map { try index(of: $0, option: "--weights-column") }
        if let w = weightIndex, w == idIndex {
            throw StrataError.invalidArgument("\(file): the weights column cannot also be the id column")
        }

        // Remember where data starts, then sample rows to infer numeric columns if needed.
        let dataStart = tok
        var featureIdx: [Int]
        var notes: [String] = []
        if let cols = options.columns {
            featureIdx = try cols.map { try index(of: $0, option: "--columns entry") }
            for (c, i) in zip(cols, featureIdx) where i == idIndex || i == weightIndex {
                throw StrataError.invalidArgument("\(file): column '\(c)' is the id or weights column and cannot be a feature")
            }
        } else {
            let sniff = try ColumnSniff(header: header, from: dataStart)
            featureIdx = (0..<header.count).filter { sniff.isNumeric($0) && $0 != idIndex && $0 != weightIndex }
            let text = (0..<header.count).filter { sniff.isText($0) && $0 != idIndex && $0 != weightIndex }
            let empty = (0..<header.count).filter { sniff.isEmpty($0) && $0 != idIndex && $0 != weightIndex }
            if !text.isEmpty {
                notes.append("text columns ignored (not features): \(Excerpt.list(text.map { header[$0] })); choose features with --columns")
            }
            if !empty.isEmpty && sniff.sampledRows > 0 {
                notes.append("empty columns ignored: \(Excerpt.list(empty.map { header[$0] }))")
            }
            if featureIdx.isEmpty && sniff.sampledRows > 0 {
                throw StrataError.badData(file: file, line: nil, column: nil,
                                          message: "no numeric feature columns found (columns: \(Excerpt.list(header))); choose them with --columns")
            }
        }
        let d = featureIdx.count
        let names = featureIdx.map { header[$0] }
        // Column j of the file -> feature slot, or -1.
        var slot = [Int](repeating: -1, count: header.count)
        for (s, j) in featureIdx.enumerated() { slot[j] = s }

        var values: [Float] = []
        values.reserveCapacity(min(buf.count / 2, 1 << 26))
        var ids: [String]? = idIndex == nil ? nil : []
        var weights: [Float]? = weightIndex == nil ? nil : []
        var row = [Float](repeating: 0, count: d)
        tok = dataStart
        var n = 0
        while let line = try tok.next(into: &fields) {
            if fields.count != header.count {
                throw StrataError.badData(file: file, line: line, column: nil,
                                          message: "row has \(fields.count) fields but the header has \(header.count)")
            }
            for j in 0..<header.count {
                let s = slot[j]
                if s < 0 && j != weightIndex { continue }
                let name = header[j]
                switch tok.number(fields[j]) {
                case let .value(v):
                    if s >= 0 { row[s] = v } else {
                        if v < 0 { throw StrataError.badData(file: file, line: line, column: name, message: "negative weight \(v); weights must be >= 0") }
                        weights!.append(v)
                    }
                case .empty:
                    throw StrataError.badData(file: file, line: line, column: name, message: "missing value; fill or drop it before clustering")
                case .nonFinite:
                    throw StrataError.badData(file: file, line: line, column: name,
                                              message: "value '\(Excerpt.of(tok.string(fields[j])))' is NaN, infinite or outside the Float range")
                case .notANumber:
                    throw StrataError.badData(file: file, line: line, column: name,
                                              message: "value '\(Excerpt.of(tok.string(fields[j])))' is not a number; fix or remove the cell (feature columns are numeric)")
                }
            }
            values.append(contentsOf: row)
            if let i = idIndex { ids!.append(tok.idString(fields[i])) }
            n += 1
        }
        if n == 0 {
            throw StrataError.badData(file: file, line: nil, column: nil, message: "the file has a header but no data rows")
        }
        if let w = weights, !(w.reduce(0.0) { $0 + Double($1) } > 0) {
            throw StrataError.badData(file: file, line: nil, column: header[weightIndex!], message: "all weights are zero")
        }
        let counters = names.indices.filter { looksLikeRowNumber(StrideColumn(values: values, column: $0, stride: d)) }.map { names[$0] }
        if !counters.isEmpty {
            notes.append("\(counters.count == 1 ? "column" : "columns") \(Excerpt.list(counters)) \(counters.count == 1 ? "holds" : "hold") unique increasing integers (a row number or sequential id?) and \(counters.count == 1 ? "is" : "are") used as features; exclude or name the id with --id-column")
        }
        var data = Dataset(rows: n, cols: d, values: values, columns: names, idColumn: idIndex.map { header[$0] }, ids: ids,
                           weightsColumn: weightIndex.map { header[$0] }, weights: weights, source: file)
        data.warnings = notes.map { "\(file): " + $0 }
        return data
    }
}

/// Column `column` of a row-major table, as a collection (no copy).
struct StrideColumn: RandomAccessCollection {
    let values: [Float]
    let column: Int
    let stride: Int
    var startIndex: Int { 0 }
    var endIndex: Int { stride == 0 ? 0 : values.count / stride }
    subscript(i: Int) -> Float { values[i * stride + column] }
}
