// The portable kernel dialect (hashcat's pattern): one macro header maps the few things that
// differ between backends, so every kernel in strata_kernels.h is written once and compiled as
// OpenCL C (at run time, by the OpenCL driver), as CUDA (nvcc, by Scripts/build-gpu-kernels,
// shipped as a fatbin) and as plain C (the reference, CSupport/CStrataGPU/reference.c).
//
// The subset: scalar C99 without recursion, function pointers, varargs or library calls other
// than the macros below; integer widths through i32/i64/u8; kernels are barrier-free
// (one work-item owns each output), so the plain-C reference runs them as a loop over GID.
//
// Floating point: contraction is off on every backend (OpenCL pragma, nvcc --fmad=false, C
// pragma); a fused multiply-add is written explicitly with FMAF/FMAD where the CPU kernel it
// must match is fused, so each backend rounds exactly as the CPU path does. SQRTF is the
// correctly rounded square root everywhere (OpenCL builds with
// -cl-fp32-correctly-rounded-divide-sqrt).
#ifndef STRATA_DEVICE_H
#define STRATA_DEVICE_H

#if defined(__OPENCL_C_VERSION__)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL FP_CONTRACT OFF
#define KERNEL __kernel void
#define DEVICE_FN static inline
#define GLOBAL __global
#define LOCAL __local
#define BARRIER barrier(CLK_LOCAL_MEM_FENCE)
#define GID ((i64)get_global_id(0))
#define LID ((i64)get_local_id(0))
#define LSIZE ((i64)get_local_size(0))
#define FMAF(a, b, c) fma((float)(a), (float)(b), (float)(c))
#define FMAD(a, b, c) fma((double)(a), (double)(b), (double)(c))
#define SQRTF(a) sqrt((float)(a))
#define AS_FLOAT(i) as_float((int)(i))
#define AS_INT(f) as_int((float)(f))
#define STRATA_INF INFINITY
typedef int i32;
typedef long i64;
typedef uchar u8;

#elif defined(__CUDACC__)
#define KERNEL extern "C" __global__ void
#define DEVICE_FN static __device__ inline
#define GLOBAL
#define LOCAL __shared__
#define BARRIER __syncthreads()
#define GID ((i64)blockIdx.x * (i64)blockDim.x + (i64)threadIdx.x)
#define LID ((i64)threadIdx.x)
#define LSIZE ((i64)blockDim.x)
#define FMAF(a, b, c) __fmaf_rn((a), (b), (c))
#define FMAD(a, b, c) __fma_rn((a), (b), (c))
#define SQRTF(a) __fsqrt_rn(a)
#define AS_FLOAT(i) __int_as_float((int)(i))
#define AS_INT(f) __float_as_int((float)(f))
#define STRATA_INF __int_as_float(0x7f800000)
typedef int i32;
typedef long long i64;
typedef unsigned char u8;

#else // plain C reference: a kernel is a function run once per work-item with strata_ref_gid set
#include <math.h>
#include <stdint.h>
#pragma STDC FP_CONTRACT OFF
extern _Thread_local int64_t strata_ref_gid;
#define KERNEL static void
#define DEVICE_FN static inline
#define GLOBAL
#define LOCAL static
#define BARRIER ((void)0)
#define GID ((i64)strata_ref_gid)
#define LID ((i64)0)
#define LSIZE ((i64)1)
#define FMAF(a, b, c) fmaf((a), (b), (c))
#define FMAD(a, b, c) fma((a), (b), (c))
#define SQRTF(a) sqrtf(a)
#define AS_FLOAT(i) strata_as_float((int32_t)(i))
#define AS_INT(f) strata_as_int((float)(f))
static inline float strata_as_float(int32_t i) { union { int32_t i; float f; } u; u.i = i; return u.f; }
static inline int32_t strata_as_int(float f) { union { int32_t i; float f; } u; u.f = f; return u.i; }
#define STRATA_INF INFINITY
typedef int32_t i32;
typedef int64_t i64;
typedef uint8_t u8;
#endif

#endif
