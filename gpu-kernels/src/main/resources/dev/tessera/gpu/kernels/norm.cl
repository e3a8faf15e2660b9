/*
 * norm.cl: layer norm and RMS norm over the last dim C, forward and backward. T float or double.
 * x and g are views of shape [..., C] read in place; N = numel / C rows. mean and rstd are contiguous
 * [N]; weight and bias contiguous [C] (hasW / hasB say whether they exist; when absent the host passes
 * any buffer). Row kernels use one work-group of WG per row; column kernels one work-group per column c.
 *
 * layernorm_fwd(x, xv, w, b, hasW, hasB, out, mean, rstd, C, eps):
 *   mean = x0 + sum (x - x0) / C (x0 the row's first element); var = sum (x - mean)^2 / C (population, two passes); rstd = 1 / sqrt(var + eps);
 *   out [N, C] = (x - mean) * rstd * w + b.
 * layernorm_bwd_dx(g, gv, x, xv, mean, rstd, w, hasW, dx, C):
 *   xhat = (x - mean) * rstd; dxhat = g * w; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
 * norm_bwd_dwb(g, gv, x, xv, mean, rstd, hasMean, dw, db, hasB, N, C):
 *   dw[c] = sum over rows g * xhat, db[c] = sum over rows g (xhat uses mean only when hasMean).
 * rmsnorm_fwd(x, xv, w, hasW, out, rstd, C, eps): rstd = 1 / sqrt(mean(x^2) + eps); out = x * rstd * w.
 * rmsnorm_bwd_dx(g, gv, x, xv, rstd, w, hasW, dx, C):
 *   xhat = x * rstd; dxhat = g * w; dx = rstd * (dxhat - xhat * mean(dxhat * xhat)).
 */

__kernel void layernorm_fwd(__global const T* x, const View xv, __global const T* w, __global const T* b,
                            const int hasW, const int hasB, __global T* out, __global T* meanOut, __global T* rstdOut,
                            const int C, const T eps) {
    __local T buf[WG];
    int row = get_group_id(0);
    int lid = get_local_id(0);
    int base = row * C;
    // Sum x - x0 rather than x: exact for constant rows (mean == x0, var == 0) and smaller rounding otherwise.
    T pivot = x[view_pos(&xv, base)];
    T s = 0;
    for (int c = lid; c < C; c += WG) s += x[view_pos(&xv, base + c)] - pivot;
    T mean = pivot + group_sum(buf, s) / (T) C;
    T q = 0;
    for (int c = lid; c < C; c += WG) {
        T d = x[view_pos(&xv, base + c)] - mean;
        q += d * d;
    }
    T var = group_sum(buf, q) / (T) C;
    T rstd = C(1.0) / sqrt(var + eps);
    for (int c = lid; c < C; c += WG) {
        T v = (x[view_pos(&xv, base + c)] - mean) * rstd;
        if (hasW) v *= w[c];
        if (hasB) v += b[c];
        out[base + c] = v;
    }
    if (lid == 0) {
        meanOut[row] = mean;
        rstdOut[row] = rstd;
    }
}

__kernel void layernorm_bwd_dx(__global const T* g, const View gv, __global const T* x, const View xv,
                               __global const T* mean, __global const T* rstd, __global const T* w, const int hasW,
                               __global T* dx, const int C) {
    __local T buf[WG];
    int row = get_group_id(0);
    int lid = get_local_id(0);
    int base = row * C;
    T mu = mean[row], rs = rstd[row];
    T s1 = 0, s2 = 0;
    for (int c = lid; c < C; c += WG) {
        T xhat = (x[view_pos(&xv, base + c)] - mu) * rs;
        T dxhat = g[view_pos(&gv, base + c)] * (hasW ? w[c] : C(1.0));
        s1 += dxhat;
        s2 += dxhat * xhat;
    }
    T m1 = group_sum(buf, s1) / (T) C;
    T m2 = group_sum(buf, s2) / (T) C;
    for (int c = lid; c < C; c += WG) {
        T xhat = (x[view_pos(&xv, base + c)] - mu) * rs;
        T dxhat = g[view_pos(&gv, base + c)] * (hasW ? w[c] : C(1.0));
        dx[base + c] = rs * (dxhat - m1 - xhat * m2);
    }
}

__kernel void norm_bwd_dwb(__global const T* g, const View gv, __global const T* x, const View xv,
                           __global const T* mean, __global const T* rstd, const int hasMean,
                           __global T* dw, __global T* db, const int hasB, const int N, const int C) {
    __local T buf[WG];
    int c = get_group_id(0);
    int lid = get_local_id(0);
    T sw = 0, sb = 0;
    for (int r = lid; r < N; r += WG) {
        int i = r * C + c;
        T gy = g[view_pos(&gv, i)];
        T xhat = (x[view_pos(&xv, i)] - (hasMean ? mean[r] : C(0.0))) * rstd[r];
        sw += gy * xhat;
        sb += gy;
    }
    T tw = group_sum(buf, sw);
    T tb = group_sum(buf, sb);
    if (lid == 0) {
        dw[c] = tw;
        if (hasB) db[c] = tb;
    }
}

__kernel void rmsnorm_fwd(__global const T* x, const View xv, __global const T* w, const int hasW, __global T* out,
                          __global T* rstdOut, const int C, const T eps) {
    __local T buf[WG];
    int row = get_group_id(0);
    int lid = get_local_id(0);
    int base = row * C;
    T q = 0;
    for (int c = lid; c < C; c += WG) {
        T v = x[view_pos(&xv, base + c)];
        q += v * v;
    }
    T rstd = C(1.0) / sqrt(group_sum(buf, q) / (T) C + eps);
    for (int c = lid; c < C; c += WG) {
        T v = x[view_pos(&xv, base + c)] * rstd;
        out[base + c] = hasW ? v * w[c] : v;
    }
    if (lid == 0) rstdOut[row] = rstd;
}

__kernel void rmsnorm_bwd_dx(__global const T* g, const View gv, __global const T* x, const View xv,
                             __global const T* rstd, __global const T* w, const int hasW, __global T* dx, const int C) {
    __local T buf[WG];
    int row = get_group_id(0);
    int lid = get_local_id(0);
    int base = row * C;
    T rs = rstd[row];
    T s = 0;
    for (int c = lid; c < C; c += WG) {
        T xhat = x[view_pos(&xv, base + c)] * rs;
        T dxhat = g[view_pos(&gv, base + c)] * (hasW ? w[c] : C(1.0));
        s += dxhat * xhat;
    }
    T m = group_sum(buf, s) / (T) C;
    for (int c = lid; c < C; c += WG) {
        T xhat = x[view_pos(&xv, base + c)] * rs;
        T dxhat = g[view_pos(&gv, base + c)] * (hasW ? w[c] : C(1.0));
        dx[base + c] = rs * (dxhat - xhat * m);
    }
}
