/// Variable-length values (BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY) of one column: value `i` is
/// `data[offsets[i]..<offsets[i+1]]`. Memory: the bytes plus one Int per value.
public struct ByteArrays: Sendable, Equatable {
    public var offsets: [Int] = [0]
    public var data: [UInt8] = []

    public init() {}

    public var count: Int { offsets.count - 1 }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        data.append(contentsOf: bytes)
        offsets.append(data.count)
    }

    public subscript(i: Int) -> ArraySlice<UInt8> { data[offsets[i]..<offsets[i + 1]] }

    /// Value `i` as UTF-8 text (invalid sequences replaced).
    public func string(_ i: Int) -> String { String(decoding: self[i], as: UTF8.self) }
}

/// The values of one column in one row group (or a whole file), one per row, in the column's
/// physical type: INT96 is converted to nanoseconds since the epoch (`int64`), BYTE_ARRAY and
/// FIXED_LEN_BYTE_ARRAY are `bytes`. A null row holds 0 / false / empty bytes (see `valid`).
public enum ParquetValues: Sendable, Equatable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case bytes(ByteArrays)

    public var count: Int {
        switch self {
        case let .boolean(v): return v.count
        case let .int32(v): return v.count
        case let .int64(v): return v.count
        case let .float(v): return v.count
        case let .double(v): return v.count
        case let .bytes(v): return v.count
        }
    }

    /// An empty column of the storage type for `type`.
    public static func empty(_ type: PhysicalType) -> ParquetValues {
        switch type {
        case .boolean: return .boolean([])
        case .int32: return .int32([])
        case .int64, .int96: return .int64([])
        case .float: return .float([])
        case .double: return .double([])
        case .byteArray, .fixedLenByteArray: return .bytes(ByteArrays())
        }
    }

    /// Appends `other`'s values (the same case). Throws `ParquetError` for another case.
    public mutating func appendValues(_ other: ParquetValues) throws {
        do { try append(other, valid: nil) } catch let e as Corrupt { throw ParquetError(file: "(values)", message: e.message) }
    }

    /// Appends `other` (the same case), scattering it over the rows where `valid` is true when
    /// `valid` is given (`valid.count` rows are appended; `other` holds one value per true).
    mutating func append(_ other: ParquetValues, valid: ArraySlice<Bool>?) throws {
        func scatter<T>(_ a: inout [T], _ b: [T], _ zero: T) {
            guard let valid else { a.append(contentsOf: b); return }
            var k = 0
            for ok in valid { if ok { a.append(b[k]); k += 1 } else { a.append(zero) } }
        }
        // `other` is matched alone and `self` emptied before appending, so the accumulated array
        // stays uniquely referenced (appending in place, not copying it for every page).
        let mismatch = Corrupt("values of mismatched types")
        switch other {
        case let .boolean(b):
            guard case var .boolean(a) = self else { throw mismatch }
            self = .int32([]); scatter(&a, b, false); self = .boolean(a)
        case let .int32(b):
            guard case var .int32(a) = self else { throw mismatch }
            self = .boolean([]); scatter(&a, b, 0); self = .int32(a)
        case let .int64(b):
            guard case var .int64(a) = self else { throw mismatch }
            self = .boolean([]); scatter(&a, b, 0); self = .int64(a)
        case let .float(b):
            guard case var .float(a) = self else { throw mismatch }
            self = .boolean([]); scatter(&a, b, 0); self = .float(a)
        case let .double(b):
            guard case var .double(a) = self else { throw mismatch }
            self = .boolean([]); scatter(&a, b, 0); self = .double(a)
        case let .bytes(b):
            guard case var .bytes(a) = self else { throw mismatch }
            self = .boolean([])
            if let valid {
                var k = 0
                for ok in valid { if ok { a.append(b[k]); k += 1 } else { a.offsets.append(a.data.count) } }
            } else {
                a.data.append(contentsOf: b.data)
                let base = a.offsets[a.offsets.count - 1]
                for o in b.offsets.dropFirst() { a.offsets.append(base + o) }
            }
            self = .bytes(a)
        }
    }

    /// Dictionary lookup: `indices` into `self` (a dictionary page's values).
    func gather(_ indices: [UInt32]) throws -> ParquetValues {
        let n = count
        if let top = indices.max(), Int(top) >= n { throw Corrupt("dictionary index \(top) is beyond the dictionary's \(n) values") }
        // Every index is checked above: the lookups need no further bounds checks.
        func look<T>(_ v: [T]) -> [T] { v.withUnsafeBufferPointer { d in indices.map { d[Int($0)] } } }
        switch self {
        case let .boolean(v): return .boolean(look(v))
        case let .int32(v): return .int32(look(v))
        case let .int64(v): return .int64(look(v))
        case let .float(v): return .float(look(v))
        case let .double(v): return .double(look(v))
        case let .bytes(v):
            var out = ByteArrays()
            out.offsets.reserveCapacity(indices.count + 1)
            for i in indices { out.append(v[Int(i)]) }
            return .bytes(out)
        }
    }
}
