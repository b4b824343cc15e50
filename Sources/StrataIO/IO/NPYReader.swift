import StrataCore
import Foundation
import StrataKernels

/// Reads NumPy `.npy` files (format versions 1-3): 2-D, C order, little-endian float32/float64
/// (int32/int64 also accepted and converted). Columns are named x0, x1, ...; ids are row numbers.
///
/// Errors name the file and, for bad values, the 0-based row and the column.
public enum NPYReader {
    public static func read(path: String, options: TableReadOptions = TableReadOptions()) throws -> Dataset {
        // Only the header is read first: float32 data with every column then goes straight from the
        // file into the table (peak memory = the table, not file + table).
        let head = try readFileBytes(path, limit: 1 << 16)
        func bad(_ m: String) -> StrataError { .badData(file: path, line: nil, column: nil, message: m) }
        guard head.count >= 10, head[0] == 0x93, Array(head[1...5]) == Array("NUMPY".utf8) else {
            throw bad("not a NumPy .npy file (bad magic bytes)")
        }
        let major = head[6]
        let headerLen: Int, headerStart: Int
        if major == 1 {
            headerLen = Int(head[8]) | Int(head[9]) << 8; headerStart = 10
        } else if major == 2 || major == 3 {
            guard head.count >= 12 else { throw bad("truncated header") }
            headerLen = Int(head[8]) | Int(head[9]) << 8 | Int(head[10]) << 16 | Int(head[11]) << 24; headerStart = 12
        } else { throw bad("unsupported .npy format version \(major)") }
        guard head.count >= headerStart + headerLen else { throw bad("truncated header") }
        let header = String(decoding: head[headerStart..<(headerStart + headerLen)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrRaw = field("descr"), let q1 = descrRaw.firstIndex(of: "'"),
              let q2 = descrRaw[descrRaw.index(after: q1)...].firstIndex(of: "'") else { throw bad("header has no 'descr'") }
        let descr = String(descrRaw[descrRaw.index(after: q1)..<q2])
        if let fo = field("fortran_order"), fo.hasPrefix("True") {
            throw bad("array is in Fortran order; save it with numpy.ascontiguousarray(a) first")
        }
        guard let shapeRaw = field("shape"), let open = shapeRaw.firstIndex(of: "("), let close = shapeRaw.firstIndex(of: ")") else {
            throw bad("header has no 'shape'")
        }
        let dims = shapeRaw[shapeRaw.index(after: open)..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let n: Int, d: Int
        switch dims.count {
        case 1: n = dims[0]; d = 1
        case 2: n = dims[0]; d = dims[1]
        default: throw bad("array has \(dims.count) dimensions; a 2-D (rows x features) array is required")
        }
        let width: Int
        switch descr {
        case "<f4", "<i4": width = 4
        case "<f8", "<i8": width = 8
        default: throw bad("dtype '\(descr)' is not supported; use little-endian float32 or float64")
        }
        let dataStart = headerStart + headerLen
        let fileSize = try fileSizeOf(path)
        guard fileSize - dataStart >= n * d * width else {
            throw bad("file is truncated: shape (\(n), \(d)) needs \(n * d * width) data bytes, found \(fileSize - dataStart)")
        }
        if n == 0 { throw bad("the array has no rows") }
        // A sidecar from `strata convert` names the columns and holds the ids.
        let sidecar = NPYConverter.Sidecar.load(npy: path).flatMap { $0.columns.count == d && $0.rows == n ? $0 : nil }
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
            let file = try MappedFile(path: path)
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
    static func attachIds(_ data: inout Dataset, sidecar: NPYConverter.Sidecar?, npy: String, budget: Int) throws {
        guard let s = sidecar, let idCol = s.idColumn, let file = s.idsFile else { return }
        let path = URL(fileURLWithPath: npy).deletingLastPathComponent().appendingPathComponent(file).path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let bytes = try readFileBytes(path)
        var ids: [String] = []
        ids.reserveCapacity(data.rows)
        var start = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            ids.append(String(decoding: bytes[start..<i], as: UTF8.self)); start = i + 1
        }
        guard ids.count == data.rows else {
            throw StrataError.badData(file: path, line: nil, column: nil, message: "holds \(ids.count) ids for \(data.rows) rows; convert the CSV again")
        }
        data.idColumn = idCol
        data.ids = ids
    }
}
