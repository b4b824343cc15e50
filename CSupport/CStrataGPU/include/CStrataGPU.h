// C shim for Strata's GPU backends: binds the OpenCL ICD loader (libOpenCL.so.1) and the CUDA
// driver (libcuda.so.1) at run time with dlopen/dlsym, so nothing here is needed to build or to
// run on a machine without them. No logic beyond binding: the Swift side (StrataKernels/GPU)
// drives both APIs. Also declares the embedded kernels (generated.c, written by
// Scripts/build-gpu-kernels) and the plain-C reference build of the same kernels.
#ifndef STRATA_C_GPU_H
#define STRATA_C_GPU_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- OpenCL 1.2 subset (types as in CL/cl.h; declared here so no header is needed) ----------
typedef struct _cl_platform_id *cl_platform_id;
typedef struct _cl_device_id *cl_device_id;
typedef struct _cl_context *cl_context;
typedef struct _cl_command_queue *cl_command_queue;
typedef struct _cl_mem *cl_mem;
typedef struct _cl_program *cl_program;
typedef struct _cl_kernel *cl_kernel;
typedef struct _cl_event *cl_event;
typedef int32_t cl_int;
typedef uint32_t cl_uint;
typedef uint64_t cl_ulong;
typedef uint64_t cl_bitfield;

typedef struct strata_opencl_api {
    cl_int (*GetPlatformIDs)(cl_uint, cl_platform_id *, cl_uint *);
    cl_int (*GetPlatformInfo)(cl_platform_id, cl_uint, size_t, void *, size_t *);
    cl_int (*GetDeviceIDs)(cl_platform_id, cl_bitfield, cl_uint, cl_device_id *, cl_uint *);
    cl_int (*GetDeviceInfo)(cl_device_id, cl_uint, size_t, void *, size_t *);
    cl_context (*CreateContext)(const intptr_t *, cl_uint, const cl_device_id *, void *, void *, cl_int *);
    cl_command_queue (*CreateCommandQueue)(cl_context, cl_device_id, cl_bitfield, cl_int *);
    cl_program (*CreateProgramWithSource)(cl_context, cl_uint, const char **, const size_t *, cl_int *);
    cl_int (*BuildProgram)(cl_program, cl_uint, const cl_device_id *, const char *, void *, void *);
    cl_int (*GetProgramBuildInfo)(cl_program, cl_device_id, cl_uint, size_t, void *, size_t *);
    cl_kernel (*CreateKernel)(cl_program, const char *, cl_int *);
    cl_int (*SetKernelArg)(cl_kernel, cl_uint, size_t, const void *);
    cl_mem (*CreateBuffer)(cl_context, cl_bitfield, size_t, void *, cl_int *);
    cl_int (*EnqueueWriteBuffer)(cl_command_queue, cl_mem, cl_uint, size_t, size_t, const void *, cl_uint, const cl_event *, cl_event *);
    cl_int (*EnqueueReadBuffer)(cl_command_queue, cl_mem, cl_uint, size_t, size_t, void *, cl_uint, const cl_event *, cl_event *);
    cl_int (*EnqueueNDRangeKernel)(cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *, const size_t *, cl_uint, const cl_event *, cl_event *);
    cl_int (*Finish)(cl_command_queue);
    cl_int (*ReleaseMemObject)(cl_mem);
    cl_int (*ReleaseKernel)(cl_kernel);
    cl_int (*ReleaseProgram)(cl_program);
    cl_int (*ReleaseCommandQueue)(cl_command_queue);
    cl_int (*ReleaseContext)(cl_context);
} strata_opencl_api;

/// Opens `library` (NULL: "libOpenCL.so.1") and binds every entry of `api`. Returns 0, or -1
/// with a one-line reason (dlerror's text or the missing symbol) in `error` (`capacity` bytes).
int strata_opencl_load(strata_opencl_api *api, const char *library, char *error, size_t capacity);

// ---- CUDA driver API subset (types as in cuda.h) ----------------------------------------------
typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef unsigned long long CUdeviceptr;

