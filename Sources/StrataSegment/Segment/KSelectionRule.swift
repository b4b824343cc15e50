import Foundation
import StrataCore

/// How `strata segment` chooses k from a sweep: a rule a business can use, designed from what
/// the metrics do on real customer data (README, "Choosing k").
///
/// 1. **Admissible k**: the smallest segment holds at least `min_segment_share` of the customers
///    (default 2%) and at least `min_segment_size` customers (else the report would hide it), and
///    the bootstrap stability (mean pairwise adjusted Rand index of refits on
///    resamples) is at least `min_stability` (default 0.75). A k outside is never chosen while
///    an admissible one exists.
/// 2. **Clear structure** when the best silhouette in the range is at least 0.5 (Kaufman &
///    Rousseeuw 1990: 0.51-0.70 "a reasonable structure has been found", below 0.5 weak or none)
///    and the gap statistic (Tibshirani et al. 2001) at that k exceeds the gap at k = 1 by more
///    than its standard error (the partition beats no partition against the principal-axes
///    reference). Then k is the admissible k with the highest silhouette: planted,
///    well-separated groups are recovered.
/// 3. **No clear structure** (real customer data usually: a continuum, where silhouette peaks at
///    the smallest k because two blobs always separate best): k is the inertia elbow (Kneedle)
///    of the range when admissible, else the admissible k nearest to it (the more stable on a
///    tie); without an elbow, the most stable admissible k (the larger on a tie). Never the
///    smallest k by default.
///    Structure is judged on the admissible k only (all k when none is admissible).
/// 4. **Mixtures** (`gmm`): the admissible k with the lowest BIC when that minimum is inside the
///    range; a BIC still falling at `k_max` says the mixture keeps adding components to fit the
///    data's shape, and the rule of 2-3 applies instead.
/// 5. A choice at either end of the range says so and suggests widening it; no admissible k is
///    a warning, and the k with the best stability among those meeting the share (else the
///    largest smallest-segment share) is taken.
enum KSelectionRule {
    /// Kaufman & Rousseeuw's threshold for "a reasonable structure".
    static let structureSilhouette = 0.5

    struct Decision: Equatable {
        var k: Int
        /// One sentence with the numbers behind the choice.
        var reason: String
        var clearStructure: Bool
        var admissible: [Int]
        var warnings: [String]
    }

