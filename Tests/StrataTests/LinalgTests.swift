import Testing
import StrataLinalg

@Suite struct LinalgTests {
    static func random(_ r: Int, _ c: Int, seed: UInt64) -> Matrix<Double> {
        var s = seed
        return Matrix(rows: r, cols: c, storage: (0..<(r * c)).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Double(s >> 11) / Double(1 << 53) * 2 - 1
        })
    }

    static func multiply(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Matrix<Double> {
        var c = Matrix<Double>(rows: a.rows, cols: b.cols)
        for i in 0..<a.rows { for j in 0..<b.cols { var s = 0.0; for t in 0..<a.cols { s += a[i, t] * b[t, j] }; c[i, j] = s } }
        return c
    }

    static func spd(_ n: Int, seed: UInt64) -> Matrix<Double> {
        let a = random(n, n, seed: seed)
        var m = multiply(a, a.transposed)
        for i in 0..<n { m[i, i] += Double(n) }
        return m
    }

    @Test func gemmMatchesNaive() {
        let a = Self.random(7, 5, seed: 1), b = Self.random(5, 9, seed: 2)
        var c = Matrix<Double>(rows: 7, cols: 9)
        a.storage.withUnsafeBufferPointer { ap in b.storage.withUnsafeBufferPointer { bp in c.storage.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(MatrixView(ap.baseAddress!, rows: 7, cols: 5), MatrixView(bp.baseAddress!, rows: 5, cols: 9),
                      into: MutableMatrixView(cp.baseAddress!, rows: 7, cols: 9))
        } } }
        let ref = Self.multiply(a, b)
        for i in 0..<c.storage.count { #expect(abs(c.storage[i] - ref.storage[i]) < 1e-12) }
        // Float, with transposes.
        let af = Matrix<Float>(rows: 5, cols: 7, storage: a.transposed.storage.map { Float($0) })
        let bf = Matrix<Float>(rows: 9, cols: 5, storage: b.transposed.storage.map { Float($0) })
        var cf = Matrix<Float>(rows: 7, cols: 9)
        af.storage.withUnsafeBufferPointer { ap in bf.storage.withUnsafeBufferPointer { bp in cf.storage.withUnsafeMutableBufferPointer { cp in
            BLAS.gemm(transA: true, transB: true, MatrixView(ap.baseAddress!, rows: 5, cols: 7), MatrixView(bp.baseAddress!, rows: 9, cols: 5),
                      into: MutableMatrixView(cp.baseAddress!, rows: 7, cols: 9))
        } } }
        for i in 0..<cf.storage.count { #expect(abs(Double(cf.storage[i]) - ref.storage[i]) < 1e-5) }
    }

    @Test func syrkMatchesNaive() {
        let a = Self.random(20, 6, seed: 3)
        var c = Matrix<Double>(rows: 6, cols: 6)
        a.storage.withUnsafeBufferPointer { ap in c.storage.withUnsafeMutableBufferPointer { cp in
            BLAS.syrkTransposed(MatrixView(ap.baseAddress!, rows: 20, cols: 6), into: MutableMatrixView(cp.baseAddress!, rows: 6, cols: 6))
        } }
        Symmetric.mirrorLower(&c)
        let ref = Self.multiply(a.transposed, a)
        for i in 0..<36 { #expect(abs(c.storage[i] - ref.storage[i]) < 1e-12) }
    }

    @Test func choleskyReconstructsAndZeroesUpperTriangle() throws {
        let a = Self.spd(6, seed: 4)
        let l = try LAPACK.cholesky(a)
        for i in 0..<6 { for j in (i + 1)..<6 { #expect(l[i, j] == 0) } }
        let back = Self.multiply(l, l.transposed)
        for i in 0..<36 { #expect(abs(back.storage[i] - a.storage[i]) < 1e-10) }
    }

    @Test func choleskyReportsTheFailingMinor() {
        var a = Matrix<Double>.identity(4)
        a[2, 2] = -1
        #expect(throws: LinalgError.notPositiveDefinite(routine: "dpotrf", order: 3)) { try LAPACK.cholesky(a) }
    }

    @Test func triangularInverse() throws {
        let l = try LAPACK.cholesky(Self.spd(5, seed: 9))
        let inv = try LAPACK.lowerTriangularInverse(l)
        let id = Self.multiply(l, inv)
        for i in 0..<5 { for j in 0..<5 { #expect(abs(id[i, j] - (i == j ? 1 : 0)) < 1e-12) } }
        for i in 0..<5 { for j in (i + 1)..<5 { #expect(inv[i, j] == 0) } }
    }

    @Test func symmetricEigenDecomposes() throws {
        let a = Self.spd(5, seed: 5)
        let (w, v) = try LAPACK.symmetricEigen(a)
        #expect(zip(w, w.dropFirst()).allSatisfy { $0 <= $1 })
        // A v_j = w_j v_j with v_j = column j.
        let av = Self.multiply(a, v)
        for i in 0..<5 { for j in 0..<5 { #expect(abs(av[i, j] - w[j] * v[i, j]) < 1e-9) } }
        // Known spectrum.
        let (w2, _) = try LAPACK.symmetricEigen(Matrix([[2, 1], [1, 2]]))
        #expect(abs(w2[0] - 1) < 1e-12 && abs(w2[1] - 3) < 1e-12)
    }

    @Test func svdReconstructs() throws {
        let a = Self.random(8, 5, seed: 6)
        let (u, s, vt) = try LAPACK.svd(a)
        #expect(s.count == 5 && zip(s, s.dropFirst()).allSatisfy { $0 >= $1 })
        var us = u
        for i in 0..<8 { for j in 0..<5 { us[i, j] *= s[j] } }
        let back = Self.multiply(us, vt)
        for i in 0..<40 { #expect(abs(back.storage[i] - a.storage[i]) < 1e-12) }
    }

    @Test func blasThreadsAreRestored() {
        let before = BLASThreads.current
        BLASThreads.withThreads(1) { #expect(BLASThreads.current == 1) }
        #expect(BLASThreads.current == before)
    }
}
