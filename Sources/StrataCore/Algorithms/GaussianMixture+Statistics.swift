import CStrataKernels
import Foundation
import StrataKernels
import StrataLinalg

/// Where a statistics pass gets each row's responsibilities.
enum ResponsibilitySource: @unchecked Sendable {
    /// E-step under this model (log space, log-sum-exp per row).
    case model(GaussianMixtureModel)
    /// One-hot from labels; label -1 gives the row no responsibility.
    case oneHot([Int32])
    /// Uniform random, normalized per row; seeded per row, so independent of the chunking.
    case random(seed: UInt64)
}

/// EM's sufficient statistics, accumulated in Double: per component the total responsibility,
/// and the weighted first and second moments of the rows around the pass's `center`:
/// full/tied d x d, diag/spherical d values.
struct GMMStatistics {
    var k: Int
    var d: Int
    var nk: [Double]
    var s1: [Double]
    var s2: [Double]
    /// Sum over rows of log sum_c w_c N(x | c) (E-step passes only).
    var logLikelihood: Double

    init(k: Int, d: Int, full: Bool) {
        self.k = k; self.d = d
        nk = [Double](repeating: 0, count: k)
        s1 = [Double](repeating: 0, count: k * d)
        s2 = [Double](repeating: 0, count: full ? k * d * d : k * d)
        logLikelihood = 0
    }

    mutating func add(_ o: GMMStatistics) {
        for i in 0..<nk.count { nk[i] += o.nk[i] }
        for i in 0..<s1.count { s1[i] += o.s1[i] }
        for i in 0..<s2.count { s2[i] += o.s2[i] }
        logLikelihood += o.logLikelihood
    }

    static let blockRows = 256

    /// Float copies of a model's parameters in the layouts the E-step kernels read.
    struct EStepPlan: @unchecked Sendable {
        var type: CovarianceType
        /// -0.5 d log(2 pi) + log det(precision Cholesky) + log weight, per component.
        var cst: [Float]
        /// diag/spherical: means and 1/sigma (k x d).
        var mu: [Float] = []
        var prec: [Float] = []
        /// full/tied: Ct (k*d x d) with Ct[c*d+j][t] = C_c[t][j], and mC[c] = C_c^T (mu_c - center).
        var ct: [Float] = []
        var mC: [Float] = []

        init(_ model: GaussianMixtureModel, center: [Double]) {
            let k = model.k, d = model.d
            type = model.covarianceType
            let logTwoPi = log(2 * Double.pi)
            cst = (0..<k).map { Float(-0.5 * Double(d) * logTwoPi + model.logDetPrecisionCholesky[$0] + log(model.weights[$0])) }
            switch type {
            case .diag:
                mu = model.means.map { Float($0) }
                prec = model.precisionsCholesky.map { Float($0) }
            case .spherical:
                mu = model.means.map { Float($0) }
                prec = (0..<(k * d)).map { Float(model.precisionsCholesky[$0 / d]) }
            case .full, .tied:
                ct = [Float](repeating: 0, count: k * d * d)
                mC = [Float](repeating: 0, count: k * d)
                for c in 0..<k {
                    let off = type == .full ? c * d * d : 0
                    for j in 0..<d {
                        var acc = 0.0
                        for t in 0..<d {
                            let v = model.precisionsCholesky[off + t * d + j]
                            ct[(c * d + j) * d + t] = Float(v)
                            acc += (model.means[c * d + t] - center[t]) * v
                        }
                        mC[c * d + j] = Float(acc)
                    }
                }
            }
        }
    }

