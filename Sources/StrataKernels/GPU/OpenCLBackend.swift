import CStrataGPU
import Foundation

/// The OpenCL backend: the ICD loader (`libOpenCL.so.1`) opened with dlopen, the first device of
/// the first platform that has one, the kernels compiled from the embedded source
/// (`strata_gpu_opencl_source`, contraction off) when the backend opens. Under PoCL it runs on
/// the CPU, which is how CI tests every kernel. Needs `cl_khr_fp64` (double sums).
public final class OpenCLBackend: GPUBackend, @unchecked Sendable {
    public let info: GPUDeviceInfo
    private var api = strata_opencl_api()
    private let context: cl_context
    private let queue: cl_command_queue
    private let program: cl_program
    private var kernels: [GPUKernel: cl_kernel] = [:]

    // Constants of CL/cl.h.
    private static let deviceTypeAll: cl_bitfield = 0xFFFF_FFFF
    private static let deviceName: cl_uint = 0x102B
    private static let deviceGlobalMemSize: cl_uint = 0x101F
    private static let deviceExtensions: cl_uint = 0x1030
    private static let programBuildLog: cl_uint = 0x1183
    private static let memReadWrite: cl_bitfield = 1 << 0

    /// Opens the first OpenCL device. Throws `GPUError` naming what is missing: the loader, a
    /// platform (no ICD installed: `pocl-opencl-icd` on Debian), a device, fp64, or the build log.
    public init(library: String? = nil) throws {
        var err = [CChar](repeating: 0, count: 512)
        var api = strata_opencl_api()
        guard strata_opencl_load(&api, library, &err, err.count) == 0 else {
            throw GPUError("OpenCL is not available: \(cString(err)) (install an OpenCL driver, e.g. pocl-opencl-icd and ocl-icd-libopencl1)")
        }
        var count: cl_uint = 0
        guard api.GetPlatformIDs(0, nil, &count) == 0, count > 0 else {
            throw GPUError("OpenCL has no platform (no ICD installed; e.g. pocl-opencl-icd)")
        }
        var platforms = [cl_platform_id?](repeating: nil, count: Int(count))
        _ = api.GetPlatformIDs(count, &platforms, nil)
        var chosen: cl_device_id? = nil
        for p in platforms {
            var device: cl_device_id? = nil
            var n: cl_uint = 0
            if api.GetDeviceIDs(p, Self.deviceTypeAll, 1, &device, &n) == 0, n > 0, device != nil { chosen = device; break }
        }
        guard chosen != nil else { throw GPUError("OpenCL has no device") }
        var device: cl_device_id? = chosen
        func deviceString(_ param: cl_uint) -> String {
            var size = 0
            _ = api.GetDeviceInfo(device, param, 0, nil, &size)
            var buf = [CChar](repeating: 0, count: size + 1)
            _ = api.GetDeviceInfo(device, param, size, &buf, nil)
            return cString(buf)
        }
        var memory: cl_ulong = 0
        _ = api.GetDeviceInfo(device, Self.deviceGlobalMemSize, MemoryLayout<cl_ulong>.size, &memory, nil)
        let name = deviceString(Self.deviceName)
        guard deviceString(Self.deviceExtensions).contains("cl_khr_fp64") else {
            throw GPUError("OpenCL device '\(name)' has no double precision (cl_khr_fp64), which the sums need")
        }
        info = GPUDeviceInfo(backend: "opencl", name: name, memoryBytes: Int(memory))
        var status: cl_int = 0
        guard let ctx = api.CreateContext(nil, 1, &device, nil, nil, &status), status == 0 else {
            throw GPUError("OpenCL context creation failed (\(status))")
        }
        context = ctx
        guard let q = api.CreateCommandQueue(ctx, device, 0, &status), status == 0 else {
            _ = api.ReleaseContext(ctx)
            throw GPUError("OpenCL command queue creation failed (\(status))")
        }
        queue = q
        var source: UnsafePointer<CChar>? = strata_gpu_opencl_source_ptr()
        guard let prog = api.CreateProgramWithSource(ctx, 1, &source, nil, &status), status == 0 else {
            _ = api.ReleaseCommandQueue(q); _ = api.ReleaseContext(ctx)
            throw GPUError("OpenCL program creation failed (\(status))")
        }
        program = prog
        self.api = api
        if api.BuildProgram(prog, 1, &device, "-cl-std=CL1.2 -cl-fp32-correctly-rounded-divide-sqrt", nil, nil) != 0 {
            var size = 0
            _ = api.GetProgramBuildInfo(prog, device, Self.programBuildLog, 0, nil, &size)
            var log = [CChar](repeating: 0, count: size + 1)
            _ = api.GetProgramBuildInfo(prog, device, Self.programBuildLog, size, &log, nil)
            _ = api.ReleaseProgram(prog); _ = api.ReleaseCommandQueue(q); _ = api.ReleaseContext(ctx)
            throw GPUError("OpenCL kernels did not build: " + cString(log).split(separator: "\n").prefix(3).joined(separator: " | "))
        }
        for k in GPUKernel.allCases {
            guard let kernel = api.CreateKernel(prog, k.rawValue, &status), status == 0 else {
                throw GPUError("OpenCL kernel \(k.rawValue) missing (\(status))")
            }
            kernels[k] = kernel
        }
    }

