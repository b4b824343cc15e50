/// Reading a column's values by meaning (its logical type), one row at a time: as a number, as a
/// calendar day, as an instant, or as text. Each accessor returns nil for a null row.
extension ParquetColumn {
    /// The value as a number: integers, floats, booleans (0/1), decimals (unscaled / 10^scale),
    /// DATE as days since 1970-01-01, TIMESTAMP/INT96 as seconds since the epoch (UTC), TIME in
    /// its unit. nil for a null row, or for text that is not a decimal. O(1) (O(width) for FLBA decimals).
    public func double(_ i: Int) -> Double? {
        if isNull(i) { return nil }
        switch (values, info.kind) {
        case let (.int32(v), .decimal(_, scale)): return Double(v[i]) / pow10(scale)
        case let (.int64(v), .decimal(_, scale)): return Double(v[i]) / pow10(scale)
        case let (.bytes(b), .decimal(_, scale)): return unscaled(b[i]).map { Double($0) / pow10(scale) }
        case (.int64, .timestamp): return epochNanoseconds(i).map { Double($0) / 1e9 }
        case (.int64, _) where info.physicalType == .int96: return epochNanoseconds(i).map { Double($0) / 1e9 }
        case let (.int32(v), .integer(32, false)): return Double(UInt32(bitPattern: v[i]))
        case let (.int64(v), .integer(64, false)): return Double(UInt64(bitPattern: v[i]))
        case let (.int32(v), _): return Double(v[i])
        case let (.int64(v), _): return Double(v[i])
        case let (.float(v), _): return Double(v[i])
        case let (.double(v), _): return v[i]
        case let (.boolean(v), _): return v[i] ? 1 : 0
        case (.bytes, _): return nil
        }
    }

    /// Every row's `double(_:)`, NaN for a null row: one pass with the type decided once (the
    /// fast path for whole numeric columns). O(rows).
    public func doubles() -> [Double] {
        var out: [Double]
        switch (values, info.kind) {
        case (.int32, .decimal), (.int64, .decimal), (.bytes, _), (.int64, .timestamp), (.int32, .integer(32, false)), (.int64, .integer(64, false)):
            out = (0..<count).map { double($0) ?? .nan }
            return out
        case (.int64, _) where info.physicalType == .int96:
            out = (0..<count).map { double($0) ?? .nan }
            return out
        case let (.int32(v), _): out = v.map { Double($0) }
        case let (.int64(v), _): out = v.map { Double($0) }
        case let (.float(v), _): out = v.map { Double($0) }
        case let (.double(v), _): out = v
        case let (.boolean(v), _): out = v.map { $0 ? 1 : 0 }
        }
        if let valid { for i in out.indices where !valid[i] { out[i] = .nan } }
        return out
    }

    /// The value as an instant in nanoseconds since 1970-01-01 UTC: TIMESTAMP (any unit; a
    /// timestamp without time zone is taken as UTC), INT96, DATE (midnight). nil otherwise.
    public func epochNanoseconds(_ i: Int) -> Int64? {
        if isNull(i) { return nil }
        switch (values, info.kind) {
        case let (.int64(v), .timestamp(unit, _)):
            switch unit { case .millis: return v[i] &* 1_000_000; case .micros: return v[i] &* 1000; case .nanos: return v[i] }
        case let (.int64(v), _) where info.physicalType == .int96: return v[i]
        case let (.int32(v), .date): return Int64(v[i]) * 86_400_000_000_000
        default: return nil
        }
    }

    /// The calendar day (days since 1970-01-01, UTC) of a DATE, TIMESTAMP or INT96 value, as
    /// the CSV readers give for the same date written as text. nil otherwise.
    public func day(_ i: Int) -> Int? {
        if isNull(i) { return nil }
        if case let .int32(v) = values, info.kind == .date { return Int(v[i]) }
        guard let ns = epochNanoseconds(i) else { return nil }
        let perDay: Int64 = 86_400_000_000_000
        return Int(ns >= 0 ? ns / perDay : -((-ns + perDay - 1) / perDay))
    }

