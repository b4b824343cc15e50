import Foundation

/// The Prometheus text exposition format (version 0.0.4), gauges only: one family per metric
/// with its `# HELP` and `# TYPE` lines, label values escaped (backslash, double quote, line
/// feed), values as shortest round-trip decimals (NaN, +Inf, -Inf spelled as Prometheus does).
/// For the node_exporter textfile collector, written atomically like every output.
///
/// Written by hand rather than with swift-prometheus: a batch job emits a dozen gauges once, at
/// exit, and swift-prometheus's registry (built for long-lived servers, on swift-atomics and
/// swift-metrics) would add two packages to every clean build for what is a 30-line documented
/// text format. Source: prometheus.io, "Exposition formats".
public struct PrometheusText {
    public private(set) var text = ""
    private var families = Set<String>()

    public init() {}

    public typealias Sample = (labels: [(String, String)], value: Double)

    /// Appends the family `name` (nothing when `samples` is empty; a second call with the same
    /// name adds samples without repeating its header).
    public mutating func gauge(_ name: String, _ help: String, _ samples: [Sample]) {
        guard !samples.isEmpty else { return }
        if families.insert(name).inserted { text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n" }
        for s in samples {
            let labels = s.labels.isEmpty ? "" : "{" + s.labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
            text += "\(name)\(labels) \(Self.number(s.value))\n"
        }
    }

    /// A label value escaped as the exposition format asks.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A sample value: shortest round-trip decimal, NaN / +Inf / -Inf spelled as Prometheus does.
    public static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// The value of the first sample of `name` whose labels include `label` in a previous file's
    /// text (to carry `last_success` over a failed run). nil when absent.
    public static func value(of name: String, label: (String, String), in previous: String) -> Double? {
        let tag = "\(label.0)=\"\(escape(label.1))\""
        for line in previous.split(separator: "\n") where line.hasPrefix(name + "{") && line.contains(tag) {
            if let v = line.split(separator: " ").last.flatMap({ Double($0) }) { return v }
        }
        return nil
    }
}
