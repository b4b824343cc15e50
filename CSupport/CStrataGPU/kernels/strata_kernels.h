// Strata's device kernels, in the portable dialect of strata_device.h. Each kernel states the
// CPU function it must reproduce bit for bit; see CSupport/CStrataKernels/kernels.c.
//
// Layout as on the CPU: X row-major n x d floats, C row-major k x d floats, labels i32.
// Partials: one row of `width` = k*d + k + 3 doubles per chunk, laid out as the flat form of
// ClusterStatistics: k*d sums, k weights, inertia, changed rows, fully assigned rows.

// Nearest centroid, one work-item per row (strata_nearest_rows): a = sum over features in
// feature order of (x_j - c_j)^2, fused (a = fma(t, t, a)) when `fuse` is 1, as the CPU clone
// in use does; the first centroid with the strictly smallest a wins (label 0 and +inf when none
// is smaller than +inf). changed[i] = 1 when the label differs from labels[i] on entry.
// Cost O(k*d) per row; reads the row once and the centers k times (cached).
KERNEL strata_assign(const GLOBAL float *X, const i64 n, const i64 d, const GLOBAL float *C, const i64 k,
                     GLOBAL i32 *labels, GLOBAL float *dist, GLOBAL u8 *changed, const i32 fuse)
{
    const i64 i = GID;
    if (i >= n) return;
    const GLOBAL float *x = X + i * d;
    float best = STRATA_INF;
    i32 bl = 0;
    for (i64 c = 0; c < k; c++) {
        const GLOBAL float *cc = C + c * d;
        float a = 0.0f;
        if (fuse) {
            for (i64 j = 0; j < d; j++) { const float t = x[j] - cc[j]; a = FMAF(t, t, a); }
        } else {
            for (i64 j = 0; j < d; j++) { const float t = x[j] - cc[j]; const float s = t * t; a = a + s; }
        }
        if (a < best) { best = a; bl = (i32)c; }
    }
    changed[i] = (u8)(labels[i] != bl);
    labels[i] = bl;
    dist[i] = best;
}

// Per-chunk sufficient statistics (strata_accumulate_rows over one chunk of the fixed
// partition, blocks of `block_rows` rows), one work-item per (chunk, column), columns
// 0..d+1: column j < d sums feature j per cluster in row order (w_i * x_ij, fused when
// `fuse` is 1); column d sums the weights per cluster and counts changed rows; column d + 1
// sums w_i * dist_i in row order within each block and the blocks in order (the inertia).
// With `accumulate` 0 only the inertia column runs (unfused, as lloydPass's Swift loop) and
// the other entries are zeros. No atomics: each work-item owns its outputs.
KERNEL strata_chunk_sums(const GLOBAL float *X, const i64 n, const i64 d, const i64 k,
                         const GLOBAL float *W, const i32 weighted,
                         const GLOBAL i32 *labels, const GLOBAL float *dist, const GLOBAL u8 *changed,
                         const i64 chunk_rows, const i64 block_rows, const i64 chunks,
                         GLOBAL double *P, const i32 fuse, const i32 accumulate)
{
    const i64 g = GID;
    const i64 chunk = g / (d + 2), col = g % (d + 2);
    if (chunk >= chunks) return;
    const i64 lo = chunk * chunk_rows;
    const i64 hi = lo + chunk_rows < n ? lo + chunk_rows : n;
    const i64 width = k * d + k + 3;
    GLOBAL double *p = P + chunk * width;
    if (col < d) {
        for (i64 c = 0; c < k; c++) p[c * d + col] = 0.0;
        if (!accumulate) return;
        for (i64 i = lo; i < hi; i++) {
            GLOBAL double *s = p + (i64)labels[i] * d + col;
            const double xv = (double)X[i * d + col];
            if (!weighted) {
                *s = *s + xv;
            } else if (fuse) {
                *s = FMAD((double)W[i], xv, *s);
            } else {
                const double t = (double)W[i] * xv;
                *s = *s + t;
            }
        }
    } else if (col == d) {
        for (i64 c = 0; c < k; c++) p[k * d + c] = 0.0;
        i64 ch = 0;
        for (i64 i = lo; i < hi; i++) {
            if (accumulate) p[k * d + labels[i]] += weighted ? (double)W[i] : 1.0;
            ch += changed[i];
        }
        p[k * d + k + 1] = (double)ch;
        p[k * d + k + 2] = (double)(hi - lo);
    } else {
        double total = 0.0;
        for (i64 b = lo; b < hi; b += block_rows) {
            const i64 e = b + block_rows < hi ? b + block_rows : hi;
            double in = 0.0;
            for (i64 i = b; i < e; i++) {
                const double di = (double)dist[i];
                if (!weighted) {
                    in = in + di;
                } else if (fuse && accumulate) {
                    in = FMAD((double)W[i], di, in);
                } else {
                    const double t = (double)W[i] * di;
                    in = in + t;
                }
            }
            total = total + in;
        }
        p[k * d + k] = total;
    }
}

