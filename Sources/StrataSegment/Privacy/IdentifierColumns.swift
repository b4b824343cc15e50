import Foundation

/// Recognizes text columns that identify people rather than describe them: e-mail addresses,
/// phone numbers, or nearly one distinct value per customer (names, account handles, free-text
/// ids). `strata segment` leaves such columns out of the features, so their values never reach
/// report.html, profiles.json or model.json (one-hot categories are listed in all three).
///
/// The rules, on the non-empty values of a column (all rows, not a sample):
/// - e-mails: at least 10% of the values look like `local@domain.tld`;
/// - phones: at least 10% look like phone numbers: 7 to 15 digits with only `+ - . ( )` and
///   spaces between them, and a leading `+`, a separator or at least 10 digits (a bare 7-digit
///   code is not a phone), and not a date (`2024-01-31`, `31/01/2024`);
/// - nearly unique: at least 20 distinct values and at least one distinct value per two
///   customers (a category that describes customers repeats).
///
/// 10% rather than a majority: a `referrer` column holding e-mails for referred customers and
/// "organic" for the rest is still a column of e-mails.
public enum IdentifierColumns {
    public enum Reason: String, Sendable, Equatable {
        case emails = "e-mail addresses"
        case phones = "phone numbers"
        case nearlyUnique = "nearly one distinct value per customer"
    }

    /// Why `values` (one column, every row) identify people, or nil when they look like a category.
    /// O(n) time and O(distinct values) memory.
    public static func reason(_ values: [String]) -> Reason? {
        var nonEmpty = 0, emails = 0, phones = 0
        var distinct = Set<String>()
        for v in values where !v.isEmpty {
            nonEmpty += 1
            distinct.insert(v)
            if isEmail(v) { emails += 1 } else if isPhone(v) { phones += 1 }
        }
        guard nonEmpty > 0 else { return nil }
        if emails * 10 >= nonEmpty { return .emails }
        if phones * 10 >= nonEmpty { return .phones }
        if distinct.count >= 20 && distinct.count * 2 >= nonEmpty { return .nearlyUnique }
        return nil
    }

    /// `local@domain.tld`: one `@`, something before it, a dot inside the domain, no blanks.
    public static func isEmail(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard let at = u.firstIndex(of: UInt8(ascii: "@")), at > 0, u.lastIndex(of: UInt8(ascii: "@")) == at else { return false }
        if u.contains(where: { $0 == 0x20 || $0 == 0x09 }) { return false }
        let domain = u[(at + 1)...]
        guard let dot = domain.lastIndex(of: UInt8(ascii: ".")) else { return false }
        return dot > at + 1 && dot < u.count - 1
    }

    /// A phone number as people write them (`+44 20 7946 0958`, `(555) 123-4567`, `555-1234`).
    public static func isPhone(_ s: String) -> Bool {
        let u = Array(s.utf8)
        var digits = 0, separators = 0
        for (i, c) in u.enumerated() {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "+"): if i != 0 { return false }
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: " "): separators += 1
            default: return false
            }
        }
        guard (7...15).contains(digits), u.first == UInt8(ascii: "+") || separators > 0 || digits >= 10 else { return false }
        return !looksLikeDate(u)
    }

    /// `YYYY-MM-DD` or `DD/MM/YYYY` style: three numbers of 4-2-2 or 2-2-4 digits with one
    /// separator (`-`, `/` or `.`).
    static func looksLikeDate(_ u: [UInt8]) -> Bool {
        for sep in [UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: ".")] {
            let parts = u.split(separator: sep, omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }) else { continue }
            let widths = parts.map(\.count)
            if (widths[0] == 4 && widths[1] <= 2 && widths[2] <= 2) || (widths[0] <= 2 && widths[1] <= 2 && (widths[2] == 4 || widths[2] == 2)) {
                return true
            }
        }
        return false
    }
}
