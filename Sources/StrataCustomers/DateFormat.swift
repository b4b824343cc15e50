import StrataCore

/// How an order log writes its dates, parsed straight from bytes to a day number (days since
/// 1970-01-01, proleptic Gregorian).
///
/// Accepted (and detected from the first rows when `--date-format` is not given):
/// - `yearFirst`: ISO 8601 `2017-01-31`, also `2017/1/31`, `2017.01.31`; optionally followed by
///   `T` or a space and a time `8:26`, `08:26:00`, `08:26:00.123`, then an optional zone `Z`,
///   `+01:00`, `+0100`, ` UTC`, ` GMT`. The day is the calendar date as written (the customer's
///   local day), not converted to UTC.
/// - `compact`: `20170131` (eight digits).
/// - `monthFirst` / `dayFirst`: `1/31/2017`, `31/1/2017`, `31.01.2017`, `31-01-2017`, digits not
///   zero-padded, optionally with a time (`8:26`, `08:26:00`, `8:26 PM`). Which one is detected
///   from the values: a first number above 12 means day-first, a second above 12 month-first;
///   when no value decides it (and the separator is not `.`, which is always day-first) the
///   detection fails with a message asking for `--date-format`.
/// - `epochSeconds` / `epochMilliseconds`: Unix time (UTC day), 9-10 or 12-13 integer digits
///   when detected; `epoch` / `epoch_ms` when forced.
/// - `pattern`: an strftime-style format given with `--date-format`: `%Y` (4 digits), `%y`
///   (2 digits, 20yy), `%m` `%d` `%H` `%I` `%M` `%S` (1-2 digits), `%f` (fraction digits), `%b`
///   `%B` (English month names), `%p` (AM/PM), `%z` (`Z` or +hh[:mm]), `%Z` (zone letters), `%%`.
public enum DateFormat: Sendable, Equatable, CustomStringConvertible {
    case yearFirst(separator: UInt8)
    case compact
    case monthFirst(separator: UInt8)
    case dayFirst(separator: UInt8)
    case epochSeconds
    case epochMilliseconds
    case pattern(String)
    /// Typed dates of a Parquet input (DATE, TIMESTAMP, INT96): no text to parse; the day is the
    /// value's UTC calendar day (a timestamp without time zone: its wall-clock day).
    case typed

    /// A forced format as users write it: `iso8601`, `epoch`, `epoch_ms`, or an strftime pattern.
    /// Throws `.invalidArgument` for a pattern with an unsupported directive.
    public init(forced s: String) throws {
        switch s.lowercased() {
        case "iso", "iso8601", "iso-8601": self = .yearFirst(separator: UInt8(ascii: "-"))
        case "epoch", "epoch_s", "epoch-s", "unix": self = .epochSeconds
        case "epoch_ms", "epoch-ms", "unix_ms": self = .epochMilliseconds
        default:
            let b = Array(s.utf8)
            var k = 0
            while k < b.count {
                if b[k] == UInt8(ascii: "%") {
                    guard k + 1 < b.count, Self.directives.contains(b[k + 1]) else {
                        throw StrataError.invalidArgument("date format '\(s)': unsupported directive at position \(k + 1); use %Y %y %m %d %H %I %M %S %f %b %B %p %z %Z %%")
                    }
                    k += 2
                } else { k += 1 }
            }
            self = .pattern(s)
        }
    }

    private static let directives = Set("YymdHIMSfbBpzZ%".utf8)

    public var description: String {
        func sep(_ c: UInt8) -> String { String(UnicodeScalar(c)) }
        switch self {
        case let .yearFirst(s): return s == UInt8(ascii: "-") ? "ISO 8601 (YYYY-MM-DD)" : "YYYY\(sep(s))MM\(sep(s))DD"
        case .compact: return "YYYYMMDD"
        case let .monthFirst(s): return "M\(sep(s))D\(sep(s))YYYY (month first)"
        case let .dayFirst(s): return "D\(sep(s))M\(sep(s))YYYY (day first)"
        case .epochSeconds: return "Unix epoch seconds (UTC)"
        case .epochMilliseconds: return "Unix epoch milliseconds (UTC)"
        case let .pattern(p): return p
        case .typed: return "Parquet DATE/TIMESTAMP values (UTC day)"
        }
    }