// The chunk partials added in chunk order (ChunkedReduction.sum): out[e] = 0 + P[0][e] +
// P[1][e] + ..., one work-item per entry of the `width`-double rows.
KERNEL strata_reduce_chunks(const GLOBAL double *P, const i64 chunks, const i64 width, GLOBAL double *out)
{
    const i64 e = GID;
    if (e >= width) return;
    double t = 0.0;
    for (i64 c = 0; c < chunks; c++) t = t + P[c * width + e];
    out[e] = t;
}

// Sums of Euclidean distances from each row to every cluster (strata_silhouette_sums, the
// exact silhouette's pass), one work-item per row p of Y, the n x d rows sorted by cluster
// (cluster c is rows starts[c]..starts[c + 1]). As on the CPU: per block of 128 rows of a
// cluster, a float accumulator adds (sqrt(a0) + sqrt(a1)) + (sqrt(a2) + sqrt(a3)) per group of 4
// rows, then single rows; the blocks' floats are added in Double in order. a_j is the squared
// distance summed in feature order (fused as `fuse` says); sqrt is correctly rounded on every
// backend. S[p * k + c] = the sum over the rows of cluster c. Cost O(n * d) per row.
KERNEL strata_silhouette_sums(const GLOBAL float *Y, const i64 n, const i64 d, const GLOBAL i64 *starts, const i64 k,
                              GLOBAL double *S, const i32 fuse)
{
    const i64 p = GID;
    if (p >= n) return;
    const GLOBAL float *x = Y + p * d;
    for (i64 c = 0; c < k; c++) {
        double s = 0.0;
        const i64 end = starts[c + 1];
        for (i64 j0 = starts[c]; j0 < end; j0 += 128) {
            const i64 j1 = j0 + 128 < end ? j0 + 128 : end;
            float acc = 0.0f;
            i64 j = j0;
            for (; j + 4 <= j1; j += 4) {
                const GLOBAL float *y0 = Y + j * d;
                float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
                for (i64 t = 0; t < d; t++) {
                    const float t0 = x[t] - y0[t], t1 = x[t] - y0[d + t], t2 = x[t] - y0[2 * d + t], t3 = x[t] - y0[3 * d + t];
                    if (fuse) {
                        a0 = FMAF(t0, t0, a0); a1 = FMAF(t1, t1, a1); a2 = FMAF(t2, t2, a2); a3 = FMAF(t3, t3, a3);
                    } else {
                        const float s0 = t0 * t0, s1 = t1 * t1, s2 = t2 * t2, s3 = t3 * t3;
                        a0 = a0 + s0; a1 = a1 + s1; a2 = a2 + s2; a3 = a3 + s3;
                    }
                }
                const float r01 = SQRTF(a0) + SQRTF(a1), r23 = SQRTF(a2) + SQRTF(a3);
                acc = acc + (r01 + r23);
            }
            for (; j < j1; j++) {
                const GLOBAL float *y0 = Y + j * d;
                float a0 = 0.0f;
                for (i64 t = 0; t < d; t++) {
                    const float t0 = x[t] - y0[t];
                    if (fuse) { a0 = FMAF(t0, t0, a0); } else { const float s0 = t0 * t0; a0 = a0 + s0; }
                }
                acc = acc + SQRTF(a0);
            }
            s = s + (double)acc;
        }
        S[p * k + c] = s;
    }
}

