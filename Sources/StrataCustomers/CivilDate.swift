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

    /// Today's day number (UTC, from the system clock).
    public static func today() -> Int {
        Int((Date().timeIntervalSince1970 / 86_400).rounded(.down))
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
        guard (0...9999).contains(y) else { return String(format: "%04d-%02d-%02d", y, m, d) }
        // Digits by hand: String(format:) costs microseconds per call on Linux.
        let b: [UInt8] = [UInt8(48 + y / 1000), UInt8(48 + y / 100 % 10), UInt8(48 + y / 10 % 10), UInt8(48 + y % 10), 45,
                          UInt8(48 + m / 10), UInt8(48 + m % 10), 45, UInt8(48 + d / 10), UInt8(48 + d % 10)]
        return String(decoding: b, as: UTF8.self)
    }

    /// Parses `text` with a forced format (`DateFormat(forced:)`: an strftime pattern, `iso8601`,
    /// `epoch`, `epoch_ms`), or as ISO 8601 when `format` is nil. Nil when it does not match (or
    /// the format is invalid).
    public static func parse(_ text: Substring, format: String?) -> Int? {
        guard let f = format.map({ try? DateFormat(forced: $0) }) ?? .yearFirst(separator: UInt8(ascii: "-")) else { return nil }
        let b = Array(text.utf8)
        return b.withUnsafeBufferPointer { f.day($0) }
    }

    /// Days of a calendar date, nil when it does not exist (2023-02-30, month 13) or the year is
    /// outside 1-9999.
    public static func validDays(year y: Int, month m: Int, day d: Int) -> Int? {
        guard y >= 1 && y <= 9999, m >= 1 && m <= 12, d >= 1 else { return nil }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= monthDays[m - 1] else { return nil }
        return days(year: y, month: m, day: d)
    }
}
