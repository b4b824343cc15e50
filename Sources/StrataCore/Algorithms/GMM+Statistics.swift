import Foundation
import StrataKernels
import StrataLinalg

/// Where a statistics pass gets each row's responsibilities.
enum ResponsibilitySource: @unchecked Sendable {
    /// E-step under this model (log space, log-sum-exp per row).
    case model(GMMModel)
    /// One-hot from labels; label -1 gives the row no responsibility.
    case oneHot([Int32])
    /// Uniform random, normalized per row; seeded per row, so independent of the chunking.
    case random(seed: UInt64)
    /// The responsibilities, labels and log-sum-exp of the device E-step just run (`GPUGMMEStep`,
    /// diag/spherical): bit-identical to `.model` under the same model and center.
    case device(GPUGMMEStep)
}

/// EM's sufficient statistics, accumulated in Double: per component the total responsibility,
/// and the weighted first and second moments of the rows around the pass's `center`:
/// full/tied d x d, diag/spherical d values.
struct GMMStatistics: ChunkPartial {
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

    /// nk, s1, s2, logLikelihood.
    var flatWidth: Int { nk.count + s1.count + s2.count + 1 }
    func write(to out: UnsafeMutablePointer<Double>) {
        var o = 0
        for v in nk { out[o] = v; o += 1 }
        for v in s1 { out[o] = v; o += 1 }
        for v in s2 { out[o] = v; o += 1 }
        out[o] = logLikelihood
    }
    mutating func read(from flat: UnsafePointer<Double>) {
        var o = 0
        for i in 0..<nk.count { nk[i] = flat[o + i] }; o += nk.count
        for i in 0..<s1.count { s1[i] = flat[o + i] }; o += s1.count
        for i in 0..<s2.count { s2[i] = flat[o + i] }; o += s2.count
        logLikelihood = flat[o]
    }

    /// Float copies of a model's parameters in the layouts the E-step kernels read.
    struct EStepPlan: @unchecked Sendable {
        var type: CovarianceType
        /// -0.5 d log(2 pi) + log det(precision Cholesky) + log weight, per component.
        var cst: [Float]
        /// diag/spherical: means minus the pass's center (in Double, then Float) and 1/sigma (k x d).
        var mu: [Float] = []
        var prec: [Float] = []
        /// full/tied: Ct (k*d x d) with Ct[c*d+j][t] = C_c[t][j], and mC[c] = C_c^T (mu_c - center).
        var ct: [Float] = []
        var mC: [Float] = []

        init(_ model: GMMModel, center: [Double]) {
            let k = model.k, d = model.d
            type = model.covarianceType
            let logTwoPi = log(2 * Double.pi)
            cst = (0..<k).map { Float(-0.5 * Double(d) * logTwoPi + model.logDetPrecisionCholesky[$0] + log(model.weights[$0])) }
            switch type {
            case .diag:
                mu = (0..<(k * d)).map { Float(model.means[$0] - center[$0 % d]) }
                prec = model.precisionsCholesky.map { Float($0) }
            case .spherical:
                mu = (0..<(k * d)).map { Float(model.means[$0] - center[$0 % d]) }
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
    /// S1 = R^T X, diag second moments R^T (X o X), full ones X^T [r_c o X] (`GMMBlock`).
    /// With `labelsOut`/`probaOut`, also the most probable component and the posteriors.
    /// A `ChunkedReduction` over `partition`: bit-identical for any `threads` and any `group`.
    static func pass(_ rows: DenseRows, k: Int, type: CovarianceType, center: [Double], partition: RowPartition, threads: Int,
                     responsibilities: ResponsibilitySource, labelsOut: UnsafeMutablePointer<Int32>? = nil,
                     probaOut: UnsafeMutablePointer<Double>? = nil, accumulate: Bool = true,
                     group: any ChunkGroup = SingleProcess()) -> GMMStatistics {
        let d = rows.cols
        let full = type == .full || type == .tied
        var plan: EStepPlan? = nil
        if case let .model(model) = responsibilities { plan = EStepPlan(model, center: center) }
        let zero = GMMStatistics(k: k, d: d, full: full)
        return ChunkedReduction.reduce(partition, threads: threads, group: group, zero: zero) { _, r in
            var st = zero
            let B = GMMBlock.blockRows
            var block = GMMBlock(k: k, d: d, full: full)
            var lo = r.lowerBound
            while lo < r.upperBound {
                let m = min(B, r.upperBound - lo)
                rows.withRows(lo..<(lo + m)) { x in
                    block.load(x, rows: m, center: center, squares: !full && accumulate)
                    switch responsibilities {
                    case .model:
                        let p = plan!
                        let labels = labelsOut.map { $0 + lo }
                        if full {
                            block.eStepFull(ct: p.ct, mC: p.mC, cst: p.cst, labels: labels, logLikelihood: &st.logLikelihood)
                        } else {
                            block.eStepDiag(mu: p.mu, prec: p.prec, cst: p.cst, labels: labels, logLikelihood: &st.logLikelihood)
                        }
                    case let .device(e):
                        e.responsibilities.withUnsafeBufferPointer { block.setResponsibilities(from: $0.baseAddress!, ld: e.rows, offset: lo) }
                        if let l = labelsOut { for i in 0..<m { l[lo + i] = e.labels[lo + i] } }
                        st.logLikelihood += e.blockLogLikelihood(lo: lo, rows: m)
                    case let .oneHot(labels):
                        for i in 0..<m {
                            for c in 0..<k { block.setResponsibility(row: i, component: c, 0) }
                            let l = Int(labels[lo + i])
                            if l >= 0 { block.setResponsibility(row: i, component: l, 1) }
                        }
                    case let .random(seed):
                        for i in 0..<m {
                            var g = SeededRandom.stream(seed: seed, index: UInt64(lo + i))
                            var total = 0.0
                            var u = [Double](repeating: 0, count: k)
                            for c in 0..<k { u[c] = g.nextUnit(); total += u[c] }
                            for c in 0..<k { block.setResponsibility(row: i, component: c, Float(u[c] / total)) }
                        }
                    }
                }
                if let p = probaOut {
                    for i in 0..<m { for c in 0..<k { p[(lo + i) * k + c] = Double(block.responsibility(row: i, component: c)) } }
                }
                if accumulate { block.accumulate(nk: &st.nk, s1: &st.s1, s2: &st.s2) }
                lo += m
            }
            if full && accumulate { block.fullSecondMoments(into: &st.s2) }
            return st
        }
    }

    /// The M-step: parameters from these statistics (scikit-learn's `_estimate_gaussian_parameters`
    /// then `_compute_precision_cholesky`). Throws naming the component that collapsed.
    func mStep(type: CovarianceType, shifts: [Double], regCovar: Double) throws -> GMMModel {
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
        return GMMModel(covarianceType: type, k: k, d: d, weights: nk.map { $0 / total }, means: means,
                                    covariances: cov, precisionsCholesky: prec, logDetPrecisionCholesky: logDet)
    }
}
