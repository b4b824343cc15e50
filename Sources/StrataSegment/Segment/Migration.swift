import StrataCore
import StrataCustomers
import StrataIO
import Foundation

/// One run's segmentation as `strata migrate` needs it: customer ids and segment ids (from
/// assignments.csv), and, from a run directory, segment centers in original units and the
/// population spread of each feature (model.json, profiles.json).
public struct SegmentRunFiles: Sendable {
    public var ids: [String]
    public var labels: [Int32]
    public var k: Int
    public var names: [String]
    /// k x features, original units (nil for a bare assignments file).
    public var centersOriginal: [[Double]]?
    public var features: [String]?
    /// Feature -> population interquartile range (scale for centroid distances).
    public var spread: [String: Double]?
    public var source: String = ""

    init(ids: [String], labels: [Int32], k: Int, names: [String], centersOriginal: [[Double]]?, features: [String]?,
         profiles: SegmentProfiler.Output?) {
        self.ids = ids; self.labels = labels; self.k = k; self.names = names
        self.centersOriginal = centersOriginal; self.features = features
        if let p = profiles { spread = Self.spread(p.population.features) }
    }

    static func spread(_ stats: [FeatureStats]) -> [String: Double] {
        var out: [String: Double] = [:]
        for s in stats { if let q1 = s.q1, let q3 = s.q3 { out[s.feature] = q3 - q1 > 0 ? q3 - q1 : max(abs(s.mean ?? 1), 1e-9) } }
        return out
    }

    /// A run directory (assignments.csv, model.json, profiles.json) or an assignments CSV.
    public static func load(directory path: String) throws -> SegmentRunFiles {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw StrataError.unreadable(path: path, reason: "no such file or directory")
        }
        if !isDir.boolValue { return try loadAssignments(path) }
        // One run's files: `current` resolved once, so a run published meanwhile is not mixed in.
        let source = path
        let path = RunDirectory.currentFiles(of: path)
        var run = try loadAssignments(path + "/assignments.csv")
        run.source = source
        let modelPath = path + "/model.json"
        if FileManager.default.fileExists(atPath: modelPath) {
            let model = try AnyModelFile.load(path: modelPath)
            let stages = model.stages
            let centers: [[Double]]
            switch model {
            case let .kmeans(m): centers = m.centroids
            case let .gmm(m): centers = m.means
            }
            run.centersOriginal = centers.map { stages.originalUnits($0) ?? $0 }
            run.features = stages.preprocessing?.inputNumeric ?? model.columns
            switch model {
            case let .kmeans(m): if let n = m.segmentNames { run.names = n }
            case let .gmm(m): if let n = m.segmentNames { run.names = n }
            }
            run.k = max(run.k, centers.count)
        }
        let profilesPath = path + "/profiles.json"
        if let data = FileManager.default.contents(atPath: profilesPath) {
            struct P: Decodable { var population: GroupProfile }
            do { run.spread = spread(try JSONDecoder().decode(P.self, from: data).population.features) } catch {
                throw StrataError.badData(file: profilesPath, line: nil, column: nil, message: "not a Strata profiles file: \(error)")
            }
        }
        return run
    }

    static func loadAssignments(_ path: String) throws -> SegmentRunFiles {
        let t = try RawTable.read(path: path, numeric: ["segment_id"], categorical: ["segment_name"], idColumn: "customer_id")
        var labels = [Int32]()
        labels.reserveCapacity(t.rows)
        for (i, v) in t.numeric[0].enumerated() {
            guard !v.isNaN, v >= 0, v == v.rounded(), v < 1_000_000 else {
                throw StrataError.badData(file: path, line: t.lines[i], column: "segment_id", message: "segment id must be a non-negative integer")
            }
            labels.append(Int32(v))
        }
        let k = Int(labels.max() ?? -1) + 1
        var names = (0..<k).map { "segment \($0)" }
        for (i, l) in labels.enumerated() where !t.categorical[0][i].isEmpty { names[Int(l)] = t.categorical[0][i] }
        var seen = Set<String>()
        for (i, id) in t.ids!.enumerated() where !seen.insert(id).inserted {
            throw StrataError.badData(file: path, line: t.lines[i], column: "customer_id", message: "customer id '\(Excerpt.of(id))' appears twice")
        }
        var run = SegmentRunFiles(ids: t.ids!, labels: labels, k: k, names: names, centersOriginal: nil, features: nil, profiles: nil)
        run.source = path
        return run
    }
}

