// The kernels of kernels/strata_kernels.h compiled as plain C: each entry point runs every
// work-item in order (the kernels are barrier-free). The tests compare it with the CPU path and
// with the OpenCL build; it documents what each work-item computes in the simplest setting.
#include "CStrataGPU.h"

_Thread_local int64_t strata_ref_gid;

#include "kernels/strata_device.h"
#include "kernels/strata_kernels.h"

void strata_ref_assign(const float *X, int64_t n, int64_t d, const float *C, int64_t k,
                       int32_t *labels, float *dist, uint8_t *changed, int32_t fuse) {
    for (strata_ref_gid = 0; strata_ref_gid < n; strata_ref_gid++) strata_assign(X, n, d, C, k, labels, dist, changed, fuse);
}

void strata_ref_chunk_sums(const float *X, int64_t n, int64_t d, int64_t k, const float *W, int32_t weighted,
                           const int32_t *labels, const float *dist, const uint8_t *changed,
                           int64_t chunk_rows, int64_t block_rows, int64_t chunks, double *P, int32_t fuse, int32_t accumulate) {
    for (strata_ref_gid = 0; strata_ref_gid < chunks * (d + 2); strata_ref_gid++)
        strata_chunk_sums(X, n, d, k, W, weighted, labels, dist, changed, chunk_rows, block_rows, chunks, P, fuse, accumulate);
}

void strata_ref_reduce_chunks(const double *P, int64_t chunks, int64_t width, double *out) {
    for (strata_ref_gid = 0; strata_ref_gid < width; strata_ref_gid++) strata_reduce_chunks(P, chunks, width, out);
}

void strata_ref_silhouette_sums(const float *Y, int64_t n, int64_t d, const int64_t *starts, int64_t k, double *S, int32_t fuse) {
    for (strata_ref_gid = 0; strata_ref_gid < n; strata_ref_gid++) strata_silhouette_sums(Y, n, d, starts, k, S, fuse);
}

void strata_ref_gmm_estep_diag(const float *X, int64_t n, int64_t d, int64_t k, const float *mu, const float *prec,
                               const float *cst, float *resp, int32_t *labels, float *lse, int32_t fuse) {
    for (strata_ref_gid = 0; strata_ref_gid < n; strata_ref_gid++) strata_gmm_estep_diag(X, n, d, k, mu, prec, cst, resp, labels, lse, fuse);
}

void strata_ref_gmm_estep_full(const float *X, int64_t n, int64_t d, int64_t k, const float *ct, const float *mC,
                               const float *cst, float *resp, int32_t *labels, float *lse, int32_t fuse) {
    for (strata_ref_gid = 0; strata_ref_gid < n; strata_ref_gid++) strata_gmm_estep_full(X, n, d, k, ct, mC, cst, resp, labels, lse, fuse);
}
