/*
 * adamw.cl: one fused AdamW step in place. T float or double.
 * p, m, v are contiguous views [n] (possibly at an offset); g any view of the same shape. bc1 = 1 - beta1^step, bc2 = 1 - beta2^step
 * and the complements omb1 = 1 - b1, omb2 = 1 - b2 are computed on the host in double (1 - b2 formed from
 * a float b2 = 0.999 would be off by 1e-5 relative). Per element:
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr * wd * p;
 *   p -= lr * (m / bc1) / (sqrt(v / bc2) + eps).
 */
__kernel void adamw(__global T* p, const int pOff, __global const T* g, const View gv, __global T* m, const int mOff,
                    __global T* v, const int vOff, const T lr, const T b1, const T b2, const T omb1, const T omb2, const T eps,
                    const T wd, const T bc1, const T bc2, const int n) {
    int i = get_global_id(0);
    if (i >= n) return;
    T gi = g[view_pos(&gv, i)];
    T mi = b1 * m[mOff + i] + omb1 * gi;
    T vi = b2 * v[vOff + i] + omb2 * gi * gi;
    m[mOff + i] = mi;
    v[vOff + i] = vi;
    T pi = p[pOff + i];
    pi -= lr * wd * pi;
    pi -= lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
    p[pOff + i] = pi;
}
