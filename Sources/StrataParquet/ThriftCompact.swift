/// The Thrift compact protocol, as far as Parquet's metadata needs it.
///
/// Source: the Thrift compact protocol specification
/// (https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md). A field
/// header is one byte: field-id delta (high nibble; 0 = a zigzag i16 id follows) and type (low
/// nibble); integers are zigzag varints; binary is a varint length and the bytes; a list header is
/// the size (high nibble, 15 = a varint follows) and the element type; booleans in fields live in
/// the type nibble. Unknown fields are skipped by type, nested at most `maxDepth` deep.
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7,
         binary = 8, list = 9, set = 10, map = 11, structure = 12
}

/// Reads compact-protocol values from a bounds-checked cursor; every malformed byte is a
/// `Corrupt` error. O(bytes read).
struct ThriftReader {
    var cursor: ByteCursor
    private var depth = 0
    static let maxDepth = 32

    init(_ cursor: ByteCursor) { self.cursor = cursor }

    private func type(_ raw: UInt8) throws -> ThriftType {
        guard let t = ThriftType(rawValue: raw) else { throw Corrupt("Thrift metadata has an unknown type code \(raw)") }
        return t
    }

    /// Calls `field` with each field's id and type until the struct's stop byte. `field` must
    /// read the value (or call `skip`).
    mutating func readStruct(_ field: (inout ThriftReader, Int16, ThriftType) throws -> Void) throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw Corrupt("Thrift metadata is nested more than \(Self.maxDepth) deep") }
        defer { depth -= 1 }
        var last: Int16 = 0
        while true {
            let h = try cursor.byte()
            if h == 0 { return }
            let t = try type(h & 0x0F)
            let delta = Int16(h >> 4)
            let id: Int16
            if delta == 0 {
                let z = try cursor.zigzag()
                guard let i = Int16(exactly: z) else { throw Corrupt("Thrift field id \(z) is out of range") }
                id = i
            } else {
                id = last &+ delta
            }
            last = id
            try field(&self, id, t)
        }
    }

    mutating func bool(_ t: ThriftType) throws -> Bool {
        switch t {
        case .boolTrue: return true
        case .boolFalse: return false
        default: throw Corrupt("Thrift field has type \(t), expected a boolean")
        }
    }

    mutating func i32(_ t: ThriftType) throws -> Int32 {
        guard t == .i32 || t == .i16 || t == .byte else { throw Corrupt("Thrift field has type \(t), expected i32") }
        if t == .byte { return Int32(Int8(bitPattern: try cursor.byte())) }
        let v = try cursor.zigzag()
        guard let r = Int32(exactly: v) else { throw Corrupt("Thrift i32 value \(v) is out of range") }
        return r
    }

    mutating func i64(_ t: ThriftType) throws -> Int64 {
        guard t == .i64 || t == .i32 || t == .i16 else { throw Corrupt("Thrift field has type \(t), expected i64") }
        return try cursor.zigzag()
    }

    mutating func binary(_ t: ThriftType) throws -> [UInt8] {
        guard t == .binary else { throw Corrupt("Thrift field has type \(t), expected binary") }
        let n = try cursor.uvarint()
        guard n <= UInt64(cursor.remaining) else { throw Corrupt("Thrift binary of \(n) bytes runs past the end of the metadata") }
        return Array(try cursor.take(Int(n)))
    }

    mutating func string(_ t: ThriftType) throws -> String { String(decoding: try binary(t), as: UTF8.self) }

    /// A list header: element type and count (the count is checked against the bytes left, each
    /// element taking at least one byte unless it is a boolean).
    mutating func listHeader(_ t: ThriftType) throws -> (ThriftType, Int) {
        guard t == .list || t == .set else { throw Corrupt("Thrift field has type \(t), expected a list") }
        let h = try cursor.byte()
        var n = UInt64(h >> 4)
        if n == 15 { n = try cursor.uvarint() }
        guard n <= UInt64(cursor.remaining) else { throw Corrupt("Thrift list of \(n) elements runs past the end of the metadata") }
        return (try type(h & 0x0F), Int(n))
    }

    mutating func list<T>(_ t: ThriftType, _ element: (inout ThriftReader, ThriftType) throws -> T) throws -> [T] {
        let (et, n) = try listHeader(t)
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try element(&self, et)) }
        return out
    }

    /// Skips a value of type `t` (any nesting up to `maxDepth`).
    mutating func skip(_ t: ThriftType) throws {
        switch t {
        case .stop: throw Corrupt("Thrift metadata has a stray stop byte")
        case .boolTrue, .boolFalse: return
        case .byte: try cursor.skip(1)
        case .i16, .i32, .i64: _ = try cursor.uvarint()
        case .double: try cursor.skip(8)
        case .binary:
            let n = try cursor.uvarint()
            guard n <= UInt64(cursor.remaining) else { throw Corrupt("Thrift binary of \(n) bytes runs past the end of the metadata") }
            try cursor.skip(Int(n))
        case .list, .set:
            let (et, n) = try listHeader(t)
            for _ in 0..<n {
                if et == .boolTrue || et == .boolFalse { try cursor.skip(1) } else { try skipNested(et) }
            }
        case .map:
            let n = try cursor.uvarint()
            guard n <= UInt64(cursor.remaining) else { throw Corrupt("Thrift map of \(n) entries runs past the end of the metadata") }
            if n == 0 { return }
            let kv = try cursor.byte()
            let kt = try type(kv >> 4), vt = try type(kv & 0x0F)
            for _ in 0..<n { try skipNested(kt); try skipNested(vt) }
        case .structure:
            try readStruct { r, _, ft in try r.skip(ft) }
        }
    }

    private mutating func skipNested(_ t: ThriftType) throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw Corrupt("Thrift metadata is nested more than \(Self.maxDepth) deep") }
        defer { depth -= 1 }
        try skip(t)
    }
}