    /// True for DATE, TIMESTAMP and INT96 columns.
    public var isTemporal: Bool {
        switch info.kind {
        case .date, .timestamp: return true
        default: return info.physicalType == .int96
        }
    }

    /// The value as text: strings as stored (UTF-8), integers in decimal, decimals with `scale`
    /// digits, floats as Swift prints them, booleans `true`/`false`, dates `YYYY-MM-DD`,
    /// timestamps `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC). nil for a null row.
    public func text(_ i: Int) -> String? {
        if isNull(i) { return nil }
        switch (values, info.kind) {
        case let (.bytes(b), .decimal(_, scale)): return unscaled(b[i]).map { decimalText($0, scale: scale) }
        case let (.int32(v), .decimal(_, scale)): return decimalText(Int128(v[i]), scale: scale)
        case let (.int64(v), .decimal(_, scale)): return decimalText(Int128(v[i]), scale: scale)
        case let (.int32(v), .date): return Self.isoDate(Int(v[i]))
        case (.int64, .timestamp): return epochNanoseconds(i).map(Self.isoTimestamp)
        case (.int64, _) where info.physicalType == .int96: return epochNanoseconds(i).map(Self.isoTimestamp)
        case let (.int32(v), .integer(32, false)): return String(UInt32(bitPattern: v[i]))
        case let (.int64(v), .integer(64, false)): return String(UInt64(bitPattern: v[i]))
        case let (.int32(v), _): return String(v[i])
        case let (.int64(v), _): return String(v[i])
        case let (.float(v), _): return v[i].description
        case let (.double(v), _): return v[i].description
        case let (.boolean(v), _): return v[i] ? "true" : "false"
        case let (.bytes(b), _): return b.string(i)
        }
    }

    private func pow10(_ s: Int) -> Double {
        var p = 1.0
        for _ in 0..<max(0, s) { p *= 10 }
        return p
    }

    /// A big-endian two's-complement integer of at most 16 bytes (decimals in (FIXED_LEN_)BYTE_ARRAY).
    private func unscaled(_ b: ArraySlice<UInt8>) -> Int128? {
        guard !b.isEmpty, b.count <= 16 else { return b.isEmpty ? 0 : nil }
        var v: Int128 = b.first! >= 0x80 ? -1 : 0
        for x in b { v = (v << 8) | Int128(x) }
        return v
    }

    private func decimalText(_ v: Int128, scale: Int) -> String {
        guard scale > 0 else { return String(v) }
        let neg = v < 0
        var digits = String(neg ? 0 - v : v)
        if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
        let cut = digits.index(digits.endIndex, offsetBy: -scale)
        return (neg ? "-" : "") + digits[..<cut] + "." + digits[cut...]
    }

    /// `YYYY-MM-DD` of a day number (proleptic Gregorian; H. Hinnant's civil-from-days).
    public static func isoDate(_ days: Int) -> String {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    static func isoTimestamp(_ ns: Int64) -> String {
        let perDay: Int64 = 86_400_000_000_000
        let day = ns >= 0 ? ns / perDay : -((-ns + perDay - 1) / perDay)
        var rest = ns - day * perDay
        let h = rest / 3_600_000_000_000; rest %= 3_600_000_000_000
        let m = rest / 60_000_000_000; rest %= 60_000_000_000
        let s = rest / 1_000_000_000; rest %= 1_000_000_000
        func pad(_ v: Int64, _ w: Int) -> String { let t = String(v); return String(repeating: "0", count: max(0, w - t.count)) + t }
        var out = "\(isoDate(Int(day))) \(pad(h, 2)):\(pad(m, 2)):\(pad(s, 2))"
        if rest != 0 {
            var f = pad(rest, 9)
            while f.hasSuffix("0") { f.removeLast() }
            out += "." + f
        }
        return out
    }
}
