import StrataCore
import StrataKernels
import Foundation

/// CSV helpers for outputs.
public enum CSVOutput {
    /// Quotes a field when it holds a delimiter, quote or line break (RFC 4180).
    public static func field(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    /// A labels CSV (header first) with a `segment_name` column appended: the name of each row's
    /// segment (empty for a label without one, e.g. noise -1). Records are split on line ends
    /// outside quotes, so quoted ids with line breaks stay whole. O(bytes).
    public static func withSegmentNames(_ csv: Data, labels: [Int32], names: [String]) -> Data {
        let quoted = names.map { Array(("," + field($0)).utf8) }
        var out = [UInt8]()
        out.reserveCapacity(csv.count + labels.count * 16)
        var inQuotes = false, record = -1   // -1: the header
        for byte in csv {
            if byte == UInt8(ascii: "\"") { inQuotes.toggle() }
            if byte == UInt8(ascii: "\n") && !inQuotes {
                if record < 0 { out += Array(",segment_name".utf8) }
                else if record < labels.count, labels[record] >= 0, Int(labels[record]) < names.count { out += quoted[Int(labels[record])] }
                else { out.append(UInt8(ascii: ",")) }
                record += 1
            }
            out.append(byte)
        }
        return Data(out)
    }

    /// A Double in an output table: integers without a decimal point; anything else with 15
    /// significant digits (the most a Double carries exactly), so cents survive up to 1e13 and
    /// the last-bit noise of a sum (74.02000000000001) is not shown. Non-finite: empty (missing).
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return g15(v)
    }

    /// `%.15g` through C's snprintf on a stack buffer: the same text as `String(format:)`,
    /// about 20x faster on Linux (Foundation's formatter dominated writing 1M-row tables).
    public static func g15(_ v: Double) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buf in
            _ = withVaList([v]) { vsnprintf(buf.baseAddress!, 32, "%.15g", $0) }
            return String(cString: buf.baseAddress!)
        }
    }

    /// The labels file: `id,segment,distance`, one row per input row in input order; distance is
    /// the squared Euclidean distance to the assigned centroid.
    public static func labels(ids: (Int) -> String, labels: [Int32], distances: [Float]) -> Data {
        var out = "id,segment,distance\n"
        out.reserveCapacity(labels.count * 24)
        for i in 0..<labels.count {
            out += field(ids(i))
            out += ","
            out += String(labels[i])
            out += ","
            out += "\(distances[i])"
            out += "\n"
        }
        return Data(out.utf8)
    }
}

extension CSVOutput {
    /// The labels file (as `labels`) staged in pieces of 65,536 rows: memory stays one piece
    /// however many rows there are. A path ending in `.parquet` gets the same rows as Parquet
    /// (`OutputBatch.stageTable`; built in memory).
    public static func stageLabels(_ batch: inout OutputBatch, to path: String, ids: (Int) -> String, labels: [Int32], distances: [Float]) throws {
        if TableFormat.of(path: path) == .parquet {
            return try batch.stageTable(csv: Self.labels(ids: ids, labels: labels, distances: distances), to: path)
        }
        try batch.stageStreaming(to: path) { write in
            try write(Data("id,segment,distance\n".utf8))
            var lo = 0
            while lo < labels.count {
                let hi = min(labels.count, lo + 65_536)
                var out = ""
                out.reserveCapacity((hi - lo) * 24)
                for i in lo..<hi { out += field(ids(i)); out += ","; out += String(labels[i]); out += ","; out += "\(distances[i])\n" }
                try write(Data(out.utf8))
                lo = hi
            }
        }
    }

    /// Gaussian-mixture labels: `id,segment,probability` (the posterior of the chosen component).
    public static func mixtureLabels(ids: (Int) -> String, labels: [Int32], probabilities: [Double], k: Int) -> Data {
        var out = "id,segment,probability\n"
        out.reserveCapacity(labels.count * 28)
        for i in 0..<labels.count {
            out += field(ids(i)) + "," + String(labels[i]) + "," + "\(probabilities[i * k + Int(labels[i])])\n"
        }
        return Data(out.utf8)
    }

    /// Posterior probabilities: `id,p0,...,p{k-1}`.
    public static func probabilities(ids: (Int) -> String, probabilities: [Double], rows: Int, k: Int) -> Data {
        var out = "id," + (0..<k).map { "p\($0)" }.joined(separator: ",") + "\n"
        out.reserveCapacity(rows * (12 + 20 * k))
        for i in 0..<rows {
            out += field(ids(i))
            for c in 0..<k { out += ","; out += "\(probabilities[i * k + c])" }
            out += "\n"
        }
        return Data(out.utf8)
    }
}

