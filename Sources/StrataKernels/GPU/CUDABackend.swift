import CStrataGPU
import Foundation

/// The CUDA backend: the driver (`libcuda.so.1`) opened with dlopen (no CUDA toolkit or runtime
/// needed to build or run), device 0's primary context, and the embedded fatbin
/// (`Scripts/build-gpu-kernels`: sm_80 and sm_90 cubins, compute_90 PTX for newer GPUs, built
/// with --fmad=false) loaded as a module. Launches use 256-thread blocks on the default stream.
public final class CUDABackend: GPUBackend, @unchecked Sendable {
    public let info: GPUDeviceInfo
    private var api = strata_cuda_api()
    private let device: CUdevice
    private let module: CUmodule
    private var functions: [GPUKernel: CUfunction] = [:]

    /// Opens device 0. Throws `GPUError` "no CUDA device: ..." when the driver library is absent
    /// or reports no device, and names the failing call otherwise.
    public init(library: String? = nil) throws {
        var err = [CChar](repeating: 0, count: 512)
        var loaded = strata_cuda_api()
        guard strata_cuda_load(&loaded, library, &err, err.count) == 0 else {
            throw GPUError("no CUDA device: \(cString(err))")
        }
        let api = loaded
        self.api = loaded
        func check(_ r: CUresult, _ what: String) throws { try Self.check(api, r, what) }
        guard api.Init(0) == 0 else { throw GPUError("no CUDA device: the driver did not initialize (cuInit)") }
        var count: Int32 = 0
        guard api.DeviceGetCount(&count) == 0, count > 0 else { throw GPUError("no CUDA device: the driver reports none") }
        var dev: CUdevice = 0
        try check(api.DeviceGet(&dev, 0), "cuDeviceGet")
        device = dev
        var name = [CChar](repeating: 0, count: 256)
        try check(api.DeviceGetName(&name, Int32(name.count), dev), "cuDeviceGetName")
        var memory = 0
        try check(api.DeviceTotalMem(&memory, dev), "cuDeviceTotalMem")
        info = GPUDeviceInfo(backend: "cuda", name: cString(name), memoryBytes: memory)
        var ctx: CUcontext? = nil
        try check(api.DevicePrimaryCtxRetain(&ctx, dev), "cuDevicePrimaryCtxRetain")
        try check(api.CtxSetCurrent(ctx), "cuCtxSetCurrent")
        guard strata_gpu_fatbin_bytes() > 0 else { throw GPUError("this build has no CUDA kernels (run Scripts/build-gpu-kernels)") }
        var mod: CUmodule? = nil
        try check(api.ModuleLoadData(&mod, strata_gpu_fatbin_ptr()), "loading the kernels (cuModuleLoadData)")
        module = mod!
        for k in GPUKernel.allCases {
            var f: CUfunction? = nil
            try check(api.ModuleGetFunction(&f, mod, k.rawValue), "cuModuleGetFunction(\(k.rawValue))")
            functions[k] = f!
        }
    }

    deinit {
        _ = api.ModuleUnload(module)
        _ = api.DevicePrimaryCtxRelease(device)
    }

    private func check(_ r: CUresult, _ what: String) throws { try Self.check(api, r, what) }

    /// Throws "CUDA <what> failed: <the driver's text>" unless `r` is CUDA_SUCCESS.
    private static func check(_ api: strata_cuda_api, _ r: CUresult, _ what: String) throws {
        guard r != 0 else { return }
        var text: UnsafePointer<CChar>? = nil
        _ = api.GetErrorString(r, &text)
        throw GPUError("CUDA \(what) failed: \(text.map { String(cString: $0) } ?? "error \(r)")")
    }

    public func allocate(bytes: Int) throws -> GPUBuffer {
        var p: CUdeviceptr = 0
        try check(api.MemAlloc(&p, max(1, bytes)), "allocation of \(bytes) bytes")
        return GPUBuffer(handle: UInt64(p), bytes: max(1, bytes))
    }

    public func free(_ buffer: GPUBuffer) { _ = api.MemFree(CUdeviceptr(buffer.handle)) }

    public func upload(_ source: UnsafeRawPointer, bytes: Int, to buffer: GPUBuffer, offset: Int) throws {
        guard bytes > 0 else { return }
        try check(api.MemcpyHtoD(CUdeviceptr(buffer.handle) + CUdeviceptr(offset), source, bytes), "upload of \(bytes) bytes")
    }

    public func download(_ buffer: GPUBuffer, bytes: Int, to destination: UnsafeMutableRawPointer) throws {
        guard bytes > 0 else { return }
        try check(api.MemcpyDtoH(destination, CUdeviceptr(buffer.handle), bytes), "download of \(bytes) bytes")
    }

    /// Threads per block for every launch.
    public static let blockThreads = 256

    public func launch(_ kernel: GPUKernel, items: Int, _ arguments: [GPUArgument]) throws {
        guard items > 0 else { return }
        // Each parameter's value in its own 8-byte slot; kernelParams points at the slots.
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: max(1, arguments.count))
        defer { slots.deallocate() }
        var params = [UnsafeMutableRawPointer?](repeating: nil, count: arguments.count)
        for (i, a) in arguments.enumerated() {
            let raw = UnsafeMutableRawPointer(slots + i)
            switch a {
            case let .buffer(b): raw.storeBytes(of: b.handle, as: UInt64.self)
            case let .int64(v): raw.storeBytes(of: v, as: Int64.self)
            case let .int32(v): raw.storeBytes(of: v, as: Int32.self)
            }
            params[i] = raw
        }
        let blocks = (items + Self.blockThreads - 1) / Self.blockThreads
        try params.withUnsafeMutableBufferPointer { p in
            try check(api.LaunchKernel(functions[kernel]!, UInt32(blocks), 1, 1, UInt32(Self.blockThreads), 1, 1, 0, nil, p.baseAddress, nil),
                      "launch of \(kernel.rawValue)")
        }
        try check(api.CtxSynchronize(), kernel.rawValue)
    }
}
