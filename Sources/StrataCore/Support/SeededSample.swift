extension SeededRandom {
    /// `count` distinct row indices out of `n`, sorted ascending; all of them when count >= n.
    /// Seeded partial Fisher-Yates on the independent stream `stream` of `seed`: the same
    /// arguments give the same rows on every platform and thread count. O(n) time and memory.
    public static func sampleIndices(_ n: Int, _ count: Int, seed: UInt64, stream: UInt64) -> [Int] {
        if count >= n { return Array(0..<n) }
        var rng = SeededRandom.stream(seed: seed, index: stream)
        var pool = Array(0..<n)
        for i in 0..<count { pool.swapAt(i, i + Int(rng.next() % UInt64(n - i))) }
        return pool[0..<count].sorted()
    }
}