    deinit {
        for k in kernels.values { _ = api.ReleaseKernel(k) }
        _ = api.ReleaseProgram(program)
        _ = api.ReleaseCommandQueue(queue)
        _ = api.ReleaseContext(context)
    }

    private func mem(_ b: GPUBuffer) -> cl_mem { OpaquePointer(bitPattern: UInt(b.handle))! }

    public func allocate(bytes: Int) throws -> GPUBuffer {
        var status: cl_int = 0
        guard let m = api.CreateBuffer(context, Self.memReadWrite, max(1, bytes), nil, &status), status == 0 else {
            throw GPUError("OpenCL allocation of \(bytes) bytes failed (\(status))")
        }
        return GPUBuffer(handle: UInt64(UInt(bitPattern: m)), bytes: max(1, bytes))
    }

    public func free(_ buffer: GPUBuffer) { _ = api.ReleaseMemObject(mem(buffer)) }

    public func upload(_ source: UnsafeRawPointer, bytes: Int, to buffer: GPUBuffer, offset: Int) throws {
        guard bytes > 0 else { return }
        let s = api.EnqueueWriteBuffer(queue, mem(buffer), 1, offset, bytes, source, 0, nil, nil)
        guard s == 0 else { throw GPUError("OpenCL upload of \(bytes) bytes failed (\(s))") }
    }

    public func download(_ buffer: GPUBuffer, bytes: Int, to destination: UnsafeMutableRawPointer) throws {
        guard bytes > 0 else { return }
        let s = api.EnqueueReadBuffer(queue, mem(buffer), 1, 0, bytes, destination, 0, nil, nil)
        guard s == 0 else { throw GPUError("OpenCL download of \(bytes) bytes failed (\(s))") }
    }

    public func launch(_ kernel: GPUKernel, items: Int, _ arguments: [GPUArgument]) throws {
        guard items > 0 else { return }
        let k = kernels[kernel]!
        for (i, a) in arguments.enumerated() {
            var s: cl_int
            switch a {
            case let .buffer(b): var m = mem(b); s = api.SetKernelArg(k, cl_uint(i), MemoryLayout<cl_mem>.size, &m)
            case let .int64(v): var v = v; s = api.SetKernelArg(k, cl_uint(i), 8, &v)
            case let .int32(v): var v = v; s = api.SetKernelArg(k, cl_uint(i), 4, &v)
            }
            guard s == 0 else { throw GPUError("OpenCL \(kernel.rawValue): argument \(i) rejected (\(s))") }
        }
        var global = items
        var s = api.EnqueueNDRangeKernel(queue, k, 1, nil, &global, nil, 0, nil, nil)
        if s == 0 { s = api.Finish(queue) }
        guard s == 0 else { throw GPUError("OpenCL \(kernel.rawValue) failed (\(s))") }
    }
}