    /// The day number of a date field (surrounding spaces ignored), nil when it does not match.
    /// O(length of the field); no allocation.
    public func day(_ field: UnsafeBufferPointer<UInt8>) -> Int? {
        var lo = 0, hi = field.count
        while lo < hi, field[lo] == 0x20 { lo += 1 }
        while hi > lo, field[hi - 1] == 0x20 { hi -= 1 }
        var s = DateScanner(b: UnsafeBufferPointer(rebasing: field[lo..<hi]))
        switch self {
        case let .yearFirst(sep):
            guard let y = s.digits(4, 4), s.skip(sep), let m = s.digits(1, 2), s.skip(sep), let d = s.digits(1, 2) else { return nil }
            if !s.atEnd { guard s.skip(UInt8(ascii: "T")) || s.skip(0x20), s.timeOfDay(), s.zone() else { return nil } }
            return s.atEnd ? CivilDate.validDays(year: y, month: m, day: d) : nil
        case .compact:
            guard let y = s.digits(4, 4), let m = s.digits(2, 2), let d = s.digits(2, 2), s.atEnd else { return nil }
            return CivilDate.validDays(year: y, month: m, day: d)
        case let .monthFirst(sep), let .dayFirst(sep):
            guard let a = s.digits(1, 2), s.skip(sep), let b = s.digits(1, 2), s.skip(sep), let y = s.digits(4, 4) else { return nil }
            if !s.atEnd { guard s.skip(0x20) || s.skip(UInt8(ascii: "T")), s.timeOfDay(), s.meridiem(), s.zone() else { return nil } }
            guard s.atEnd else { return nil }
            if case .monthFirst = self { return CivilDate.validDays(year: y, month: a, day: b) }
            return CivilDate.validDays(year: y, month: b, day: a)
        case .epochSeconds, .epochMilliseconds:
            guard let v = s.integer(), s.atEnd else { return nil }
            let perDay: Int64 = self == .epochSeconds ? 86_400 : 86_400_000
            let d = v >= 0 ? v / perDay : -((-v + perDay - 1) / perDay)
            // Years 1-9999, as every other form.
            guard d >= -719_162 && d <= 2_932_896 else { return nil }
            return Int(d)
        case let .pattern(p):
            return s.pattern(Array(p.utf8))
        case .typed:
            return nil
        }
    }

