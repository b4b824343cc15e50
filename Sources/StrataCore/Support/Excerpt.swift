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
            default: out.append(ch)
            }
            n += 1
        }
        return out
    }
}
