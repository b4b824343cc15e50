import ArgumentParser
import Foundation
import Strata
import StrataKernels

extension ComputeDevice: ExpressibleByArgument {}

/// `--device auto|cpu|cuda|opencl`: where the Lloyd passes run (job key `device`).
struct DeviceOptions: ParsableArguments {
    @Option(name: .long, help: "Where the Lloyd passes run: auto (CUDA when an NVIDIA GPU is present, else the CPU), cpu, cuda or opencl (the first OpenCL device, e.g. PoCL). On a device the fit is plain Lloyd on the SIMD route, bit-identical to --device cpu --algorithm lloyd --route simd. cuda/opencl without a usable device: exit 69.")
    var device: ComputeDevice = .auto

    /// The opened backend (nil: the CPU). Throws `GPUError` (exit 69) for cuda/opencl without one.
    func open() throws -> (any GPUBackend)? { try device.open() }
}

/// The JSON `device` object: `{"kind": "cpu"}`, or the GPU's backend, name, memory and the
/// seconds of each device step (`upload`, `assign`, `chunk_sums`, `reduce`, `download`).
struct DeviceSummary: Encodable {
    var kind: String
    var name: String?
    var memoryBytes: Int?
    var steps: [GPUStepTimes.Step]
    enum CodingKeys: String, CodingKey { case kind, name, steps; case memoryBytes = "memory_bytes" }

    init(_ record: GPURunRecord?) {
        kind = record?.device.backend ?? "cpu"
        name = record?.device.name
        memoryBytes = record?.device.memoryBytes
        steps = record?.steps.steps ?? []
    }

    /// One line for the human summary.
    var line: String {
        guard let name else { return "device: cpu" }
        let total = steps.reduce(0) { $0 + $1.seconds }
        return String(format: "device: %@ %@ (%.1f GiB), %.3fs on the device: ", kind, name, Double(memoryBytes ?? 0) / Double(1 << 30), total)
            + steps.map { String(format: "%@ %.3fs", $0.step, $0.seconds) }.joined(separator: ", ")
    }
}
