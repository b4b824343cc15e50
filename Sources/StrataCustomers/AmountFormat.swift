import StrataCore
import StrataIO

/// How an order log writes its money amounts. The default reads plain decimal numbers
/// (`1234.5`, `-3`, `1e3`); decimal commas, currency symbols and thousands separators are read
/// only when asked for (`--decimal ,`, `--currency €`), never guessed.
///
/// - `decimal`: `.` (default) or `,`. With `,` the thousands separator is `.` (`1.234,50`).
/// - `currency`: a symbol or code stripped before or after the number, with or without a space
///   (`€1.234,50`, `1.234,50 €`, `-$5`, `$-5`, `USD 12`); it also allows `,` as the thousands
///   separator when the decimal mark is `.` (`$1,234.50`). Grouping must be in threes
///   (`1,23.4` is not a number).
public struct AmountFormat: Sendable, Equatable {
    /// The decimal mark, written `.` or `,`.
    public enum DecimalMark: String, SettingChoice, CaseIterable {
        case point = ".", comma = ","
        public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
        public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }
        public init?(_ s: String) {
            switch s { case ".", "point", "dot": self = .point; case ",", "comma": self = .comma; default: return nil }
        }
        public var byte: UInt8 { rawValue.utf8.first! }
    }

    public var decimal: UInt8 = UInt8(ascii: ".")
    public var currency: String? = nil

    public init(decimal: DecimalMark = .point, currency: String? = nil) {
        self.decimal = decimal.byte
        self.currency = currency
    }

    /// True for the default (plain numbers only).
    public var isPlain: Bool { decimal == UInt8(ascii: ".") && currency == nil }

    /// The thousands separator accepted, if any.
    var grouping: UInt8? {
        if decimal == UInt8(ascii: ",") { return UInt8(ascii: ".") }
        return currency == nil ? nil : UInt8(ascii: ",")
    }

    /// The amount of one field, nil when it is not a finite number in this format.
    /// O(length of the field).
    public func parse(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
        if isPlain { return field.isEmpty ? nil : NumberParser.parseDouble(field.baseAddress!, field.count) }
        var lo = 0, hi = field.count
        func trim() {
            while lo < hi, field[lo] == 0x20 || field[lo] == 0xA0 { lo += 1 }
            while hi > lo, field[hi - 1] == 0x20 || field[hi - 1] == 0xA0 { hi -= 1 }
            // The UTF-8 no-break spaces U+00A0 and U+202F written by some locales.
            while hi - lo >= 2, field[lo] == 0xC2, field[lo + 1] == 0xA0 { lo += 2 }
            while hi - lo >= 2, field[hi - 2] == 0xC2, field[hi - 1] == 0xA0 { hi -= 2 }
        }
        trim()
        var negative = false
        if lo < hi, field[lo] == UInt8(ascii: "-") { negative = true; lo += 1; trim() }
        if let c = currency, !c.isEmpty {
            let sym = Array(c.utf8)
            if hi - lo >= sym.count, (0..<sym.count).allSatisfy({ field[lo + $0] == sym[$0] }) { lo += sym.count; trim() }
            else if hi - lo >= sym.count, (0..<sym.count).allSatisfy({ field[hi - sym.count + $0] == sym[$0] }) { hi -= sym.count; trim() }
        }
        if !negative, lo < hi, field[lo] == UInt8(ascii: "-") { negative = true; lo += 1; trim() }
        // Rewrite as a plain ASCII number: digits, grouping checked, decimal mark -> '.'.
        var out: [UInt8] = []
        out.reserveCapacity(hi - lo + 1)
        if negative { out.append(UInt8(ascii: "-")) }
        var groupDigits = -1   // digits since the last thousands separator; -1 before any separator
        var intDigits = 0
        var i = lo
        while i < hi, field[i] != decimal {
            let c = field[i]
            if c &- 0x30 < 10 {
                out.append(c); intDigits += 1
                if groupDigits >= 0 { groupDigits += 1; if groupDigits > 3 { return nil } }
            } else if let g = grouping, c == g {
                if groupDigits >= 0 { guard groupDigits == 3 else { return nil } } else { guard intDigits >= 1 && intDigits <= 3 else { return nil } }
                groupDigits = 0
            } else { return nil }
            i += 1
        }
        if groupDigits >= 0, groupDigits != 3 { return nil }
        guard intDigits > 0 || (i < hi && field[i] == decimal) else { return nil }
        if i < hi {
            out.append(UInt8(ascii: "."))
            i += 1
            var fracDigits = 0
            while i < hi { guard field[i] &- 0x30 < 10 else { return nil }; out.append(field[i]); i += 1; fracDigits += 1 }
            guard intDigits + fracDigits > 0 else { return nil }
        }
        return out.withUnsafeBufferPointer { NumberParser.parseDouble($0.baseAddress!, $0.count) }
    }
}
