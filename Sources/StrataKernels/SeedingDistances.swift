import CStrataKernels
import StrataLinalg

/// Seeding state of k-means++ and k-means||: each row's squared distance to the nearest center
/// chosen so far (+infinity before the first), Float, n rows.
///
/// Concurrency: the updating calls touch only the rows of their `range`, so workers may update
/// disjoint ranges (the chunks of a `RowPartition`) at the same time; reads must not overlap
/// an update of the same rows. Every sum runs over its range in row order, in Double, so it
/// depends only on the range (deterministic for any thread count).
public final class SeedingDistances: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Float>

    /// n rows, all at +infinity.
    public init(rows: Int) {
        storage = .allocate(capacity: rows)
        storage.initialize(repeating: .infinity)
    }

    deinit { storage.deallocate() }

    public var count: Int { storage.count }

    /// Row i's squared distance to its nearest chosen center.
    public subscript(i: Int) -> Float { storage[i] }

    /// k-means++ update over rows `range` of `rows` (d columns) with one new `center` (d floats):
    /// closest[i] = min(closest[i], ||x_i - center||^2); returns sum_i w_i closest[i] over the
    /// range (w_i = 1 without `weights`, which is indexed by row). O(range * d).
    public func lower<S: RowBlockSource>(_ rows: S, range: Range<Int>, toward center: [Float], weights: UnsafePointer<Float>?) -> Double {
        precondition(center.count == rows.cols && range.upperBound <= count)
        let d = rows.cols
        return rows.withRows(range) { x in
            strata_kpp_update(x, Int64(range.count), Int64(d), center, storage.baseAddress! + range.lowerBound,
                              weights.map { $0 + range.lowerBound })
        }
    }

    /// k-means++ trial potentials over rows `range`: for each candidate c (a row of `candidates`,
    /// t x d), sum_i w_i min(closest[i], ||x_i - cand_c||^2). Returns t values; reads only.
    /// O(range * t * d).
    public func trialPotentials<S: RowBlockSource>(_ rows: S, range: Range<Int>, candidates: Matrix<Float>,
                                                   weights: UnsafePointer<Float>?) -> [Double] {
        precondition(candidates.cols == rows.cols && range.upperBound <= count)
        let d = rows.cols, t = candidates.rows
        var pot = [Double](repeating: 0, count: t)
        rows.withRows(range) { x in
            strata_kpp_potentials(x, Int64(range.count), Int64(d), candidates.storage, Int64(t),
                                  storage.baseAddress! + range.lowerBound, weights.map { $0 + range.lowerBound }, &pot)
        }
        return pot
    }

    /// k-means|| update of rows `range` from their squared distances to the new centers
    /// (`distances[i - range.lowerBound]`): closest[i] = min(closest[i], distance), and
    /// `potential` += w_i * closest[i], row by row in order. O(range).
    public func lower(_ range: Range<Int>, distances: [Float], weights: UnsafePointer<Float>?, potential: inout Double) {
        precondition(distances.count >= range.count && range.upperBound <= count)
        let lo = range.lowerBound
        for i in range {
            let v = min(storage[i], distances[i - lo])
            storage[i] = v
            potential += (weights.map { Double($0[i]) } ?? 1) * Double(v)
        }
    }
}
