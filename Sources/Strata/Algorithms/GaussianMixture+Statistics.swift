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
/// the weighted sum of rows, and the weighted second moments around `shifts` (the means the pass
/// was run with): full/tied d x d (lower triangle from SYRK), diag/spherical d values.
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

    /// One pass over the rows. With `labelsOut`, also writes each row's most probable component.
    static func pass(_ rows: DenseRows, k: Int, type: CovarianceType, shifts: [Double], partition: RowPartition, threads: Int,
                     responsibilities: ResponsibilitySource, labelsOut: UncheckedSendable<UnsafeMutablePointer<Int32>>? = nil,
                     probaOut: UncheckedSendable<UnsafeMutablePointer<Double>>? = nil, accumulate: Bool = true) -> GMMStatistics {
        let d = rows.cols
        let full = type == .full || type == .tied
        var parts = [GMMStatistics](repeating: GMMStatistics(k: k, d: d, full: full), count: partition.count)
        parts.withUnsafeMutableBufferPointer { pp in
            let slots = UncheckedSendable(pp.baseAddress!)
            Parallel.forEachChunk(partition.count, threads: threads) { chunk in
                var st = GMMStatistics(k: k, d: d, full: full)
                let B = blockRows
                var xd = [Double](repeating: 0, count: B * d)
                var resp = [Double](repeating: 0, count: B * k)
                var z = [Double](repeating: 0, count: B * d)
                var t = [Double](repeating: 0, count: B * d)
                let r = partition.range(chunk)
                var lo = r.lowerBound
                while lo < r.upperBound {
                    let m = min(B, r.upperBound - lo)
                    rows.withRows(lo..<(lo + m)) { x in for i in 0..<(m * d) { xd[i] = Double(x[i]) } }
                    // Responsibilities of this block.
                    switch responsibilities {
                    case let .model(model):
                        st.logLikelihood += eStep(model, xd: &xd, rows: m, resp: &resp, t: &t,
                                                  labels: labelsOut.map { $0.value + lo })
                        if let p = probaOut { for i in 0..<(m * k) { p.value[lo * k + i] = resp[i] } }
                    case let .oneHot(labels):
                        for i in 0..<m {
                            for c in 0..<k { resp[i * k + c] = 0 }
                            let l = Int(labels[lo + i])
                            if l >= 0 { resp[i * k + l] = 1 }
                        }
                    case let .random(seed):
                        for i in 0..<m {
                            var g = SeededRandom.stream(seed: seed, index: UInt64(lo + i))
                            var total = 0.0
                            for c in 0..<k { let u = g.nextUnit(); resp[i * k + c] = u; total += u }
                            for c in 0..<k { resp[i * k + c] /= total }
                        }
                    }
                    // Accumulate: nk, s1, and second moments around the shifts.
                    for c in 0..<k where accumulate {
                        var nkc = 0.0
                        for i in 0..<m {
                            let w = resp[i * k + c]
                            nkc += w
                            for j in 0..<d { st.s1[c * d + j] += w * xd[i * d + j] }
                        }
                        st.nk[c] += nkc
                        if nkc == 0 { continue }
                        if full {
                            for i in 0..<m {
                                let s = resp[i * k + c].squareRoot()
                                for j in 0..<d { z[i * d + j] = s * (xd[i * d + j] - shifts[c * d + j]) }
                            }
                            z.withUnsafeBufferPointer { zp in
                                st.s2.withUnsafeMutableBufferPointer { sp in
                                    BLAS.syrkTransposed(MatrixView(zp.baseAddress!, rows: m, cols: d), beta: 1,
                                                        into: MutableMatrixView(sp.baseAddress! + c * d * d, rows: d, cols: d))
                                }
                            }
                        } else {
                            for i in 0..<m {
                                let w = resp[i * k + c]
                                for j in 0..<d { let v = xd[i * d + j] - shifts[c * d + j]; st.s2[c * d + j] += w * v * v }
                            }
                        }
                    }
                    lo += m
                }
                slots.value[chunk] = st
            }
        }
        var total = GMMStatistics(k: k, d: d, full: full)
        for p in parts { total.add(p) }
        return total
    }

    /// E-step on one block: resp (rows x k) and the sum over rows of log-sum-exp.
    static func eStep(_ model: GaussianMixtureModel, xd: inout [Double], rows m: Int, resp: inout [Double], t: inout [Double],
                      labels: UnsafeMutablePointer<Int32>?) -> Double {
        let k = model.k, d = model.d
        let logTwoPi = log(2 * Double.pi)
        for c in 0..<k {
            let constant = -0.5 * Double(d) * logTwoPi + model.logDetPrecisionCholesky[c] + log(model.weights[c])
            let mu = c * d
            switch model.covarianceType {
            case .full, .tied:
                let off = model.covarianceType == .full ? c * d * d : 0
                // t = (x - mu) C, one GEMM per block and component.
                for i in 0..<m { for j in 0..<d { t[i * d + j] = xd[i * d + j] - model.means[mu + j] } }
                var y = [Double](repeating: 0, count: m * d)
                t.withUnsafeBufferPointer { tp in
                    model.precisionsCholesky.withUnsafeBufferPointer { pc in
                        y.withUnsafeMutableBufferPointer { yp in
                            BLAS.gemm(MatrixView(tp.baseAddress!, rows: m, cols: d), MatrixView(pc.baseAddress! + off, rows: d, cols: d),
                                      into: MutableMatrixView(yp.baseAddress!, rows: m, cols: d))
                        }
                    }
                }
                for i in 0..<m {
                    var q = 0.0
                    for j in 0..<d { q += y[i * d + j] * y[i * d + j] }
                    resp[i * k + c] = constant - 0.5 * q
                }
            case .diag:
                for i in 0..<m {
                    var q = 0.0
                    for j in 0..<d { let v = (xd[i * d + j] - model.means[mu + j]) * model.precisionsCholesky[mu + j]; q += v * v }
                    resp[i * k + c] = constant - 0.5 * q
                }
            case .spherical:
                let p = model.precisionsCholesky[c]
                for i in 0..<m {
                    var q = 0.0
                    for j in 0..<d { let v = xd[i * d + j] - model.means[mu + j]; q += v * v }
                    resp[i * k + c] = constant - 0.5 * q * p * p
                }
            }
        }
        var total = 0.0
        for i in 0..<m {
            var mx = -Double.infinity, arg = 0
            for c in 0..<k where resp[i * k + c] > mx { mx = resp[i * k + c]; arg = c }
            var s = 0.0
            for c in 0..<k { s += exp(resp[i * k + c] - mx) }
            let lse = mx + log(s)
            for c in 0..<k { resp[i * k + c] = exp(resp[i * k + c] - lse) }
            total += lse
            labels?[i] = Int32(arg)
        }
        return total
    }

    /// The M-step: parameters from these statistics (scikit-learn's `_estimate_gaussian_parameters`
    /// then `_compute_precision_cholesky`). Throws naming the component that collapsed.
    func mStep(type: CovarianceType, shifts: [Double], regCovar: Double) throws -> GaussianMixtureModel {
        let eps = 10 * Double.ulpOfOne
        let nk = self.nk.map { $0 + eps }
        let total = nk.reduce(0, +)
        var means = [Double](repeating: 0, count: k * d)
        for c in 0..<k { for j in 0..<d { means[c * d + j] = s1[c * d + j] / nk[c] } }
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
