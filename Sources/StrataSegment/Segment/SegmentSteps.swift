import Foundation
import StrataCore

/// One timed step of a segment run (run.json `steps`).
public struct SegmentStep: Encodable, Sendable {
    public var step: String
    public var seconds: Double
    public var detail: String
    /// The step's counts by name (`customers`, `transactions`, `features`, `k`, `iterations`...),
    /// for log collectors (`--log-format json`) and run.json.
    public var counts: [String: Int] = [:]
}

/// Runs the job's steps one after another, logging each with its time and counts and keeping
/// the record for run.json. Not thread-safe: the job's steps are sequential.
final class SegmentSteps {
    private(set) var steps: [SegmentStep] = []
    private var pending: [String: Int] = [:]

    /// Records a count of the step now running (attached to it when it ends).
    func count(_ name: String, _ value: Int) { pending[name] = value }
    let log: (String) -> Void
    /// Called after each step instead of logging its line (the CLI's text or JSON log).
    let onStep: ((SegmentStep) -> Void)?

    init(log: @escaping (String) -> Void, onStep: ((SegmentStep) -> Void)? = nil) { self.log = log; self.onStep = onStep }

    /// Runs `body`, which returns its value and a one-line detail ("20,000 customers, ...").
    func run<T>(_ name: String, _ body: () throws -> (T, String)) throws -> T {
        let t0 = Date()
        JobProgress.shared.begin(name)
        pending = [:]
        defer { JobProgress.shared.end() }
        let (value, detail) = try body()
        let s = Date().timeIntervalSince(t0)
        let step = SegmentStep(step: name, seconds: s, detail: detail, counts: pending)
        pending = [:]
        steps.append(step)
        JobProgress.shared.end()
        if let onStep { onStep(step) } else { log(String(format: "%@: %@ (%.2f s)", name, detail, s)) }
        return value
    }
}