/// Segment migration between two runs.
///
/// Segments are matched by the Hungarian method (minimum total cost, one-to-one): on the
/// distance between segment centers in original units, each feature scaled by the later run's
/// population interquartile range, when both runs carry centers on common features; otherwise on
/// customer overlap (maximum shared customers). So renumbered segments are recognized either way.
public struct Migration: Sendable {
    public var method: String
    /// Before segment -> matched after segment (nil: no counterpart).
    public var mapping: [Int?]
    /// (before k + 1 "new") x (after k + 1 "churned") customer counts.
    public var matrix: [[Int]]
    public var beforeNames: [String]
    public var afterNames: [String]
    public var stayed = 0, moved = 0, churned = 0, new = 0
    public var beforeShares: [Double]
    public var afterShares: [Double]
    /// Per customer present in either run: id, before segment, after segment, status.
    public var moves: [(id: String, before: Int?, after: Int?, status: String)]

    /// Compares two runs' segmentations.
    ///
    /// - Parameters: `b` and `a`, the earlier and the later run (ids, labels, names and, when
    ///   both have them, segment centers in original units).
    /// - Returns: the matching of before segments to after segments (Hungarian algorithm on
    ///   centroid distances scaled by the interquartile range of the common features; on shared
    ///   customers when centers are missing), the (k_before + new) x (k_after + churned) customer
    ///   matrix, stayed/moved/churned/new counts, share drift and the per-customer moves.
    /// - Throws: nothing today; the signature leaves room for runs that cannot be compared.
    /// - Complexity: O(n) with a hash of ids, plus O(k^3) for the matching.
    /// - Source: Kuhn 1955 / Munkres 1957 (assignment problem).
    public static func compute(before b: SegmentRunFiles, after a: SegmentRunFiles) throws -> Migration {
        var method = "customer overlap"
        var cost = [Double](repeating: 0, count: b.k * a.k)
        var afterIndex: [String: Int] = [:]
        afterIndex.reserveCapacity(a.ids.count)
        for (i, id) in a.ids.enumerated() { afterIndex[id] = i }
        if let cb = b.centersOriginal, let ca = a.centersOriginal, let fb = b.features, let fa = a.features {
            let common = fa.filter { fb.contains($0) }
            if !common.isEmpty {
                method = "centroid distance (\(common.count) common features, scaled by interquartile range)"
                for i in 0..<b.k { for j in 0..<a.k {
                    var s = 0.0
                    for f in common {
                        guard let x = cb[safe: i]?[safe: fb.firstIndex(of: f)!], let y = ca[safe: j]?[safe: fa.firstIndex(of: f)!] else { continue }
                        let scale = a.spread?[f] ?? b.spread?[f] ?? 1
                        let d = (x - y) / scale
                        s += d * d
                    }
                    cost[i * a.k + j] = s
                } }
            }
        }
        var matrix = [[Int]](repeating: [Int](repeating: 0, count: a.k + 1), count: b.k + 1)
        var inBefore = Set<String>()
        inBefore.reserveCapacity(b.ids.count)
        for (i, id) in b.ids.enumerated() {
            inBefore.insert(id)
            let from = Int(b.labels[i])
            if let j = afterIndex[id] { matrix[from][Int(a.labels[j])] += 1 } else { matrix[from][a.k] += 1 }
        }
        for (j, id) in a.ids.enumerated() where !inBefore.contains(id) { matrix[b.k][Int(a.labels[j])] += 1 }
        if method == "customer overlap" {
            for i in 0..<b.k { for j in 0..<a.k { cost[i * a.k + j] = -Double(matrix[i][j]) } }
        }
        let mapping = Hungarian.solve(cost: cost, rows: b.k, cols: a.k)
        var m = Migration(method: method, mapping: mapping, matrix: matrix, beforeNames: b.names, afterNames: a.names,
                          beforeShares: shares(b.labels, b.k), afterShares: shares(a.labels, a.k), moves: [])
        for (i, id) in b.ids.enumerated() {
            let from = Int(b.labels[i])
            if let j = afterIndex[id] {
                let to = Int(a.labels[j])
                let same = mapping[from] == to
                if same { m.stayed += 1 } else { m.moved += 1 }
                m.moves.append((id, from, to, same ? "stayed" : "moved"))
            } else {
                m.churned += 1
                m.moves.append((id, from, nil, "churned"))
            }
        }
        for (j, id) in a.ids.enumerated() where !inBefore.contains(id) {
            m.new += 1
            m.moves.append((id, nil, Int(a.labels[j]), "new"))
        }
        return m
    }

