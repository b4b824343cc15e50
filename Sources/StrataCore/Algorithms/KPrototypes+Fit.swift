import Foundation
import StrataKernels

/// Owns the per-run working arrays (raw pointers: the move pass is the hot sequential loop).
private final class RunBuffers<Code: FixedWidthInteger> {
    let k, n, dn, dc, t: Int
    let cen: UnsafeMutablePointer<Double>      // k x dn
    let modes: UnsafeMutablePointer<Code>      // k x dc
    let counts: UnsafeMutablePointer<Double>   // k x t: weight per (cluster, column, category)
    let seen: UnsafeMutablePointer<Bool>       // k x t: kmodes' dict keys (counted or read)
    let attrSum: UnsafeMutablePointer<Double>  // k x dn
    let membSum: UnsafeMutablePointer<Double>  // k
    let count: UnsafeMutablePointer<Int>       // k
    let member: UnsafeMutablePointer<Int32>    // n: the cluster each row belongs to
    let labels: UnsafeMutablePointer<Int32>    // n: the cost pass's nearest prototype
    let costs: UnsafeMutablePointer<Double>    // n

    init(k: Int, n: Int, dn: Int, dc: Int, t: Int) {
        self.k = k; self.n = n; self.dn = dn; self.dc = dc; self.t = t
        func make<T>(_ c: Int, _ v: T) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, c))
            p.initialize(repeating: v, count: max(1, c))
            return p
        }
        cen = make(k * dn, 0); modes = make(k * dc, 0); counts = make(k * t, 0); seen = make(k * t, false)
        attrSum = make(k * dn, 0); membSum = make(k, 0); count = make(k, 0)
        member = make(n, 0); labels = make(n, 0); costs = make(n, 0)
    }

    deinit {
        cen.deallocate(); modes.deallocate(); counts.deallocate(); seen.deallocate(); attrSum.deallocate()
        membSum.deallocate(); count.deallocate(); member.deallocate(); labels.deallocate(); costs.deallocate()
    }

    func resetAccumulators() {
        counts.update(repeating: 0, count: k * t); seen.update(repeating: false, count: k * t)
        attrSum.update(repeating: 0, count: max(1, k * dn)); membSum.update(repeating: 0, count: k); count.update(repeating: 0, count: k)
    }
}

/// One run's outcome.
private struct RunOutcome {
    var centroids: [Double]
    var modes: [Int]
    var labels: [Int32]
    var costs: [Double]
    var cost: Double
    var nIter: Int
    var converged: Bool
    var epochCosts: [Double]
    var relocations: Int
    /// Explicit centers left a cluster empty, so the run started from random rows (as kmodes).
    var centersReplaced: Bool
}

extension KPrototypes {
    /// A fit over codes of one width.
    struct Fit<Code: FixedWidthInteger & UnsignedInteger> {
        let x: [Float]
        let codes: [Code]
        let dn: Int
        let categorical: CategoricalColumns
        let weights: [Double]?
        let options: KPrototypesOptions
        let source: String?

        var n: Int { categorical.rows }
        var dc: Int { categorical.cols }
        var k: Int { options.k }
        var where_: String { source.map { " in \($0)" } ?? "" }

        func validate() throws {
            let o = options
            if o.k < 1 { throw StrataError.invalidArgument("k must be at least 1 (got \(o.k))") }
            if dc < 1 { throw StrataError.invalidArgument("no categorical columns to cluster\(where_); give --categorical (or use kmeans for numeric data)") }
            if o.k > n { throw StrataError.invalidArgument("k = \(o.k) exceeds the number of rows (\(n))\(where_); lower k") }
            if o.maxIterations < 1 { throw StrataError.invalidArgument("max-iter must be at least 1 (got \(o.maxIterations))") }
            if let m = o.nInit, m < 1 { throw StrataError.invalidArgument("n-init must be at least 1 (got \(m))") }
            if o.threads < 1 { throw StrataError.invalidArgument("threads must be at least 1 (got \(o.threads))") }
            if let g = o.gamma, !(g >= 0 && g.isFinite) { throw StrataError.invalidArgument("gamma must be a finite number >= 0 (got \(g))") }
            if let i = x.firstIndex(where: { !$0.isFinite }) {
                throw StrataError.invalidArgument("row \(i / dn + 1)\(where_): numeric value is missing or not finite; impute it first")
            }
            if let w = weights {
                if w.count != n { throw StrataError.invalidArgument("\(w.count) weights for \(n) rows") }
                if w.contains(where: { !($0 >= 0 && $0.isFinite) }) { throw StrataError.invalidArgument("weights must be finite and >= 0") }
                let positive = w.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
                if positive < o.k {
                    throw StrataError.invalidArgument("k = \(o.k) exceeds the number of rows with a positive weight (\(positive))\(where_); lower k")
                }
            }
            if case let .centers(num, modes) = o.initialization {
                if num.count != o.k || modes.count != o.k {
                    throw StrataError.invalidArgument("the initial centers have \(max(num.count, modes.count)) rows but k = \(o.k)")
                }
                if num.contains(where: { $0.count != dn || $0.contains { !$0.isFinite } }) {
                    throw StrataError.invalidArgument("the initial centers need \(dn) finite numeric values per row")
                }
                for m in modes {
                    if m.count != dc { throw StrataError.invalidArgument("the initial centers need \(dc) categories per row") }
                    for (a, v) in m.enumerated() where !(0..<categorical.categories[a].count).contains(v) {
                        throw StrataError.invalidArgument("initial center category code \(v) is out of range for column '\(categorical.names[a])'")
                    }
                }
            }
        }

