import Foundation

/// The one JSON writer for output files and `--json` results: keys sorted, `Encodable` values.
///
/// JSON has no NaN or infinities: fields that can be non-finite are encoded through
/// `encodeFiniteOrNull` (null), so a document never fails to encode and never holds a string
/// where a number belongs.
public enum JSONOutput {
    /// Pretty-printed (output files such as run.json, profiles.json, migration.json).
    public static func pretty<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try e.encode(value)
    }

    /// One line (a command's `--json` result on stdout).
    public static func line<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(value)
    }
}

extension KeyedEncodingContainer {
    /// Encodes `value`, or null when it is nil, NaN or infinite.
    public mutating func encodeFiniteOrNull(_ value: Double?, forKey key: Key) throws {
        if let v = value, v.isFinite { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
    }

    /// Encodes `value`, or null when it is nil.
    public mutating func encodeOrNull<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let v = value { try encode(v, forKey: key) } else { try encodeNil(forKey: key) }
    }
}

/// A Double that is written as null when it is not finite (JSON has no NaN or infinities).
public struct FiniteOrNull: Encodable, Sendable, Equatable {
    public var value: Double?
    public init(_ value: Double?) { self.value = value }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = value, v.isFinite { try c.encode(v) } else { try c.encodeNil() }
    }
}