    /// Detects the format of a column from sample values (the first rows of the file).
    ///
    /// - Returns: the format under which most samples parse (ties: the order of the cases).
    /// - Throws: `.badData` when no format fits any sample, or when month-first and day-first
    ///   are both possible for every sample (or both are contradicted), naming an example
    ///   (unless `quoteValues` is false: then no value is quoted).
    public static func detect(_ samples: [[UInt8]], file: String, column: String, quoteValues: Bool = true) throws -> DateFormat {
        func excerpt(_ s: [UInt8]) -> String { quoteValues ? Self.excerpt(s) : "..." }
        let nonEmpty = samples.filter { !$0.allSatisfy { $0 == 0x20 } }
        guard let example = nonEmpty.first else { return .yearFirst(separator: UInt8(ascii: "-")) }
        func count(_ f: DateFormat) -> Int { nonEmpty.reduce(0) { n, s in n + (s.withUnsafeBufferPointer { f.day($0) } == nil ? 0 : 1) } }
        var candidates: [DateFormat] = [.yearFirst(separator: UInt8(ascii: "-")), .yearFirst(separator: UInt8(ascii: "/")),
                                        .yearFirst(separator: UInt8(ascii: ".")), .compact]
        // Epoch only for integers of the usual widths (an 8-digit number is YYYYMMDD, not 1970).
        let widths = Set(nonEmpty.map { s in s.filter { $0 >= 0x30 && $0 <= 0x39 }.count })
        if widths.isSubset(of: [9, 10]) { candidates.append(.epochSeconds) }
        if widths.isSubset(of: [12, 13]) { candidates.append(.epochMilliseconds) }
        // Day/month order from the values.
        for sep in [UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "-")] {
            let mf = DateFormat.monthFirst(separator: sep), df = DateFormat.dayFirst(separator: sep)
            let nm = count(mf), nd = count(df)
            if nm == 0 && nd == 0 { continue }
            let firstAbove12 = nonEmpty.first { leadingNumbers($0, sep).map { $0.0 > 12 && $0.0 <= 31 } ?? false }
            let secondAbove12 = nonEmpty.first { leadingNumbers($0, sep).map { $0.1 > 12 && $0.1 <= 31 } ?? false }
            switch (firstAbove12, secondAbove12) {
            case let (a?, b?):
                throw StrataError.badData(file: file, line: nil, column: column,
                                          message: "dates are written both day first ('\(excerpt(a))') and month first ('\(excerpt(b))'); give --date-format")
            case (_?, nil): candidates.append(df)
            case (nil, _?): candidates.append(mf)
            case (nil, nil):
                if sep == UInt8(ascii: ".") { candidates.append(df); break }
                if nonEmpty.allSatisfy({ leadingNumbers($0, sep).map { $0.0 == $0.1 } ?? true }) { candidates.append(df); break }
                throw StrataError.badData(file: file, line: nil, column: column,
                                          message: "dates like '\(excerpt(example))' could be day first or month first and no value in the first rows decides it; give --date-format %d/%m/%Y or %m/%d/%Y")
            }
        }
        var best: DateFormat? = nil, bestCount = 0
        for f in candidates { let n = count(f); if n > bestCount { best = f; bestCount = n } }
        guard let best else {
            throw StrataError.badData(file: file, line: nil, column: column,
                                      message: "dates like '\(excerpt(example))' are in no recognised format (ISO 8601, YYYYMMDD, M/D/YYYY, D/M/YYYY, D.M.YYYY, Unix epoch); give --date-format")
        }
        return best
    }

    private static func excerpt(_ s: [UInt8]) -> String { Excerpt.of(String(decoding: s, as: UTF8.self)) }

    /// The first two numbers of `a SEP b SEP ...`, for the day/month decision.
    private static func leadingNumbers(_ s: [UInt8], _ sep: UInt8) -> (Int, Int)? {
        s.withUnsafeBufferPointer { b in
            var sc = DateScanner(b: b)
            while !sc.atEnd, b[sc.i] == 0x20 { sc.i += 1 }
            guard let a = sc.digits(1, 2), sc.skip(sep), let c = sc.digits(1, 2), sc.skip(sep), sc.digits(4, 4) != nil else { return nil }
            return (a, c)
        }
    }
}

/// A cursor over the bytes of one date field.
struct DateScanner {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    var atEnd: Bool { i == b.count }

    mutating func skip(_ c: UInt8) -> Bool {
        guard i < b.count, b[i] == c else { return false }
        i += 1
        return true
    }

    /// `min...max` decimal digits (greedy), nil when fewer than `min`.
    mutating func digits(_ min: Int, _ max: Int) -> Int? {
        var v = 0, n = 0
        while n < max, i < b.count, b[i] &- 0x30 < 10 { v = v * 10 + Int(b[i] &- 0x30); i += 1; n += 1 }
        return n >= min ? v : nil
    }

    /// An optionally signed integer of at most 18 digits, with an optional fraction that is ignored.
    mutating func integer() -> Int64? {
        var negative = false
        if skip(UInt8(ascii: "-")) { negative = true } else { _ = skip(UInt8(ascii: "+")) }
        var v: Int64 = 0, n = 0
        while i < b.count, b[i] &- 0x30 < 10 {
            guard n < 18 else { return nil }
            v = v * 10 + Int64(b[i] &- 0x30); i += 1; n += 1
        }
        guard n > 0 else { return nil }
        if skip(UInt8(ascii: ".")) { while i < b.count, b[i] &- 0x30 < 10 { i += 1 } }
        return negative ? -v : v
    }

    /// `H:MM`, `HH:MM:SS`, `HH:MM:SS.fff` (hours 0-23, minutes and seconds 0-59, leap second 60).
    mutating func timeOfDay() -> Bool {
        guard let h = digits(1, 2), h <= 24, skip(UInt8(ascii: ":")), let m = digits(2, 2), m <= 59 else { return false }
        if skip(UInt8(ascii: ":")) {
            guard let s = digits(2, 2), s <= 60 else { return false }
            if skip(UInt8(ascii: ".")) || skip(UInt8(ascii: ",")) { guard digits(1, 9) != nil else { return false }; while !atEnd, b[i] &- 0x30 < 10 { i += 1 } }
        }
        return true
    }

