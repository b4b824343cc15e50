import Foundation

/// One timed step of a segment run (run.json `steps`).
public struct SegmentStep: Encodable, Sendable {
    public var step: String
    public var seconds: Double
    public var detail: String
}

/// Runs the job's steps one after another, logging each with its time and counts and keeping
/// the record for run.json. Not thread-safe: the job's steps are sequential.
final class SegmentSteps {
    private(set) var steps: [SegmentStep] = []
    let log: (String) -> Void

    init(log: @escaping (String) -> Void) { self.log = log }

    /// Runs `body`, which returns its value and a one-line detail ("20,000 customers, ...").
    func run<T>(_ name: String, _ body: () throws -> (T, String)) throws -> T {
        let t0 = Date()
        let (value, detail) = try body()
        let s = Date().timeIntervalSince(t0)
        steps.append(SegmentStep(step: name, seconds: s, detail: detail))
        log(String(format: "%@: %@ (%.2f s)", name, detail, s))
        return value
    }
}