        /// The first `limit` distinct rows (numeric bit patterns, +0 for -0, and codes), as row indices.
        func distinctRows(limit: Int) -> [Int] {
            var seen = Set<[UInt32]>()
            var key = [UInt32](repeating: 0, count: dn + dc)
            var firsts: [Int] = []
            for i in 0..<n {
                for j in 0..<dn { key[j] = (x[i * dn + j] + 0).bitPattern }
                for a in 0..<dc { key[dn + a] = UInt32(codes[i * dc + a]) }
                if seen.insert(key).inserted {
                    firsts.append(i)
                    if firsts.count >= limit { break }
                }
            }
            return firsts
        }

        func run() throws -> KPrototypesResult {
            try validate()
            var warnings: [String] = []
            let gamma = dn > 0 ? (options.gamma ?? KPrototypes.defaultGamma(x, rows: n, cols: dn)) : 1
            var initialization = options.initialization
            var maxIter = options.maxIterations
            var nInit = options.effectiveNInit(numericColumns: dn)
            let distinct = distinctRows(limit: k + 1)
            if distinct.count < k {
                throw StrataError.invalidArgument("k = \(k) exceeds the \(distinct.count) distinct rows\(where_); lower k")
            }
            if distinct.count == k {
                // kmodes' rule: the distinct rows are the prototypes, no iteration.
                initialization = .centers(numeric: distinct.map { i in (0..<dn).map { Double(x[i * dn + $0]) } },
                                          modes: distinct.map { i in (0..<dc).map { Int(codes[i * dc + $0]) } })
                maxIter = 0
                nInit = 1
                warnings.append("the data have exactly k = \(k) distinct rows\(where_): each is its own cluster")
            }
            let (mean, std) = dn > 0 ? KPrototypes.columnMeanStd(x, rows: n, cols: dn) : ([], [])
            let ncat = categorical.categories.map(\.count)
            var offset = [Int](repeating: 0, count: dc)
            for a in 1..<max(1, dc) { offset[a] = offset[a - 1] + ncat[a - 1] }
            let t = ncat.reduce(0, +)
            var runs: [KPrototypesRun] = []
            var best: RunOutcome? = nil
            var bestRun = 0
            try x.withUnsafeBufferPointer { xp in
                try codes.withUnsafeBufferPointer { cp in
                    try ncat.withUnsafeBufferPointer { ncp in
                        try offset.withUnsafeBufferPointer { op in
                            let weightsArray = weights ?? []
                            try weightsArray.withUnsafeBufferPointer { wp in
                                let runner = Runner<Code>(x: dn > 0 ? xp.baseAddress : nil, codes: cp.baseAddress!, w: weights == nil ? nil : wp.baseAddress,
                                                          n: n, dn: dn, dc: dc, k: k, t: t, ncat: ncp.baseAddress!, offset: op.baseAddress!,
                                                          gamma: gamma, threads: options.threads, mean: mean, std: std)
                                for r in 0..<nInit {
                                    var rng = SeededRandom.stream(seed: options.seed, index: UInt64(r))
                                    let outcome = try runner.single(initialization, maxIter: maxIter, rng: &rng)
                                    runs.append(KPrototypesRun(run: r, cost: outcome.cost, nIter: outcome.nIter, converged: outcome.converged))
                                    if best == nil || outcome.cost < best!.cost { best = outcome; bestRun = r }
                                }
                            }
                        }
                    }
                }
            }
            let b = best!
            var sizes = [Int](repeating: 0, count: k)
            var clusterWeights = [Double](repeating: 0, count: k)
            for i in 0..<n {
                let c = Int(b.labels[i])
                sizes[c] += 1
                clusterWeights[c] += weights?[i] ?? 1
            }
            if b.centersReplaced {
                warnings.append("the initial centers left a cluster without rows; the fit started from random rows instead (as kmodes does)")
            }
            if b.relocations > 0 {
                warnings.append("\(b.relocations) cluster\(b.relocations == 1 ? " was" : "s were") emptied during the fit and refilled with a random row of the largest cluster")
            }
            return KPrototypesResult(
                centroids: (0..<k).map { c in Array(b.centroids[(c * dn)..<((c + 1) * dn)]) },
                modes: (0..<k).map { c in Array(b.modes[(c * dc)..<((c + 1) * dc)]) },
                labels: b.labels, costs: b.costs, cost: b.cost, nIter: b.nIter, converged: b.converged,
                gamma: dn > 0 ? gamma : nil, epochCosts: b.epochCosts, runs: runs, bestRun: bestRun,
                sizes: sizes, clusterWeights: clusterWeights, relocations: b.relocations, warnings: warnings)
        }
    }

