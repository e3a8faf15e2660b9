/*
 * softmax.cl: softmax and log-softmax over the last dim, forward and backward. T float or double.
 * Shapes: x, y, g are views of shape [..., C] read in place (any strides); N = numel / C rows; one
 * work-group of WG work-items per row (global size N * WG); outputs are new contiguous [..., C].
 *
 * softmax_fwd(x, xv, out, C, log): y = exp(x - max) / sum exp(x - max); log: x - max - log(sum).
 * softmax_bwd(y, yv, g, gv, out, C, log): softmax: gx = y * (g - sum(g * y));
 *                                         log-softmax: gx = g - exp(y) * sum(g).
 */

__kernel void softmax_fwd(__global const T* x, const View xv, __global T* out, const int C, const int logMode) {
    __local T buf[WG];
    int row = get_group_id(0);
    int lid = get_local_id(0);
    int base = row * C;
    T m = -INFINITY;
    for (int c = lid; c < C; c += WG) m = fmax(m, x[view_pos(&xv, base + c)]);
    m = group_max(buf, m);
    T s = 0;
    for (int c = lid; c < C; c += WG) s += exp(x[view_pos(&xv, base + c)] - m);
    s = group_sum(buf, s);
    if (logMode) {
        T lse = m + log(s);
        for (int c = lid; c < C; c += WG) out[base + c] = x[view_pos(&xv, base + c)] - lse;
    } else {
        T inv = C(1.0) / s;
        for (int c = lid; c < C; c += WG) out[base + c] = exp(x[view_pos(&xv, base + c)] - m) * inv;
    }
}

__kernel void softmax_bwd(__global const T* y, const View yv, __global const T* g, const View gv, __global T* out,
                          const int C, const int logMode) {
    __local T buf[WG];
    int row = get_group_id(0);
    int lid = get_local_id(0);
    int base = row * C;
    T s = 0;
    for (int c = lid; c < C; c += WG) {
        T gy = g[view_pos(&gv, base + c)];
        s += logMode ? gy : gy * y[view_pos(&yv, base + c)];
    }
    s = group_sum(buf, s);
    for (int c = lid; c < C; c += WG) {
        T yy = y[view_pos(&yv, base + c)];
        T gy = g[view_pos(&gv, base + c)];
        out[base + c] = logMode ? gy - exp(yy) * s : yy * (gy - s);
    }
}
