import Foundation

/// The one JSON writer for `--json` results and the run files (run.json, migration.json): keys
/// sorted and in snake case, `Encodable` values.
///
/// JSON has no NaN or infinities: fields that can be non-finite are `FiniteOrNull` (null), so a
/// document never fails to encode and never holds a string where a number belongs; `OrNull`
/// writes an absent value as null where the key must stay.
public enum JSONOutput {
    /// Pretty-printed (output files such as run.json and migration.json).
    public static func pretty<T: Encodable>(_ value: T) throws -> Data {
        try encoder([.sortedKeys, .prettyPrinted]).encode(value)
    }

    /// One line (a command's `--json` result on stdout).
    public static func line<T: Encodable>(_ value: T) throws -> Data {
        try encoder([.sortedKeys]).encode(value)
    }

    /// Property names become snake_case keys (`nIter` -> `n_iter`, `totalCLV` -> `total_clv`),
    /// so result types need no CodingKeys unless a key is not the name's snake case; keys
    /// already in snake case and the keys of dictionaries (segment names) are left as they are.
    static func encoder(_ formatting: JSONEncoder.OutputFormatting) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = formatting
        e.keyEncodingStrategy = .convertToSnakeCase
        return e
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
