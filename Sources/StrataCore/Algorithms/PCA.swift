import Foundation
import StrataKernels
import StrataLinalg

/// How many components a PCA keeps.
public enum PCAComponents: Sendable, Equatable {
    /// Exactly this many (1...d).
    case count(Int)
    /// The fewest whose explained-variance ratios sum past this fraction in (0, 1) (scikit-learn's
    /// rule); needs the full spectrum, so the covariance solver.
    case varianceFraction(Double)
}

/// PCA solvers.
public enum PCASolver: String, SettingChoice, CaseIterable {
    public init(from decoder: Decoder) throws { self = try Self.decodeChoice(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeChoice(to: encoder) }

    /// Covariance for d <= 1000, randomized above.
    case auto
    /// Exact: one pass accumulates the d x d covariance (blocked DSYRK in Double, chunk merges by
    /// Chan's formula), then LAPACK dsyevd. O(n d^2 + d^3) time, O(d^2) memory per chunk.
    case covariance
    /// Halko, Martinsson & Tropp (2011) on the covariance operator, never formed: each power
    /// iteration is one streaming pass computing X_c^T (X_c Q). O(n d l) per pass, O(d l) memory,
    /// l = components + oversampling.
    case randomized
}

public struct PCAOptions: Sendable {
    public var components: PCAComponents
    public var solver: PCASolver = .auto
    /// Scale the projections to unit variance.
    public var whiten: Bool = false
    /// Randomized solver: extra dimensions (default 10) and power iterations (nil: scikit-learn's
    /// rule, 7 when components < 0.1 min(n, d), else 4).
    public var oversampling: Int = 10
    public var powerIterations: Int? = nil
    public var seed: UInt64 = 0
    public var threads: Int = defaultThreadCount
    /// The processes sharing the rows (MPI ranks; covariance solver only); see `KMeansOptions.group`.
    public var group: any ChunkGroup = SingleProcess()
    /// Working-memory budget in bytes: the covariance solver's d x d matrices must fit in it.
    public var memoryBudget: Int = MemoryBudget.defaultBytes

    public init(components: PCAComponents) { self.components = components }
}

/// A fitted PCA. Sign convention: each component's entry of largest magnitude is positive
/// (scikit-learn's `svd_flip(u_based_decision=False)`), so results are reproducible.
public struct PCAModel: Sendable, Equatable {
    public var mean: [Double]
    /// c x d, row-major: component i is row i.
    public var components: [Double]
    public var explainedVariance: [Double]
    public var explainedVarianceRatio: [Double]
    public var singularValues: [Double]
    public var noiseVariance: Double
    public var whiten: Bool
    public var samples: Int
    public var solver: PCASolver

    public init(mean: [Double], components: [Double], explainedVariance: [Double], explainedVarianceRatio: [Double],
                singularValues: [Double], noiseVariance: Double, whiten: Bool, samples: Int, solver: PCASolver) {
        self.mean = mean; self.components = components; self.explainedVariance = explainedVariance
        self.explainedVarianceRatio = explainedVarianceRatio; self.singularValues = singularValues
        self.noiseVariance = noiseVariance; self.whiten = whiten; self.samples = samples; self.solver = solver
    }

