import StrataCore
import StrataIO
import Foundation

/// Streams an order log: every usable row goes to `body` in file order; bad rows (missing id,
/// unparsable date, non-numeric amount, short row) are counted and returned, or with `strict`
/// the first one is an error naming file, line and column.
///
/// Memory: one 4 MiB read buffer; nothing per row is kept (the caller keeps what it aggregates),
/// so 10M transactions cost what their customers cost. Fields are cut from bytes; only the
/// customer and product ids become Strings.
public enum TransactionReader {
    static let chunkBytes = 4 << 20

    /// Streams the usable transactions of `path` to `body`; `observe` (optional) sees every byte
    /// of the file once, in order, as it is read (the segment job hashes the input with it, so
    /// the file is not read again for its checksum).
    public static func read(path: String, options o: TransactionOptions, maxBadRowsKept: Int = 100,
                            observe: ((UnsafeRawBufferPointer) -> Void)? = nil,
                            _ body: (Transaction) throws -> Void) throws -> (rows: Int, bad: Int, badRows: [BadRow]) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let delimiter: UInt8
        switch o.delimiter {
        case .comma: delimiter = UInt8(ascii: ",")
        case .semicolon: delimiter = UInt8(ascii: ";")
        case .tab: delimiter = 0x09
        case .whitespace: delimiter = 0x20
        }
        let whitespace = o.delimiter == .whitespace
        let format = o.dateFormat.map { Array($0.utf8) }
        var header: [String] = []
        var rows = 0, bad = 0, lineNo = 0
        var badRows: [BadRow] = []
        var first = true, sawContent = false
        var ci = 0, di = 0, ai = 0, qi: Int? = nil, pi: Int? = nil, mi: Int? = nil
        var fields: [(Int, Int)] = []
        func index(_ ref: ColumnRef, _ option: String) throws -> Int {
            switch ref {
            case let .position(p): return p - 1
            case let .name(n):
                guard o.hasHeader else { throw StrataError.invalidArgument("\(path): \(option) '\(n)' needs a header; with --no-header give a 1-based position") }
                guard let i = header.firstIndex(of: n) else {
                    throw StrataError.invalidArgument("\(path): \(option) '\(n)' is not a column; columns are: \(header.joined(separator: ", "))")
                }
                return i
            }
        }
        func columnName(_ c: ColumnRef?) -> String? {
            guard let c else { return nil }
            if case let .position(p) = c, p - 1 < header.count { return header[p - 1] }
            return c.description
        }
        // Processes one line (bytes without the line end).
        func line(_ b: UnsafeBufferPointer<UInt8>) throws {
            lineNo += 1
            // Cut fields (trim spaces and quotes).
            fields.removeAll(keepingCapacity: true)
            var i = 0
            let n = b.count
            if whitespace {
                while i < n {
                    while i < n, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
                    if i == n { break }
                    let s = i
                    while i < n, b[i] != 0x20, b[i] != 0x09 { i += 1 }
                    fields.append((s, i))
                }
            } else {
                var s = 0
                while true {
                    while i < n, b[i] != delimiter { i += 1 }
                    var lo = s, hi = i
                    while lo < hi, b[lo] == 0x20 || b[lo] == 0x22 { lo += 1 }
                    while hi > lo, b[hi - 1] == 0x20 || b[hi - 1] == 0x22 { hi -= 1 }
                    fields.append((lo, hi))
                    if i >= n { break }
                    i += 1; s = i
                }
            }
            if fields.isEmpty || (fields.count == 1 && fields[0].0 == fields[0].1) { return }   // blank line
            sawContent = true
            func text(_ f: (Int, Int)) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[f.0..<f.1]), as: UTF8.self) }
            if first {
                first = false
                if o.hasHeader { header = fields.map(text) }
                ci = try index(o.customer, "--customer-column"); di = try index(o.date, "--date-column"); ai = try index(o.amount, "--amount-column")
                qi = try o.quantity.map { try index($0, "--quantity-column") }
                pi = try o.product.map { try index($0, "--product-column") }
                mi = try o.margin.map { try index($0, "--margin-column") }
                if o.hasHeader { return }
            }
            func fail(_ column: ColumnRef?, _ message: String) throws {
                let r = BadRow(line: lineNo, column: columnName(column), message: message)
                if o.strict { throw StrataError.badData(file: path, line: r.line, column: r.column, message: r.message + " (--strict)") }
                bad += 1
                if badRows.count < maxBadRowsKept { badRows.append(r) }
            }
            let need = max(ci, di, ai, qi ?? 0, pi ?? 0, mi ?? 0)
            guard fields.count > need else { try fail(nil, "row has \(fields.count) fields, needs at least \(need + 1)"); return }
            let cf = fields[ci]
            guard cf.1 > cf.0 else { try fail(o.customer, "missing customer id"); return }
            let df = fields[di]
            guard let day = CivilDate.parse(UnsafeBufferPointer(rebasing: b[df.0..<df.1]), format: format) else {
                try fail(o.date, "date '\(text(df))' does not match \(o.dateFormat ?? "ISO 8601 (YYYY-MM-DD)")"); return
            }
            func number(_ f: (Int, Int)) -> Double? { NumberParser.parseDouble(b.baseAddress! + f.0, f.1 - f.0) }
            guard let amount = number(fields[ai]) else { try fail(o.amount, "amount '\(text(fields[ai]))' is not a number"); return }
            var quantity: Double? = nil
            if let qi {
                guard let q = number(fields[qi]) else { try fail(o.quantity, "quantity '\(text(fields[qi]))' is not a number"); return }
                quantity = q
            }
            var margin: Double? = nil
            if let mi {
                guard let v = number(fields[mi]) else { try fail(o.margin, "margin '\(text(fields[mi]))' is not a number"); return }
                margin = v
            }
            if let pi, fields[pi].1 <= fields[pi].0 { try fail(o.product, "missing product id"); return }
            rows += 1
            try body(Transaction(customer: text(cf), day: day, amount: amount, quantity: quantity, product: pi.map { text(fields[$0]) }, margin: margin))
        }
        // Chunked reading; a line split across chunks is carried over.
        var buffer = [UInt8](repeating: 0, count: chunkBytes)
        var carry: [UInt8] = []
        var skipBOM = true
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, chunkBytes) }
            if got < 0 { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            if got == 0 { break }
            if let observe { buffer.withUnsafeBytes { observe(UnsafeRawBufferPointer(rebasing: $0[0..<got])) } }
            try buffer.withUnsafeBufferPointer { all in
                var start = 0
                if skipBOM { skipBOM = false; if got >= 3, all[0] == 0xEF, all[1] == 0xBB, all[2] == 0xBF { start = 3 } }
                var i = start
                while i < got {
                    if all[i] == 0x0A {
                        var hi = i
                        if hi > start, all[hi - 1] == 0x0D { hi -= 1 }
                        if carry.isEmpty {
                            try line(UnsafeBufferPointer(rebasing: all[start..<hi]))
                        } else {
                            carry.append(contentsOf: all[start..<i])
                            if carry.last == 0x0D { carry.removeLast() }
                            try carry.withUnsafeBufferPointer { try line($0) }
                            carry.removeAll(keepingCapacity: true)
                        }
                        start = i + 1
                    }
                    i += 1
                }
                if start < got { carry.append(contentsOf: all[start..<got]) }
            }
        }
        if !carry.isEmpty {
            if carry.last == 0x0D { carry.removeLast() }
            try carry.withUnsafeBufferPointer { try line($0) }
        }
        if !sawContent { throw StrataError.badData(file: path, line: nil, column: nil, message: "the transactions file is empty") }
        return (rows, bad, badRows)
    }
}