// ---- Gaussian mixtures: the diagonal E-step (strata_gmm_estep_diag) -----------------------

// exp(x) for x <= 0 as the CPU's vexp_neg: below -87 gives 0; 2^n * p(r), degree-6 Taylor
// polynomial in Horner form, each step fused when `fuse` is 1 (as clang contracts them).
DEVICE_FN float strata_exp_neg(float x, const i32 fuse)
{
    const i32 tiny = x < -87.0f;
    if (tiny) x = -87.0f;
    float t;
    if (fuse) { t = FMAF(x, 1.44269504088896341f, 0.5f); } else { const float u = x * 1.44269504088896341f; t = u + 0.5f; }
    i32 ni = (i32)t;
    if ((float)ni > t) ni -= 1;
    const float n = (float)ni;
    float r;
    if (fuse) {
        r = FMAF(-n, 0.693145751953125f, x);
        r = FMAF(-n, 1.428606765330187e-06f, r);
    } else {
        const float u = n * 0.693145751953125f, v = n * 1.428606765330187e-06f;
        r = x - u; r = r - v;
    }
    const float cs[6] = {1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f};
    float p = 1.0f / 720.0f;
    for (i32 q = 0; q < 6; q++) {
        if (fuse) { p = FMAF(p, r, cs[q]); } else { const float u = p * r; p = u + cs[q]; }
    }
    const float res = p * AS_FLOAT((ni + 127) << 23);
    return tiny ? 0.0f : res;
}

// log(x) for normal positive x as the CPU's vlog_pos (atanh series in t = (m-1)/(m+1)).
DEVICE_FN float strata_log_pos(const float x, const i32 fuse)
{
    const i32 bits = AS_INT(x);
    i32 e = ((bits >> 23) & 0xff) - 127;
    float m = AS_FLOAT((bits & 0x7fffff) | 0x3f800000);
    if (m > 1.41421356f) { m = m * 0.5f; e += 1; }
    const float t = (m - 1.0f) / (m + 1.0f);
    const float t2 = t * t;
    const float cs[4] = {1.0f / 7.0f, 1.0f / 5.0f, 1.0f / 3.0f, 1.0f};
    float s = 1.0f / 9.0f;
    for (i32 q = 0; q < 4; q++) {
        if (fuse) { s = FMAF(s, t2, cs[q]); } else { const float u = s * t2; s = u + cs[q]; }
    }
    const float ts = (2.0f * t) * s;
    if (fuse) return FMAF((float)e, 0.693147180559945f, ts);
    const float u = (float)e * 0.693147180559945f;
    return u + ts;
}

// One work-item per row of the centered rows X (n x d): log-densities of the k diagonal
// components, L_c = cst_c - 0.5 * (a0 + a1), a0 / a1 summing ((x_j - mu_cj) * prec_cj)^2 over
// even / odd j; then the most probable component (first strict maximum), the responsibilities
// exp(L_c - max) / sum (sum in component order) and lse = max + log(sum). Writes resp[c * n + i],
// labels[i] and lse[i] (float; the CPU adds them in Double per 16-row tile). Scratch: L is kept
// in resp itself. Cost O(k * d) per row.
KERNEL strata_gmm_estep_diag(const GLOBAL float *X, const i64 n, const i64 d, const i64 k, const GLOBAL float *mu,
                             const GLOBAL float *prec, const GLOBAL float *cst, GLOBAL float *resp, GLOBAL i32 *labels,
                             GLOBAL float *lse, const i32 fuse)
{
    const i64 i = GID;
    if (i >= n) return;
    const GLOBAL float *x = X + i * d;
    float mx = 0.0f;
    i32 arg = 0;
    for (i64 c = 0; c < k; c++) {
        const GLOBAL float *mc = mu + c * d;
        const GLOBAL float *pc = prec + c * d;
        float a0 = 0.0f, a1 = 0.0f;
        i64 j = 0;
        for (; j + 2 <= d; j += 2) {
            const float u0 = x[j] - mc[j], u1 = x[j + 1] - mc[j + 1];
            const float t0 = u0 * pc[j], t1 = u1 * pc[j + 1];
            if (fuse) { a0 = FMAF(t0, t0, a0); a1 = FMAF(t1, t1, a1); }
            else { const float s0 = t0 * t0, s1 = t1 * t1; a0 = a0 + s0; a1 = a1 + s1; }
        }
        for (; j < d; j++) {
            const float u0 = x[j] - mc[j];
            const float t0 = u0 * pc[j];
            if (fuse) { a0 = FMAF(t0, t0, a0); } else { const float s0 = t0 * t0; a0 = a0 + s0; }
        }
        const float a = a0 + a1;
        float l;
        if (fuse) { l = FMAF(-0.5f, a, cst[c]); } else { const float h = 0.5f * a; l = cst[c] - h; }
        resp[c * n + i] = l;
        if (c == 0 || l > mx) { mx = l; arg = (i32)c; }
    }
    float s = 0.0f;
    for (i64 c = 0; c < k; c++) {
        const float e = strata_exp_neg(resp[c * n + i] - mx, fuse);
        resp[c * n + i] = e;
        s = s + e;
    }
    const float inv = 1.0f / s;
    for (i64 c = 0; c < k; c++) resp[c * n + i] = resp[c * n + i] * inv;
    labels[i] = arg;
    lse[i] = mx + strata_log_pos(s, fuse);
}

