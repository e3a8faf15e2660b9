/*
 * move.cl: kernels that only move elements, compiled once per element size with U = uchar, ushort,
 * uint or ulong (so one program serves every dtype of that size). Indices are I32 or I64 (is64).
 * Errors (an index out of range) are reported through err[0..3] (see report_bad_index) and turned
 * into an exception by the host.
 *
 * fill(dst, dv, bits, n): dst is any view with n elements; every element set to the bit pattern bits.
 *
 * gather(x, xv, idx, is64, iv, out, dim, n, err):
 *   x [..., X_dim, ...] any view; idx same rank as x, shape I (any view); out contiguous of shape I.
 *   out[i0..] = x[i0.., idx[i0..] at dim, ..]. n = numel(I).
 *
 * index_select(x, xv, idx, is64, iv, ov, out, dim, n, err):
 *   x any view; idx 1-D [L] (any view); out contiguous of x's shape with dim replaced by L (ov gives that
 *   shape, contiguous). out[.., l, ..] = x[.., idx[l], ..]. Embedding lookup is index_select on dim 0.
 *
 * triangle(x, xv, out, k, upper, n): x any view [..., R, C]; out contiguous, same shape; keeps
 *   element (r, c) when c - r <= k (lower) or c - r >= k (upper), else writes 0.
 */

__kernel void fill(__global U* dst, const View dv, const U bits, const int n) {
    int i = get_global_id(0);
    if (i < n) dst[view_pos(&dv, i)] = bits;
}

__kernel void gather(__global const U* x, const View xv, __global const int* idx, const int is64, const View iv,
                     __global U* out, const int dim, const int n, volatile __global int* err) {
    int i = get_global_id(0);
    if (i >= n) return;
    long j = read_index(idx, is64, view_pos(&iv, i));
    if (j < 0 || j >= xv.shape[dim]) { report_bad_index(err, j, i); out[i] = (U) 0; return; }
    int pos = xv.offset;
    int rest = i;
    for (int d = iv.rank - 1; d >= 0; d--) {
        int c = rest % iv.shape[d];
        rest /= iv.shape[d];
        pos += (d == dim ? (int) j : c) * xv.strides[d];
    }
    out[i] = x[pos];
}

__kernel void index_select(__global const U* x, const View xv, __global const int* idx, const int is64, const View iv,
                           const View ov, __global U* out, const int dim, const int n, volatile __global int* err) {
    int i = get_global_id(0);
    if (i >= n) return;
    int pos = xv.offset;
    int rest = i;
    for (int d = ov.rank - 1; d >= 0; d--) {
        int c = rest % ov.shape[d];
        rest /= ov.shape[d];
        if (d == dim) {
            long j = read_index(idx, is64, view_pos(&iv, c));
            if (j < 0 || j >= xv.shape[dim]) { report_bad_index(err, j, c); out[i] = (U) 0; return; }
            c = (int) j;
        }
        pos += c * xv.strides[d];
    }
    out[i] = x[pos];
}

__kernel void triangle(__global const U* x, const View xv, __global U* out, const int k, const int upper, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    int cols = xv.shape[xv.rank - 1];
    int rows = xv.shape[xv.rank - 2];
    int c = i % cols;
    int r = (i / cols) % rows;
    int keep = upper ? (c - r >= k) : (c - r <= k);
    out[i] = keep ? x[view_pos(&xv, i)] : (U) 0;
}
