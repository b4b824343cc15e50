import Foundation

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
        return b.withUnsafeBufferPointer { parse($0, format: format.map { Array($0.utf8) }) }
    }

    /// The same, from bytes (the streaming reader's path: no String per row).
    static func parse(_ b: UnsafeBufferPointer<UInt8>, format fmt: [UInt8]?) -> Int? {
        func digits(_ i: inout Int, _ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var v = 0
            for j in i..<(i + count) { let c = b[j] &- 0x30; guard c < 10 else { return nil }; v = v * 10 + Int(c) }
            i += count
            return v
        }
        var y = 0, m = 0, d = 0, i = 0
        if let f = fmt {
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
        // Reject dates like 2023-02-30 that roll over.
        let monthDays = [31, (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= monthDays[m - 1] else { return nil }
        return days(year: y, month: m, day: d)
    }
}
