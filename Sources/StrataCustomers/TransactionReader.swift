import StrataCore
import StrataIO
import Foundation

/// What reading an order log found, besides the rows handed over.
public struct TransactionReadSummary: Sendable {
    /// Usable rows handed to the caller.
    public var rows = 0
    /// Rows skipped as bad (missing id, unparsable date or amount, short row, bad quoting).
    public var bad = 0
    /// The first bad rows (at most `maxBadRowsKept`), with line, column and reason.
    public var badRows: [BadRow] = []
    /// The date format used, and whether it was detected (false: forced with `dateFormat`).
    public var dateFormat: DateFormat = .yearFirst(separator: UInt8(ascii: "-"))
    public var dateFormatDetected = false

    /// "12 rows were skipped as bad: line 3, column date: ...; line 7 ...": the first `limit`
    /// reasons with line numbers, for errors and warnings.
    public func badRowsText(limit: Int = 3) -> String {
        guard bad > 0 else { return "" }
        let shown = badRows.prefix(limit).map { r in "line \(r.line)" + (r.column.map { ", column \($0)" } ?? "") + ": " + r.message }
        return "\(bad) row\(bad == 1 ? " was" : "s were") skipped as bad (" + shown.joined(separator: "; ") + (bad > shown.count ? "; ..." : "") + ")"
    }
}

/// Streams an order log: every usable row goes to `body` in file order; bad rows (missing id,
/// unparsable date, non-numeric amount, short row) are counted and returned, or with `strict`
/// the first one is an error naming file, line and column.
///
/// Fields are RFC 4180: a quoted field may hold the delimiter, doubled quotes and line breaks
/// (records are split on line ends outside quotes, across read chunks); spaces around unquoted
/// fields are trimmed. With the `whitespace` delimiter (CDNOW-style logs) fields are runs of
/// non-blank characters and quotes have no meaning. Dates: `DateFormat` (forced, or detected
/// from the first 1,000 data rows); amounts: `AmountFormat`.
///
/// Memory: one 4 MiB read buffer and the first 1,000 records (for date detection); nothing per
/// row is kept (the caller keeps what it aggregates), so 10M transactions cost what their
/// customers cost. Only the customer and product ids become Strings.
///
/// A Parquet input (`.parquet` file, directory, glob) is read by `ParquetTransactions` with the
/// same options and rules (typed dates give their UTC day; lines are row numbers).
public enum TransactionReader {
    static let chunkBytes = 4 << 20
    /// Data rows sampled to detect the date format.
    static let detectionRows = 1000
    /// Amounts (and quantity x price) beyond this magnitude are bad rows: no sum over any
    /// realistic log can then overflow a Double, and 1e15 is far above any single order.
    public static let maxAmount = 1e15

    /// Streams the usable transactions of `path` (`-`: standard input) to `body`; `observe` (optional) sees every byte
    /// of the file once, in order, as it is read (the segment job hashes the input with it, so
    /// the file is not read again for its checksum).
    ///
    /// - Throws: `.unreadable`; `.invalidArgument` for a column that is not in the header or a
    ///   bad `dateFormat`; `.badData` for an empty file, an undetectable or ambiguous date
    ///   format, and (with `strict`) the first bad row.
    public static func read(path: String, options o: TransactionOptions, maxBadRowsKept: Int = 100,
                            observe: ((UnsafeRawBufferPointer) -> Void)? = nil,
                            _ body: (Transaction) throws -> Void) throws -> TransactionReadSummary {
        if ColumnarInput.isColumnar(path) {
            return try ParquetTransactions.read(path: path, options: o, maxBadRowsKept: maxBadRowsKept, observe: observe, body)
        }
        // "-" is standard input, streamed like a file (never buffered whole); it can be read once.
        let fd = path == "-" ? dup(STDIN_FILENO) : open(path, O_RDONLY)
        guard fd >= 0 else { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var parser = try RowParser(path: path == "-" ? "stdin" : path, options: o, maxBadRowsKept: maxBadRowsKept)
        var splitter = RecordSplitter(delimiter: parser.delimiter, quotes: o.delimiter != .whitespace)
        var buffer = [UInt8](repeating: 0, count: chunkBytes)
        var skipBOM = true
        var st = stat()
        let size: Int? = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
        var bytesRead = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, chunkBytes) }
            if got < 0 { throw StrataError.unreadable(path: path, reason: String(cString: strerror(errno))) }
            if got == 0 { break }
            bytesRead += got
            JobProgress.shared.update(done: bytesRead, total: size, unit: "bytes")
            if let observe { buffer.withUnsafeBytes { observe(UnsafeRawBufferPointer(rebasing: $0[0..<got])) } }
            try buffer.withUnsafeBufferPointer { all in
                var start = 0
                if skipBOM { skipBOM = false; if got >= 3, all[0] == 0xEF, all[1] == 0xBB, all[2] == 0xBF { start = 3 } }
                try splitter.feed(UnsafeBufferPointer(rebasing: all[start..<got])) { record, line in try parser.record(record, line: line, body) }
            }
        }
        try splitter.finish { record, line in try parser.record(record, line: line, body) }
        try parser.finish(body)
        return parser.summary
    }
}

