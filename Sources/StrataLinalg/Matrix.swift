/// Scalars the BLAS/LAPACK layer works with.
public protocol LinalgScalar: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {}
extension Float: LinalgScalar {}
extension Double: LinalgScalar {}

/// An owned, dense, row-major matrix: element (i, j) is `storage[i * cols + j]`.
///
/// Memory: rows * cols * MemoryLayout<Scalar>.size bytes, one contiguous array.
public struct Matrix<Scalar: LinalgScalar>: Sendable, Equatable {
    public let rows: Int
    public let cols: Int
    public var storage: [Scalar]

    public init(rows: Int, cols: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && cols >= 0)
        self.rows = rows
        self.cols = cols
        self.storage = Array(repeating: value, count: rows * cols)
    }

    public init(rows: Int, cols: Int, storage: [Scalar]) {
        precondition(storage.count == rows * cols, "storage has \(storage.count) elements, expected \(rows * cols)")
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// Builds a matrix from nested rows (tests and small inputs).
    public init(_ nested: [[Scalar]]) {
        let r = nested.count
        let c = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == c }, "ragged rows")
        self.init(rows: r, cols: c, storage: nested.flatMap { $0 })
    }

    public subscript(i: Int, j: Int) -> Scalar {
        get { storage[i * cols + j] }
        set { storage[i * cols + j] = newValue }
    }

    /// Row `i` as a new array.
    public func row(_ i: Int) -> [Scalar] { Array(storage[(i * cols)..<((i + 1) * cols)]) }

    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t.storage[j * rows + i] = storage[i * cols + j] } }
        return t
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m.storage[i * n + i] = 1 }
        return m
    }
}

/// A non-owning row-major view: element (i, j) at `base[i * ld + j]`, `ld >= cols`.
/// Hot code passes these instead of arrays; the caller keeps the memory alive.
public struct MatrixView<Scalar: LinalgScalar>: @unchecked Sendable {
    public let base: UnsafePointer<Scalar>
    public let rows: Int
    public let cols: Int
    public let ld: Int

    public init(_ base: UnsafePointer<Scalar>, rows: Int, cols: Int, ld: Int? = nil) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.ld = ld ?? cols
        precondition(self.ld >= cols)
    }
}

/// A mutable non-owning row-major view.
public struct MutableMatrixView<Scalar: LinalgScalar>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Scalar>
    public let rows: Int
    public let cols: Int
    public let ld: Int

    public init(_ base: UnsafeMutablePointer<Scalar>, rows: Int, cols: Int, ld: Int? = nil) {
        self.base = base
        self.rows = rows
        self.cols = cols
        self.ld = ld ?? cols
        precondition(self.ld >= cols)
    }

    public var readOnly: MatrixView<Scalar> { MatrixView(UnsafePointer(base), rows: rows, cols: cols, ld: ld) }
}
