/// Numbers written for people.
public enum NumberText {
    /// An integer with thousands separated by commas: 1234567 -> "1,234,567". O(digits).
    public static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.reversed().enumerated() { if i > 0 && i % 3 == 0 { out.append(",") }; out.append(ch) }
        return (n < 0 ? "-" : "") + String(out.reversed())
    }
}
