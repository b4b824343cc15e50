/// The key two files' customer ids are joined on. Ids are strings compared exactly, except that
/// a numeric-looking id written with a zero fraction (`900.0`, as spreadsheets and pandas write
/// integer ids that passed through a float column) is the same customer as `900`. Leading zeros
/// stay significant (`007` is not `7`): those are codes, not numbers.
public enum CustomerKey {
    /// `900.0` -> `900`, `-12.00` -> `-12`; anything else unchanged. O(length).
    public static func normalized(_ id: String) -> String {
        let u = id.utf8
        guard let dot = u.firstIndex(of: UInt8(ascii: ".")) else { return id }
        let head = u[u.startIndex..<dot], tail = u[u.index(after: dot)...]
        guard !tail.isEmpty, tail.allSatisfy({ $0 == UInt8(ascii: "0") }) else { return id }
        var digits = head[...]
        if let f = digits.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return id }
        return String(decoding: head, as: UTF8.self)
    }
}
