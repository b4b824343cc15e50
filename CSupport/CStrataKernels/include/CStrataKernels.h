// Hand-written SIMD kernels for Strata. Plain C, no allocation, no threads: callers hand in
// row blocks and preallocated buffers. Each hot function is compiled three times on x86-64
// (baseline SSE2, x86-64-v3 = AVX2/FMA, x86-64-v4 = AVX-512) with target_clones and picked at
// load time, so one binary runs on any x86-64; other architectures get the portable version.
//
// Layout: X is row-major n x d (row i at X + i*d); C is row-major k x d.
#ifndef STRATA_C_KERNELS_H
#define STRATA_C_KERNELS_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Floats of scratch that `strata_nearest_rows` and `strata_lloyd_rows` need: 16 * d,
/// rounded up, plus 16 for alignment. Scratch must hold at least this many floats.
int64_t strata_nearest_scratch_floats(int64_t d);

/// Fused nearest centroid by direct squared differences (no cancellation), lanes over rows:
/// rows are taken 16 at a time, transposed in registers into scratch (feature-major), and
/// compared with every centroid, 4 centroids per pass over the tile. On Zen 4 the subtract runs
/// on the FP-add pipes beside the FMA, so this costs the same as the norm expansion (measured:
/// 26 vs 32 ms for 1M x 16, k = 64, one thread) while staying exact.
/// labels[i] = argmin_c ||x_i - c||^2 (lowest index on ties), dist[i] = that minimum.
/// Cost O(n*k*d) flops, O(n*d) reads; memory O(d) scratch.
/// If `changed` is not NULL, *changed is increased by the number of rows whose label differs
/// from the value labels[i] held before the call (for Lloyd's strict convergence test).
void strata_nearest_rows(const float *X, int64_t n, int64_t d,
                         const float *C, int64_t k,
                         int32_t *labels, float *dist, float *scratch, int64_t *changed);

/// Accumulates one block into Lloyd's sufficient statistics, in Double:
/// sums[labels[i]*d + j] += w_i * x_ij, wsum[labels[i]] += w_i, *inertia += w_i * dist[i].
/// `w` may be NULL (all weights 1). Rows are visited in order, so the result is deterministic.
void strata_accumulate_rows(const float *X, int64_t n, int64_t d, const float *w,
                            const int32_t *labels, const float *dist,
                            double *sums, double *wsum, double *inertia);

/// Row-wise argmin for the GEMM route: G is n x k row-major holding x_i . c_j; cnorm[j] =
/// ||c_j||^2. labels[i] = argmin_j (cnorm[j] - 2 G[i][j]) (lowest index on ties).
/// dist[i] receives the exact squared distance to that centroid, recomputed from X and C by
/// direct differences (O(d) per row), so inertia does not suffer the expansion's cancellation.
void strata_argmin_gemm_rows(const float *G, int64_t n, int64_t k, const float *cnorm,
                             const float *X, int64_t d, const float *C,
                             int32_t *labels, float *dist, int64_t *changed);

/// Squared Euclidean norms of n rows of length d, accumulated in float with FMA lanes.
void strata_row_sqnorms(const float *X, int64_t n, int64_t d, float *out);

/// out[i*k + j] = max(0, xnorm[i] + cnorm[j] - 2 G[i*k + j]) in place on G (G == out allowed).
void strata_expand_sqdist(const float *G, int64_t n, int64_t k,
                          const float *xnorm, const float *cnorm, float *out);

/// k-means++ trial step: for each of t candidate centers (t x d), pot[c] += sum_i w_i *
/// min(closest[i], ||x_i - cand_c||^2) over n rows. `w` may be NULL. O(n*t*d).
void strata_kpp_potentials(const float *X, int64_t n, int64_t d, const float *cand, int64_t t,
                           const float *closest, const float *w, double *pot);

/// k-means++ update: closest[i] = min(closest[i], ||x_i - c||^2) (closest[i] may start as
/// +INFINITY); returns sum_i w_i * closest[i] in Double. `w` may be NULL. O(n*d).
double strata_kpp_update(const float *X, int64_t n, int64_t d, const float *c, float *closest, const float *w);

/// Like `strata_nearest_rows`, also returning the second-smallest squared distance in dist2
/// (+INFINITY when k == 1). Used to (re)initialize Hamerly's lower bounds.
void strata_nearest2_rows(const float *X, int64_t n, int64_t d, const float *C, int64_t k,
                          int32_t *labels, float *dist, float *dist2, float *scratch, int64_t *changed);

