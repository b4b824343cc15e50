/// Categorical columns coded as small integers for K-Modes / K-Prototypes.
///
/// Each column's categories are sorted in UTF-8 byte order (= Unicode code-point order, the
/// order of `numpy.unique` on Python strings, so codes agree with the `kmodes` package, whose
/// mode ties pick the smallest code); a value's code is its index in `categories[column]`.
/// Codes are stored row-major, one byte per value when every column has at most 256
/// categories (`.u8`), else two bytes (`.u16`, up to 65,536) or four (`.u32`).
///
/// Two values are the same category when their UTF-8 bytes are equal (Swift's `==` would also
/// merge canonically equivalent spellings, which Python keeps apart).
///
/// Memory: rows x columns x (1, 2 or 4) bytes, plus the category strings.
public struct CategoricalColumns: Sendable {
    /// Row-major codes, rows x columns.
    public enum Codes: Sendable {
        case u8([UInt8])
        case u16([UInt16])
        case u32([UInt32])
    }

    public let rows: Int
    /// Column names, in input order.
    public var names: [String]
    /// Per column, its categories in UTF-8 byte order; code = index.
    public var categories: [[String]]
    public var codes: Codes

    public var cols: Int { names.count }

    /// Codes the string columns (column-major: `values[c][row]`).
    public init(names: [String], values: [[String]]) {
        precondition(names.count == values.count)
        let rows = values.first?.count ?? 0
        precondition(values.allSatisfy { $0.count == rows })
        self.rows = rows
        self.names = names
        var categories: [[String]] = []
        var columnCodes: [[UInt32]] = []
        for column in values {
            var first: [ByteString: UInt32] = [:]
            var order: [String] = []
            var raw = [UInt32](repeating: 0, count: rows)
            for (i, v) in column.enumerated() {
                if let c = first[ByteString(v)] { raw[i] = c; continue }
                let c = UInt32(order.count)
                first[ByteString(v)] = c
                order.append(v)
                raw[i] = c
            }
            let sorted = order.indices.sorted { Self.byteOrder(order[$0], order[$1]) }
            var remap = [UInt32](repeating: 0, count: order.count)
            for (rank, old) in sorted.enumerated() { remap[old] = UInt32(rank) }
            categories.append(sorted.map { order[$0] })
            columnCodes.append(raw.map { remap[Int($0)] })
        }
        self.categories = categories
        self.codes = Self.pack(columnCodes, rows: rows, widest: categories.map(\.count).max() ?? 0)
    }

    /// Columns from codes already made (row-major, `codes[row * cols + col]`, each below its
    /// column's category count).
    public init(names: [String], categories: [[String]], rowMajorCodes codes: [UInt32]) {
        rows = names.isEmpty ? 0 : codes.count / names.count
        self.names = names
        self.categories = categories
        let widest = categories.map(\.count).max() ?? 0
        if widest <= 256 { self.codes = .u8(codes.map { UInt8($0) }) }
        else if widest <= 65_536 { self.codes = .u16(codes.map { UInt16($0) }) }
        else { self.codes = .u32(codes) }
    }

    static func pack(_ columns: [[UInt32]], rows: Int, widest: Int) -> Codes {
        let d = columns.count
        func interleave<T: FixedWidthInteger>(_: T.Type) -> [T] {
            var out = [T](repeating: 0, count: rows * d)
            for (c, col) in columns.enumerated() { for i in 0..<rows { out[i * d + c] = T(truncatingIfNeeded: col[i]) } }
            return out
        }
        if widest <= 256 { return .u8(interleave(UInt8.self)) }
        if widest <= 65_536 { return .u16(interleave(UInt16.self)) }
        return .u32(interleave(UInt32.self))
    }

    /// `a` before `b` in UTF-8 byte order.
    public static func byteOrder(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    /// The code of row `row`, column `col`.
    public func code(_ row: Int, _ col: Int) -> Int {
        let i = row * cols + col
        switch codes {
        case let .u8(c): return Int(c[i])
        case let .u16(c): return Int(c[i])
        case let .u32(c): return Int(c[i])
        }
    }

    /// The code of `value` in column `col`, or nil when it is not one of its categories.
    public func code(of value: String, column col: Int) -> Int? {
        var lo = 0, hi = categories[col].count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Self.byteOrder(categories[col][mid], value) { lo = mid + 1 } else { hi = mid }
        }
        return lo < categories[col].count && categories[col][lo].utf8.elementsEqual(value.utf8) ? lo : nil
    }

    /// The given rows, in that order, with every column's full category list (codes unchanged).
    public func subset(rows r: [Int]) -> CategoricalColumns {
        let d = cols
        var out = [UInt32](repeating: 0, count: r.count * d)
        for (o, i) in r.enumerated() { for a in 0..<d { out[o * d + a] = UInt32(code(i, a)) } }
        return CategoricalColumns(names: names, categories: categories, rowMajorCodes: out)
    }

    /// The bytes per stored code (1, 2 or 4).
    public var codeWidth: Int {
        switch codes { case .u8: return 1; case .u16: return 2; case .u32: return 4 }
    }
}

/// A string compared and hashed by its UTF-8 bytes (not by Unicode canonical equivalence).
public struct ByteString: Hashable, Sendable {
    public let string: String
    public init(_ s: String) { string = s }
    public static func == (a: ByteString, b: ByteString) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }
    public func hash(into h: inout Hasher) {
        var s = string
        s.withUTF8 { h.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
