import Foundation

/// A column of a transactions file: by header name, or by 1-based position (files without header).
public enum ColumnRef: Sendable, Equatable, CustomStringConvertible {
    case name(String)
    case position(Int)

    /// "3" is a position, anything else a name.
    public init(_ s: String) { if let p = Int(s), p >= 1 { self = .position(p) } else { self = .name(s) } }

    public var description: String {
        switch self { case let .name(n): return n; case let .position(p): return "#\(p)" }
    }
}

/// How to read an order log.
public struct TransactionOptions: Sendable {
    public enum Delimiter: String, Sendable { case comma, semicolon, tab, whitespace }
    public var customer: ColumnRef = .name("customer_id")
    public var date: ColumnRef = .name("date")
    public var amount: ColumnRef = .name("amount")
    public var quantity: ColumnRef? = nil
    public var product: ColumnRef? = nil
    /// Optional margin (profit) per row, for ABC by margin.
    public var margin: ColumnRef? = nil
    public var delimiter: Delimiter = .comma
    public var hasHeader = true
    /// strftime-style format (%Y %m %d %H %M %S and literal characters); nil: ISO 8601
    /// (YYYY-MM-DD, optionally followed by T or a space and a time, which is ignored).
    public var dateFormat: String? = nil
    /// Stop at the first bad row instead of counting and skipping it.
    public var strict = false

    public init() {}

    public static func parseDelimiter(_ s: String) -> Delimiter? {
        switch s {
        case ",", "comma": return .comma
        case ";", "semicolon": return .semicolon
        case "tab", "\\t": return .tab
        case "whitespace", "space": return .whitespace
        default: return nil
        }
    }
}

/// A row that could not be used, with where and why.
public struct BadRow: Sendable, Equatable {
    public var line: Int
    public var column: String?
    public var message: String
}

/// One usable transaction, as the streaming reader hands it over.
public struct Transaction: Sendable {
    public var customer: String
    /// Days since 1970-01-01.
    public var day: Int
    public var amount: Double
    public var quantity: Double?
    public var product: String?
    public var margin: Double? = nil
}