    /// An optional ` AM` / ` PM` (or without the space).
    mutating func meridiem() -> Bool {
        let save = i
        _ = skip(0x20)
        if i + 1 < b.count, b[i] | 0x20 == UInt8(ascii: "a") || b[i] | 0x20 == UInt8(ascii: "p"), b[i + 1] | 0x20 == UInt8(ascii: "m") {
            i += 2
            return true
        }
        i = save
        return true
    }

    /// An optional zone: `Z`, `+01:00`, `+0100`, `+01`, ` UTC`, ` GMT`, ` +01:00`.
    mutating func zone() -> Bool {
        if atEnd { return true }
        let save = i
        _ = skip(0x20)
        if skip(UInt8(ascii: "Z")) || skip(UInt8(ascii: "z")) { return atEnd }
        if skip(UInt8(ascii: "+")) || skip(UInt8(ascii: "-")) {
            guard let h = digits(2, 2), h <= 14 else { return false }
            _ = skip(UInt8(ascii: ":"))
            if !atEnd { guard let m = digits(2, 2), m <= 59 else { return false } }
            return atEnd
        }
        var letters = 0
        while i < b.count, (b[i] | 0x20) >= UInt8(ascii: "a"), (b[i] | 0x20) <= UInt8(ascii: "z") { i += 1; letters += 1 }
        if letters >= 1 && letters <= 5 && atEnd { return true }
        i = save
        return false
    }

    private static let months: [[UInt8]] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map { Array($0.utf8) }
    private static let fullMonths: [[UInt8]] = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                                                "october", "november", "december"].map { Array($0.utf8) }

    /// An English month name (abbreviated, or full when `full`), case-insensitive; 1-12.
    mutating func monthName(full: Bool) -> Int? {
        for (k, name) in (full ? Self.fullMonths : Self.months).enumerated() where i + name.count <= b.count {
            if (0..<name.count).allSatisfy({ b[i + $0] | 0x20 == name[$0] }) { i += name.count; return k + 1 }
        }
        return nil
    }

    /// Matches an strftime-style pattern; the day number, nil when the field does not match.
    mutating func pattern(_ f: [UInt8]) -> Int? {
        var y = 1970, m = 1, d = 1, k = 0
        while k < f.count {
            guard f[k] == UInt8(ascii: "%"), k + 1 < f.count else {
                guard skip(f[k]) else { return nil }
                k += 1
                continue
            }
            switch f[k + 1] {
            case UInt8(ascii: "Y"): guard let v = digits(4, 4) else { return nil }; y = v
            case UInt8(ascii: "y"): guard let v = digits(2, 2) else { return nil }; y = 2000 + v
            case UInt8(ascii: "m"): guard let v = digits(1, 2) else { return nil }; m = v
            case UInt8(ascii: "d"): guard let v = digits(1, 2) else { return nil }; d = v
            case UInt8(ascii: "H"), UInt8(ascii: "I"): guard let v = digits(1, 2), v <= 24 else { return nil }
            case UInt8(ascii: "M"), UInt8(ascii: "S"): guard let v = digits(1, 2), v <= 60 else { return nil }
            case UInt8(ascii: "f"): guard digits(1, 9) != nil else { return nil }; while !atEnd, b[i] &- 0x30 < 10 { i += 1 }
            case UInt8(ascii: "b"): guard let v = monthName(full: false) else { return nil }; m = v
            case UInt8(ascii: "B"): guard let v = monthName(full: true) ?? monthName(full: false) else { return nil }; m = v
            case UInt8(ascii: "p"):
                guard i + 1 < b.count, b[i] | 0x20 == UInt8(ascii: "a") || b[i] | 0x20 == UInt8(ascii: "p"), b[i + 1] | 0x20 == UInt8(ascii: "m") else { return nil }
                i += 2
            case UInt8(ascii: "z"), UInt8(ascii: "Z"):
                guard zone() else { return nil }
            case UInt8(ascii: "%"): guard skip(UInt8(ascii: "%")) else { return nil }
            default: return nil
            }
            k += 2
        }
        return atEnd ? CivilDate.validDays(year: y, month: m, day: d) : nil
    }
}