extension CSVOutput {
    /// One rank's rows of the labels file (`id,segment,distance`), written atomically.
    public static func writeLabelsPart(rows: Range<Int>, header: Bool, ids: (Int) -> String, labels: [Int32], distances: [Float],
                                       to path: String) throws {
        var out = header ? "id,segment,distance\n" : ""
        out.reserveCapacity(rows.count * 24)
        for i in rows { out += field(ids(i)) + "," + String(labels[i]) + "," + "\(distances[i])\n" }
        var batch = OutputBatch()
        try batch.stage(out, to: path)
        try batch.commit()
    }

    /// Concatenates `path.part-0 ... path.part-(count-1)` in order into a staged `path`, removing the parts.
    public static func joinParts(_ path: String, count: Int, batch: inout OutputBatch) throws {
        var joined = Data()
        for r in 0..<count {
            let part = path + ".part-\(r)"
            guard let d = FileManager.default.contents(atPath: part) else { throw StrataError.unreadable(path: part, reason: "rank \(r) wrote no labels part") }
            joined.append(d)
        }
        try batch.stage(joined, to: path)
        for r in 0..<count { unlink(path + ".part-\(r)") }
    }
}

extension CSVOutput {
    /// The labels file of a distributed run: each process writes the rows of its own chunks
    /// (`group.localChunks` of `RowPartition(rows:)`) as `path.part-RANK`; after `barrier` (every
    /// part written), rank 0 joins the parts in rank order into `batch` as `path`. The result is
    /// byte-identical to a plain run's labels file. O(rows) time, one part's text in memory.
    public static func stageDistributedLabels(_ batch: inout OutputBatch, to path: String, group: any ChunkGroup, rows: Int,
                                              ids: (Int) -> String, labels: [Int32], distances: [Float], barrier: () -> Void) throws {
        let part = RowPartition(rows: rows)
        let local = group.localChunks(part.count)
        let mine = local.isEmpty ? 0..<0 : part.range(local.lowerBound).lowerBound..<part.range(local.upperBound - 1).upperBound
        try writeLabelsPart(rows: mine, header: group.rank == 0, ids: ids, labels: labels, distances: distances, to: path + ".part-\(group.rank)")
        barrier()
        if group.rank == 0 { try joinParts(path, count: group.size, batch: &batch) }
    }
}

extension CSVOutput {
    /// A labels file with a named score column: `id,segment,<score>` (segment -1 = noise for
    /// DBSCAN/HDBSCAN; the score as `number`, empty when not finite). Written in pieces of 65,536
    /// rows through `write`.
    public static func scoredLabels(ids: (Int) -> String, labels: [Int32], scoreColumn: String, scores: [Double],
                                    write: (Data) throws -> Void) throws {
        try write(Data("id,segment,\(scoreColumn)\n".utf8))
        var lo = 0
        while lo < labels.count {
            let hi = min(labels.count, lo + 65_536)
            var out = ""
            out.reserveCapacity((hi - lo) * 24)
            for i in lo..<hi { out += field(ids(i)); out += ","; out += String(labels[i]); out += ","; out += number(scores[i]); out += "\n" }
            try write(Data(out.utf8))
            lo = hi
        }
    }

    /// `scoredLabels` as one `Data` (for stdout).
    public static func scoredLabels(ids: (Int) -> String, labels: [Int32], scoreColumn: String, scores: [Double]) -> Data {
        var data = Data()
        try? scoredLabels(ids: ids, labels: labels, scoreColumn: scoreColumn, scores: scores) { data.append($0) }
        return data
    }

    /// `scoredLabels` staged into `batch`.
    public static func stageScoredLabels(_ batch: inout OutputBatch, to path: String, ids: (Int) -> String, labels: [Int32],
                                         scoreColumn: String, scores: [Double]) throws {
        if TableFormat.of(path: path) == .parquet {
            return try batch.stageTable(csv: scoredLabels(ids: ids, labels: labels, scoreColumn: scoreColumn, scores: scores), to: path)
        }
        try batch.stageStreaming(to: path) { write in
            try scoredLabels(ids: ids, labels: labels, scoreColumn: scoreColumn, scores: scores, write: write)
        }
    }
}
