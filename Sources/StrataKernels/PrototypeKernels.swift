import Foundation

/// The K-Prototypes / K-Modes dissimilarity (Huang 1998) and the nearest-prototype pass.
///
/// dissimilarity(x, c) = sum_j (x_j - c_j)^2 + gamma * #{a : code_a(x) != mode_a(c)}
///
/// Numeric values are Float, converted to Double before the difference (so the sum is the one a
/// float64 reference computes on the same float32 numbers, summed left to right); categories are
/// integer codes (UInt8 when every column has at most 256 categories). A code that matches no
/// mode (e.g. -1 for a category unseen in training) simply counts as a mismatch.
public enum PrototypeKernels {
    /// The nearest prototype of one row: (index, dissimilarity), the first index on ties.
    /// `x` holds the row's `dn` numeric values already as Double.
    @inlinable @inline(__always)
    public static func nearest<Code: FixedWidthInteger>(x: UnsafePointer<Double>, codes: UnsafePointer<Code>,
                                                        centroids: UnsafePointer<Double>, modes: UnsafePointer<Code>,
                                                        k: Int, dn: Int, dc: Int, gamma: Double) -> (Int, Double) {
        var best = 0
        var bestCost = Double.infinity
        var c = 0
        // Four prototypes at a time: four independent sums hide the add latency (each sum still
        // runs over j in order, so the result is the same as one at a time).
        while c + 4 <= k {
            let p0 = centroids + c * dn, p1 = p0 + dn, p2 = p1 + dn, p3 = p2 + dn
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            for j in 0..<dn {
                let xj = x[j]
                let t0 = xj - p0[j], t1 = xj - p1[j], t2 = xj - p2[j], t3 = xj - p3[j]
                s0 += t0 * t0; s1 += t1 * t1; s2 += t2 * t2; s3 += t3 * t3
            }
            let m0 = modes + c * dc, m1 = m0 + dc, m2 = m1 + dc, m3 = m2 + dc
            var n0 = 0, n1 = 0, n2 = 0, n3 = 0
            for a in 0..<dc {
                let v = codes[a]
                n0 &+= m0[a] != v ? 1 : 0; n1 &+= m1[a] != v ? 1 : 0
                n2 &+= m2[a] != v ? 1 : 0; n3 &+= m3[a] != v ? 1 : 0
            }
            let t0 = s0 + gamma * Double(n0), t1 = s1 + gamma * Double(n1)
            let t2 = s2 + gamma * Double(n2), t3 = s3 + gamma * Double(n3)
            if t0 < bestCost { bestCost = t0; best = c }
            if t1 < bestCost { bestCost = t1; best = c + 1 }
            if t2 < bestCost { bestCost = t2; best = c + 2 }
            if t3 < bestCost { bestCost = t3; best = c + 3 }
            c += 4
        }
        while c < k {
            let p = centroids + c * dn
            var s = 0.0
            for j in 0..<dn {
                let t = x[j] - p[j]
                s += t * t
            }
            let mode = modes + c * dc
            var m = 0
            for a in 0..<dc where mode[a] != codes[a] { m &+= 1 }
            let total = s + gamma * Double(m)
            if total < bestCost { bestCost = total; best = c }
            c += 1
        }
        return (best, bestCost)
    }

    /// Labels and dissimilarities of rows `lo..<hi`: every row's nearest prototype (first on
    /// ties) and its dissimilarity. Rows `numeric` (n x dn Float, may be nil when dn = 0) and
    /// `codes` (n x dc) are row-major.
    @inlinable
    public static func assign<Code: FixedWidthInteger>(rows: Range<Int>, numeric: UnsafePointer<Float>?, codes: UnsafePointer<Code>,
                                                       centroids: UnsafePointer<Double>, modes: UnsafePointer<Code>,
                                                       k: Int, dn: Int, dc: Int, gamma: Double,
                                                       labels: UnsafeMutablePointer<Int32>, costs: UnsafeMutablePointer<Double>) {
        let xd = UnsafeMutablePointer<Double>.allocate(capacity: max(1, dn))
        defer { xd.deallocate() }
        for i in rows {
            if let numeric { for j in 0..<dn { xd[j] = Double(numeric[i * dn + j]) } }
            let (c, cost) = nearest(x: xd, codes: codes + i * dc, centroids: centroids, modes: modes, k: k, dn: dn, dc: dc, gamma: gamma)
            labels[i] = Int32(c)
            costs[i] = cost
        }
    }

    /// `assign` over all `n` rows in fixed chunks of 16,384 rows on up to `threads` workers (each
    /// row's result depends only on the row, so the outputs are the same for any thread count).
    @inlinable
    public static func assignAll<Code: FixedWidthInteger>(n: Int, numeric: UnsafePointer<Float>?, codes: UnsafePointer<Code>,
                                                          centroids: UnsafePointer<Double>, modes: UnsafePointer<Code>,
                                                          k: Int, dn: Int, dc: Int, gamma: Double, threads: Int,
                                                          labels: UnsafeMutablePointer<Int32>, costs: UnsafeMutablePointer<Double>) {
        let chunk = 16_384
        let chunks = (n + chunk - 1) / chunk
        let box = UncheckedSendable((numeric, codes, centroids, modes, labels, costs))
        Parallel.forEachChunk(chunks, threads: threads) { c in
            let (numeric, codes, centroids, modes, labels, costs) = box.value
            assign(rows: (c * chunk)..<min(n, (c + 1) * chunk), numeric: numeric, codes: codes, centroids: centroids, modes: modes,
                   k: k, dn: dn, dc: dc, gamma: gamma, labels: labels, costs: costs)
        }
    }
}