/// Writes compact-protocol structs: `field` headers with id deltas, then values. The caller
/// writes fields in increasing id order inside `structure`.
struct ThriftWriter {
    var sink = ByteSink()
    private var lastIds: [Int16] = [0]

    private mutating func header(_ id: Int16, _ t: ThriftType) {
        let delta = id - lastIds[lastIds.count - 1]
        if delta > 0 && delta <= 15 {
            sink.append(UInt8(delta) << 4 | t.rawValue)
        } else {
            sink.append(t.rawValue)
            sink.zigzag(Int64(id))
        }
        lastIds[lastIds.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) { header(id, .i32); sink.zigzag(Int64(v)) }
    mutating func i64(_ id: Int16, _ v: Int64) { header(id, .i64); sink.zigzag(v) }
    mutating func bool(_ id: Int16, _ v: Bool) { header(id, v ? .boolTrue : .boolFalse) }
    mutating func binary(_ id: Int16, _ v: [UInt8]) { header(id, .binary); sink.uvarint(UInt64(v.count)); sink.append(contentsOf: v) }
    mutating func string(_ id: Int16, _ v: String) { binary(id, Array(v.utf8)) }

    /// A struct field (`id` non-nil) or a bare struct (a list element, the top level).
    mutating func structure(_ id: Int16?, _ body: (inout ThriftWriter) -> Void) {
        if let id { header(id, .structure) }
        lastIds.append(0)
        body(&self)
        sink.append(0)
        lastIds.removeLast()
    }

    mutating func listHeader(_ id: Int16, _ element: ThriftType, count: Int) {
        header(id, .list)
        if count < 15 { sink.append(UInt8(count) << 4 | element.rawValue) } else { sink.append(0xF0 | element.rawValue); sink.uvarint(UInt64(count)) }
    }

    mutating func i32List(_ id: Int16, _ values: [Int32]) {
        listHeader(id, .i32, count: values.count)
        for v in values { sink.zigzag(Int64(v)) }
    }

    mutating func stringList(_ id: Int16, _ values: [String]) {
        listHeader(id, .binary, count: values.count)
        for v in values { let b = Array(v.utf8); sink.uvarint(UInt64(b.count)); sink.append(contentsOf: b) }
    }

    mutating func structList<T>(_ id: Int16, _ values: [T], _ body: (inout ThriftWriter, T) -> Void) {
        listHeader(id, .structure, count: values.count)
        for v in values { structure(nil) { body(&$0, v) } }
    }
}
