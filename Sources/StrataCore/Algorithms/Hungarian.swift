import Foundation

/// Minimum-cost assignment (the Hungarian method, in the O(n^3) potentials form of Jonker-Volgenant
/// as usually taught; written here because segment counts are tiny and no maintained Swift package
/// offers it).
public enum Hungarian {
    /// `cost` is rows x cols (row-major). Returns for every row the matched column, or nil when
    /// rows outnumber columns and the row is left over. Deterministic: ties resolve to the lowest
    /// index.
    public static func solve(cost: [Double], rows: Int, cols: Int) -> [Int?] {
        precondition(cost.count == rows * cols)
        if rows == 0 { return [] }
        if cols == 0 { return [Int?](repeating: nil, count: rows) }
        // Pad to a square n x n matrix with zero cost for dummy rows/columns.
        let n = max(rows, cols)
        func c(_ i: Int, _ j: Int) -> Double { i < rows && j < cols ? cost[i * cols + j] : 0 }
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: n + 1)
        var p = [Int](repeating: 0, count: n + 1), way = [Int](repeating: 0, count: n + 1)
        for i in 1...n {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: n + 1)
            var used = [Bool](repeating: false, count: n + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...n where !used[j] {
                    let cur = c(i0 - 1, j - 1) - u[i0] - v[j]
                    if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...n {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var match = [Int?](repeating: nil, count: rows)
        for j in 1...n where p[j] >= 1 && p[j] <= rows && j <= cols { match[p[j] - 1] = j - 1 }
        return match
    }
}