// ---- Gaussian mixtures: the full/tied E-step (strata_gmm_estep_full after its SGEMM) -------

// One work-item per row of the centered rows X (n x d): for each component c the projection
// y_j = sum_{t <= j} Ct[c*d + j][t] * x_t (Ct[c*d + j][t] = C_c[t][j], the upper-triangular
// precision Cholesky factor, zero for t > j), one FMA per term in feature order as a BLAS SGEMM
// micro-kernel accumulates it; then as strata_gmm_estep_full: u_j = y_j - mC[c*d + j], a0 / a1
// summing u_j^2 over even / odd j, L_c = cst_c - 0.5 * (a0 + a1), and the diagonal kernel's
// responsibilities, labels and log-sum-exp. The CPU forms y by OpenBLAS SGEMM, whose summation
// order is the library's: equal where it sums K in order with FMA, else within float rounding.
// Cost O(k * d^2 / 2) per row.
KERNEL strata_gmm_estep_full(const GLOBAL float *X, const i64 n, const i64 d, const i64 k, const GLOBAL float *ct,
                             const GLOBAL float *mC, const GLOBAL float *cst, GLOBAL float *resp, GLOBAL i32 *labels,
                             GLOBAL float *lse, const i32 fuse)
{
    const i64 i = GID;
    if (i >= n) return;
    const GLOBAL float *x = X + i * d;
    float mx = 0.0f;
    i32 arg = 0;
    for (i64 c = 0; c < k; c++) {
        float a0 = 0.0f, a1 = 0.0f;
        for (i64 j = 0; j < d; j++) {
            const GLOBAL float *row = ct + (c * d + j) * d;
            float y = 0.0f;
            for (i64 t = 0; t <= j; t++) y = FMAF(row[t], x[t], y);
            const float u = y - mC[c * d + j];
            if (j & 1) {
                if (fuse) { a1 = FMAF(u, u, a1); } else { const float s1 = u * u; a1 = a1 + s1; }
            } else {
                if (fuse) { a0 = FMAF(u, u, a0); } else { const float s0 = u * u; a0 = a0 + s0; }
            }
        }
        const float a = a0 + a1;
        float l;
        if (fuse) { l = FMAF(-0.5f, a, cst[c]); } else { const float h = 0.5f * a; l = cst[c] - h; }
        resp[c * n + i] = l;
        if (c == 0 || l > mx) { mx = l; arg = (i32)c; }
    }
    float s = 0.0f;
    for (i64 c = 0; c < k; c++) {
        const float e = strata_exp_neg(resp[c * n + i] - mx, fuse);
        resp[c * n + i] = e;
        s = s + e;
    }
    const float inv = 1.0f / s;
    for (i64 c = 0; c < k; c++) resp[c * n + i] = resp[c * n + i] * inv;
    labels[i] = arg;
    lse[i] = mx + strata_log_pos(s, fuse);
}
