import CStrataGPU
import Foundation

/// Where a fit's hot passes run: a closed choice, parsed once (`--device`, job key `device`).
public enum ComputeDevice: String, Sendable, CaseIterable, Codable {
    /// CUDA when `libcuda.so.1` loads and reports a device, else the CPU.
    case auto
    /// The CPU kernels (CStrataKernels), always available.
    case cpu
    /// An NVIDIA GPU through the CUDA driver API (`libcuda.so.1`, opened at run time) running the
    /// embedded fatbin; an error (`GPUError`, exit 69) when there is none.
    case cuda
    /// The first OpenCL device of the ICD loader (`libOpenCL.so.1`, opened at run time), e.g.
    /// PoCL on the CPU in CI, or an AMD/Intel GPU; the kernels are compiled from source at open.
    case opencl

    /// Opens the backend this choice names: nil for `.cpu`, and for `.auto` when no CUDA device
    /// can be opened. Throws `GPUError` for `.cuda` / `.opencl` when the library, a device or
    /// the kernels cannot be had. Cost: a driver load and kernel build (OpenCL: PoCL compiles
    /// the kernels, about a second); do it once per run.
    public func open() throws -> (any GPUBackend)? {
        switch self {
        case .cpu: return nil
        case .cuda: return try CUDABackend()
        case .opencl: return try OpenCLBackend()
        case .auto: return try? CUDABackend()
        }
    }
}

/// A failure of a GPU backend: the library or a device is missing, a kernel did not build, or
/// an API call failed. One line; the CLI reports it with exit code 69 (EX_UNAVAILABLE).
public struct GPUError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
    /// The exit code the CLI uses for every `GPUError`: sysexits' EX_UNAVAILABLE.
    public static let exitCode: Int32 = 69
}

/// What a run records about the device it used (JSON `device`, `run.json`).
public struct GPUDeviceInfo: Sendable, Codable, Equatable {
    /// `cuda` or `opencl`.
    public var backend: String
    /// The driver's device name (e.g. "NVIDIA H200", "cpu-znver4" under PoCL).
    public var name: String
    /// Global memory of the device in bytes.
    public var memoryBytes: Int
    public init(backend: String, name: String, memoryBytes: Int) { self.backend = backend; self.name = name; self.memoryBytes = memoryBytes }
    enum CodingKeys: String, CodingKey { case backend, name; case memoryBytes = "memory_bytes" }
}

/// A device allocation: an opaque handle (a `cl_mem` or a `CUdeviceptr`) and its size in bytes.
public struct GPUBuffer: Sendable, Equatable {
    public let handle: UInt64
    public let bytes: Int
}

/// One kernel argument, in the kernel's parameter order; the widths are the kernels' i64/i32.
public enum GPUArgument {
    case buffer(GPUBuffer)
    case int64(Int64)
    case int32(Int32)
}

/// The kernels of `CSupport/CStrataGPU/kernels/strata_kernels.h`, by entry-point name.
public enum GPUKernel: String, CaseIterable, Sendable {
    case assign = "strata_assign"
    case chunkSums = "strata_chunk_sums"
    case reduceChunks = "strata_reduce_chunks"
    case silhouetteSums = "strata_silhouette_sums"
    case gmmEStepDiag = "strata_gmm_estep_diag"
    case gmmEStepFull = "strata_gmm_estep_full"
}

/// The few operations Strata's device passes need, implemented once per API (CUDA, OpenCL).
/// Every call is synchronous (returns when the device is done), so host wall-clock times around
/// calls are the device's step times. Not thread-safe: one fit drives one backend.
public protocol GPUBackend: AnyObject, Sendable {
    var info: GPUDeviceInfo { get }
    /// Allocates `bytes` (at least 1) of device memory.
    func allocate(bytes: Int) throws -> GPUBuffer
    func free(_ buffer: GPUBuffer)
    /// Copies `bytes` from host memory at `source` to `buffer` from byte `offset` on.
    func upload(_ source: UnsafeRawPointer, bytes: Int, to buffer: GPUBuffer, offset: Int) throws
    /// Copies the first `bytes` of `buffer` to host memory at `destination`.
    func download(_ buffer: GPUBuffer, bytes: Int, to destination: UnsafeMutableRawPointer) throws
    /// Runs `kernel` on `items` work-items (one-dimensional, any work-group size) and waits.
    func launch(_ kernel: GPUKernel, items: Int, _ arguments: [GPUArgument]) throws
}

extension GPUBackend {
    /// Copies `bytes` from host memory at `source` to the start of `buffer`.
    public func upload(_ source: UnsafeRawPointer, bytes: Int, to buffer: GPUBuffer) throws {
        try upload(source, bytes: bytes, to: buffer, offset: 0)
    }

    /// A buffer holding a copy of `values` (at least one element's room).
    public func upload<T>(_ values: [T]) throws -> GPUBuffer {
        let b = try allocate(bytes: max(1, values.count) * MemoryLayout<T>.stride)
        try values.withUnsafeBytes { if $0.count > 0 { try upload($0.baseAddress!, bytes: $0.count, to: b) } }
        return b
    }
}

/// Reads a NUL-terminated C string out of a fixed buffer.
func cString(_ bytes: [CChar]) -> String {
    String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