    /// - Parameters: `rows` the customers the model will be fitted on (the sweep may run on a
    ///   sample); `minSegmentSize` the report threshold: a k whose smallest segment would hold
    ///   fewer customers (its share times `rows`) would be hidden in the report, so it is not
    ///   admissible either.
    static func decide(_ points: [SweepPoint], gap: GapStatistic?, elbowK: Int?, mixture: Bool, rows: Int,
                       minSegmentShare: Double, minStability: Double, minSegmentSize: Int = 0) -> Decision {
        precondition(!points.isEmpty)
        let ks = points.map(\.k)
        let kLo = ks.first!, kHi = ks.last!
        func share(_ p: SweepPoint) -> Double { Double(p.sizes.min() ?? 0) / Double(max(1, p.sizes.reduce(0, +))) }
        func isAdmissible(_ p: SweepPoint) -> Bool {
            share(p) >= minSegmentShare && share(p) * Double(rows) >= Double(minSegmentSize) && (p.stability ?? 1) >= minStability
        }
        let admissible = points.filter(isAdmissible)
        var warnings: [String] = []
        // Structure is judged on the k the rule may choose (all of them when none is admissible).
        let judged = admissible.isEmpty ? points : admissible
        let bestSil = judged.filter { $0.silhouette != nil }.max { ($0.silhouette!, -$0.k) < ($1.silhouette!, -$1.k) }
        let gapK = gap?.tibshiraniK
        // The gap at the best-silhouette k must beat no partition (k = 1) by more than its error:
        // Tibshirani's own rule stops at k = 1 on some multi-group data (groups spread along
        // every axis: k = 2 gains little), so the comparison with k = 1 is what is asked of it.
        let gapGain: Double? = bestSil.flatMap { b in gap.flatMap { g in g.point(b.k).flatMap { p in g.point(1).map { p.gap - $0.gap } } } }
        let gapSE = bestSil.flatMap { b in gap?.point(b.k)?.standardError } ?? 0
        let clear = (bestSil?.silhouette ?? 0) >= structureSilhouette && (gap == nil || (gapGain ?? -.infinity) > gapSE)
        let criteria = "smallest segment >= \(pct(minSegmentShare))" + (minSegmentSize > 1 ? " and \(minSegmentSize) customers" : "") + (points.contains { $0.stability != nil } ? String(format: ", stability >= %.2f", minStability) : "")
        func facts(_ p: SweepPoint) -> String {
            var s = "smallest segment \(pct(share(p)))"
            if let st = p.stability { s += String(format: ", stability %.2f", st) }
            if let sil = p.silhouette { s += String(format: ", silhouette %.2f", sil) }
            return s
        }
        func structureClause() -> String {
            guard let b = bestSil, let sil = b.silhouette else { return "no silhouette available" }
            var g = gapGain.map { String(format: "; gap %+.2f over k = 1 (se %.2f)", $0, gapSE) } ?? ""
            if gap != nil { g += gapK.map { ", Tibshirani's rule picks k = \($0)" } ?? ", Tibshirani's rule picks no k" }
            return String(format: "best silhouette %.2f at k = %d", sil, b.k) + g
        }
        var chosen: SweepPoint
        var reason: String
        if admissible.isEmpty {
            let sharing = points.filter { share($0) >= minSegmentShare && share($0) * Double(rows) >= Double(minSegmentSize) }
            chosen = sharing.max { (($0.stability ?? 0), -$0.k) < (($1.stability ?? 0), -$1.k) }
                ?? points.max { (share($0), -$0.k) < (share($1), -$1.k) }!
            reason = "No k in \(kLo)...\(kHi) meets \(criteria): k = \(chosen.k) comes closest (\(facts(chosen)))"
            warnings.append("no k in \(kLo)...\(kHi) is admissible (\(criteria)); k = \(chosen.k) comes closest: read its segments with care, or lower k_max")
        } else if mixture, let bicBest = admissible.filter({ $0.bic != nil }).min(by: { ($0.bic!, $0.k) < ($1.bic!, $1.k) }),
                  bicBest.k < kHi || kLo == kHi {
            chosen = bicBest
            reason = String(format: "Lowest BIC among the admissible k (%.6g) at k = %d", bicBest.bic!, bicBest.k) + " (\(facts(bicBest)))"
        } else if clear {
            chosen = admissible.filter { $0.silhouette != nil }.max { ($0.silhouette!, -$0.k) < ($1.silhouette!, -$1.k) } ?? admissible[0]
            reason = "Clear cluster structure (\(structureClause())): k = \(chosen.k), the admissible k with the highest silhouette (\(facts(chosen)))"
            if let g = gapK, g == chosen.k { reason += "; the gap statistic agrees" }
        } else {
            reason = (mixture ? "BIC still falls at k = \(kHi) (the mixture keeps adding components to fit the data's shape) and there is no" : "No")
                + " clear cluster structure (\(structureClause()))"
            if let e = elbowK {
                chosen = admissible.min { (abs($0.k - e), -($0.stability ?? 0), $0.k) < (abs($1.k - e), -($1.stability ?? 0), $1.k) }!
                reason += chosen.k == e ? ": k = \(e), the inertia elbow of \(kLo)...\(kHi) (\(facts(chosen)))"
                                        : ": k = \(chosen.k), the admissible k nearest the inertia elbow at k = \(e) (\(facts(chosen)))"
            } else {
                // Ties go to the larger k: without structure, more segments are more actionable.
                chosen = admissible.max { (($0.stability ?? 0), $0.k) < (($1.stability ?? 0), $1.k) }!
                reason += " and no inertia elbow: k = \(chosen.k), the most stable admissible k (\(facts(chosen)))"
            }
        }
        let excluded = points.filter { !isAdmissible($0) }.map(\.k)
        if !excluded.isEmpty && !admissible.isEmpty { reason += "; not admissible (\(criteria)): k = \(excluded.map(String.init).joined(separator: ", "))" }
        if kLo < kHi && (chosen.k == kLo || chosen.k == kHi) {
            let end = chosen.k == kLo ? "lower" : "upper"
            reason += "; k = \(chosen.k) is the \(end) end of \(kLo)...\(kHi)"
            warnings.append("the chosen k = \(chosen.k) is the \(end) end of the range \(kLo)...\(kHi): consider widening it (" + (chosen.k == kLo ? "k_min" : "k_max") + ")")
        }
        return Decision(k: chosen.k, reason: reason + ".", clearStructure: clear, admissible: admissible.map(\.k), warnings: warnings)
    }

    static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
}
