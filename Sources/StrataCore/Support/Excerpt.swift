/// A value quoted in a message: at most `limit` characters, with the length of what was cut, so
/// a 10 MB field is never echoed back. Control characters (newlines, tabs) are shown as `\n` etc.
public enum Excerpt {
    public static func of(_ s: some StringProtocol, limit: Int = 60) -> String {
        var out = ""
        var n = 0
        for ch in s {
            if n == limit { return out + "...(\(s.count) characters)" }
            switch ch {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // Other control characters (NUL, ESC, ...) never reach a terminal or a log raw.
                if let u = ch.unicodeScalars.first, ch.unicodeScalars.count == 1, u.value < 0x20 || u.value == 0x7F {
                    out += "\\u{" + String(u.value, radix: 16) + "}"
                } else { out.append(ch) }
            }
            n += 1
        }
        return out
    }

    /// Names for a message: each cut to `limit` characters, at most `count` of them, then
    /// "and N more". `a, b, c`.
    public static func list(_ names: [String], count: Int = 20, limit: Int = 60) -> String {
        let shown = names.prefix(count).map { of($0, limit: limit) }.joined(separator: ", ")
        return names.count > count ? shown + ", and \(names.count - count) more" : shown
    }
}