    /// One run over raw pointers (valid for the runner's lifetime).
    private struct Runner<Code: FixedWidthInteger & UnsignedInteger> {
        let x: UnsafePointer<Float>?
        let codes: UnsafePointer<Code>
        let w: UnsafePointer<Double>?
        let n, dn, dc, k, t: Int
        let ncat: UnsafePointer<Int>
        let offset: UnsafePointer<Int>
        let gamma: Double
        let threads: Int
        let mean: [Double]
        let std: [Double]

        /// kmodes' limits: after 20 starts with an empty cluster the start becomes random;
        /// after 100 the fit fails.
        static var maxInitTries: Int { 20 }
        static var raiseInitTries: Int { 100 }

        func single(_ initialization: KPrototypesInit, maxIter: Int, rng: inout SeededRandom) throws -> RunOutcome {
            let b = RunBuffers<Code>(k: k, n: n, dn: dn, dc: dc, t: t)
            var method = initialization
            var centersReplaced = false
            var tries = 0
            while true {
                tries += 1
                try start(method, b, &rng)
                initialAssignment(b)
                if dn == 0 || (0..<k).allSatisfy({ b.count[$0] > 0 }) { break }
                if case .centers = method { method = .random; centersReplaced = true }   // kmodes retries the same centers 20 times, then random
                else if tries == Self.maxInitTries { method = .random }
                if tries == Self.raiseInitTries {
                    throw StrataError.numerical("K-Prototypes could not find initial prototypes without an empty cluster in \(tries) tries; give initial centers (--init FILE) or lower k")
                }
            }
            // Initial prototype update: means and modes of the initial clusters.
            for c in 0..<k {
                for j in 0..<dn { b.cen[c * dn + j] = b.membSum[c] != 0 ? b.attrSum[c * dn + j] / b.membSum[c] : 0 }
                for a in 0..<dc {
                    if b.count[c] == 0 {
                        // K-Modes only (K-Prototypes restarts instead): a random value of the column.
                        let r = Int.random(in: 0..<n, using: &rng)
                        b.modes[c * dc + a] = codes[r * dc + a]
                    } else {
                        b.modes[c * dc + a] = Code(argmaxSeen(b, base: c * t + offset[a], m: ncat[a]))
                    }
                }
            }
            var cost = labelsCost(b)
            var epochCosts = [cost]
            var itr = 0
            var converged = false
            var relocations = 0
            while itr < maxIter && !converged {
                itr += 1
                let moves = iterate(b, &rng, relocations: &relocations)
                let ncost = labelsCost(b)
                converged = moves == 0 || ncost >= cost
                epochCosts.append(ncost)
                cost = ncost
            }
            return RunOutcome(centroids: Array(UnsafeBufferPointer(start: b.cen, count: k * dn)),
                              modes: (0..<(k * dc)).map { Int(b.modes[$0]) },
                              labels: Array(UnsafeBufferPointer(start: b.labels, count: n)),
                              costs: Array(UnsafeBufferPointer(start: b.costs, count: n)),
                              cost: cost, nIter: itr, converged: converged || maxIter == 0, epochCosts: epochCosts, relocations: relocations,
                              centersReplaced: centersReplaced)
        }

