import ArgumentParser
import Foundation
import Strata

/// How a job logs on stderr (a closed choice): human lines, or one JSON object per event for
/// log collectors.
enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text, json
}

/// What a scheduler needs to watch a job: `--quiet`, `--log-format`, `--metrics-out`.
struct SchedulerOptions: ParsableArguments {
    @Flag(name: .long, help: "Print nothing but errors (no step log, no progress, no warnings on stderr, no summary); --json still prints its result, warnings included.")
    var quiet = false

    @Option(name: .customLong("log-format"), help: "stderr log: text (lines; a progress bar on a terminal) or json (one object per event: step, progress, warning, log, error, done).")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("metrics-out"), help: "Write Prometheus text-format metrics here (node_exporter textfile collector), atomically, also when the run fails.")
    var metricsOut: String?
}

/// The stderr side of a scheduled job: step events, progress of long steps, the final event,
/// and the metrics file.
///
/// Progress: a step running longer than 2 s is shown while it runs, from `JobProgress` (bytes
/// read of the order log, k tried in the sweep): on a terminal as one line redrawn every half
/// second; otherwise (a log file, a pipe) as a plain line every 10 s; with `--log-format json` as
/// a `progress` event every 10 s. Nothing with `--quiet`.
final class JobLog: @unchecked Sendable {
    let job: String
    let options: SchedulerOptions
    let started = Date()
    private let tty = isatty(STDERR_FILENO) == 1
    private var timer: DispatchSourceTimer?
    private var lastLine = Date.distantPast

    init(job: String, options: SchedulerOptions) {
        self.job = job
        self.options = options
    }

    /// Sets the printing mode and starts the progress timer.
    func start() {
        JobProgress.shared.begin(job)
        Report.quiet = options.quiet
        Report.logFormat = options.logFormat
        Report.jobName = job
        guard !options.quiet else { return }
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
        t.schedule(deadline: .now() + 0.5, repeating: 0.5)
        t.setEventHandler { [weak self] in self?.tick() }
        t.resume()
        timer = t
    }

    func stop() {
        // No progress line after this (a tick already running may not draw one either).
        Report.endProgress()
        timer?.cancel()
        timer = nil
    }

    private func tick() {
        guard let s = JobProgress.shared.snapshot() else { Report.clearProgressLine(); return }
        let elapsed = Date().timeIntervalSince(s.started)
        guard elapsed >= 2 else { return }
        let amount = Self.amount(s)
        let step = s.step + (s.phase.isEmpty ? "" : " (\(s.phase))")
        switch options.logFormat {
        case .text where tty:
            Report.progressLine("[\(job)] \(step): \(Self.bar(s))\(amount) \(String(format: "%.0f s", elapsed))")
        case .text:
            guard Date().timeIntervalSince(lastLine) >= 10 else { return }
            lastLine = Date()
            Report.stderr("[\(job)] \(step): running, \(String(format: "%.0f s", elapsed))\(amount.isEmpty ? "" : ", " + amount.trimmingCharacters(in: .whitespaces))")
        case .json:
            guard Date().timeIntervalSince(lastLine) >= 10 else { return }
            lastLine = Date()
            Report.event(["event": .string("progress"), "step": .string(s.step), "phase": .string(s.phase), "seconds": .number(elapsed), "done": .number(Double(s.done)),
                          "total": s.total.map { .number(Double($0)) } ?? .null, "unit": .string(s.unit)])
        }
    }

    static func bar(_ s: JobProgress.Snapshot) -> String {
        guard let total = s.total, total > 0 else { return "" }
        let f = min(1, Double(s.done) / Double(total))
        let filled = Int((f * 20).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled) + "] " + String(format: "%3.0f%% ", 100 * f)
    }

    static func amount(_ s: JobProgress.Snapshot) -> String {
        func show(_ v: Int) -> String { s.unit == "bytes" ? String(format: "%.0f MB", Double(v) / 1e6) : NumberText.grouped(Int64(v)) }
        guard s.unit != "" else { return "" }
        let unit = s.unit == "bytes" ? "read" : s.unit == "k" ? "k tried" : s.unit
        return (s.total.map { "\(show(s.done)) of \(show($0)) " } ?? "\(show(s.done)) ") + unit + " "
    }

