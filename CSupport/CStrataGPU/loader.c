// dlopen/dlsym binding of the OpenCL ICD loader and the CUDA driver (see CStrataGPU.h).
#include "CStrataGPU.h"
#include <dlfcn.h>
#include <stdio.h>

static int bind_all(void *lib, void **slots, const char *const *names, size_t count, char *error, size_t capacity) {
    for (size_t i = 0; i < count; i++) {
        slots[i] = dlsym(lib, names[i]);
        if (!slots[i]) {
            snprintf(error, capacity, "symbol %s missing", names[i]);
            return -1;
        }
    }
    return 0;
}

static void *open_library(const char *library, char *error, size_t capacity) {
    void *lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(error, capacity, "%s", e ? e : library);
    }
    return lib;
}

int strata_opencl_load(strata_opencl_api *api, const char *library, char *error, size_t capacity) {
    static const char *const names[] = {
        "clGetPlatformIDs", "clGetPlatformInfo", "clGetDeviceIDs", "clGetDeviceInfo", "clCreateContext",
        "clCreateCommandQueue", "clCreateProgramWithSource", "clBuildProgram", "clGetProgramBuildInfo",
        "clCreateKernel", "clSetKernelArg", "clCreateBuffer", "clEnqueueWriteBuffer", "clEnqueueReadBuffer",
        "clEnqueueNDRangeKernel", "clFinish", "clReleaseMemObject", "clReleaseKernel", "clReleaseProgram",
        "clReleaseCommandQueue", "clReleaseContext",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(strata_opencl_api) / sizeof(void *), "one name per slot");
    void *lib = open_library(library ? library : "libOpenCL.so.1", error, capacity);
    if (!lib) return -1;
    return bind_all(lib, (void **)api, names, sizeof(names) / sizeof(names[0]), error, capacity);
}

int strata_cuda_load(strata_cuda_api *api, const char *library, char *error, size_t capacity) {
    static const char *const names[] = {
        "cuInit", "cuDeviceGetCount", "cuDeviceGet", "cuDeviceGetName", "cuDeviceTotalMem_v2",
        "cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRelease_v2", "cuCtxSetCurrent", "cuCtxSynchronize",
        "cuModuleLoadData", "cuModuleUnload", "cuModuleGetFunction", "cuMemAlloc_v2", "cuMemFree_v2",
        "cuMemcpyHtoD_v2", "cuMemcpyDtoH_v2", "cuLaunchKernel", "cuGetErrorString",
    };
    _Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(strata_cuda_api) / sizeof(void *), "one name per slot");
    void *lib = open_library(library ? library : "libcuda.so.1", error, capacity);
    if (!lib) return -1;
    return bind_all(lib, (void **)api, names, sizeof(names) / sizeof(names[0]), error, capacity);
}

const char *strata_gpu_opencl_source_ptr(void) { return strata_gpu_opencl_source; }
const unsigned char *strata_gpu_fatbin_ptr(void) { return strata_gpu_fatbin; }
size_t strata_gpu_fatbin_bytes(void) { return strata_gpu_fatbin_size; }
const char *strata_gpu_sources_hash(void) { return strata_gpu_sources_fnv1a; }
const char *strata_gpu_nvcc(void) { return strata_gpu_nvcc_version; }