    /// One pass over the rows: responsibilities block by block (E-step kernels, or fixed ones),
    /// and with `accumulate` the sufficient statistics around `center` by DGEMM in Double:
    /// S1 = R^T X, diag second moments R^T (X o X), full ones X^T [r_c o X].
    /// With `labelsOut`/`probaOut`, also the most probable component and the posteriors.
    static func pass(_ rows: DenseRows, k: Int, type: CovarianceType, center: [Double], partition: RowPartition, threads: Int,
                     responsibilities: ResponsibilitySource, labelsOut: UncheckedSendable<UnsafeMutablePointer<Int32>>? = nil,
                     probaOut: UncheckedSendable<UnsafeMutablePointer<Double>>? = nil, accumulate: Bool = true,
                     group: any ChunkGroup = SingleProcess()) -> GMMStatistics {
        let d = rows.cols
        let full = type == .full || type == .tied
        var plan: EStepPlan? = nil
        if case let .model(model) = responsibilities { plan = EStepPlan(model, center: center) }
        let centerF = center.map { Float($0) }
        var parts = [GMMStatistics](repeating: GMMStatistics(k: k, d: d, full: full), count: partition.count)
        parts.withUnsafeMutableBufferPointer { pp in
            let slots = UncheckedSendable(pp.baseAddress!)
            let local = group.localChunks(partition.count)
            Parallel.forEachChunk(local.count, threads: threads) { localChunk in
                let chunk = local.lowerBound + localChunk
                var st = GMMStatistics(k: k, d: d, full: full)
                let B = blockRows
                var xc = [Float](repeating: 0, count: B * d)
                var resp = [Float](repeating: 0, count: k * B)
                var yt = [Float](repeating: 0, count: full ? k * d * B : 0)
                var scratch = [Float](repeating: 0, count: Int(strata_gmm_scratch_floats(Int64(d), Int64(k))))
                var rd = [Double](repeating: 0, count: k * B)
                var xd = [Double](repeating: 0, count: B * d)
                var x2 = [Double](repeating: 0, count: full ? 0 : B * d)
                var z = [Double](repeating: 0, count: full ? B * k * d : 0)
                var s2all = [Double](repeating: 0, count: full ? d * k * d : 0)
                let r = partition.range(chunk)
                var lo = r.lowerBound
                while lo < r.upperBound {
                    let m = min(B, r.upperBound - lo)
                    rows.withRows(lo..<(lo + m)) { x in
                        x2.withUnsafeMutableBufferPointer { x2p in
                            strata_gmm_center_rows(x, Int64(m), Int64(d), centerF, &xc, &xd, full || !accumulate ? nil : x2p.baseAddress)
                        }
                        switch responsibilities {
                        case .model:
                            let p = plan!
                            let labels = labelsOut.map { $0.value + lo }
                            if full {
                                p.ct.withUnsafeBufferPointer { ctp in
                                    xc.withUnsafeBufferPointer { xcp in
                                        yt.withUnsafeMutableBufferPointer { ytp in
                                            BLAS.gemm(transB: true, MatrixView(ctp.baseAddress!, rows: k * d, cols: d),
                                                      MatrixView(xcp.baseAddress!, rows: m, cols: d),
                                                      into: MutableMatrixView(ytp.baseAddress!, rows: k * d, cols: m, ld: B))
                                        }
                                    }
                                }
                                strata_gmm_estep_full(yt, Int64(B), Int64(m), Int64(d), Int64(k), p.mC, p.cst, &resp, Int64(B),
                                                      labels, &st.logLikelihood, &scratch)
                            } else {
                                strata_gmm_estep_diag(x, Int64(m), Int64(d), Int64(k), p.mu, p.prec, p.cst, &resp, Int64(B),
                                                      labels, &st.logLikelihood, &scratch)
                            }
                        case let .oneHot(labels):
                            for i in 0..<m {
                                for c in 0..<k { resp[c * B + i] = 0 }
                                let l = Int(labels[lo + i])
                                if l >= 0 { resp[l * B + i] = 1 }
                            }
                        case let .random(seed):
                            for i in 0..<m {
                                var g = SeededRandom.stream(seed: seed, index: UInt64(lo + i))
                                var total = 0.0
                                var u = [Double](repeating: 0, count: k)
                                for c in 0..<k { u[c] = g.nextUnit(); total += u[c] }
                                for c in 0..<k { resp[c * B + i] = Float(u[c] / total) }
                            }
                        }
                    }
                    if let p = probaOut { for i in 0..<m { for c in 0..<k { p.value[(lo + i) * k + c] = Double(resp[c * B + i]) } } }
                    if accumulate {
                        strata_gmm_resp_to_double(resp, Int64(B), Int64(m), Int64(k), &rd, &st.nk)
                        rd.withUnsafeBufferPointer { rp in
                            xd.withUnsafeBufferPointer { xp in
                                let R = MatrixView(rp.baseAddress!, rows: k, cols: m, ld: B)
                                let X = MatrixView(xp.baseAddress!, rows: m, cols: d)
                                st.s1.withUnsafeMutableBufferPointer { sp in
                                    BLAS.gemm(R, X, beta: 1, into: MutableMatrixView(sp.baseAddress!, rows: k, cols: d))
                                }
                                if full {
                                    z.withUnsafeMutableBufferPointer { zp in
                                        strata_gmm_weighted_rows(rp.baseAddress, Int64(B), xp.baseAddress, Int64(m), Int64(d), Int64(k), zp.baseAddress)
                                    }
                                    z.withUnsafeBufferPointer { zp in
                                        s2all.withUnsafeMutableBufferPointer { sp in
                                            BLAS.gemm(transA: true, X, MatrixView(zp.baseAddress!, rows: m, cols: k * d), beta: 1,
                                                      into: MutableMatrixView(sp.baseAddress!, rows: d, cols: k * d))
                                        }
                                    }
                                } else {
                                    x2.withUnsafeBufferPointer { x2p in
                                        st.s2.withUnsafeMutableBufferPointer { sp in
                                            BLAS.gemm(R, MatrixView(x2p.baseAddress!, rows: m, cols: d), beta: 1,
                                                      into: MutableMatrixView(sp.baseAddress!, rows: k, cols: d))
                                        }
                                    }
                                }
                            }
                        }
                    }
                    lo += m
                }
                if full && accumulate {
                    for c in 0..<k { for a in 0..<d { for b in 0..<d { st.s2[c * d * d + a * d + b] = s2all[a * k * d + c * d + b] } } }
                }
                slots.value[chunk] = st
            }
        }
        if group.isDistributed {
            // Every chunk's statistics from its owner; then the single-process reduction order.
            let width = k + k * d + parts[0].s2.count + 1
            var flat = [Double](repeating: 0, count: partition.count * width)
            for c in group.localChunks(partition.count) {
                let p = parts[c]
                flat.replaceSubrange((c * width)..<((c + 1) * width), with: p.nk + p.s1 + p.s2 + [p.logLikelihood])
            }
            group.allGather(&flat, chunks: partition.count, width: width)
            for c in 0..<partition.count {
                var o = c * width
                for i in 0..<k { parts[c].nk[i] = flat[o + i] }; o += k
                for i in 0..<(k * d) { parts[c].s1[i] = flat[o + i] }; o += k * d
                for i in 0..<parts[c].s2.count { parts[c].s2[i] = flat[o + i] }; o += parts[c].s2.count
                parts[c].logLikelihood = flat[o]
            }
        }
        var total = GMMStatistics(k: k, d: d, full: full)
        for p in parts { total.add(p) }
        return total
    }

