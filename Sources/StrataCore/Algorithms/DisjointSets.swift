/// Disjoint sets with path halving and union by size (Tarjan 1975).
public struct UnionFind: Sendable {
    private var parent: [Int32]
    private var size: [Int32]

    public init(count: Int) {
        parent = (0..<count).map { Int32($0) }
        size = [Int32](repeating: 1, count: count)
    }

    public mutating func find(_ x: Int) -> Int {
        var x = x
        while Int(parent[x]) != x {
            parent[x] = parent[Int(parent[x])]
            x = Int(parent[x])
        }
        return x
    }

    public mutating func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        if ra == rb { return }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = Int32(ra)
        size[ra] += size[rb]
    }
}

/// The forest of a merge tree (scipy's linkage format): nodes 0..<n are leaves, merge i makes
/// node n + i the parent of the two roots it joins. `find` returns the current top of a node
/// (path halving), so a node's cluster after some merges is one lookup. Used to relabel merges
/// as scipy's `label` does, to cut a tree, and for HDBSCAN's single-linkage and labelling.
public struct MergeForest: Sendable {
    private var parent: [Int]

    /// A forest of `nodes` single nodes (2n - 1 for a full tree of n leaves).
    public init(nodes: Int) { parent = Array(0..<max(0, nodes)) }

    public mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
        return x
    }

    /// Puts the tree holding `node` under `top` (a root, usually a new merge node).
    public mutating func attach(_ node: Int, under top: Int) { parent[find(node)] = top }
}
