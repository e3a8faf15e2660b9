/*
 * scatter.cl: scatter-add and index-add in place, the inverses of gather and index_select (the
 * embedding backward is index_add on dim 0). T float, double, int or long; updates to one element
 * from several work-items are atomic (compare-and-swap loops for floats, so the order of additions
 * and hence the last bits may differ from run to run). double and long need cl_khr_int64_base_atomics
 * (HAS_INT64_ATOMICS). Bad indices are reported through err.
 *
 * scatter_add(dst, dv, idx, is64, iv, src, sv, dim, n, err):
 *   idx and src views of one shape I (rank of dst), n = numel(I):
 *   dst[i0.., idx[i0..] at dim, ..] += src[i0..].
 * index_add(dst, dv, idx, is64, iv, src, sv, dim, n, err):
 *   idx 1-D [L]; src view of dst's shape with dim replaced by L, n = numel(src):
 *   dst[.., idx[l], ..] += src[.., l, ..].
 */
#ifdef HAS_INT64_ATOMICS
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#endif

static inline void atomic_add_t(__global T* p, T v) {
#if defined(T_IS_FLOAT)
    volatile __global uint* u = (volatile __global uint*) p;
    uint old = *u, assumed;
    do {
        assumed = old;
        old = atomic_cmpxchg(u, assumed, as_uint(as_float(assumed) + v));
    } while (old != assumed);
#elif defined(T_IS_DOUBLE)
    volatile __global ulong* u = (volatile __global ulong*) p;
    ulong old = *u, assumed;
    do {
        assumed = old;
        old = atom_cmpxchg(u, assumed, as_ulong(as_double(assumed) + v));
    } while (old != assumed);
#elif defined(T_IS_INT)
    atomic_add((volatile __global int*) p, v);
#else
    atom_add((volatile __global long*) p, v);
#endif
}

__kernel void scatter_add(__global T* dst, const View dv, __global const int* idx, const int is64, const View iv,
                          __global const T* src, const View sv, const int dim, const int n, volatile __global int* err) {
    int i = get_global_id(0);
    if (i >= n) return;
    long j = read_index(idx, is64, view_pos(&iv, i));
    if (j < 0 || j >= dv.shape[dim]) { report_bad_index(err, j, i); return; }
    int pos = dv.offset;
    int rest = i;
    for (int d = iv.rank - 1; d >= 0; d--) {
        int c = rest % iv.shape[d];
        rest /= iv.shape[d];
        pos += (d == dim ? (int) j : c) * dv.strides[d];
    }
    atomic_add_t(dst + pos, src[view_pos(&sv, i)]);
}

__kernel void index_add(__global T* dst, const View dv, __global const int* idx, const int is64, const View iv,
                        __global const T* src, const View sv, const int dim, const int n, volatile __global int* err) {
    int i = get_global_id(0);
    if (i >= n) return;
    int pos = dv.offset;
    int rest = i;
    for (int d = sv.rank - 1; d >= 0; d--) {
        int c = rest % sv.shape[d];
        rest /= sv.shape[d];
        if (d == dim) {
            long j = read_index(idx, is64, view_pos(&iv, c));
            if (j < 0 || j >= dv.shape[dim]) { report_bad_index(err, j, c); return; }
            c = (int) j;
        }
        pos += c * dv.strides[d];
    }
    atomic_add_t(dst + pos, src[view_pos(&sv, i)]);
}
