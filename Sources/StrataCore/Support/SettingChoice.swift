/// A closed choice for a setting (`impute`, `clip`, `scale`, `covariance`, `algorithm`, ...),
/// parsed once from its string form and passed on as a typed value.
///
/// The string form is the one users write: on the command line (the CLI conforms these types to
/// `ExpressibleByArgument`), in job files and in model.json (`Codable` through the string form,
/// so files keep the same text). An unknown value is an error that lists the valid forms; there
/// is no silent fallback to a default anywhere.
public protocol SettingChoice: LosslessStringConvertible, Codable, Sendable, Equatable {
    /// The valid forms, as shown in error messages and help, e.g. `none, drop, mean, ...`.
    static var validForms: [String] { get }
}

extension SettingChoice {
    /// "'x' is not valid; valid values: a, b, c".
    public static func invalidMessage(_ text: String) -> String {
        "'\(text)' is not valid; valid values: \(validForms.joined(separator: ", "))"
    }

    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }

    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

    /// Decodes the string form; an unknown value is a `DecodingError` listing the valid forms.
    /// Enums that declare `SettingChoice` in their own declaration must forward their
    /// `init(from:)` here explicitly: the compiler would otherwise synthesize a case-keyed form.
    public static func decodeChoice(from decoder: Decoder) throws -> Self {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let v = Self(text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: Self.invalidMessage(text))
        }
        return v
    }

    /// Encodes the string form (see `decodeChoice`).
    public func encodeChoice(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// Plain string-valued choices: the raw value is the string form.
extension SettingChoice where Self: RawRepresentable, Self.RawValue == String, Self: CaseIterable {
    public init?(_ description: String) { self.init(rawValue: description) }
    public var description: String { rawValue }
    public static var validForms: [String] { allCases.map(\.rawValue) }
}

/// A number in a setting's string form: integral values without ".0" (`constant:0`, `iqr:2`),
/// others in Swift's shortest round-trip form (`0.01`).
func shortest(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)"
}