/// Cuts a byte stream into records at line ends outside quoted fields (RFC 4180), carrying a
/// record split across chunks. Records are handed over without their line end (LF or CRLF);
/// blank lines are skipped; `line` is the 1-based line where the record starts.
struct RecordSplitter {
    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }
    let delimiter: UInt8
    let quotes: Bool
    private var state = State.fieldStart
    private var carry: [UInt8] = []
    private var line = 1, recordLine = 1

    init(delimiter: UInt8, quotes: Bool) {
        self.delimiter = delimiter
        self.quotes = quotes
    }

    mutating func feed(_ b: UnsafeBufferPointer<UInt8>, _ emit: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var start = 0
        let n = b.count
        var i = 0
        while i < n {
            let c = b[i]
            if c == 0x0A {
                line += 1
                if state != .quoted {
                    try end(UnsafeBufferPointer(rebasing: b[start..<i]), emit)
                    start = i + 1
                    recordLine = line
                    state = .fieldStart
                }
                i += 1
                continue
            }
            if quotes {
                switch state {
                case .fieldStart: state = c == 0x22 ? .quoted : (c == delimiter ? .fieldStart : .unquoted)
                case .unquoted: if c == delimiter { state = .fieldStart }
                case .quoted: if c == 0x22 { state = .quoteInQuoted }
                case .quoteInQuoted: state = c == 0x22 ? .quoted : (c == delimiter ? .fieldStart : .unquoted)
                }
            }
            i += 1
        }
        if start < n { carry.append(contentsOf: b[start..<n]) }
    }

    /// Hands over the last record (a file without a final line end, or an unterminated quote).
    mutating func finish(_ emit: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        if !carry.isEmpty {
            let rest = carry
            carry = []
            try rest.withUnsafeBufferPointer { try emitTrimmed($0, emit) }
        }
    }

    private mutating func end(_ piece: UnsafeBufferPointer<UInt8>, _ emit: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        if carry.isEmpty { try emitTrimmed(piece, emit); return }
        carry.append(contentsOf: piece)
        let whole = carry
        carry.removeAll(keepingCapacity: true)
        try whole.withUnsafeBufferPointer { try emitTrimmed($0, emit) }
    }

    private func emitTrimmed(_ r: UnsafeBufferPointer<UInt8>, _ emit: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        var hi = r.count
        if hi > 0, r[hi - 1] == 0x0D { hi -= 1 }
        if hi == 0 { return }
        try emit(UnsafeBufferPointer(rebasing: r[0..<hi]), recordLine)
    }
}

/// Turns records into transactions: the header, date detection over the first rows, field
/// parsing and bad-row accounting.
struct RowParser {
    let path: String
    let o: TransactionOptions
    let maxBadRowsKept: Int
    let delimiter: UInt8
    let amountFormat: AmountFormat
    var dateFormat: DateFormat?
    var summary = TransactionReadSummary()
    private var header: [String] = []
    /// Fields per record: the header's, or the first row's without a header.
    private var width = 0
    private var sawHeader = false
    private var ci = 0, di = 0, ai = 0, qi: Int? = nil, pi: Int? = nil, mi: Int? = nil, ui: Int? = nil
    /// The highest column index a row must have (set with the columns).
    private var need = 0
    /// Records waiting for the date format to be detected.
    private var pending: [([UInt8], Int)] = []
    private var fields: [FieldSpan] = []