    public var d: Int { mean.count }
    public var count: Int { explainedVariance.count }
}

/// Principal component analysis: exact through the covariance, or randomized.
public enum PCA {
    /// Fits the principal components of `data`.
    ///
    /// - Parameters:
    ///   - data: n x d rows (Float).
    ///   - o: components (a count, or the fewest explaining more than a variance fraction), solver
    ///     (`auto`: covariance for d <= 1000, randomized above), whitening, seed (randomized), threads.
    /// - Returns: the c x d components (row-major, sign-normalized as scikit-learn's `svd_flip`),
    ///   mean, explained variance and ratio, singular values, noise variance.
    /// - Throws: `StrataError.invalidSetting` (`components` outside 1...min(n, d), `variance`
    ///   outside (0, 1)), `.invalidArgument` (n < 2, a solver that cannot do what is asked);
    ///   `LinalgError` from LAPACK (`dsyevd`, `dgesdd`).
    /// - Complexity: covariance solver O(n d^2 + d^3) time, O(d^2) memory per chunk, one pass;
    ///   randomized O(n d (c + 10) (q + 1)) with q power iterations.
    /// - Source: scikit-learn `sklearn/decomposition/_pca.py` (`covariance_eigh`); Halko,
    ///   Martinsson & Tropp 2011 for the randomized solver.
    public static func fit(_ data: Dataset, options o: PCAOptions) throws -> PCAModel {
        let n = data.rows, d = data.cols
        guard n >= 2 else { throw StrataError.invalidArgument("PCA needs at least 2 rows (\(data.source) has \(n))") }
        switch o.components {
        case let .count(c):
            guard c >= 1 && c <= min(n, d) else { throw StrataError.invalidSetting("components", "must be between 1 and \(min(n, d)) (got \(c))") }
        case let .varianceFraction(f):
            guard f > 0 && f < 1 else { throw StrataError.invalidSetting("variance", "must be strictly between 0 and 1 (got \(f))") }
        }
        var solver = o.solver
        if solver == .auto { solver = d <= 1000 ? .covariance : .randomized }
        if o.group.isDistributed && solver != .covariance {
            throw StrataError.invalidArgument("--distributed PCA uses the covariance solver (d <= 1000)")
        }
        if case .varianceFraction = o.components, solver == .randomized {
            throw StrataError.invalidArgument("choosing components by --variance needs the full spectrum, which at d = \(d) is the covariance solver's d x d eigenproblem; use --components N (randomized), or --solver covariance if it fits")
        }
        if solver == .covariance {
            // The covariance, its eigenvectors and the eigensolver's workspace: ~3 d^2 doubles,
            // and O(d^3) time (d = 20,000: 9.6 GB and many minutes; the randomized solver: seconds).
            let bytes = 3.0 * Double(d) * Double(d) * 8
            if bytes > Double(o.memoryBudget) {
                throw StrataError.invalidArgument("the covariance solver at d = \(d) needs about \(MemoryBudget.describe(Int(bytes))) (3 d x d matrices) and O(d^3) time, beyond the memory budget of \(MemoryBudget.describe(o.memoryBudget)); use --solver randomized with --components N, or raise --memory-budget")
            }
        }
        return try data.withRows { rows, _ in
            solver == .covariance ? try exact(rows, options: o) : try randomized(rows, options: o)
        }
    }

    /// One chunk's count, mean and scatter matrix (lower triangle), merged by Chan's formula.
    struct ScatterPart: ChunkPartial {
        var n = 0
        var mean: [Double]
        var m2: Matrix<Double>

        init(d: Int) { mean = [Double](repeating: 0, count: d); m2 = Matrix(rows: d, cols: d) }

        /// Chan's merge of the next chunk (lower triangle only).
        mutating func add(_ p: ScatterPart) {
            let d = mean.count
            let nb = Double(p.n), na = Double(n), nn = na + nb
            var delta = [Double](repeating: 0, count: d)
            for j in 0..<d { delta[j] = p.mean[j] - mean[j] }
            for a in 0..<d { for b in 0...a { m2[a, b] += p.m2[a, b] + delta[a] * delta[b] * na * nb / nn } }
            for j in 0..<d { mean[j] += delta[j] * nb / nn }
            n += p.n
        }

        /// n, mean (d), scatter (d x d).
        var flatWidth: Int { 1 + mean.count + m2.storage.count }
        func write(to out: UnsafeMutablePointer<Double>) {
            let d = mean.count
            out[0] = Double(n)
            for j in 0..<d { out[1 + j] = mean[j] }
            for i in 0..<m2.storage.count { out[1 + d + i] = m2.storage[i] }
        }
        mutating func read(from flat: UnsafePointer<Double>) {
            let d = mean.count
            n = Int(flat[0])
            for j in 0..<d { mean[j] = flat[1 + j] }
            for i in 0..<m2.storage.count { m2.storage[i] = flat[1 + d + i] }
        }
    }

