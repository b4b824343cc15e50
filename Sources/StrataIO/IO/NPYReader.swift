import StrataCore
import Foundation
import StrataKernels

/// Reads NumPy `.npy` files (format versions 1-3): 2-D, C order, little-endian float32/float64
/// (int32/int64 also accepted and converted). Columns are named x0, x1, ...; ids are row numbers,
/// unless a sidecar from `strata convert` (`FILE.npy.json`, `FILE.npy.ids`) names them.
///
/// Nothing is trusted: the header is validated (`NPYHeader`), a sidecar must be valid JSON that
/// matches the array, the ids file it declares must exist with one id per row, and the file size
/// is checked again when it is mapped. Errors name the file and, for bad values, the 0-based row
/// and the column.
public enum NPYReader {
    /// Reads `path` (float32 with every column: memory-mapped; otherwise copied into Float).
    /// - Throws: `StrataError.badData` naming the file for a bad header (`NPYHeader.parse`), a
    ///   file shorter than its shape (also when it shrank before mapping), a NaN or infinite
    ///   value (with row and column); naming the sidecar or ids file for a bad sidecar or ids;
    ///   `.unreadable` for a file that cannot be read or a declared ids file that is missing;
    ///   `.invalidArgument` for an id, weights or `--columns` option the file cannot satisfy.
    public static func read(path: String, options: TableReadOptions = TableReadOptions()) throws -> Dataset {
        // Only the header is read first: float32 data with every column then goes straight from the
        // file into the table (peak memory = the table, not file + table).
        let head = try readFileBytes(path, limit: 12 + NPYHeader.maxHeaderBytes)
        let header = try NPYHeader.parse(head, fileSize: try fileSizeOf(path), path: path)
        let n = header.rows, d = header.cols, width = header.dtype.width, dataStart = header.dataStart
        let descr = header.dtype.rawValue
        // A sidecar from `strata convert` names the columns and holds the ids.
        let sidecar = try NPYConverter.Sidecar.load(npy: path)
        try sidecar?.check(against: path, rows: n, cols: d)
        if options.idColumn != nil && options.idColumn != sidecar?.idColumn {
            throw StrataError.invalidArgument("\(path): this .npy has no id column '\(options.idColumn!)'; ids are row numbers unless its sidecar (from strata convert) names one")
        }
        if options.weightsColumn != nil { throw StrataError.invalidArgument("\(path): .npy files have no weights column") }
        let allNames = sidecar?.columns ?? (0..<d).map { "x\($0)" }
        let pick: [Int] = try options.columns.map { cols in
            try cols.map { c in
                guard let i = allNames.firstIndex(of: c) else {
                    throw StrataError.invalidArgument("\(path): --columns entry '\(c)' is not a column; .npy columns are x0...x\(d - 1)")
                }
                return i
            }
        } ?? Array(0..<d)
        let dd = pick.count
        if descr == "<f4" && pick == Array(0..<d) && dataStart % 4 == 0 {
            // Memory-mapped, never copied: passes read rows from the page cache; beyond the
            // memory budget each window of rows is released after use.
            let file = try MappedFile(path: path, minimumLength: dataStart + header.dataBytes)
            let window = MemoryBudget.releaseWindowRows(dataBytes: n * d * 4, rowBytes: d * 4, budget: options.memoryBudget)
            var data = Dataset(rows: n, cols: d, mapping: MappedRows(owner: file, base: file.base, offset: dataStart, releaseWindowRows: window),
                               columns: allNames, source: path)
            try attachIds(&data, sidecar: sidecar, npy: path, budget: options.memoryBudget)
            #if _endian(big)
            return data.materialized()   // the mapping holds little-endian floats
            #else
            if let bad = firstNonFinite(data, shard: options.shard) {
                throw StrataError.badData(file: path, line: nil, column: allNames[bad % d],
                                          message: "row \(bad / d) (0-based) holds a NaN or infinite value")
            }
            return data
            #endif
        }
        let bytes = try readFileBytes(path)
        guard bytes.count - dataStart >= header.dataBytes else {
            throw StrataError.badData(file: path, line: nil, column: nil,
                                      message: "the file shrank to \(bytes.count) bytes while it was being read (\(dataStart + header.dataBytes) needed); another program is writing it")
        }
        var values = [Float](repeating: 0, count: n * dd)
        try bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart
            for i in 0..<n {
                for (s, j) in pick.enumerated() {
                    let off = (i * d + j) * width
                    let v: Float
                    switch descr {
                    case "<f4": v = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: off, as: UInt32.self)))
                    case "<f8":
                        let x = Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: off, as: UInt64.self)))
                        v = Float(x)
                    case "<i4": v = Float(Int32(littleEndian: base.loadUnaligned(fromByteOffset: off, as: Int32.self)))
                    default: v = Float(Int64(littleEndian: base.loadUnaligned(fromByteOffset: off, as: Int64.self)))
                    }
                    if !v.isFinite {
                        throw StrataError.badData(file: path, line: nil, column: allNames[j],
                                                  message: "row \(i) (0-based) holds a NaN, infinite or out-of-Float-range value")
                    }
                    values[i * dd + s] = v
                }
            }
        }
        var out = Dataset(rows: n, cols: dd, values: values, columns: pick.map { allNames[$0] }, source: path)
        try attachIds(&out, sidecar: sidecar, npy: path, budget: options.memoryBudget)
        return out
    }

    /// Index of the first non-finite value (one parallel pass over the rows), nil when all finite.
    static func firstNonFinite(_ data: Dataset, shard: (rank: Int, size: Int)? = nil) -> Int? {
        var part = RowPartition(rows: data.rows, chunkRows: 1 << 16)
        var rowRange = 0..<data.rows
        if let s = shard {
            // The rank's own rows under the K-Means chunking.
            let p = RowPartition(rows: data.rows)
            let lo = s.rank * p.count / s.size, hi = (s.rank + 1) * p.count / s.size
            rowRange = lo >= hi ? 0..<0 : p.range(lo).lowerBound..<p.range(hi - 1).upperBound
            part = RowPartition(rows: rowRange.count, chunkRows: 1 << 16)
        }
        let offset = rowRange.lowerBound
        let firstBad = data.withRows { rows, _ in
            Parallel.map(part.count, threads: defaultThreadCount) { c -> Int in
                let pr = part.range(c)
                let r = (pr.lowerBound + offset)..<(pr.upperBound + offset)
                return rows.withRows(r) { x in
                    let count = r.count * data.cols
                    for i in 0..<count where !x[i].isFinite { return r.lowerBound * data.cols + i }
                    return Int.max
                }
            }
        }
        return firstBad.min().flatMap { $0 == Int.max ? nil : $0 }
    }

    /// Loads the sidecar's ids (outputs name customers by them). They are the one per-row cost
    /// besides labels that streaming does not remove: about 40 bytes per row.
    /// - Throws: `StrataError.unreadable` naming the ids file when the sidecar declares one that
    ///   is missing, `.badData` naming it when it holds another number of ids than rows.
    static func attachIds(_ data: inout Dataset, sidecar: NPYConverter.Sidecar?, npy: String, budget: Int) throws {
        if sidecar == nil, FileManager.default.fileExists(atPath: npy + ".ids") {
            data.warnings.append("\(npy).ids exists but \(npy).json (the sidecar that declares it) does not; ids are row numbers")
        }
        guard let s = sidecar, let idCol = s.idColumn, let file = s.idsFile else { return }
        let path = URL(fileURLWithPath: npy).deletingLastPathComponent().appendingPathComponent(file).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StrataError.unreadable(path: path, reason: "\(npy).json names it as the file of the '\(NPYHeader.clipped(idCol))' ids, but it does not exist; convert the CSV again or remove the sidecar")
        }
        let bytes = try readFileBytes(path)
        var ids: [String] = []
        ids.reserveCapacity(data.rows)
        var start = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            ids.append(String(decoding: bytes[start..<i], as: UTF8.self)); start = i + 1
        }
        if start < bytes.count { ids.append(String(decoding: bytes[start...], as: UTF8.self)) }   // no final newline
        guard ids.count == data.rows else {
            throw StrataError.badData(file: path, line: nil, column: nil, message: "holds \(ids.count) ids for \(data.rows) rows; convert the CSV again")
        }
        data.idColumn = idCol
        data.ids = ids
    }
}
