import Foundation
import StrataIO

/// The segment job's own Prometheus gauges (`strata segment --metrics-out`), beside the job's
/// common ones (success, duration, timestamps, warnings, peak memory): rows read, modelled and
/// dropped; order-log rows and bad rows; k; the fit's inertia (K-Means, K-Prototypes) or EM lower
/// bound (GMM); seconds per step. Every sample carries `strata_job="segment"`.
public enum SegmentMetrics {
    public static func gauges(_ r: SegmentRunRecord) -> PrometheusText {
        let job = ("strata_job", "segment")
        var p = PrometheusText()
        let c = r.counts
        p.gauge("strata_segment_rows", "Customer rows by stage: read, modelled, dropped (preprocessing).",
                [([job, ("stage", "read")], Double(c.customersRead)), ([job, ("stage", "modelled")], Double(c.customersModelled)),
                 ([job, ("stage", "dropped")], Double(c.droppedRows))])
        p.gauge("strata_segment_transactions", "Order-log rows by kind: read (usable), bad (skipped).",
                [c.inputs.transactions.map { ([job, ("kind", "read")], Double($0)) }, c.inputs.badTransactionRows.map { ([job, ("kind", "bad")], Double($0)) }].compactMap { $0 })
        p.gauge("strata_segment_k", "Segments of the fitted model.", [([job], Double(r.k))])
        p.gauge("strata_segment_reportable_segments", "Segments at or above min_segment_size.", [([job], Double(r.reportableSegments))])
        p.gauge("strata_segment_inertia", "Sum of squared distances to the centers (K-Means, K-Prototypes cost).",
                r.model.inertia?.value.map { [([job], $0)] } ?? [])
        p.gauge("strata_segment_lower_bound", "EM lower bound (mean log-likelihood per customer) of the Gaussian mixture.",
                r.model.lowerBound?.value.map { [([job], $0)] } ?? [])
        p.gauge("strata_segment_step_seconds", "Wall-clock seconds per step.", r.steps.map { ([job, ("step", $0.step)], $0.seconds) })
        return p
    }
}
