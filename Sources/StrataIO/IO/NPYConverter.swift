import StrataCore
import Foundation

/// Streams a CSV table (or a Parquet input, row group by row group) into a float32 `.npy` (C order) plus a sidecar JSON (`FILE.npy.json`:
/// columns, id column, rows, source) and, when there is an id column, the ids one per line
/// (`FILE.npy.ids`). Memory: one block of the CSV (64 MiB by default) and its parsed rows,
/// whatever the file size. Errors name the CSV file, line and column, as the in-memory reader.
///
/// The three outputs are written to temporaries and renamed into place together.
public enum NPYConverter {
    public struct Result: Sendable {
        public var rows: Int
        public var columns: [String]
        public var idColumn: String?
        public var seconds: Double
        /// The reader's warnings on the first block (text columns ignored, a row-number column).
        public var warnings: [String] = []
    }

    /// Sidecar metadata next to a converted `.npy`.
    public struct Sidecar: Codable, Sendable {
        public var format = "strata-npy-sidecar/1"
        public var columns: [String]
        public var idColumn: String?
        public var idsFile: String?
        public var rows: Int
        public var source: String
        public var dtype = "float32"
        enum CodingKeys: String, CodingKey {
            case format, columns, idColumn = "id_column", idsFile = "ids_file", rows, source, dtype
        }

        /// The sidecar of the `.npy` at `path` (`path.json`), nil when there is none.
        /// - Throws: `StrataError.badData` naming the sidecar when it is not a sidecar (not JSON,
        ///   a missing or mistyped key, another format), `.unreadable` when it cannot be read.
        public static func load(npy path: String) throws -> Sidecar? {
            let file = path + ".json"
            guard FileManager.default.fileExists(atPath: file) else { return nil }
            let bytes = try readFileBytes(file)
            let s: Sidecar
            do { s = try JSONDecoder().decode(Sidecar.self, from: Data(bytes)) } catch let e as DecodingError {
                throw StrataError.badData(file: file, line: nil, column: e.keyPath.isEmpty ? nil : e.keyPath,
                                          message: "not a valid sidecar of \(path) (\(e.reason)); convert the CSV again or remove it")
            } catch {
                throw StrataError.badData(file: file, line: nil, column: nil, message: "not a valid sidecar of \(path); convert the CSV again or remove it")
            }
            guard s.format == "strata-npy-sidecar/1" else {
                throw StrataError.badData(file: file, line: nil, column: "format", message: "format '\(NPYHeader.clipped(s.format))' is not strata-npy-sidecar/1")
            }
            return s
        }

        /// Checks the sidecar against its array (`rows` x `cols`).
        /// - Throws: `StrataError.badData` naming the sidecar and the key: another row or column
        ///   count, duplicate or empty column names, an id column without an ids file (or the
        ///   reverse), an ids file outside the `.npy`'s directory.
        public func check(against npy: String, rows n: Int, cols d: Int) throws {
            let file = npy + ".json"
            func bad(_ key: String, _ m: String) -> StrataError { .badData(file: file, line: nil, column: key, message: m) }
            guard rows == n else { throw bad("rows", "says \(rows) rows but \(npy) holds \(n); convert the CSV again") }
            guard columns.count == d else { throw bad("columns", "names \(columns.count) columns but \(npy) holds \(d); convert the CSV again") }
            if let c = columns.first(where: \.isEmpty) ?? duplicate(columns) { throw bad("columns", "column name '\(NPYHeader.clipped(c))' is empty or repeated") }
            guard (idColumn == nil) == (idsFile == nil) else { throw bad(idColumn == nil ? "id_column" : "ids_file", "id_column and ids_file go together") }
            if let f = idsFile, f.isEmpty || f.contains("/") || f == "." || f == ".." {
                throw bad("ids_file", "'\(NPYHeader.clipped(f))' must be a file name next to \(npy)")
            }
        }

        private func duplicate(_ names: [String]) -> String? {
            var seen = Set<String>()
            return names.first { !seen.insert($0).inserted }
        }
    }

