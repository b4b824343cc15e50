import StrataKernels

/// The number of distinct rows of `data`, counted up to `limit`: returns min(distinct, limit)
/// and stops reading as soon as `limit` distinct rows were seen (usually within the first rows).
/// Rows with weight 0 are not counted (they take no part in any fit). Two rows are the same when
/// every value is equal (+0 and -0 are equal). Reads in-memory and memory-mapped data alike
/// (through `withRows`).
///
/// Used to warn when k exceeds the distinct points (the surplus clusters can only be empty or
/// duplicates) and by `segment` to lower k.
/// - Complexity: O(rows read * d) time, O(limit * d) memory.
public func distinctRowCount(_ data: Dataset, atMost limit: Int) -> Int {
    guard limit > 0 else { return 0 }
    let d = data.cols
    var seen = Set<[UInt32]>()
    var key = [UInt32](repeating: 0, count: d)
    let weights = data.weights
    let blockRows = 4096
    return data.withRows { rows, _ in
        var lo = 0
        while lo < data.rows {
            let hi = min(data.rows, lo + blockRows)
            let done = rows.withRows(lo..<hi) { x -> Bool in
                for i in 0..<(hi - lo) {
                    if let w = weights, !(w[lo + i] > 0) { continue }
                    for j in 0..<d { key[j] = (x[i * d + j] + 0).bitPattern }   // + 0 turns -0 into +0
                    seen.insert(key)
                    if seen.count >= limit { return true }
                }
                return false
            }
            if done { break }
            lo = hi
        }
        return min(seen.count, limit)
    }
}

/// The warning for a fit asked for more clusters than the data have distinct rows, or nil when
/// `distinct >= k`: "k = 5 but the data have only 3 distinct rows; 2 clusters are empty or
/// duplicates". `unit` names the clusters ("clusters", "components").
public func distinctRowsWarning(k: Int, distinct: Int, source: String, unit: String = "clusters") -> String? {
    guard distinct < k else { return nil }
    let surplus = k - distinct
    return "k = \(k) but the data (\(source)) have only \(distinct) distinct row\(distinct == 1 ? "" : "s"); "
        + "\(surplus) \(surplus == 1 ? String(unit.dropLast()) : unit) \(surplus == 1 ? "is" : "are") empty or duplicate\(surplus == 1 ? "" : "s"); lower k"
}