    /// Mean and scatter matrix sum (x - mean)(x - mean)^T in one pass (`ChunkedReduction`:
    /// bit-identical for any `threads` and any `group`). O(n d^2) time, O(d^2) per chunk.
    static func scatter(_ rows: DenseRows, threads: Int, group: any ChunkGroup = SingleProcess()) -> (mean: [Double], scatter: Matrix<Double>) {
        let n = rows.rows, d = rows.cols
        let part = RowPartition(rows: n)
        var total = ChunkedReduction.reduce(part, threads: threads, group: group, zero: ScatterPart(d: d)) { _, r in
            var p = ScatterPart(d: d)
            p.n = r.count
            var xc = [Double](repeating: 0, count: r.count * d)
            xc.withUnsafeMutableBufferPointer { xp in
                p.mean.withUnsafeMutableBufferPointer { mp in
                    let m = r.count
                    rows.withRows(r) { x in
                        for i in 0..<m { for j in 0..<d { let v = Double(x[i &* d &+ j]); xp[i &* d &+ j] = v; mp[j] += v } }
                    }
                    for j in 0..<d { mp[j] /= Double(m) }
                    for i in 0..<m { for j in 0..<d { xp[i &* d &+ j] -= mp[j] } }
                }
            }
            xc.withUnsafeBufferPointer { xp in
                p.m2.storage.withUnsafeMutableBufferPointer { mp in
                    BLAS.syrkTransposed(MatrixView(xp.baseAddress!, rows: r.count, cols: d), into: MutableMatrixView(mp.baseAddress!, rows: d, cols: d))
                }
            }
            return p
        }
        Symmetric.mirrorLower(&total.m2)
        return (total.mean, total.m2)
    }

    static func exact(_ rows: DenseRows, options o: PCAOptions) throws -> PCAModel {
        let n = rows.rows, d = rows.cols
        let (mean, s) = scatter(rows, threads: o.threads, group: o.group)
        var cov = s
        for i in 0..<(d * d) { cov.storage[i] /= Double(n - 1) }
        let (values, vectors) = try LAPACK.symmetricEigen(cov)
        let order = Array((0..<d).reversed())
        let ev = order.map { max(0, values[$0]) }
        let total = ev.reduce(0, +)
        let ratio = ev.map { total > 0 ? $0 / total : 0 }
        let c: Int
        switch o.components {
        case let .count(k): c = k
        case let .varianceFraction(f):
            var acc = 0.0, k = 0
            while k < d { acc += ratio[k]; k += 1; if acc > f { break } }
            c = k
        }
        var comps = [Double](repeating: 0, count: c * d)
        for (i, col) in order.prefix(c).enumerated() { for j in 0..<d { comps[i * d + j] = vectors[j, col] } }
        flipSigns(&comps, d: d)
        let noise = c < min(n, d) ? ev[c..<min(n, d)].reduce(0, +) / Double(min(n, d) - c) : 0
        return PCAModel(mean: mean, components: comps, explainedVariance: Array(ev.prefix(c)), explainedVarianceRatio: Array(ratio.prefix(c)),
                        singularValues: ev.prefix(c).map { ($0 * Double(n - 1)).squareRoot() }, noiseVariance: noise,
                        whiten: o.whiten, samples: n, solver: .covariance)
    }

    /// svd_flip(u_based_decision=False): the largest-magnitude entry of each row made positive.
    static func flipSigns(_ comps: inout [Double], d: Int) {
        for i in 0..<(comps.count / d) {
            var arg = 0
            for j in 0..<d where abs(comps[i * d + j]) > abs(comps[i * d + arg]) { arg = j }
            if comps[i * d + arg] < 0 { for j in 0..<d { comps[i * d + j] = -comps[i * d + j] } }
        }
    }

    /// (X - mean)^T (X - mean) Q for Q (d x l), one streaming pass, Double, chunk-ordered reduction.
    static func scatterTimes(_ rows: DenseRows, mean: [Double], q: Matrix<Double>, threads: Int) -> Matrix<Double> {
        let d = rows.cols, l = q.cols
        let part = RowPartition(rows: rows.rows)
        let total = ChunkedReduction.reduce(part, threads: threads, zero: ChunkSums(count: d * l)) { _, r in
            var xc = [Double](repeating: 0, count: r.count * d)
            rows.withRows(r) { x in for i in 0..<r.count { for j in 0..<d { xc[i * d + j] = Double(x[i * d + j]) - mean[j] } } }
            var t = [Double](repeating: 0, count: r.count * l)
            var out = [Double](repeating: 0, count: d * l)
            xc.withUnsafeBufferPointer { xp in
                q.storage.withUnsafeBufferPointer { qp in
                    t.withUnsafeMutableBufferPointer { tp in
                        let X = MatrixView(xp.baseAddress!, rows: r.count, cols: d)
                        BLAS.gemm(X, MatrixView(qp.baseAddress!, rows: d, cols: l), into: MutableMatrixView(tp.baseAddress!, rows: r.count, cols: l))
                        out.withUnsafeMutableBufferPointer { op in
                            BLAS.gemm(transA: true, X, MatrixView(tp.baseAddress!, rows: r.count, cols: l),
                                      into: MutableMatrixView(op.baseAddress!, rows: d, cols: l))
                        }
                    }
                }
            }
            return ChunkSums(out)
        }
        return Matrix(rows: d, cols: l, storage: total.values)
    }

