// See CStrataKernels.h for the contracts. Vector code uses GCC/Clang vector extensions of 16
// lanes: the compiler lowers one v16f to one zmm (v4), two ymm (v3) or four xmm (baseline).
#include "CStrataKernels.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#define STRATA_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define STRATA_CLONES
#endif

typedef float v16f __attribute__((vector_size(64), aligned(64)));
typedef int32_t v16i __attribute__((vector_size(64), aligned(64)));

// Lane-wise select (macros, not functions: vector arguments would change the ABI per clone).
#define vselect_f(m, a, b) ((v16f)((((v16i)(a)) & (m)) | (((v16i)(b)) & ~(m))))
#define vselect_i(m, a, b) ((((v16i)(a)) & (m)) | (((v16i)(b)) & ~(m)))

int64_t strata_nearest_scratch_floats(int64_t d) {
    return 16 * (d + 1) + 16;
}

static inline float *align64(float *p) {
    uintptr_t u = (uintptr_t)p;
    u = (u + 63) & ~(uintptr_t)63;
    return (float *)u;
}

STRATA_CLONES
void strata_nearest_rows(const float *X, int64_t n, int64_t d,
                         const float *C, int64_t k,
                         int32_t *labels, float *dist, float *scratch, int64_t *changed) {
    int64_t nchanged = 0;
    v16f *xt = (v16f *)align64(scratch);
    const v16f vinf = (v16f){0} + INFINITY;
    for (int64_t i0 = 0; i0 < n; i0 += 16) {
        int64_t m = n - i0 < 16 ? n - i0 : 16;
        float *t = (float *)xt;
        if (m < 16) memset(t, 0, sizeof(float) * 16 * (size_t)d);
        for (int64_t l = 0; l < m; l++) {
            const float *row = X + (i0 + l) * d;
            for (int64_t j = 0; j < d; j++) t[j * 16 + l] = row[j];
        }
        v16f best = vinf;
        v16i bl = (v16i){0};
        int64_t c = 0;
        for (; c + 4 <= k; c += 4) {
            const float *c0 = C + c * d, *c1 = c0 + d, *c2 = c1 + d, *c3 = c2 + d;
            v16f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            for (int64_t j = 0; j < d; j++) {
                v16f x = xt[j];
                v16f t0 = x - c0[j], t1 = x - c1[j], t2 = x - c2[j], t3 = x - c3[j];
                a0 += t0 * t0; a1 += t1 * t1; a2 += t2 * t2; a3 += t3 * t3;
            }
            v16i m0 = a0 < best; best = vselect_f(m0, a0, best); bl = vselect_i(m0, (v16i){0} + (int32_t)c, bl);
            v16i m1 = a1 < best; best = vselect_f(m1, a1, best); bl = vselect_i(m1, (v16i){0} + (int32_t)(c + 1), bl);
            v16i m2 = a2 < best; best = vselect_f(m2, a2, best); bl = vselect_i(m2, (v16i){0} + (int32_t)(c + 2), bl);
            v16i m3 = a3 < best; best = vselect_f(m3, a3, best); bl = vselect_i(m3, (v16i){0} + (int32_t)(c + 3), bl);
        }
        for (; c < k; c++) {
            const float *c0 = C + c * d;
            v16f a0 = {0};
            for (int64_t j = 0; j < d; j++) {
                v16f t0 = xt[j] - c0[j];
                a0 += t0 * t0;
            }
            v16i m0 = a0 < best; best = vselect_f(m0, a0, best); bl = vselect_i(m0, (v16i){0} + (int32_t)c, bl);
        }
        for (int64_t l = 0; l < m; l++) {
            nchanged += labels[i0 + l] != bl[l];
            labels[i0 + l] = bl[l];
            dist[i0 + l] = best[l];
        }
    }
    if (changed) *changed += nchanged;
}

