/*
 * gemm.cl: batched matrix product out[b] = A[b] @ B[b]. T float or double.
 *   A view [..., M, K], B view [..., K, N] with the same (already broadcast) batch dims [...], read in
 *   place through their strides, so transposed operands (last two strides swapped), stride-0 batch
 *   dims and sliced views cost no copy. out contiguous [..., M, N].
 * Tiling: each work-group of LS x LS (16 x 16) work-items computes a TS x TS (64 x 64, or 128 x 128)
 *   tile of out, each work-item an RT x RT (4 x 4, or 8 x 8) register block of elements spaced LS apart (so that reads of the
 *   local tiles are free of bank conflicts). K advances in steps of TK (16): the A tile [TS, TK] and the
 *   B tile [TK, TS] are staged in local memory, each loaded along whichever of its dims has stride 1,
 *   so that global reads coalesce for plain and transposed operands alike. Edges (M, N, K not
 *   multiples of the tiles) are padded with zeros on load and masked on store.
 * NDRange: global (ceil(N / TS) * LS, ceil(M / TS) * LS, batch), local (LS, LS, 1).
 * Work-item count per tile load: TS * TK / (LS * LS) elements of each operand (4 or 8).
 */
/* TS and RT may come from the host: 64 and 4 by default; 128 and 8 on GPUs (more reuse per load). */
#ifndef TS
#define TS 64
#endif
#ifndef RT
#define RT (TS / LS)
#endif
#define TK 16
#define LS 16

__kernel __attribute__((reqd_work_group_size(LS, LS, 1)))
void gemm(__global const T* A, const View av, __global const T* B, const View bv, __global T* out,
          const int M, const int N, const int K) {
    __local T As[TK][TS + 1];
    __local T Bs[TK][TS + 1];
    const int tx = get_local_id(0), ty = get_local_id(1);
    const int lid = ty * LS + tx;
    const int n0 = get_group_id(0) * TS, m0 = get_group_id(1) * TS;
    const int batch = get_global_id(2);
    const int r = av.rank;
    int offA = av.offset, offB = bv.offset, rest = batch;
    for (int d = r - 3; d >= 0; d--) {
        int c = rest % av.shape[d];
        rest /= av.shape[d];
        offA += c * av.strides[d];
        offB += c * bv.strides[d];
    }
    const int sAm = av.strides[r - 2], sAk = av.strides[r - 1];
    const int sBk = bv.strides[r - 2], sBn = bv.strides[r - 1];
    const int aAlongK = sAk == 1, bAlongN = sBn == 1 || sBk != 1;

    T acc[RT][RT];
    for (int i = 0; i < RT; i++)
        for (int j = 0; j < RT; j++) acc[i][j] = 0;

    for (int k0 = 0; k0 < K; k0 += TK) {
        for (int q = 0; q < (TS * TK) / (LS * LS); q++) {
            int e = lid + q * LS * LS;
            int kk = aAlongK ? e % TK : e / TS;
            int mm = aAlongK ? e / TK : e % TS;
            int gm = m0 + mm, gk = k0 + kk;
            As[kk][mm] = (gm < M && gk < K) ? A[offA + gm * sAm + gk * sAk] : (T) 0;
            int nn = bAlongN ? e % TS : e / TK;
            int kb = bAlongN ? e / TS : e % TK;
            int gn = n0 + nn, gkb = k0 + kb;
            Bs[kb][nn] = (gkb < K && gn < N) ? B[offB + gkb * sBk + gn * sBn] : (T) 0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < TK; kk++) {
            T a[RT], b[RT];
            for (int i = 0; i < RT; i++) a[i] = As[kk][ty + i * LS];
            for (int j = 0; j < RT; j++) b[j] = Bs[kk][tx + j * LS];
            for (int i = 0; i < RT; i++)
                for (int j = 0; j < RT; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    __global T* o = out + batch * M * N;
    for (int i = 0; i < RT; i++) {
        int gm = m0 + ty + i * LS;
        if (gm >= M) continue;
        for (int j = 0; j < RT; j++) {
            int gn = n0 + tx + j * LS;
            if (gn < N) o[gm * N + gn] = acc[i][j];
        }
    }
}