    static let headerBytes = 128

    /// Runs a write, turning Foundation's file errors (a full disk: NSCocoaErrorDomain 640) into
    /// `.unwritable` naming the output and the system's reason.
    static func writing(_ out: String, _ body: () throws -> Void) throws {
        do { try body() } catch let e as CocoaError {
            let posix = (e.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? Int32($0.code) : nil }
            throw StrataError.unwritable(path: out, reason: posix.map { String(cString: strerror($0)) } ?? "write failed (\(e.code.rawValue))")
        }
    }

    public static func convert(csv: String, to given: String, options: TableReadOptions, blockBytes: Int = 64 << 20,
                               progress: ((Int) -> Void)? = nil) throws -> Result {
        // A symlink to a regular file is written through (the link stays a link).
        var out = given
        var lst = stat()
        if lstat(given, &lst) == 0, (lst.st_mode & S_IFMT) == S_IFLNK, let real = realpath(given, nil) {
            out = String(cString: real)
            free(real)
        }
        let t0 = Date()
        let parquet = ColumnarInput.isColumnar(csv)
        let fd = parquet ? -1 : open(csv, O_RDONLY)
        guard parquet || fd >= 0 else { throw StrataError.unreadable(path: csv, reason: String(cString: strerror(errno))) }
        defer { if fd >= 0 { close(fd) } }
        let dir = URL(fileURLWithPath: out).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw StrataError.unwritable(path: out, reason: "directory '\(dir)' does not exist")
        }
        // A .npy comes with its sidecar and ids files: it must be a file path (never `-`, a
        // device, a FIFO or a directory, which would be renamed over).
        var st = stat()
        if out == "-" || (stat(out, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG) {
            throw StrataError.unwritable(path: out, reason: "convert writes a .npy file with its sidecar; give a regular file path")
        }
        // Named like OutputBatch's temporaries (`.NAME.tmp-PID-N`), so one sweep finds every kind.
        TemporaryFiles.sweepDeadOutputs(directory: dir)
        let tmp = dir + "/." + URL(fileURLWithPath: out).lastPathComponent + ".tmp-\(getpid())-0"
        TemporaryFiles.shared.register(tmp)
        TemporaryFiles.shared.register(tmp + ".ids")
        defer { TemporaryFiles.shared.unregister(tmp); TemporaryFiles.shared.unregister(tmp + ".ids") }
        guard let data = FileHandle(forWritingAtPath: create(tmp)) else { throw StrataError.unwritable(path: out, reason: "cannot create a temporary file") }
        var idsHandle: FileHandle? = nil
        var cleanup = [tmp]
        defer { for f in cleanup { unlink(f) } }
        try writing(out) { try data.write(contentsOf: Data(count: headerBytes)) }

        var header: [UInt8] = []
        var carry: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: blockBytes)
        var opts = options
        var columns: [String] = []
        var idColumn: String? = nil
        var rows = 0
        var lineBase = 0          // data lines (after the header) before the current block
        var warnings: [String] = []
        var eof = false
        /// Appends a block of rows to the outputs (the first block fixes columns and id column).
        func emit(_ block: Dataset) throws {
            if columns.isEmpty {
                warnings = block.warnings
                columns = block.columns
                idColumn = block.idColumn
                opts.columns = columns
                opts.idColumn = idColumn
                if idColumn != nil {
                    let path = create(tmp + ".ids")
                    cleanup.append(path)
                    idsHandle = FileHandle(forWritingAtPath: path)
                }
            }
            try writing(out) { try block.values.withUnsafeBytes { try data.write(contentsOf: Data($0)) } }
            if let h = idsHandle, let ids = block.ids {
                var text = ""
                text.reserveCapacity(ids.count * 12)
                for id in ids { text += id; text += "\n" }
                try writing(out) { try h.write(contentsOf: Data(text.utf8)) }
            }
            rows += block.rows
            progress?(rows)
        }
        if parquet {
            // Row group by row group: memory is one row group of the selected columns.
            guard let table = try ColumnarInput.open(csv) else { return try convert(csv: csv, to: given, options: options, blockBytes: blockBytes, progress: progress) }
            let plan = try table.datasetBlocks(options: options) { try emit($0) }
            warnings = plan.notes.map { "\(csv): " + $0 }
            if rows == 0 { (columns, idColumn) = (plan.columns, plan.idColumn) }
            eof = true
        }
        while !eof {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, blockBytes) }
            if got < 0 { throw StrataError.unreadable(path: csv, reason: String(cString: strerror(errno))) }
            eof = got == 0
            var bytes = carry + buffer[0..<got]
            // Cut at the last line end outside quotes; the rest waits for the next block.
            var cut = bytes.count
            if !eof {
                var inQuotes = false, last = -1
                for (i, b) in bytes.enumerated() {
                    if b == UInt8(ascii: "\"") { inQuotes.toggle() } else if b == UInt8(ascii: "\n") && !inQuotes { last = i }
                }
                cut = last + 1
                if cut == 0 { carry = bytes; continue }   // a record longer than the block: read more
            }
            carry = Array(bytes[cut...])
            bytes.removeSubrange(cut...)
            if header.isEmpty {
                // First block: the header line stays with every later block, so each parses alone.
                guard let nl = bytes.firstIndex(of: UInt8(ascii: "\n")) ?? (bytes.isEmpty ? nil : bytes.count - 1) else {
                    throw StrataError.badData(file: csv, line: nil, column: nil, message: "the file is empty; a header row naming the columns is required")
                }
                header = Array(bytes[...nl])
                if header.last != UInt8(ascii: "\n") { header.append(UInt8(ascii: "\n")) }
            } else {
                if bytes.isEmpty { continue }
                bytes = header + bytes
            }
            if bytes.count <= header.count && rows > 0 { continue }
            let block: Dataset
            do {
                block = try bytes.withUnsafeBufferPointer { try TableReader.parseCSV($0, file: csv, options: opts) }
            } catch let StrataError.badData(file, line, column, message) {
                if message.hasPrefix("the file has a header but no data rows") && rows > 0 { continue }
                // Block line L (the header is line 1) is file line lineBase + L.
                throw StrataError.badData(file: file, line: line.map { $0 <= 1 ? $0 : lineBase + $0 }, column: column, message: message)
            }
            try emit(block)
            lineBase += bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) } - 1
        }
        guard rows > 0 else { throw StrataError.badData(file: csv, line: nil, column: nil, message: "the file has a header but no data rows") }
        // The real header, padded to the reserved 128 bytes (numpy format 1.0).
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(columns.count)), }"
        let total = 10 + dict.utf8.count + 1
        guard total <= headerBytes else { throw StrataError.invalidArgument("\(csv): too many rows/columns for the .npy header") }
        dict += String(repeating: " ", count: headerBytes - total) + "\n"
        var head: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8((headerBytes - 10) & 0xff), UInt8((headerBytes - 10) >> 8)]
        head += Array(dict.utf8)
        try data.seek(toOffset: 0)
        try writing(out) {
            try data.write(contentsOf: Data(head))
            try data.synchronize()
        }
        try data.close()
        try writing(out) { try idsHandle?.synchronize() }
        try idsHandle?.close()
        let sidecar = Sidecar(columns: columns, idColumn: idColumn, idsFile: idColumn == nil ? nil : URL(fileURLWithPath: out).lastPathComponent + ".ids",
                              rows: rows, source: csv)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        var batch = OutputBatch()
        try batch.stage(try e.encode(sidecar), to: out + ".json")
        batch.adopt(temporary: tmp, as: out)
        if idColumn != nil { batch.adopt(temporary: tmp + ".ids", as: out + ".ids") }
        try batch.commit()
        cleanup = []
        return Result(rows: rows, columns: columns, idColumn: idColumn, seconds: Date().timeIntervalSince(t0), warnings: warnings)
    }

    private static func create(_ path: String) -> String {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return path
    }
}
