/// A decoding failure in the words of the file it came from: which key, and what is wrong with
/// it. Job files and model files report their errors through this one description.
extension DecodingError {
    /// The dotted key the failure is about (`transactions.path`); empty for the whole document.
    public var keyPath: String {
        switch self {
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c):
            return c.codingPath.map(\.stringValue).joined(separator: ".")
        case let .keyNotFound(k, c):
            return (c.codingPath + [k]).map(\.stringValue).joined(separator: ".")
        @unknown default:
            return ""
        }
    }

    /// What is wrong, without where: "expected a value of type Int", "required key is missing",
    /// or the decoder's own words ("'x' is not valid; valid values: ...").
    public var reason: String {
        switch self {
        case let .typeMismatch(type, _), let .valueNotFound(type, _): return "expected a value of type \(type)"
        case .keyNotFound: return "required key is missing"
        case let .dataCorrupted(c): return c.debugDescription
        @unknown default: return "\(self)"
        }
    }
}
