/*
 * copy.cl: strided copy with dtype conversion, one kernel per (source, destination) dtype pair.
 *
 * copy_S_D(src, sv, dst, dv, n): for i in [0, n): dst[view_pos(dv, i)] = convert(src[view_pos(sv, i)]).
 *   src: any view of shape [...] (strides, offset, stride-0 broadcast), dtype S.
 *   dst: a view of the same shape [...] (a contiguous new array, or an assign target), dtype D.
 *   n:   number of elements of the shape. One work-item per element.
 * dtypes: f32 float, f64 double (only with HAS_FP64), bf16 and f16 as ushort bits, i32 int, i64 long,
 * bool uchar 0/1. Conversions follow tensor-core's CpuStorage: floats round to nearest even (F64 to a
 * 16-bit format rounds to odd through float first, so there is no double rounding), floats to integers
 * truncate toward zero (NaN gives 0), anything to bool is value != 0.
 */

#define ST_f32 float
#define ST_f64 double
#define ST_bf16 ushort
#define ST_f16 ushort
#define ST_i32 int
#define ST_i64 long
#define ST_bool uchar

/* Natural value of a stored element: float for f32/bf16/f16, double, int, long, uchar. */
#define LOAD_f32(p, i) ((p)[i])
#define LOAD_f64(p, i) ((p)[i])
#define LOAD_bf16(p, i) bf16_to_f((p)[i])
#define LOAD_f16(p, i) vload_half((i), (__global const half*) (p))
#define LOAD_i32(p, i) ((p)[i])
#define LOAD_i64(p, i) ((p)[i])
#define LOAD_bool(p, i) ((p)[i])

/* STORE_<dst>_<kind of source>: F float value, D double value, I integer value. */
#define STORE_f32_F(p, i, v) (p)[i] = (float) (v)
#define STORE_f32_D(p, i, v) (p)[i] = (float) (v)
#define STORE_f32_I(p, i, v) (p)[i] = (float) (v)
#define STORE_f64_F(p, i, v) (p)[i] = (double) (v)
#define STORE_f64_D(p, i, v) (p)[i] = (double) (v)
#define STORE_f64_I(p, i, v) (p)[i] = (double) (v)
#define STORE_bf16_F(p, i, v) (p)[i] = f_to_bf16((float) (v))
#define STORE_bf16_D(p, i, v) (p)[i] = f_to_bf16(d2f_odd(v))
#define STORE_bf16_I(p, i, v) (p)[i] = f_to_bf16((float) (v))
#define STORE_f16_F(p, i, v) vstore_half_rte((float) (v), (i), (__global half*) (p))
#define STORE_f16_D(p, i, v) vstore_half_rte(d2f_odd(v), (i), (__global half*) (p))
#define STORE_f16_I(p, i, v) vstore_half_rte((float) (v), (i), (__global half*) (p))
#define STORE_i32_F(p, i, v) (p)[i] = (int) convert_long_sat_rtz(v)
#define STORE_i32_D(p, i, v) (p)[i] = (int) convert_long_sat_rtz(v)
#define STORE_i32_I(p, i, v) (p)[i] = (int) (v)
#define STORE_i64_F(p, i, v) (p)[i] = convert_long_sat_rtz(v)
#define STORE_i64_D(p, i, v) (p)[i] = convert_long_sat_rtz(v)
#define STORE_i64_I(p, i, v) (p)[i] = (long) (v)
#define STORE_bool_F(p, i, v) (p)[i] = ((v) != 0) ? (uchar) 1 : (uchar) 0
#define STORE_bool_D(p, i, v) (p)[i] = ((v) != 0) ? (uchar) 1 : (uchar) 0
#define STORE_bool_I(p, i, v) (p)[i] = ((v) != 0) ? (uchar) 1 : (uchar) 0

#ifdef HAS_FP64
/* double to float rounded to odd: exact when representable, else toward zero with the last bit set. */
static inline float d2f_odd(double d) {
    float f = convert_float_rtz(d);
    if (isnan(d) || (double) f == d) return (float) d;
    if (isinf(d)) return (float) d;
    return as_float(as_uint(f) | 1u);
}
#endif

#define COPY(S, K, D) \
__kernel void copy_##S##_##D(__global const ST_##S* src, const View sv, __global ST_##D* dst, const View dv, const int n) { \
    int i = get_global_id(0); \
    if (i < n) { STORE_##D##_##K(dst, view_pos(&dv, i), LOAD_##S(src, view_pos(&sv, i))); } \
}

#define COPY_FROM(S, K) COPY(S, K, f32) COPY(S, K, bf16) COPY(S, K, f16) COPY(S, K, i32) COPY(S, K, i64) COPY(S, K, bool)

COPY_FROM(f32, F)
COPY_FROM(bf16, F)
COPY_FROM(f16, F)
COPY_FROM(i32, I)
COPY_FROM(i64, I)
COPY_FROM(bool, I)

#ifdef HAS_FP64
COPY_FROM(f64, D)
COPY(f64, D, f64)
COPY(f32, F, f64)
COPY(bf16, F, f64)
COPY(f16, F, f64)
COPY(i32, I, f64)
COPY(i64, I, f64)
COPY(bool, I, f64)
#endif
