/*
 * rows.cl: work-group reductions shared by the row kernels (softmax, norms, cross entropy), prepended
 * after common.cl. T is float or double; every work-item of the group must call them (they hold
 * barriers). buf is __local T[WG].
 */
#define C(x) ((T) (x))

static inline T group_sum(__local T* buf, T v) {
    int lid = get_local_id(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) buf[lid] += buf[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    T r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

static inline T group_max(__local T* buf, T v) {
    int lid = get_local_id(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) buf[lid] = fmax(buf[lid], buf[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    T r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}