        /// The starting prototypes.
        func start(_ method: KPrototypesInit, _ b: RunBuffers<Code>, _ rng: inout SeededRandom) throws {
            switch method {
            case let .centers(num, modes):
                for c in 0..<k {
                    for j in 0..<dn { b.cen[c * dn + j] = num[c][j] }
                    for a in 0..<dc { b.modes[c * dc + a] = Code(modes[c][a]) }
                }
                return
            case .cao: caoModes(b)
            case .huang: huangModes(b, &rng)
            case .random:
                for c in 0..<k {
                    let r = Int.random(in: 0..<n, using: &rng)
                    for a in 0..<dc { b.modes[c * dc + a] = codes[r * dc + a] }
                }
            }
            // kmodes: numeric starts mean + randn(k, dn) * std.
            for c in 0..<k { for j in 0..<dn { b.cen[c * dn + j] = mean[j] + rng.nextGaussian() * std[j] } }
        }

        /// Cao et al. 2009 as kmodes' `init_cao`: density = mean over columns of the value's
        /// relative frequency; first prototype the densest row, then each next one the row
        /// maximizing min over chosen prototypes of mismatches x density (first on ties).
        func caoModes(_ b: RunBuffers<Code>) {
            var dens = [Double](repeating: 0, count: n)
            for a in 0..<dc {
                var freq = [Int](repeating: 0, count: ncat[a])
                for i in 0..<n { freq[Int(codes[i * dc + a])] += 1 }
                for i in 0..<n { dens[i] += Double(freq[Int(codes[i * dc + a])]) / Double(n) / Double(dc) }
            }
            var chosen = 0
            for i in 1..<n where dens[i] > dens[chosen] { chosen = i }
            for a in 0..<dc { b.modes[a] = codes[chosen * dc + a] }
            var minDD = [Double](repeating: .infinity, count: n)
            for ik in 1..<max(1, k) {
                let prev = b.modes + (ik - 1) * dc
                var arg = 0
                for i in 0..<n {
                    var m = 0
                    for a in 0..<dc where codes[i * dc + a] != prev[a] { m += 1 }
                    let dd = Double(m) * dens[i]
                    if dd < minDD[i] { minDD[i] = dd }
                    if minDD[i] > minDD[arg] { arg = i }
                }
                for a in 0..<dc { b.modes[ik * dc + a] = codes[arg * dc + a] }
            }
        }

        /// Huang 1998 as kmodes' `init_huang`: per column k values drawn in proportion to their
        /// frequency, then each prototype in turn replaced by the nearest row (fewest
        /// mismatches, smallest index on ties) equal to no current prototype; when every row
        /// equals one, the last row in that order.
        func huangModes(_ b: RunBuffers<Code>, _ rng: inout SeededRandom) {
            for a in 0..<dc {
                for c in 0..<k { b.modes[c * dc + a] = codes[Int.random(in: 0..<n, using: &rng) * dc + a] }
            }
            var dis = [Int](repeating: 0, count: n)
            for ik in 0..<k {
                let proto = b.modes + ik * dc
                for i in 0..<n {
                    var m = 0
                    for a in 0..<dc where codes[i * dc + a] != proto[a] { m += 1 }
                    dis[i] = m
                }
                func equalsAPrototype(_ i: Int) -> Bool {
                    (0..<k).contains { c in (0..<dc).allSatisfy { codes[i * dc + $0] == b.modes[c * dc + $0] } }
                }
                var pick: Int? = nil
                var last = 0
                levels: for level in 0...dc {
                    for i in 0..<n where dis[i] == level {
                        last = i
                        if !equalsAPrototype(i) { pick = i; break levels }
                    }
                }
                let row = pick ?? last
                for a in 0..<dc { b.modes[ik * dc + a] = codes[row * dc + a] }
            }
        }

        /// Every row to its nearest starting prototype, then the clusters' sums and counts.
        func initialAssignment(_ b: RunBuffers<Code>) {
            b.resetAccumulators()
            PrototypeKernels.assignAll(n: n, numeric: x, codes: codes, centroids: b.cen, modes: b.modes, k: k, dn: dn, dc: dc,
                                       gamma: gamma, threads: threads, labels: b.member, costs: b.costs)
            for i in 0..<n {
                let c = Int(b.member[i])
                let wt = w?[i] ?? 1
                b.count[c] += 1
                if let x {
                    b.membSum[c] += wt
                    for j in 0..<dn { b.attrSum[c * dn + j] += Double(x[i * dn + j]) * wt }
                }
                for a in 0..<dc {
                    let s = c * t + offset[a] + Int(codes[i * dc + a])
                    b.counts[s] += wt
                    b.seen[s] = true
                }
            }
        }