    static func shares(_ labels: [Int32], _ k: Int) -> [Double] {
        var c = [Double](repeating: 0, count: k)
        for l in labels { c[Int(l)] += 1 }
        return c.map { labels.isEmpty ? 0 : $0 / Double(labels.count) }
    }

    /// After segment -> share change against its matched before segment (nil: a new segment).
    public var shareDrift: [Double?] {
        (0..<afterShares.count).map { j in mapping.firstIndex(of: j).map { afterShares[j] - beforeShares[$0] } }
    }

    /// migration.json's content.
    public var record: MigrationRecord {
        let rowShares = matrix.map { row -> [Double] in let t = row.reduce(0, +); return row.map { t == 0 ? 0 : Double($0) / Double(t) } }
        return MigrationRecord(
            method: method,
            mapping: mapping.enumerated().map { i, j in
                MigrationRecord.Match(before: i, beforeName: beforeNames[safe: i] ?? "", after: OrNull(j), afterName: OrNull(j.flatMap { afterNames[safe: $0] }))
            },
            matrix: matrix, rowShares: rowShares,
            rows: (0..<beforeShares.count).map { "before \($0)" } + ["new"],
            columns: (0..<afterShares.count).map { "after \($0)" } + ["churned"],
            stayed: stayed, moved: moved, churned: churned, new: new,
            beforeShares: beforeShares, afterShares: afterShares, shareDrift: shareDrift)
    }

    /// customer_id,before_segment,after_segment,status for every customer in either run.
    public var movesCSV: Data {
        var out = "customer_id,before_segment,after_segment,status\n"
        out.reserveCapacity(moves.count * 32)
        for m in moves {
            out += CSVOutput.field(m.id) + "," + (m.before.map(String.init) ?? "") + "," + (m.after.map(String.init) ?? "") + "," + m.status + "\n"
        }
        return Data(out.utf8)
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { i >= 0 && i < count ? self[i] : nil }
}

/// migration.json (and the `migration` key of `strata segment --json` / `strata migrate --json`).
public struct MigrationRecord: Encodable, Sendable {
    /// One before segment and the after segment it was matched to (nil: it vanished).
    public struct Match: Encodable, Sendable {
        public var before: Int
        public var beforeName: String
        public var after: OrNull<Int>
        public var afterName: OrNull<String>

    }

    public var method: String
    public var mapping: [Match]
    /// (before segments + new) x (after segments + churned) customer counts.
    public var matrix: [[Int]]
    public var rowShares: [[Double]]
    public var rows: [String]
    public var columns: [String]
    public var stayed: Int
    public var moved: Int
    public var churned: Int
    public var new: Int
    public var beforeShares: [Double]
    public var afterShares: [Double]
    /// Per after segment: share change against its matched before segment (null: a new segment).
    public var shareDrift: [Double?]

}
