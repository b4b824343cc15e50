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
    /// The privacy threshold of the run these files describe (`min_segment_size`; 1 for files
    /// loaded from disk): a migration into this run reports no group or cell below it.
    public var minCount = 1

    init(ids: [String], labels: [Int32], k: Int, names: [String], centersOriginal: [[Double]]?, features: [String]?,
         profiles: SegmentProfiler.Output?) {
        self.ids = ids; self.labels = labels; self.k = k; self.names = names
        self.centersOriginal = centersOriginal; self.features = features
        if let p = profiles { spread = Self.spread(p.population.features); minCount = p.minSize }
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
        let parquet = path + "/assignments.parquet"
        var run = try loadAssignments(FileManager.default.fileExists(atPath: parquet) ? parquet : path + "/assignments.csv")
        run.source = source
        let modelPath = path + "/model.json"
        if FileManager.default.fileExists(atPath: modelPath) {
            let model = try AnyModelFile.load(path: modelPath)
            let stages = model.stages
            let centers: [[Double]]
            switch model {
            case let .kmeans(m): centers = m.centroids
            case let .gmm(m): centers = m.means
            case let .cluster(m): centers = m.centers
            // K-Prototypes: the numeric prototypes (model units, back to original units by the
            // stored numeric stages); K-Modes has none, so only shared customers are compared.
            case let .kprototypes(m): centers = m.centroids ?? []
            }
            if !centers.isEmpty {
                run.centersOriginal = centers.map { stages.originalUnits($0) ?? $0 }
                if case let .kprototypes(m) = model { run.features = m.numericColumns.isEmpty ? nil : (stages.preprocessing?.inputNumeric ?? m.numericColumns) }
                else { run.features = stages.preprocessing?.inputNumeric ?? model.columns }
            }
            switch model {
            case let .kmeans(m): if let n = m.segmentNames { run.names = n }
            case let .gmm(m): if let n = m.segmentNames { run.names = n }
            case let .cluster(m): if let n = m.segmentNames { run.names = n }
            case let .kprototypes(m): if let n = m.segmentNames { run.names = n }
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

    /// customer_id and segment_id, and segment_name when the file has it (else "segment N").
    static func loadAssignments(_ path: String) throws -> SegmentRunFiles {
        let named = try CSVHeader.read(path: path).contains("segment_name")
        let t = try RawTable.read(path: path, numeric: ["segment_id"], categorical: named ? ["segment_name"] : [], idColumn: "customer_id")
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
        if named { for (i, l) in labels.enumerated() where !t.categorical[0][i].isEmpty { names[Int(l)] = t.categorical[0][i] } }
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
    /// Privacy threshold of `record` (the later run's `min_segment_size`; 1: none, as in
    /// `strata migrate`).
    public var minCount = 1

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
                          beforeShares: shares(b.labels, b.k), afterShares: shares(a.labels, a.k), moves: [], minCount: a.minCount)
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

    /// migration.json's content, under the privacy threshold `minCount` (k-anonymity):
    /// - segments with fewer than `minCount` customers (but some) are merged, per side, into one
    ///   "other" row or column, and are not named in `mapping`;
    /// - `stayed` and `moved` count the customers who were in a reported segment in both runs
    ///   (whether a customer of a small segment stayed is not told); `churned` and `new` count
    ///   everyone;
    /// - a cell with fewer than `minCount` customers (but some) is null, and so are the cells
    ///   needed to keep it from being recovered from the totals (secondary suppression: no row,
    ///   column, or set of cells summed by `stayed` or `moved` holds exactly one hidden cell, and
    ///   no hidden cell is determined by those totals jointly, as a linear system);
    ///   their row shares are null too;
    /// - a group's share is null when the group has fewer than `minCount` customers.
    /// With `minCount` 1 (`strata migrate`) nothing is merged or hidden, and `stayed + moved +
    /// churned` is the earlier run's customer count.
    public var record: MigrationRecord {
        let bk = beforeShares.count, ak = afterShares.count
        let rowTotal = (0...bk).map { matrix[$0].reduce(0, +) }
        let colTotal = (0...ak).map { j in (0...bk).reduce(0) { $0 + matrix[$1][j] } }
        func small(_ n: Int) -> Bool { n > 0 && n < minCount }
        // Groups: segments with their own row/column, then "other" (when any is small), then new/churned.
        let beforeOwn = (0..<bk).filter { !small(rowTotal[$0]) }, afterOwn = (0..<ak).filter { !small(colTotal[$0]) }
        let beforeOther = beforeOwn.count < bk, afterOther = afterOwn.count < ak
        let rowCount = beforeOwn.count + (beforeOther ? 1 : 0) + 1, colCount = afterOwn.count + (afterOther ? 1 : 0) + 1
        var rowOf = [Int](repeating: beforeOwn.count, count: bk + 1), colOf = [Int](repeating: afterOwn.count, count: ak + 1)
        for (r, i) in beforeOwn.enumerated() { rowOf[i] = r }
        for (c, j) in afterOwn.enumerated() { colOf[j] = c }
        rowOf[bk] = rowCount - 1
        colOf[ak] = colCount - 1
        var merged = [[Int]](repeating: [Int](repeating: 0, count: colCount), count: rowCount)
        for i in 0...bk { for j in 0...ak { merged[rowOf[i]][colOf[j]] += matrix[i][j] } }
        // The cells `stayed` and `moved` sum: reported before segment x reported after segment,
        // on the matched segment or off it.
        var stayedCells: [(Int, Int)] = [], movedCells: [(Int, Int)] = []
        for (r, i) in beforeOwn.enumerated() {
            for (c, j) in afterOwn.enumerated() {
                if mapping[i] == j { stayedCells.append((r, c)) } else { movedCells.append((r, c)) }
            }
        }
        let hidden = Self.suppressed(merged, minCount: minCount, extraLines: [stayedCells, movedCells])
        let stayedOwn = stayedCells.reduce(0) { $0 + merged[$1.0][$1.1] }, movedOwn = movedCells.reduce(0) { $0 + merged[$1.0][$1.1] }
        let mergedRowTotal = merged.map { $0.reduce(0, +) }
        let nBefore = mergedRowTotal.dropLast().reduce(0, +)
        let nAfter = (0..<(colCount - 1)).reduce(0) { n, c in n + merged.reduce(0) { $0 + $1[c] } }
        func groupShare(_ n: Int, of total: Int) -> Double? { small(n) ? nil : total == 0 ? 0 : Double(n) / Double(total) }
        let before = beforeOwn.map { beforeShares[$0] }, after = afterOwn.map { afterShares[$0] }
        let beforeGroupShares = (0..<(rowCount - 1)).map { r in r < beforeOwn.count ? before[r] : groupShare(mergedRowTotal[r], of: nBefore) }
        let afterGroupShares = (0..<(colCount - 1)).map { c -> Double? in
            c < afterOwn.count ? after[c] : groupShare(merged.reduce(0) { $0 + $1[c] }, of: nAfter)
        }
        let otherName = "Other (small segments)"
        return MigrationRecord(
            method: method,
            mapping: beforeOwn.map { i in
                let j = mapping[i]
                let name = j.map { afterOwn.contains($0) ? afterNames[safe: $0] ?? "" : otherName }
                return MigrationRecord.Match(before: i, beforeName: beforeNames[safe: i] ?? "", after: OrNull(j), afterName: OrNull(name))
            },
            matrix: (0..<rowCount).map { r in (0..<colCount).map { c in hidden[r][c] ? nil : merged[r][c] } },
            rowShares: (0..<rowCount).map { r in
                (0..<colCount).map { c in hidden[r][c] ? nil : mergedRowTotal[r] == 0 ? 0 : Double(merged[r][c]) / Double(mergedRowTotal[r]) }
            },
            rows: beforeOwn.map { "before \($0)" } + (beforeOther ? ["before other"] : []) + ["new"],
            columns: afterOwn.map { "after \($0)" } + (afterOther ? ["after other"] : []) + ["churned"],
            stayed: stayedOwn, moved: movedOwn, churned: churned, new: new,
            beforeShares: beforeGroupShares, afterShares: afterGroupShares,
            shareDrift: (0..<(colCount - 1)).map { c in
                guard c < afterOwn.count, let i = mapping.firstIndex(of: afterOwn[c]), beforeOwn.contains(i) else { return nil }
                return afterShares[afterOwn[c]] - beforeShares[i]
            },
            minCellSize: minCount)
    }

    /// Which cells of `m` to hide: those with 1 to `minCount - 1` customers, then, until no line
    /// (row, column, or one of `extraLines`, whose totals are published or derivable) holds exactly
    /// one hidden cell, one more visible cell of such a line (zeros included: a hidden zero hides
    /// as well as a hidden count). The cell chosen is the one whose hiding, followed through by
    /// plain smallest-first choices, hides the fewest customers in all (one step of lookahead:
    /// smallest-first alone can hide a zero whose column then needs a big cell).
    /// O(cells^2 x lines x line length) for the few-by-few matrices of a migration.
    static func suppressed(_ m: [[Int]], minCount: Int, extraLines: [[(Int, Int)]] = []) -> [[Bool]] {
        let rows = m.indices.map { r in m[r].indices.map { (r, $0) } }
        let cols = (0..<(m.first?.count ?? 0)).map { c in m.indices.map { ($0, c) } }
        let lines = rows + cols + extraLines
        // A line with exactly one hidden cell and another to hide with it (a one-cell line
        // cannot be helped).
        func loneLine(_ hide: [[Bool]]) -> [(Int, Int)]? { lines.first { $0.count > 1 && $0.filter { hide[$0.0][$0.1] }.count == 1 } }
        func visible(_ line: [(Int, Int)], _ hide: [[Bool]]) -> [(Int, Int)] {
            line.filter { !hide[$0.0][$0.1] }.sorted { (m[$0.0][$0.1], $0.0, $0.1) < (m[$1.0][$1.1], $1.0, $1.1) }
        }
        // Smallest-first completion, and what it hides in all.
        func completed(_ start: [[Bool]]) -> [[Bool]] {
            var hide = start
            while let line = loneLine(hide), let pick = visible(line, hide).first { hide[pick.0][pick.1] = true }
            return hide
        }
        func cost(_ hide: [[Bool]]) -> (Int, Int) {
            var customers = 0, cells = 0
            for r in m.indices { for c in m[r].indices where hide[r][c] { customers += m[r][c]; cells += 1 } }
            return (customers, cells)
        }
        var hide = m.map { row in row.map { $0 > 0 && $0 < minCount } }
        while let line = loneLine(hide) {
            let candidates = visible(line, hide)
            var best: (cost: (Int, Int), cell: (Int, Int))? = nil
            for cell in candidates {
                var trial = hide
                trial[cell.0][cell.1] = true
                let c = cost(completed(trial))
                if best == nil || c < best!.cost { best = (c, cell) }
            }
            hide[best!.cell.0][best!.cell.1] = true
        }
        // Joint recovery: published totals can pin a hidden cell down together (a linear
        // system: row, column, stayed and moved totals), even when no line holds it alone. Hide
        // more, smallest first among the cells sharing a line with it, until none is determined.
        while let exposed = determinedCell(hide, lines: lines) {
            let candidates = lines.filter { $0.contains { $0 == exposed } }.flatMap { visible($0, hide) }
            guard let pick = candidates.min(by: { (m[$0.0][$0.1], $0.0, $0.1) < (m[$1.0][$1.1], $1.0, $1.1) }) else { break }
            hide[pick.0][pick.1] = true
            hide = completed(hide)
        }
        return hide
    }

    /// A hidden cell whose value the published line totals determine (its unit vector lies in
    /// the row space of the lines' incidence over the hidden cells), or nil. Gaussian elimination
    /// on a lines x hidden-cells 0/1 matrix: O(lines x cells^2).
    static func determinedCell(_ hide: [[Bool]], lines: [[(Int, Int)]]) -> (Int, Int)? {
        var cells: [(Int, Int)] = []
        for r in hide.indices { for c in hide[r].indices where hide[r][c] { cells.append((r, c)) } }
        guard !cells.isEmpty else { return nil }
        let index = Dictionary(uniqueKeysWithValues: cells.enumerated().map { ("\($1.0),\($1.1)", $0) })
        let rows: [[Double]] = lines.compactMap { line in
            var v = [Double](repeating: 0, count: cells.count)
            var any = false
            for cell in line { if let k = index["\(cell.0),\(cell.1)"] { v[k] = 1; any = true } }
            return any ? v : nil
        }
        func rank(_ a: [[Double]]) -> Int {
            var m = a, r = 0
            let cols = cells.count
            for c in 0..<cols where r < m.count {
                guard let p = (r..<m.count).max(by: { abs(m[$0][c]) < abs(m[$1][c]) }), abs(m[p][c]) > 1e-9 else { continue }
                m.swapAt(r, p)
                for i in 0..<m.count where i != r && abs(m[i][c]) > 1e-12 {
                    let f = m[i][c] / m[r][c]
                    for j in c..<cols { m[i][j] -= f * m[r][j] }
                }
                r += 1
            }
            return r
        }
        let base = rank(rows)
        for (k, cell) in cells.enumerated() {
            var unit = [Double](repeating: 0, count: cells.count)
            unit[k] = 1
            if rank(rows + [unit]) == base { return cell }
        }
        return nil
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
    /// Before segments with their own row, and their matched after segment.
    public var mapping: [Match]
    /// (before segments [+ other] + new) x (after segments [+ other] + churned) customer counts;
    /// null: hidden (below `min_cell_size`, or needed to keep such a cell hidden).
    public var matrix: [[Int?]]
    public var rowShares: [[Double?]]
    public var rows: [String]
    public var columns: [String]
    public var stayed: Int
    public var moved: Int
    public var churned: Int
    public var new: Int
    /// Per row/column group but new/churned; null for an "other" below `min_cell_size`.
    public var beforeShares: [Double?]
    public var afterShares: [Double?]
    /// Per after group but churned: share change against its matched before segment (null: a
    /// new segment, or other).
    public var shareDrift: [Double?]
    /// The privacy threshold applied (segment's `min_segment_size`; 1 for `strata migrate`).
    public var minCellSize: Int

}
