import StrataCore
import StrataIO
import Foundation

/// A column of a transactions file: by header name, or by 1-based position (files without header).
public enum ColumnRef: Sendable, Equatable, CustomStringConvertible {
    case name(String)
    case position(Int)

    /// "3" is a position, anything else a name.
    public init(_ s: String) { if let p = Int(s), p >= 1 { self = .position(p) } else { self = .name(s) } }

    public var description: String {
        switch self { case let .name(n): return n; case let .position(p): return "#\(p)" }
    }
}

/// How to read an order log.
public struct TransactionOptions: Sendable {
    /// The field separator: `,` (comma), `;` (semicolon), `tab`, or `whitespace` (runs of
    /// spaces and tabs). Written as `,` `;` `tab` `whitespace`.
    public enum Delimiter: String, SettingChoice, CaseIterable {
        public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
        public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

        case comma, semicolon, tab, whitespace

        public init?(_ s: String) {
            switch s {
            case ",", "comma": self = .comma
            case ";", "semicolon": self = .semicolon
            case "tab", "\\t", "\t": self = .tab
            case "whitespace", "space": self = .whitespace
            default: return nil
            }
        }

        public var description: String {
            switch self {
            case .comma: return ","
            case .semicolon: return ";"
            case .tab: return "tab"
            case .whitespace: return "whitespace"
            }
        }

        public static var validForms: [String] { ["','", "';'", "tab", "whitespace"] }
    }
    public var customer: ColumnRef = .name("customer_id")
    public var date: ColumnRef = .name("date")
    public var amount: ColumnRef = .name("amount")
    public var quantity: ColumnRef? = nil
    public var product: ColumnRef? = nil
    /// Optional margin (profit) per row, for ABC by margin.
    public var margin: ColumnRef? = nil
    /// Optional unit price: then amount = quantity x price (needs `quantity`; `amount` is unused).
    public var price: ColumnRef? = nil
    /// How amounts (and quantities, prices, margins) are written: decimal mark, currency symbol.
    public var amountFormat = AmountFormat()
    public var delimiter: Delimiter = .comma
    public var hasHeader = true
    /// A forced date format (`DateFormat(forced:)`: an strftime pattern, `iso8601`, `epoch`,
    /// `epoch_ms`); nil: detected from the first 1,000 data rows (see `DateFormat`).
    public var dateFormat: String? = nil
    /// Stop at the first bad row instead of counting and skipping it.
    public var strict = false
    /// Bad-row messages and date-detection errors quote the offending value (a short excerpt).
    /// False withholds every value: `segment --pseudonymize` sets it, since a field shifted by a
    /// stray delimiter (or a misnamed column) can carry a customer id into the message.
    public var quoteValues = true

    public init() {}

    /// Options from column references as users write them (names or 1-based positions).
    public init(customer: String, date: String, amount: String, quantity: String?, product: String?, delimiter: Delimiter,
                hasHeader: Bool, dateFormat: String?, strict: Bool) {
        self.customer = ColumnRef(customer)
        self.date = ColumnRef(date)
        self.amount = ColumnRef(amount)
        self.quantity = quantity.map(ColumnRef.init)
        self.product = product.map(ColumnRef.init)
        self.delimiter = delimiter
        self.hasHeader = hasHeader
        self.dateFormat = dateFormat
        self.strict = strict
    }
}

/// A row that could not be used, with where and why.
public struct BadRow: Sendable, Equatable {
    public var line: Int
    public var column: String?
    public var message: String
}

/// One usable transaction, as the streaming reader hands it over.
public struct Transaction: Sendable {
    public var customer: String
    /// Days since 1970-01-01.
    public var day: Int
    public var amount: Double
    public var quantity: Double?
    public var product: String?
    public var margin: Double? = nil
    /// The 1-based line of the file where the row starts.
    public var line: Int = 0
}