    /// A step finished: text `[job] step: detail (1.23 s)`; json a `step` event.
    func step(_ name: String, seconds: Double, detail: String, counts: [String: Int] = [:]) {
        guard !options.quiet else { return }
        if options.logFormat == .json {
            Report.event(["event": .string("step"), "step": .string(name), "seconds": .number(seconds), "detail": .string(detail),
                          "counts": .object(counts.mapValues { .number(Double($0)) })])
        } else {
            Report.stderr(String(format: "[%@] %@: %@ (%.2f s)", job, name, detail, seconds))
        }
    }

    /// A log line of the job (text: `[job] line`; json: a `log` event).
    func line(_ s: String) {
        guard !options.quiet else { return }
        if options.logFormat == .json { Report.event(["event": .string("log"), "message": .string(s)]) } else { Report.stderr("[\(job)] " + s) }
    }

    /// Gauges of a job that reads an order log: customers, usable rows, bad rows.
    static func orderLogGauges(job: String, customers: Int, transactions: Int, badRows: Int) -> PrometheusText {
        var p = PrometheusText()
        p.gauge("strata_\(job)_customers", "Customers summarized.", [([("strata_job", job)], Double(customers))])
        p.gauge("strata_\(job)_transactions", "Order-log rows by kind: read (usable), bad (skipped).",
                [([("strata_job", job), ("kind", "read")], Double(transactions)), ([("strata_job", job), ("kind", "bad")], Double(badRows))])
        return p
    }

    /// Runs `body` as the job: starts the log, writes the metrics file on success and on failure
    /// (`strata_job_success` 0, the previous `last_success_timestamp` kept), and ends with a `done`
    /// event in JSON format. `body` returns the job's own gauges.
    func run(json: Bool, _ body: () throws -> PrometheusText) throws {
        start()
        if let path = options.metricsOut {
            // A failure exits from Report.fail: the metrics are written on the way out.
            Report.beforeExit = { [self] code in stop(); writeMetrics(to: path, code: code, gauges: PrometheusText()) }
            TemporaryFiles.shared.onSignalExit { [self] code in stop(); writeMetrics(to: path, code: code, gauges: PrometheusText()) }
        } else {
            Report.beforeExit = { [self] _ in stop() }
        }
        try Report.run(json: json) {
            let gauges = try body()
            stop()
            if let path = options.metricsOut { try writeMetricsOrThrow(to: path, code: 0, gauges: gauges) }
            if options.logFormat == .json && !options.quiet {
                Report.event(["event": .string("done"), "seconds": .number(Date().timeIntervalSince(started)), "exit_code": .number(0),
                              "warnings": .number(Double(Report.warnings.all.count))])
            }
        }
    }

    private func writeMetrics(to path: String, code: Int32, gauges: PrometheusText) {
        try? writeMetricsOrThrow(to: path, code: code, gauges: gauges)
    }

    /// The metrics file: the job's common gauges, then `gauges`.
    private func writeMetricsOrThrow(to path: String, code: Int32, gauges: PrometheusText) throws {
        let now = Date().timeIntervalSince1970
        let label = [("strata_job", job)]
        let previous = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let lastSuccess = code == 0 ? now : PrometheusText.value(of: "strata_job_last_success_timestamp_seconds", label: ("strata_job", job), in: previous)
        var p = PrometheusText()
        p.gauge("strata_job_success", "1 when the job's last run succeeded, 0 when it failed.", [(label, code == 0 ? 1 : 0)])
        p.gauge("strata_job_exit_code", "Exit code of the job's last run (documented in strata --help).", [(label, Double(code))])
        p.gauge("strata_job_duration_seconds", "Wall-clock seconds of the job's last run.", [(label, now - started.timeIntervalSince1970)])
        p.gauge("strata_job_last_run_timestamp_seconds", "Unix time the job's last run ended.", [(label, now)])
        p.gauge("strata_job_last_success_timestamp_seconds", "Unix time the job last ended successfully.", lastSuccess.map { [(label, $0)] } ?? [])
        p.gauge("strata_job_warnings", "Warnings of the job's last run.", [(label, Double(Report.warnings.all.count))])
        p.gauge("strata_job_peak_memory_bytes", "Peak resident memory of the job's last run.", Report.peakResidentBytes().map { [(label, Double($0))] } ?? [])
        var batch = OutputBatch()
        try batch.stage(p.text + gauges.text, to: path)
        try batch.commit()
    }
}