STRATA_CLONES
void strata_accumulate_rows(const float *X, int64_t n, int64_t d, const float *w,
                            const int32_t *labels, const float *dist,
                            double *sums, double *wsum, double *inertia) {
    double in = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = X + i * d;
        double *s = sums + (int64_t)labels[i] * d;
        double wi = w ? (double)w[i] : 1.0;
        if (w) {
            for (int64_t j = 0; j < d; j++) s[j] += wi * (double)row[j];
        } else {
            for (int64_t j = 0; j < d; j++) s[j] += (double)row[j];
        }
        wsum[labels[i]] += wi;
        in += wi * (double)dist[i];
    }
    *inertia += in;
}

STRATA_CLONES
void strata_argmin_gemm_rows(const float *G, int64_t n, int64_t k, const float *cnorm,
                             const float *X, int64_t d, const float *C,
                             int32_t *labels, float *dist, int64_t *changed) {
    int64_t nchanged = 0;
    const v16f vinf = (v16f){0} + INFINITY;
    const v16i lane = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int64_t i = 0; i < n; i++) {
        const float *g = G + i * k;
        v16f best = vinf;
        v16i bi = (v16i){0} + 0x7fffffff;
        int64_t j = 0;
        for (; j + 16 <= k; j += 16) {
            v16f gv, cv;
            memcpy(&gv, g + j, sizeof gv);
            memcpy(&cv, cnorm + j, sizeof cv);
            v16f v = cv - 2.0f * gv;
            v16i msk = v < best;
            best = vselect_f(msk, v, best);
            bi = vselect_i(msk, lane + (int32_t)j, bi);
        }
        float bv = INFINITY;
        int32_t bx = 0x7fffffff;
        for (int l = 0; l < 16; l++) {
            if (best[l] < bv || (best[l] == bv && bi[l] < bx)) { bv = best[l]; bx = bi[l]; }
        }
        for (; j < k; j++) {
            float v = cnorm[j] - 2.0f * g[j];
            if (v < bv) { bv = v; bx = (int32_t)j; }
        }
        if (bx == 0x7fffffff) bx = 0;
        nchanged += labels[i] != bx;
        labels[i] = bx;
        const float *row = X + i * d;
        const float *cen = C + (int64_t)bx * d;
        float s = 0.0f;
        for (int64_t t = 0; t < d; t++) { float df = row[t] - cen[t]; s += df * df; }
        dist[i] = s;
    }
    if (changed) *changed += nchanged;
}

STRATA_CLONES
void strata_row_sqnorms(const float *X, int64_t n, int64_t d, float *out) {
    for (int64_t i = 0; i < n; i++) {
        const float *row = X + i * d;
        float s = 0.0f;
        for (int64_t j = 0; j < d; j++) s += row[j] * row[j];
        out[i] = s;
    }
}

STRATA_CLONES
void strata_expand_sqdist(const float *G, int64_t n, int64_t k,
                          const float *xnorm, const float *cnorm, float *out) {
    for (int64_t i = 0; i < n; i++) {
        const float xn = xnorm[i];
        const float *g = G + i * k;
        float *o = out + i * k;
        for (int64_t j = 0; j < k; j++) {
            float v = xn + cnorm[j] - 2.0f * g[j];
            o[j] = v > 0.0f ? v : 0.0f;
        }
    }
}

static inline float sqdist_row(const float *x, const float *c, int64_t d) {
    float s = 0.0f;
    for (int64_t j = 0; j < d; j++) { float t = x[j] - c[j]; s += t * t; }
    return s;
}

STRATA_CLONES
void strata_kpp_potentials(const float *X, int64_t n, int64_t d, const float *cand, int64_t t,
                           const float *closest, const float *w, double *pot) {
    for (int64_t c = 0; c < t; c++) {
        const float *cc = cand + c * d;
        double acc = 0.0;
        for (int64_t i = 0; i < n; i++) {
            float s = sqdist_row(X + i * d, cc, d);
            float m = s < closest[i] ? s : closest[i];
            acc += w ? (double)w[i] * (double)m : (double)m;
        }
        pot[c] += acc;
    }
}

STRATA_CLONES
double strata_kpp_update(const float *X, int64_t n, int64_t d, const float *c, float *closest, const float *w) {
    double acc = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float s = sqdist_row(X + i * d, c, d);
        float m = s < closest[i] ? s : closest[i];
        closest[i] = m;
        acc += w ? (double)w[i] * (double)m : (double)m;
    }
    return acc;
}