    static func randomized(_ rows: DenseRows, options o: PCAOptions) throws -> PCAModel {
        let n = rows.rows, d = rows.cols
        guard case let .count(c) = o.components else { throw StrataError.invalidArgument("randomized PCA needs --components N") }
        let stats = ColumnStatistics.compute(rows, partition: RowPartition(rows: n), threads: o.threads)
        let totalVariance = stats.variances.reduce(0, +) * Double(n) / Double(n - 1)
        let l = min(d, c + o.oversampling)
        let iterations = o.powerIterations ?? (Double(c) < 0.1 * Double(min(n, d)) ? 7 : 4)
        var rng = SeededRandom(seed: o.seed)
        var q = Matrix<Double>(rows: d, cols: l, storage: (0..<(d * l)).map { _ in rng.nextGaussian() })
        for _ in 0...iterations {
            let y = scatterTimes(rows, mean: stats.means, q: q, threads: o.threads)
            q = try LAPACK.svd(y).u          // orthonormal basis of the range
        }
        // Rayleigh-Ritz: B = Q^T S Q, eigen-decomposed.
        let sq = scatterTimes(rows, mean: stats.means, q: q, threads: o.threads)
        var b = Matrix<Double>(rows: l, cols: l)
        for a in 0..<l { for e in 0..<l { var s = 0.0; for j in 0..<d { s += q[j, a] * sq[j, e] }; b[a, e] = s / Double(n - 1) } }
        for a in 0..<l { for e in 0..<a { let m = 0.5 * (b[a, e] + b[e, a]); b[a, e] = m; b[e, a] = m } }
        let (values, w) = try LAPACK.symmetricEigen(b)
        let order = Array((0..<l).reversed()).prefix(c)
        var comps = [Double](repeating: 0, count: c * d)
        for (i, col) in order.enumerated() { for j in 0..<d { var s = 0.0; for a in 0..<l { s += q[j, a] * w[a, col] }; comps[i * d + j] = s } }
        flipSigns(&comps, d: d)
        let ev = order.map { max(0, values[$0]) }
        let noise = c < min(n, d) ? max(0, totalVariance - ev.reduce(0, +)) / Double(min(n, d) - c) : 0
        return PCAModel(mean: stats.means, components: comps, explainedVariance: ev, explainedVarianceRatio: ev.map { $0 / totalVariance },
                        singularValues: ev.map { ($0 * Double(n - 1)).squareRoot() }, noiseVariance: noise, whiten: o.whiten, samples: n,
                        solver: .randomized)
    }
}

extension PCAModel {
    /// Projections (n x count), Float, row-major; whitened when `whiten`. Parallel, deterministic.
    public func transform(_ data: Dataset, threads: Int = defaultThreadCount) throws -> Matrix<Float> {
        guard data.cols == d else { throw StrataError.invalidArgument("\(data.source) has \(data.cols) features; the PCA model needs \(d)") }
        let c = count
        var out = Matrix<Float>(rows: data.rows, cols: c)
        let scale = explainedVariance.map { whiten ? 1 / max($0, Double.leastNormalMagnitude).squareRoot() : 1 }
        let part = RowPartition(rows: data.rows)
        data.withRows { rows, _ in
            Parallel.fillRows(&out.storage, partition: part, width: c, threads: threads) { r, o in
                rows.withRows(r) { x in
                    var row = [Double](repeating: 0, count: d)
                    for i in 0..<r.count {
                        for j in 0..<d { row[j] = Double(x[i * d + j]) - mean[j] }
                        for k in 0..<c {
                            var s = 0.0
                            for j in 0..<d { s += row[j] * components[k * d + j] }
                            o[i * c + k] = Float(s * scale[k])
                        }
                    }
                }
            }
        }
        return out
    }

    /// Back to the original space: projections (n x count) -> n x d.
    public func inverseTransform(_ z: Matrix<Float>) -> Matrix<Double> {
        let c = count
        var out = Matrix<Double>(rows: z.rows, cols: d)
        for i in 0..<z.rows {
            for j in 0..<d { out[i, j] = mean[j] }
            for k in 0..<c {
                let v = Double(z[i, k]) * (whiten ? explainedVariance[k].squareRoot() : 1)
                for j in 0..<d { out[i, j] += v * components[k * d + j] }
            }
        }
        return out
    }
}
