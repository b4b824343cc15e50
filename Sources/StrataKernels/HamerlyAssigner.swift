import CStrataKernels
import Foundation
import StrataLinalg

/// Per-row lower bounds for Hamerly's algorithm: for each row, a lower bound on the distance
/// (not squared) to every center other than its own. 4 bytes per row, owned by one K-Means run.
public final class HamerlyBounds: @unchecked Sendable {
    let lower: UnsafeMutableBufferPointer<Float>

    public init(rows: Int) {
        lower = .allocate(capacity: max(1, rows))
        lower.initialize(repeating: 0)
    }

    deinit { lower.deallocate() }
}

/// Exact Lloyd assignment accelerated by Hamerly's bounds (Hamerly 2010): the result is the
/// assignment a full comparison would make, but a row is compared with all k centers only when
/// its bounds cannot prove that its label stays. The distance to the row's own center is always
/// computed exactly, so distances, inertia and empty-cluster relocation equal plain Lloyd's.
///
/// Cost per row: O(d) when pruned, O(k*d) otherwise; after the first iterations most rows are
/// pruned. Memory: 4 bytes per row of bounds plus 256*d floats of scratch per worker.
/// Numerics: bounds carry a 1e-5 relative safety margin, so float rounding never prunes a row
/// whose label could change; a margin too wide only costs a little pruning.
public struct HamerlyAssigner: CentroidAssigner {
    public let k: Int
    public let d: Int
    let centroids: [Float]
    /// Half the distance from each center to its nearest other center (shrunk by the margin).
    let halfSeparation: [Float]
    /// The largest movement of any center since the bounds were last valid (grown by the margin).
    let maxDelta: Float
    /// True on the first pass: compute every distance and initialize the bounds.
    let initialize: Bool
    let bounds: HamerlyBounds
    public static var blockRows: Int { 256 }

    /// First pass: full assignment, bounds initialized.
    public init(initial centroids: Matrix<Float>, bounds: HamerlyBounds) {
        k = centroids.rows; d = centroids.cols; self.centroids = centroids.storage
        halfSeparation = []; maxDelta = 0; initialize = true; self.bounds = bounds
    }

    /// Later passes: `previous` are the centers the bounds were computed against.
    public init(centroids: Matrix<Float>, previous: Matrix<Float>, bounds: HamerlyBounds) {
        k = centroids.rows; d = centroids.cols; self.centroids = centroids.storage
        initialize = false; self.bounds = bounds
        var delta = 0.0
        for c in 0..<k {
            var s = 0.0
            for j in 0..<d { let t = Double(centroids[c, j]) - Double(previous[c, j]); s += t * t }
            delta = max(delta, s.squareRoot())
        }
        maxDelta = Float(delta * (1 + 1e-5)).nextUp
        var half = [Float](repeating: .infinity, count: k)
        for a in 0..<k {
            var best = Double.infinity
            for b in 0..<k where b != a {
                var s = 0.0
                for j in 0..<d { let t = Double(centroids[a, j]) - Double(centroids[b, j]); s += t * t }
                best = min(best, s)
            }
            half[a] = best.isFinite ? Float(0.5 * best.squareRoot() * (1 - 1e-5)).nextDown : .infinity
        }
        halfSeparation = half
    }

    public func makeScratch() -> AssignerScratch {
        AssignerScratch(count: Int(strata_nearest_scratch_floats(Int64(d))) + Self.blockRows * d)
    }

    public func assign(_ x: UnsafePointer<Float>, firstRow: Int, rows: Int, labels: UnsafeMutablePointer<Int32>,
                       dist: UnsafeMutablePointer<Float>, scratch: inout AssignerScratch, counters: inout AssignCounters) {
        precondition(rows <= Self.blockRows)
        let lower = bounds.lower.baseAddress! + firstRow
        let tileFloats = Int(strata_nearest_scratch_floats(Int64(d)))
        centroids.withUnsafeBufferPointer { c in
            scratch.floats.withUnsafeMutableBufferPointer { s in
                if initialize {
                    strata_nearest2_rows(x, Int64(rows), Int64(d), c.baseAddress, Int64(k), labels, dist, lower, s.baseAddress, &counters.changed)
                    for i in 0..<rows { lower[i] = lower[i].squareRoot() * 0.99999 }
                    counters.fullyAssigned += Int64(rows)
                } else {
                    halfSeparation.withUnsafeBufferPointer { h in
                        counters.fullyAssigned += strata_hamerly_rows(x, Int64(rows), Int64(d), c.baseAddress, Int64(k), h.baseAddress, maxDelta,
                                                                      labels, dist, lower, s.baseAddress, s.baseAddress! + tileFloats, &counters.changed)
                    }
                }
            }
        }
    }
}
