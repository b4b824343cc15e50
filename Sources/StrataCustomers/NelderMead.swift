import StrataCore

/// Nelder-Mead simplex minimization (standard coefficients 1, 2, 0.5, 0.5). At most
/// `maxEvaluations` evaluations (CDNOW's BG/NBD needs ~1,000); `converged` says whether the
/// simplex shrank below the tolerances before that.
///
/// Written here because no Swift package in reach offers a robust unconstrained optimizer, and the
/// BTYD likelihoods need one (lifetimes also fits them with Nelder-Mead). Deterministic.
enum NelderMead {
    /// `stop`, when given, ends the search (not converged) as soon as the best vertex satisfies it:
    /// a fit that has run into its search bound learns nothing more there.
    static func minimize(_ f: ([Double]) -> Double, start: [Double], step: Double = 0.5,
                         tolerance: Double = 1e-12, maxEvaluations: Int = 6_000,
                         stop: (([Double]) -> Bool)? = nil) -> (x: [Double], value: Double, converged: Bool) {
        let n = start.count
        var simplex: [[Double]] = [start]
        for i in 0..<n { var p = start; p[i] += step; simplex.append(p) }
        var values = simplex.map(f)
        var evaluations = n + 1
        var converged = false
        func value(_ p: [Double]) -> Double { evaluations += 1; let v = f(p); return v.isFinite ? v : .infinity }
        while evaluations < maxEvaluations {
            let order = values.indices.sorted { values[$0] < values[$1] }
            simplex = order.map { simplex[$0] }
            values = order.map { values[$0] }
            let spread = abs(values[n] - values[0])
            var size = 0.0
            for p in simplex.dropFirst() { for j in 0..<n { size = max(size, abs(p[j] - simplex[0][j])) } }
            if spread <= tolerance * (1 + abs(values[0])) && size <= 1e-9 { converged = true; break }
            if let stop, stop(simplex[0]) { break }
            var centroid = [Double](repeating: 0, count: n)
            for p in simplex.dropLast() { for j in 0..<n { centroid[j] += p[j] / Double(n) } }
            func along(_ t: Double) -> [Double] { (0..<n).map { centroid[$0] + t * (simplex[n][$0] - centroid[$0]) } }
            let reflected = along(-1), fr = value(reflected)
            if fr < values[0] {
                let expanded = along(-2), fe = value(expanded)
                if fe < fr { simplex[n] = expanded; values[n] = fe } else { simplex[n] = reflected; values[n] = fr }
            } else if fr < values[n - 1] {
                simplex[n] = reflected; values[n] = fr
            } else {
                let contracted = fr < values[n] ? along(-0.5) : along(0.5)
                let fc = value(contracted)
                if fc < min(fr, values[n]) {
                    simplex[n] = contracted; values[n] = fc
                } else {
                    for i in 1...n {
                        simplex[i] = (0..<n).map { simplex[0][$0] + 0.5 * (simplex[i][$0] - simplex[0][$0]) }
                        values[i] = value(simplex[i])
                    }
                }
            }
        }
        let best = values.indices.min { values[$0] < values[$1] }!
        return (simplex[best], values[best], converged)
    }
}
