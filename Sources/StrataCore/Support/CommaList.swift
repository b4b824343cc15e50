/// "a, b,c" -> ["a", "b", "c"]: the one parser of comma-separated option values (flags and
/// job settings). Items are trimmed of spaces; empty items are dropped.
public func commaList(_ s: String) -> [String] {
    s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