        /// kmodes' `get_max_value_key`: the category with the largest count among those the
        /// cluster's dictionary holds, the smallest code on ties.
        @inline(__always)
        func argmaxSeen(_ b: RunBuffers<Code>, base: Int, m: Int) -> Int {
            var best = -1
            var bestValue = -Double.infinity
            for v in 0..<m where b.seen[base + v] {
                if best < 0 || b.counts[base + v] > bestValue { best = v; bestValue = b.counts[base + v] }
            }
            return max(best, 0)
        }

        /// kmodes' `labels_cost`: labels and dissimilarities to the current prototypes (in
        /// parallel), and the cost summed in row order (as kmodes).
        func labelsCost(_ b: RunBuffers<Code>) -> Double {
            PrototypeKernels.assignAll(n: n, numeric: x, codes: codes, centroids: b.cen, modes: b.modes, k: k, dn: dn, dc: dc,
                                       gamma: gamma, threads: threads, labels: b.labels, costs: b.costs)
            var cost = 0.0
            if let w { for i in 0..<n { cost += b.costs[i] * w[i] } } else { for i in 0..<n { cost += b.costs[i] } }
            return cost
        }

        /// One pass of Huang's online update (kmodes' `_k_prototypes_iter` / `_k_modes_iter`);
        /// returns the number of moves.
        func iterate(_ b: RunBuffers<Code>, _ rng: inout SeededRandom, relocations: inout Int) -> Int {
            var moves = 0
            let xd = UnsafeMutablePointer<Double>.allocate(capacity: max(1, dn))
            defer { xd.deallocate() }
            for i in 0..<n {
                if let x { for j in 0..<dn { xd[j] = Double(x[i * dn + j]) } }
                let (c, _) = PrototypeKernels.nearest(x: xd, codes: codes + i * dc, centroids: b.cen, modes: b.modes,
                                                      k: k, dn: dn, dc: dc, gamma: gamma)
                let old = Int(b.member[i])
                if c == old { continue }
                moves += 1
                move(b, i, to: c, from: old, weight: w?[i] ?? 1)
                if b.count[old] == 0 || (dn > 0 && b.membSum[old] == 0) {
                    // Refill the emptied cluster with a random row of the largest one.
                    var from = 0
                    for q in 1..<k where b.count[q] > b.count[from] { from = q }
                    if from == old { continue }
                    var pick = Int.random(in: 0..<b.count[from], using: &rng)
                    var r = 0
                    while true {
                        if Int(b.member[r]) == from { if pick == 0 { break }; pick -= 1 }
                        r += 1
                    }
                    move(b, r, to: old, from: from, weight: w?[r] ?? 1)
                    relocations += 1
                }
            }
            return moves
        }

        /// Moves row `i` between clusters: sums, counts, modes and means updated as kmodes'
        /// `_move_point_num` + `_move_point_cat` (membership sums by the row's weight).
        @inline(__always)
        func move(_ b: RunBuffers<Code>, _ i: Int, to: Int, from: Int, weight wt: Double) {
            b.member[i] = Int32(to)
            b.count[to] += 1
            b.count[from] -= 1
            if let x {
                for j in 0..<dn {
                    let v = Double(x[i * dn + j]) * wt
                    b.attrSum[to * dn + j] += v
                    b.attrSum[from * dn + j] -= v
                }
                b.membSum[to] += wt
                b.membSum[from] -= wt
                if b.count[from] == 0 {
                    b.membSum[from] = 0
                    for j in 0..<dn { b.attrSum[from * dn + j] = 0 }
                }
            }
            let row = codes + i * dc
            for a in 0..<dc {
                let v = Int(row[a])
                let bt = to * t + offset[a]
                b.counts[bt + v] += wt
                b.seen[bt + v] = true
                let current = Int(b.modes[to * dc + a])
                b.seen[bt + current] = true
                if b.counts[bt + current] < b.counts[bt + v] { b.modes[to * dc + a] = row[a] }
                let bf = from * t + offset[a]
                b.counts[bf + v] -= wt
                if Int(b.modes[from * dc + a]) == v { b.modes[from * dc + a] = Code(argmaxSeen(b, base: bf, m: ncat[a])) }
            }
            if dn > 0 {
                for c in 0..<2 {
                    let q = c == 0 ? to : from
                    let m = b.membSum[q]
                    for j in 0..<dn { b.cen[q * dn + j] = m != 0 ? b.attrSum[q * dn + j] / m : 0 }
                }
            }
        }
    }
}