    /// The M-step: parameters from these statistics (scikit-learn's `_estimate_gaussian_parameters`
    /// then `_compute_precision_cholesky`). Throws naming the component that collapsed.
    func mStep(type: CovarianceType, shifts: [Double], regCovar: Double) throws -> GaussianMixtureModel {
        let eps = 10 * Double.ulpOfOne
        let nk = self.nk.map { $0 + eps }
        let total = nk.reduce(0, +)
        // s1 and s2 are moments around `shifts`: mean = shift + s1 / nk.
        var means = [Double](repeating: 0, count: k * d)
        for c in 0..<k { for j in 0..<d { means[c * d + j] = shifts[c * d + j] + s1[c * d + j] / nk[c] } }
        func collapse(_ c: Int?) -> StrataError {
            .numerical((c.map { "component \($0)" } ?? "the shared covariance") +
                       " is not positive definite after adding reg-covar = \(regCovar) (too few or identical rows in it); " +
                       "raise --reg-covar, lower k, or scale the data")
        }
        var cov: [Double], prec: [Double], logDet = [Double](repeating: 0, count: k)
        switch type {
        case .full, .tied:
            var covs: [Matrix<Double>] = []
            for c in 0..<k {
                var m = Matrix<Double>(rows: d, cols: d)
                for a in 0..<d { for b in 0...a {
                    let da = means[c * d + a] - shifts[c * d + a], db = means[c * d + b] - shifts[c * d + b]
                    m[a, b] = s2[c * d * d + a * d + b] - nk[c] * da * db
                } }
                Symmetric.mirrorLower(&m)
                covs.append(m)
            }
            if type == .tied {
                var m = Matrix<Double>(rows: d, cols: d)
                for c in 0..<k { for i in 0..<(d * d) { m.storage[i] += covs[c].storage[i] } }
                for i in 0..<(d * d) { m.storage[i] /= total }
                covs = [m]
            } else {
                for c in 0..<k { for i in 0..<(d * d) { covs[c].storage[i] /= nk[c] } }
            }
            cov = []
            prec = []
            for (c, var m) in covs.enumerated() {
                for a in 0..<d { m[a, a] += regCovar }
                cov += m.storage
                let l: Matrix<Double>
                do { l = try LAPACK.cholesky(m) } catch { throw collapse(type == .tied ? nil : c) }
                let inv = try LAPACK.lowerTriangularInverse(l)
                prec += inv.transposed.storage
                var ld = 0.0
                for a in 0..<d { ld -= log(l[a, a]) }
                if type == .tied { logDet = [Double](repeating: ld, count: k) } else { logDet[c] = ld }
            }
        case .diag, .spherical:
            var diag = [Double](repeating: 0, count: k * d)
            for c in 0..<k { for j in 0..<d {
                let dj = means[c * d + j] - shifts[c * d + j]
                diag[c * d + j] = (s2[c * d + j] - nk[c] * dj * dj) / nk[c] + regCovar
            } }
            if type == .diag {
                cov = diag
                for c in 0..<k where (0..<d).contains(where: { !(diag[c * d + $0] > 0) }) { throw collapse(c) }
                prec = diag.map { 1 / $0.squareRoot() }
                for c in 0..<k { logDet[c] = (0..<d).reduce(0.0) { $0 + log(prec[c * d + $1]) } }
            } else {
                cov = (0..<k).map { c in (0..<d).reduce(0.0) { $0 + diag[c * d + $1] } / Double(d) }
                for c in 0..<k where !(cov[c] > 0) { throw collapse(c) }
                prec = cov.map { 1 / $0.squareRoot() }
                for c in 0..<k { logDet[c] = Double(d) * log(prec[c]) }
            }
        }
        return GaussianMixtureModel(covarianceType: type, k: k, d: d, weights: nk.map { $0 / total }, means: means,
                                    covariances: cov, precisionsCholesky: prec, logDetPrecisionCholesky: logDet)
    }
}
