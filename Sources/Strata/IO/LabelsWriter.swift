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
