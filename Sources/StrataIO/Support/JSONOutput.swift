import Foundation

/// The one JSON writer for output files and `--json` results: keys sorted, `Encodable` values.
///
/// JSON has no NaN or infinities: fields that can be non-finite are `FiniteOrNull` (null), so a
/// document never fails to encode and never holds a string where a number belongs; `OrNull`
/// writes an absent value as null where the key must stay.
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

/// An optional written as null when absent (a synthesized `Encodable` would leave the key out).
public struct OrNull<T: Encodable & Sendable>: Encodable, Sendable {
    public var value: T?
    public init(_ value: T?) { self.value = value }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let v = value { try c.encode(v) } else { try c.encodeNil() }
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
