/*
 * common.cl: prepended to every Tessera OpenCL program.
 *
 * View: how a kernel reads an NDArray in place. An element with row-major linear index i of a view of
 * shape [d0, ..., d(rank-1)] lies at storage position offset + sum_k idx_k * strides[k], where the
 * idx_k are the digits of i in the mixed radix given by the shape. Strides are in elements and may be
 * 0 (broadcast) or any permutation (transposed views). contig != 0 means strides are row-major, so the
 * position is simply offset + i. Rank is at most 8. The host fills the struct as 20 ints.
 *
 * Defines expected from the host: WG (work-group size of the row kernels, a power of two),
 * HAS_FP64 when the device reports cl_khr_fp64.
 */
#ifdef HAS_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

#define MAX_RANK 8

typedef struct {
    int rank;
    int offset;
    int contig;
    int pad;
    int shape[MAX_RANK];
    int strides[MAX_RANK];
} View;

/* Storage position of the element with row-major linear index i. */
static inline int view_pos(const View* v, int i) {
    if (v->contig) return v->offset + i;
    int pos = v->offset;
    for (int d = v->rank - 1; d >= 0; d--) {
        int n = v->shape[d];
        pos += (i % n) * v->strides[d];
        i /= n;
    }
    return pos;
}

/* bfloat16 bits to float (exact) and float to bfloat16 rounding to nearest even (NaN stays quiet NaN). */
static inline float bf16_to_f(ushort b) { return as_float(((uint) b) << 16); }

static inline ushort f_to_bf16(float f) {
    uint bits = as_uint(f);
    if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0u) return (ushort) ((bits >> 16) | 0x0040u);
    uint bias = 0x7FFFu + ((bits >> 16) & 1u);
    return (ushort) ((bits + bias) >> 16);
}

/* Reads index element pos of an I32 (is64 == 0) or I64 index buffer. */
static inline long read_index(__global const int* idx, int is64, int pos) {
    return is64 ? ((__global const long*) idx)[pos] : (long) idx[pos];
}

/* Records the first bad index seen: err[0] = 1, err[1..2] = the value (lo, hi words), err[3] = where. */
static inline void report_bad_index(volatile __global int* err, long value, int where) {
    if (atomic_cmpxchg(err, 0, 1) == 0) {
        err[1] = (int) (value & 0xFFFFFFFFL);
        err[2] = (int) (value >> 32);
        err[3] = where;
    }
}
