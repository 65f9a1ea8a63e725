/* The microkernels for AVX-512 VNNI (x86-64): int8 weights times quantized activations in exact
 * int32 dot products (vpdpbusd); everything else as AVX-512F. */
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "microkernel_template.h"

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni,fma")))
static inline __attribute__((always_inline)) VNNI_TARGET void block_product_vnni(
    const int8_t *restrict w, int K, int ws, int nv, int nc, const uint8_t *const *hq, const float *hs, float *const *acc,
    const float *scale, const int32_t *offsets) {
    __m512i a[COL_CHUNK][GROUP_VECS];
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nv; i++) a[j][i] = _mm512_setzero_si512();
    const int K4 = (K + INT8_K_GROUP - 1) / INT8_K_GROUP;
    for (int k4 = 0; k4 < K4; k4++) {
        const int8_t *wk = w + (size_t)k4 * ws * VEC * INT8_K_GROUP;
        __m512i wv[GROUP_VECS];
        for (int i = 0; i < nv; i++) PREFETCH_AHEAD(wk + VEC * INT8_K_GROUP * i);
        for (int i = 0; i < nv; i++) wv[i] = _mm512_load_si512((const void *)(wk + VEC * INT8_K_GROUP * i));
        for (int j = 0; j < nc; j++) {
            int32_t four;
            memcpy(&four, hq[j] + INT8_K_GROUP * k4, sizeof four);
            const __m512i hb = _mm512_set1_epi32(four);
            for (int i = 0; i < nv; i++) a[j][i] = _mm512_dpbusd_epi32(a[j][i], hb, wv[i]);
        }
    }
    for (int i = 0; i < nv; i++) {
        const __m512 s = _mm512_loadu_ps(scale + VEC * i);
        const __m512i corr = _mm512_loadu_si512((const void *)(offsets + VEC * i));
        for (int j = 0; j < nc; j++) {
            const __m512 sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(a[j][i], corr));
            float *out = acc[j] + VEC * i;
            _mm512_storeu_ps(out, _mm512_fmadd_ps(sum, _mm512_mul_ps(s, _mm512_set1_ps(hs[j])), _mm512_loadu_ps(out)));
        }
    }
}

VNNI_TARGET HOT_ALIGN void tile_q_i8_vnni(const void *wv, int K, int rows, int ncols, const uint8_t *const *hq,
                                          const float *hs, float *const *acc) {
    const int8_t *w = (const int8_t *)wv;
    const float *scale = int8_tile_scales(w, K, rows);
    const int32_t *offsets = int8_tile_offsets(w, K, rows);
    FOR_GROUPS_AND_CHUNKS(int8_t, DTYPE_INT8, 16, 1, COL_CHUNK, block_product_vnni, hq + j0, hs + j0, acc_g + j0,
                          scale + r0, offsets + r0)
}

DECLARE_ISA_KERNELS(avx512)

const kernel_set_t KERNELS_AVX512_VNNI = {ISA_KERNEL_FIELDS(avx512), .tile_q = {[DTYPE_INT8] = tile_q_i8_vnni}};
#endif