typedef struct strata_cuda_api {
    CUresult (*Init)(unsigned int);
    CUresult (*DeviceGetCount)(int *);
    CUresult (*DeviceGet)(CUdevice *, int);
    CUresult (*DeviceGetName)(char *, int, CUdevice);
    CUresult (*DeviceTotalMem)(size_t *, CUdevice);                 // cuDeviceTotalMem_v2
    CUresult (*DevicePrimaryCtxRetain)(CUcontext *, CUdevice);
    CUresult (*DevicePrimaryCtxRelease)(CUdevice);                  // cuDevicePrimaryCtxRelease_v2
    CUresult (*CtxSetCurrent)(CUcontext);
    CUresult (*CtxSynchronize)(void);
    CUresult (*ModuleLoadData)(CUmodule *, const void *);
    CUresult (*ModuleUnload)(CUmodule);
    CUresult (*ModuleGetFunction)(CUfunction *, CUmodule, const char *);
    CUresult (*MemAlloc)(CUdeviceptr *, size_t);                    // cuMemAlloc_v2
    CUresult (*MemFree)(CUdeviceptr);                               // cuMemFree_v2
    CUresult (*MemcpyHtoD)(CUdeviceptr, const void *, size_t);     // cuMemcpyHtoD_v2
    CUresult (*MemcpyDtoH)(void *, CUdeviceptr, size_t);           // cuMemcpyDtoH_v2
    CUresult (*LaunchKernel)(CUfunction, unsigned int, unsigned int, unsigned int, unsigned int, unsigned int,
                             unsigned int, unsigned int, CUstream, void **, void **);
    CUresult (*GetErrorString)(CUresult, const char **);
} strata_cuda_api;

/// Opens `library` (NULL: "libcuda.so.1") and binds every entry of `api` (the `_v2` symbols
/// where cuda.h maps to them). Returns 0, or -1 with a one-line reason in `error`.
int strata_cuda_load(strata_cuda_api *api, const char *library, char *error, size_t capacity);

// ---- Embedded kernels (generated.c, from Scripts/build-gpu-kernels) ----------------------------
/// strata_device.h followed by strata_kernels.h, NUL-terminated: the OpenCL program source.
extern const char strata_gpu_opencl_source[];
/// The CUDA fatbin (sm_80 and sm_90 cubins, compute_90 PTX) of the same two files.
extern const unsigned char strata_gpu_fatbin[];
extern const size_t strata_gpu_fatbin_size;
/// FNV-1a 64 of the two kernel files' bytes (strata_device.h then strata_kernels.h) the fatbin
/// was built from, as 16 lowercase hex digits; the tests recompute it from the files.
extern const char strata_gpu_sources_fnv1a[];
/// The nvcc that built the fatbin ("none" when it could not be built).
extern const char strata_gpu_nvcc_version[];
/// The four above for Swift (which does not import arrays of unknown size).
const char *strata_gpu_opencl_source_ptr(void);
const unsigned char *strata_gpu_fatbin_ptr(void);
size_t strata_gpu_fatbin_bytes(void);
const char *strata_gpu_sources_hash(void);
const char *strata_gpu_nvcc(void);

// ---- Plain-C reference of the kernels (reference.c), one call runs every work-item ----------
void strata_ref_assign(const float *X, int64_t n, int64_t d, const float *C, int64_t k,
                       int32_t *labels, float *dist, uint8_t *changed, int32_t fuse);
void strata_ref_chunk_sums(const float *X, int64_t n, int64_t d, int64_t k, const float *W, int32_t weighted,
                           const int32_t *labels, const float *dist, const uint8_t *changed,
                           int64_t chunk_rows, int64_t block_rows, int64_t chunks, double *P, int32_t fuse, int32_t accumulate);
void strata_ref_reduce_chunks(const double *P, int64_t chunks, int64_t width, double *out);
void strata_ref_gmm_estep_diag(const float *X, int64_t n, int64_t d, int64_t k, const float *mu, const float *prec,
                               const float *cst, float *resp, int32_t *labels, float *lse, int32_t fuse);
void strata_ref_gmm_estep_full(const float *X, int64_t n, int64_t d, int64_t k, const float *ct, const float *mC,
                               const float *cst, float *resp, int32_t *labels, float *lse, int32_t fuse);
void strata_ref_silhouette_sums(const float *Y, int64_t n, int64_t d, const int64_t *starts, int64_t k, double *S, int32_t fuse);

#ifdef __cplusplus
}
#endif
#endif