/// One Hamerly step (Hamerly 2010, exact) over n rows. For each row: the exact squared distance
/// to its current center is computed (so dist[] and the inertia stay exact); the lower bound on
/// the distance to every other center is decreased by max_delta (the largest center movement);
/// if sqrt(dist) <= max(half_sep[label], lower) with a 1e-5 relative safety margin, the label
/// provably cannot change and the other k-1 centers are skipped. Otherwise the row is queued, and
/// queued rows are compacted into `rowbuf` (256 * d floats) and reassigned with
/// `strata_nearest2_rows`, which also refreshes their lower bound. n must be <= 256.
/// Returns the number of rows that needed a full reassignment.
int64_t strata_hamerly_rows(const float *X, int64_t n, int64_t d, const float *C, int64_t k,
                            const float *half_sep, float max_delta,
                            int32_t *labels, float *dist, float *lower,
                            float *scratch, float *rowbuf, int64_t *changed);

/// Silhouette building block: for m <= 16 rows starting at `rows` (row-major, d features) and the
/// n reference rows Y (row-major, sorted by cluster; cluster c spans [starts[c], starts[c+1])),
/// adds to sums[l * k + c] the sum of Euclidean distances from row l to every row of cluster c.
/// Direct differences in float, 4 reference rows in flight, vector sqrt; partial sums are
/// flushed to Double every 128 reference rows. O(m * n * d); scratch as strata_nearest_rows.
void strata_silhouette_sums(const float *rows, int64_t m, const float *Y, int64_t n, int64_t d,
                            const int64_t *starts, int64_t k, double *sums, float *scratch);

/// Gaussian-mixture E-step, diagonal or spherical precisions, 16-row tiles (lanes over rows):
/// logp_c = cst[c] - 0.5 * sum_j ((x_j - mu[c][j]) * prec[c][j])^2 for n rows of X (row-major);
/// then, per row, lse = log sum_c exp(logp_c) and responsibilities exp(logp_c - lse), written
/// component-major: resp[c * ld + i] (ld >= n). Adds sum_i lse_i to *loglik (Double); labels
/// (may be NULL) get argmax_c logp_c. Vector exp/log: relative error ~2e-7. O(n k d).
void strata_gmm_estep_diag(const float *X, int64_t n, int64_t d, int64_t k, const float *mu, const float *prec,
                           const float *cst, float *resp, int64_t ld, int32_t *labels, double *loglik, float *scratch);

/// Same for full/tied precisions from Yt = (C_c^T (x - g))_j stacked component-major:
/// Yt[(c * d + j) * ldy + i], so maha_c = sum_j (Yt[c*d+j][i] - mC[c][j])^2 with
/// mC[c] = C_c^T (mu_c - g). O(n k d).
void strata_gmm_estep_full(const float *Yt, int64_t ldy, int64_t n, int64_t d, int64_t k, const float *mC,
                           const float *cst, float *resp, int64_t ld, int32_t *labels, double *loglik, float *scratch);

/// Floats of scratch the GMM E-step kernels need.
int64_t strata_gmm_scratch_floats(int64_t d, int64_t k);

/// Per-block glue for the mixture pass (no logic beyond layout and conversion):
/// xd = (double)X - center (double, m x d; the center is a double mean); xc = (float)xd;
/// x2 = xd * xd when x2 != NULL.
void strata_gmm_center_rows(const float *X, int64_t m, int64_t d, const double *center, float *xc, double *xd, double *x2);
/// rd[c * ld + i] = (double)resp[c * ld + i] for i < m; nk[c] += sum_i rd[c * ld + i].
void strata_gmm_resp_to_double(const float *resp, int64_t ld, int64_t m, int64_t k, double *rd, double *nk);
/// z[i * k * d + c * d + j] = rd[c * ld + i] * xd[i * d + j] (rows weighted per component).
void strata_gmm_weighted_rows(const double *rd, int64_t ld, const double *xd, int64_t m, int64_t d, int64_t k, double *z);

/// Mapped-file guard: a file mapped with mmap that shrinks underneath (another program
/// truncates it) raises SIGBUS on the next read of a page past its new end. Registering the
/// mapping [base, base + length) with a one-line message makes such a fault print the message on
/// stderr and end the process with exit code 74 (EX_IOERR) instead of a crash; faults elsewhere
/// go to the previous SIGBUS disposition. The handler is installed on the first registration.
/// Returns the slot to unregister (before unmapping), or -1 when all 64 slots are taken (the
/// mapping is then unguarded). The message is copied (at most 1023 bytes, newline added).
int32_t strata_mapguard_register(const void *base, int64_t length, const char *message);
void strata_mapguard_unregister(int32_t slot);

/// 1 when the kernels in use (the target clone picked at load time) fuse `a += t * t` and
/// `s += w * x` into one fused multiply-add (x86-64-v3 and v4 clones: clang contracts within a
/// statement), 0 when they round the product first (baseline). Device kernels that must match
/// the CPU path bit for bit take this as their `fuse` flag.
int32_t strata_kernels_fuse_multiply_add(void);

#ifdef __cplusplus
}
#endif
#endif