/// Calendar days without Foundation's Calendar (fast, proleptic Gregorian; H. Hinnant's algorithm).
public enum CivilDate {
    public static func days(year y0: Int, month m: Int, day d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func string(_ days: Int) -> String {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// Parses `text` with an strftime-style format, or ISO 8601 when `format` is nil.
    public static func parse(_ text: Substring, format: String?) -> Int? {
        let b = Array(text.utf8)
        func digits(_ i: inout Int, _ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var v = 0
            for j in i..<(i + count) { let c = b[j] &- 0x30; guard c < 10 else { return nil }; v = v * 10 + Int(c) }
            i += count
            return v
        }
        var y = 0, m = 0, d = 0, i = 0
        if let format {
            let f = Array(format.utf8)
            var k = 0
            while k < f.count {
                if f[k] == UInt8(ascii: "%"), k + 1 < f.count {
                    switch f[k + 1] {
                    case UInt8(ascii: "Y"): guard let v = digits(&i, 4) else { return nil }; y = v
                    case UInt8(ascii: "m"): guard let v = digits(&i, 2) else { return nil }; m = v
                    case UInt8(ascii: "d"): guard let v = digits(&i, 2) else { return nil }; d = v
                    case UInt8(ascii: "H"), UInt8(ascii: "M"), UInt8(ascii: "S"): guard digits(&i, 2) != nil else { return nil }
                    default: return nil
                    }
                    k += 2
                } else {
                    guard i < b.count, b[i] == f[k] else { return nil }
                    i += 1; k += 1
                }
            }
            guard i == b.count else { return nil }
        } else {
            guard let yy = digits(&i, 4), i < b.count, b[i] == UInt8(ascii: "-") else { return nil }
            i += 1
            guard let mm = digits(&i, 2), i < b.count, b[i] == UInt8(ascii: "-") else { return nil }
            i += 1
            guard let dd = digits(&i, 2) else { return nil }
            guard i == b.count || b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: " ") else { return nil }
            y = yy; m = mm; d = dd
        }
        guard m >= 1 && m <= 12 && d >= 1 && d <= 31 else { return nil }
        let days = self.days(year: y, month: m, day: d)
        // Reject dates like 2023-02-30 that roll over.
        guard string(days) == String(format: "%04d-%02d-%02d", y, m, d) else { return nil }
        return days
    }
}

/// Streams an order log: every usable row goes to `body` in file order; bad rows (missing id,
/// unparsable date, non-numeric amount, short row) are counted and returned, or with `strict`
/// the first one is an error naming file, line and column. Memory: the file's bytes plus what
/// `body` keeps (the reader itself keeps nothing per row).
public enum TransactionReader {
    public static func read(path: String, options o: TransactionOptions, maxBadRowsKept: Int = 100,
                            _ body: (Transaction) throws -> Void) throws -> (rows: Int, bad: Int, badRows: [BadRow]) {
        let bytes = try readFileBytes(path)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw StrataError.badData(file: path, line: nil, column: nil, message: "the transactions file is empty")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var header: [String] = []
        var rows = 0, bad = 0
        var badRows: [BadRow] = []
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
        var ci = 0, di = 0, ai = 0, qi: Int? = nil, pi: Int? = nil, mi: Int? = nil
        var lineNo = 0
        var first = true
        // "\r\n" is a single Character in Swift: split on any newline character.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }) {
            lineNo += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let fields: [Substring]
            switch o.delimiter {
            case .comma: fields = line.split(separator: ",", omittingEmptySubsequences: false)
            case .semicolon: fields = line.split(separator: ";", omittingEmptySubsequences: false)
            case .tab: fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            case .whitespace: fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            }
            if first {
                first = false
                if o.hasHeader {
                    header = fields.map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                }
                ci = try index(o.customer, "--customer-column"); di = try index(o.date, "--date-column"); ai = try index(o.amount, "--amount-column")
                qi = try o.quantity.map { try index($0, "--quantity-column") }
                pi = try o.product.map { try index($0, "--product-column") }
                mi = try o.margin.map { try index($0, "--margin-column") }
                if o.hasHeader { continue }
            }
            func fail(_ column: ColumnRef?, _ message: String) throws {
                let b = BadRow(line: lineNo, column: column.map { c in
                    if case let .position(p) = c, p - 1 < header.count { return header[p - 1] }
                    return c.description
                }, message: message)
                if o.strict { throw StrataError.badData(file: path, line: b.line, column: b.column, message: b.message + " (--strict)") }
                bad += 1
                if badRows.count < maxBadRowsKept { badRows.append(b) }
            }
            let need = max(ci, di, ai, qi ?? 0, pi ?? 0, mi ?? 0)
            guard fields.count > need else { try fail(nil, "row has \(fields.count) fields, needs at least \(need + 1)"); continue }
            func clean(_ s: Substring) -> Substring {
                var t = s
                while let c = t.first, c == " " || c == "\"" { t.removeFirst() }
                while let c = t.last, c == " " || c == "\"" { t.removeLast() }
                return t
            }
            let customer = clean(fields[ci])
            guard !customer.isEmpty else { try fail(o.customer, "missing customer id"); continue }
            guard let day = CivilDate.parse(clean(fields[di]), format: o.dateFormat) else {
                try fail(o.date, "date '\(clean(fields[di]))' does not match \(o.dateFormat ?? "ISO 8601 (YYYY-MM-DD)")"); continue
            }
            guard let amount = Double(clean(fields[ai])), amount.isFinite else {
                try fail(o.amount, "amount '\(clean(fields[ai]))' is not a number"); continue
            }
            var quantity: Double? = nil
            if let qi {
                guard let q = Double(clean(fields[qi])), q.isFinite else { try fail(o.quantity, "quantity '\(clean(fields[qi]))' is not a number"); continue }
                quantity = q
            }
            var margin: Double? = nil
            if let mi {
                guard let v = Double(clean(fields[mi])), v.isFinite else { try fail(o.margin, "margin '\(clean(fields[mi]))' is not a number"); continue }
                margin = v
            }
            if let pi, clean(fields[pi]).isEmpty { try fail(o.product, "missing product id"); continue }
            rows += 1
            try body(Transaction(customer: String(customer), day: day, amount: amount, quantity: quantity,
                                 product: pi.map { String(clean(fields[$0])) }, margin: margin))
        }
        return (rows, bad, badRows)
    }
}
