/*
 * reduce.cl: reductions, one work-group of WG work-items per output element.
 * Compiled per T: float, double (IS_FLOAT; accumulate in T) or int, long (accumulate in long).
 *
 * The host passes x as a permuted view xv whose kept dims come first and reduced dims last, so
 * output o reduces the R consecutive linear indices [o * R, (o + 1) * R) of xv. Output is contiguous,
 * one element per group (global size = outN * WG).
 *
 * reduce_acc(x, xv, out, op, R):  op 0 SUM, 1 MEAN, 4 VAR (population, two passes over the row).
 *                                 out is SUM_T: T for floats, long for integers.
 * reduce_ext(x, xv, out, isMax, R): MAX / MIN into T; a NaN anywhere gives NaN (as Math.max).
 * Two stages for few long rows (e.g. a sum over everything): reduce_partial_sum / reduce_partial_ext
 * (x, xv, out, isMax, R, P) give P partial results per row, out [outN, P] contiguous, work-group g
 * reducing chunk g % P of row g / P (chunk length ceil(R / P)); the host then reduces the partials with
 * reduce_acc (SUM) or reduce_ext.
 * argreduce(x, xv, out, isMax, R): index (long) of the max / min, the first one on ties; a NaN counts as
 *                                 the extreme (the first NaN wins), agreeing with max's NaN propagation.
 */

#ifdef IS_FLOAT
#define ACC T
static inline T max_nan(T a, T b) { return isnan(a) ? a : (isnan(b) ? b : (a >= b ? a : b)); }
static inline T min_nan(T a, T b) { return isnan(a) ? a : (isnan(b) ? b : (a <= b ? a : b)); }
#define IS_NAN(v) isnan(v)
#else
#define IS_NAN(v) 0
#define ACC long
static inline T max_nan(T a, T b) { return a >= b ? a : b; }
static inline T min_nan(T a, T b) { return a <= b ? a : b; }
#endif

static inline ACC group_sum(__local ACC* buf, ACC v) {
    int lid = get_local_id(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) buf[lid] += buf[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    ACC r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* max / min (NaN-propagating) of v over the work-group, returned to every work-item. */
static inline T group_ext(__local T* buf, T v, int isMax) {
    int lid = get_local_id(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) buf[lid] = isMax ? max_nan(buf[lid], buf[lid + s]) : min_nan(buf[lid], buf[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return buf[0];
}

__kernel void reduce_acc(__global const T* x, const View xv, __global SUM_T* out, const int op, const int R) {
    __local ACC buf[WG];
    int o = get_group_id(0);
    int lid = get_local_id(0);
    int base = o * R;
    ACC s = 0;
    for (int r = lid; r < R; r += WG) s += (ACC) x[view_pos(&xv, base + r)];
    ACC total = group_sum(buf, s);
    if (op == 0) {
        if (lid == 0) out[o] = (SUM_T) total;
        return;
    }
#ifdef IS_FLOAT
    T mean = total / (T) R;
    if (op == 1) {
        if (lid == 0) out[o] = mean;
        return;
    }
    ACC q = 0;
    for (int r = lid; r < R; r += WG) {
        T d = x[view_pos(&xv, base + r)] - mean;
        q += d * d;
    }
    ACC sq = group_sum(buf, q);
    if (lid == 0) out[o] = sq / (T) R;
#endif
}

__kernel void reduce_ext(__global const T* x, const View xv, __global T* out, const int isMax, const int R) {
    __local T buf[WG];
    int o = get_group_id(0);
    int lid = get_local_id(0);
    int base = o * R;
    T m = x[view_pos(&xv, base)];
    for (int r = lid; r < R; r += WG) {
        T v = x[view_pos(&xv, base + r)];
        m = isMax ? max_nan(m, v) : min_nan(m, v);
    }
    T r = group_ext(buf, m, isMax);
    if (lid == 0) out[o] = r;
}

/* v beats the best so far b: NaN beats any number; otherwise the strict comparison. */
static inline int strictly_better(int isMax, T v, T b) {
    if (IS_NAN(b)) return 0;
    if (IS_NAN(v)) return 1;
    return isMax ? v > b : v < b;
}

__kernel void argreduce(__global const T* x, const View xv, __global long* out, const int isMax, const int R) {
    __local T vals[WG];
    __local int idxs[WG];
    int o = get_group_id(0);
    int lid = get_local_id(0);
    int base = o * R;
    int bi = -1;
    T bv = 0;
    for (int r = lid; r < R; r += WG) {
        T v = x[view_pos(&xv, base + r)];
        if (bi < 0 || strictly_better(isMax, v, bv)) { bv = v; bi = r; }
    }
    vals[lid] = bv;
    idxs[lid] = bi;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            int oi = idxs[lid + s];
            T ov = vals[lid + s];
            int mi = idxs[lid];
            T mv = vals[lid];
            int same = (IS_NAN(ov) && IS_NAN(mv)) || ov == mv;
            if (oi >= 0 && (mi < 0 || strictly_better(isMax, ov, mv) || (same && oi < mi))) {
                vals[lid] = ov;
                idxs[lid] = oi;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) out[o] = (long) idxs[0];
}

__kernel void reduce_partial_sum(__global const T* x, const View xv, __global SUM_T* out, const int unused, const int R, const int P) {
    __local ACC buf[WG];
    int g = get_group_id(0);
    int lid = get_local_id(0);
    int o = g / P, p = g - o * P;
    int chunk = (R + P - 1) / P;
    int lo = p * chunk, hi = min(R, lo + chunk);
    int base = o * R;
    ACC s = 0;
    for (int r = lo + lid; r < hi; r += WG) s += (ACC) x[view_pos(&xv, base + r)];
    ACC total = group_sum(buf, s);
    if (lid == 0) out[g] = (SUM_T) total;
}

__kernel void reduce_partial_ext(__global const T* x, const View xv, __global T* out, const int isMax, const int R, const int P) {
    __local T buf[WG];
    int g = get_group_id(0);
    int lid = get_local_id(0);
    int o = g / P, p = g - o * P;
    int chunk = (R + P - 1) / P;
    int lo = p * chunk, hi = min(R, lo + chunk);
    int base = o * R;
    T m = x[view_pos(&xv, base + min(lo, R - 1))];
    for (int r = lo + lid; r < hi; r += WG) {
        T v = x[view_pos(&xv, base + r)];
        m = isMax ? max_nan(m, v) : min_nan(m, v);
    }
    T r = group_ext(buf, m, isMax);
    if (lid == 0) out[g] = r;
}
