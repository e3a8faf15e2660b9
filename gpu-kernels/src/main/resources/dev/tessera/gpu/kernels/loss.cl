/*
 * loss.cl: cross entropy of logits [N, V] against class targets [N] (I32 or I64, is64), forward and
 * backward. T float or double. logits and targets are views read in place.
 * With label smoothing s the target distribution is q_c = (1 - s) [c == t] + s / V, so the row loss
 * is lse - sum_c q_c x_c with lse = log sum_c exp(x_c). Rows whose target is ignoreIndex get loss 0.
 *
 * ce_fwd(x, xv, tgt, is64, tv, loss, lse, V, ignoreIndex, s, info): one work-group of WG per row.
 *   loss [N], lse [N] contiguous. info[0..3] reports a target outside [0, V) (see report_bad_index),
 *   info[4] counts the rows not ignored (atomic).
 * ce_bwd(x, xv, tgt, is64, tv, lse, out, V, ignoreIndex, s, scale): one work-item per element of
 *   out [N, V] (contiguous): scale * (exp(x - lse) - q), 0 on ignored rows.
 */

__kernel void ce_fwd(__global const T* x, const View xv, __global const int* tgt, const int is64, const View tv,
                     __global T* loss, __global T* lseOut, const int V, const long ignoreIndex, const T smoothing,
                     volatile __global int* info) {
    __local T buf[WG];
    int row = get_group_id(0);
    int lid = get_local_id(0);
    int base = row * V;
    long t = read_index(tgt, is64, view_pos(&tv, row));
    T m = -INFINITY;
    for (int c = lid; c < V; c += WG) m = fmax(m, x[view_pos(&xv, base + c)]);
    m = group_max(buf, m);
    T se = 0, sx = 0;
    for (int c = lid; c < V; c += WG) {
        T v = x[view_pos(&xv, base + c)];
        se += exp(v - m);
        sx += v;
    }
    se = group_sum(buf, se);
    sx = group_sum(buf, sx);
    if (lid != 0) return;
    T lse = m == -INFINITY ? m : m + log(se);   /* an all -inf row: lse -inf (loss NaN unless ignored) */
    lseOut[row] = lse;
    if (t == ignoreIndex) {
        loss[row] = 0;
        return;
    }
    if (t < 0 || t >= V) {
        report_bad_index(info, t, row);
        loss[row] = NAN;
        return;
    }
    atomic_inc(info + 4);
    T xt = x[view_pos(&xv, base + (int) t)];
    loss[row] = lse - ((C(1.0) - smoothing) * xt + smoothing / (T) V * sx);
}

__kernel void ce_bwd(__global const T* x, const View xv, __global const int* tgt, const int is64, const View tv,
                     __global const T* lse, __global T* out, const int V, const long ignoreIndex, const T smoothing,
                     const T scale, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int row = i / V;
    int c = i - row * V;
    long t = read_index(tgt, is64, view_pos(&tv, row));
    if (t == ignoreIndex) {
        out[i] = 0;
        return;
    }
    T p = exp(x[view_pos(&xv, i)] - lse[row]);
    T q = smoothing / (T) V + (c == t ? C(1.0) - smoothing : C(0.0));
    out[i] = scale * (p - q);
}