    init(path: String, options o: TransactionOptions, maxBadRowsKept: Int) throws {
        self.path = path
        self.o = o
        self.maxBadRowsKept = maxBadRowsKept
        switch o.delimiter {
        case .comma: delimiter = UInt8(ascii: ",")
        case .semicolon: delimiter = UInt8(ascii: ";")
        case .tab: delimiter = 0x09
        case .whitespace: delimiter = 0x20
        }
        amountFormat = o.amountFormat
        if let f = o.dateFormat {
            let forced = try DateFormat(forced: f)
            dateFormat = forced
            summary.dateFormat = forced
        }
    }

    mutating func record(_ r: UnsafeBufferPointer<UInt8>, line: Int, _ body: (Transaction) throws -> Void) throws {
        if !sawHeader {
            sawHeader = true
            try split(r, line: line)
            width = fields.count
            try columns(names: o.hasHeader ? fields.map { text(r, $0) } : [])
            if o.hasHeader { return }
        }
        if dateFormat == nil {
            pending.append((Array(r), line))
            if pending.count == TransactionReader.detectionRows { try detect(body) }
            return
        }
        try row(r, line: line, body)
    }

    /// End of file: detects the date format if still pending and flushes the held rows.
    mutating func finish(_ body: (Transaction) throws -> Void) throws {
        if !sawHeader { throw StrataError.badData(file: path, line: nil, column: nil, message: "the transactions file is empty") }
        if dateFormat == nil { try detect(body) }
    }

    private mutating func detect(_ body: (Transaction) throws -> Void) throws {
        var samples: [[UInt8]] = []
        for (r, line) in pending {
            try r.withUnsafeBufferPointer { b in
                try split(b, line: line)
                if di < fields.count { samples.append(Array(b[fields[di].start..<fields[di].end])) }
            }
        }
        let f = try DateFormat.detect(samples, file: path, column: columnName(o.date) ?? o.date.description, quoteValues: o.quoteValues)
        dateFormat = f
        summary.dateFormat = f
        summary.dateFormatDetected = true
        let held = pending
        pending = []
        for (r, line) in held { try r.withUnsafeBufferPointer { try row($0, line: line, body) } }
    }

    /// Cuts `r` into `fields` (RFC 4180, or runs of non-blanks for the whitespace delimiter).
    private mutating func split(_ r: UnsafeBufferPointer<UInt8>, line: Int) throws {
        fields.removeAll(keepingCapacity: true)
        if o.delimiter == .whitespace {
            var i = 0
            let n = r.count
            while i < n {
                while i < n, r[i] == 0x20 || r[i] == 0x09 { i += 1 }
                if i == n { break }
                let s = i
                while i < n, r[i] != 0x20, r[i] != 0x09 { i += 1 }
                fields.append(FieldSpan(start: s, end: i, quoted: false))
            }
            return
        }
        var tok = CSVTokenizer(bytes: r, delimiter: delimiter, file: path, firstLine: line, skipBOM: false)
        _ = try tok.next(into: &fields)
        for k in fields.indices where !fields[k].quoted {
            while fields[k].start < fields[k].end, r[fields[k].start] == 0x20 { fields[k].start += 1 }
            while fields[k].end > fields[k].start, r[fields[k].end - 1] == 0x20 { fields[k].end -= 1 }
        }
    }

    private func text(_ r: UnsafeBufferPointer<UInt8>, _ f: FieldSpan) -> String {
        CSVTokenizer(bytes: r, file: path, skipBOM: false).string(f)
    }

    /// A customer or product id, byte for byte (`CustomerKey.lossless`).
    private func id(_ r: UnsafeBufferPointer<UInt8>, _ f: FieldSpan) -> String {
        CSVTokenizer(bytes: r, file: path, skipBOM: false).idString(f)
    }

