import Foundation

/// Progress of the running job's current step, for whoever watches it (the CLI renders it as a
/// progress bar on a terminal, periodic lines or JSON events): the step's name, when it began,
/// and a count of work done out of a total when the step knows one (bytes read, k tried).
///
/// Library code reports with `update`, a lock and three stores (cheap enough once per block
/// of rows, never per row); nothing is printed here. Thread-safe.
public final class JobProgress: @unchecked Sendable {
    public static let shared = JobProgress()

    public struct Snapshot: Sendable, Equatable {
        public var step: String
        public var started: Date
        public var done: Int
        /// nil: the total is unknown (a stream).
        public var total: Int?
        /// What is counted: "bytes", "rows", "k".
        public var unit: String
        /// What the step is doing now, when it has parts ("fitting CLV"); empty otherwise.
        public var phase = ""
    }

    private let lock = NSLock()
    private var current: Snapshot?

    /// Starts step `name` (no count yet).
    public func begin(_ name: String) {
        lock.lock(); current = Snapshot(step: name, started: Date(), done: 0, total: nil, unit: ""); lock.unlock()
    }

    /// The current step's count: `done` of `total` `unit`.
    public func update(done: Int, total: Int?, unit: String) {
        lock.lock()
        if current != nil { current!.done = done; current!.total = total; current!.unit = unit }
        lock.unlock()
    }

    /// The current step moves on to part `name` (its count is reset).
    public func phase(_ name: String) {
        lock.lock()
        if current != nil { current!.phase = name; current!.done = 0; current!.total = nil; current!.unit = "" }
        lock.unlock()
    }

    /// Ends the current step.
    public func end() { lock.lock(); current = nil; lock.unlock() }

    /// The current step, nil between steps.
    public func snapshot() -> Snapshot? { lock.lock(); defer { lock.unlock() }; return current }
}