    private mutating func columns(names: [String]) throws {
        header = names
        func index(_ ref: ColumnRef, _ option: String) throws -> Int {
            switch ref {
            case let .position(p): return p - 1
            case let .name(n):
                guard o.hasHeader else { throw StrataError.invalidArgument("\(path): \(option) '\(n)' needs a header; with --no-header give a 1-based position") }
                guard let i = header.firstIndex(of: n) else {
                    throw StrataError.invalidArgument("\(path): \(option) '\(n)' is not a column; columns are: \(Excerpt.list(header))")
                }
                return i
            }
        }
        var seen = Set<String>()
        for h in header where !seen.insert(h).inserted {
            throw StrataError.badData(file: path, line: 1, column: h, message: "column name appears twice in the header; rename one")
        }
        ci = try index(o.customer, "--customer-column"); di = try index(o.date, "--date-column")
        ui = try o.price.map { try index($0, "--price-column") }
        ai = ui == nil ? try index(o.amount, "--amount-column") : -1
        qi = try o.quantity.map { try index($0, "--quantity-column") }
        pi = try o.product.map { try index($0, "--product-column") }
        mi = try o.margin.map { try index($0, "--margin-column") }
        need = max(ci, di, ai, qi ?? 0, pi ?? 0, mi ?? 0, ui ?? 0)
        if ui != nil && qi == nil { throw StrataError.invalidArgument("\(path): --price-column needs --quantity-column (amount = quantity x price)") }
    }

    private func columnName(_ c: ColumnRef?) -> String? {
        guard let c else { return nil }
        if case let .position(p) = c, p - 1 < header.count { return header[p - 1] }
        return c.description
    }

    private mutating func fail(_ line: Int, _ column: ColumnRef?, _ message: String) throws {
        let r = BadRow(line: line, column: columnName(column), message: message)
        if o.strict { throw StrataError.badData(file: path, line: r.line, column: r.column, message: r.message + " (--strict)") }
        summary.bad += 1
        if summary.badRows.count < maxBadRowsKept { summary.badRows.append(r) }
    }

    private mutating func row(_ r: UnsafeBufferPointer<UInt8>, line: Int, _ body: (Transaction) throws -> Void) throws {
        do { try split(r, line: line) } catch let StrataError.badData(_, _, _, message) { try fail(line, nil, message); return }
        guard fields.count > need else { try fail(line, nil, "row has \(fields.count) fields, needs at least \(need + 1)"); return }
        // More fields than the header: an unquoted delimiter inside a value (`1,234.50`) would
        // otherwise shift or cut the amount silently.
        guard fields.count <= width else {
            try fail(line, nil, "row has \(fields.count) fields but the \(o.hasHeader ? "header" : "first row") has \(width) (an unquoted delimiter inside a value?)"); return
        }
        func bytes(_ k: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: r[fields[k].start..<fields[k].end]) }
        // " 'value'" (an excerpt), or nothing when values are withheld (`quoteValues`).
        func shown(_ k: Int) -> String { o.quoteValues ? " '\(Excerpt.of(text(r, fields[k])))'" : "" }
        let cf = fields[ci]
        guard cf.end > cf.start else { try fail(line, o.customer, "missing customer id"); return }
        guard let day = dateFormat!.day(bytes(di)) else {
            try fail(line, o.date, "date\(shown(di)) does not match \(dateFormat!)"); return
        }
        func number(_ k: Int, _ what: String, _ ref: ColumnRef?) throws -> Double? {
            guard let v = amountFormat.parse(bytes(k)) else {
                let hint = amountFormat.isPlain && bytes(k).contains(where: { $0 == UInt8(ascii: ",") || $0 > 0x7F || $0 == UInt8(ascii: "$") })
                    ? " (for decimal commas, currency symbols or thousands separators use --decimal and --currency)" : ""
                try fail(line, ref, "\(what)\(shown(k)) is not a number" + hint); return nil
            }
            guard abs(v) <= TransactionReader.maxAmount else { try fail(line, ref, "\(what)\(shown(k)) is beyond +-1e15"); return nil }
            return v
        }
        var quantity: Double? = nil
        if let qi { guard let q = try number(qi, "quantity", o.quantity) else { return }; quantity = q }
        let amount: Double
        if let ui {
            guard let price = try number(ui, "price", o.price) else { return }
            amount = quantity! * price
            guard abs(amount) <= TransactionReader.maxAmount else { try fail(line, o.price, "quantity x price is beyond +-1e15"); return }
        } else {
            guard let a = try number(ai, "amount", o.amount) else { return }
            amount = a
        }
        var margin: Double? = nil
        if let mi { guard let v = try number(mi, "margin", o.margin) else { return }; margin = v }
        if let pi, fields[pi].end <= fields[pi].start { try fail(line, o.product, "missing product id"); return }
        summary.rows += 1
        try body(Transaction(customer: id(r, cf), day: day, amount: amount, quantity: quantity, product: pi.map { id(r, fields[$0]) },
                             margin: margin, line: line))
    }
}
