/* The microkernels for AMX (x86-64, AMX-BF16 and AMX-INT8): the hoisted input product of
 * low-precision W_ih on tile dot products; everything else as AVX-512 VNNI. */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "microkernel_template.h"

#define ARCH_REQ_XCOMP_PERM 0x1023 /* Linux arch_prctl: ask for an extended state component */
#define XFEATURE_XTILEDATA 18      /* the AMX tile data */
#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16,amx-int8,avx512f,avx512bw,avx512vnni,fma")))

/* AMX-TILE, AMX-BF16 and AMX-INT8 present (CPUID.7.0:EDX bits 24, 22, 25) and the tile data granted
 * to this process by the kernel (Linux >= 5.16 asks each process to request it). */
int amx_usable(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!((d >> 24) & 1) || !((d >> 22) & 1) || !((d >> 25) & 1)) return 0;
#ifdef SYS_arch_prctl
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
    return 0;
#endif
}

/* The tile constants of an AMX product of up to GROUP_VECS slices of 16 rows (tiles 0-3 hold
 * their sums): AMX_SLICE(I) (defined at each use) for every slice, and the sums stored to out. */
#define AMX_EACH_SLICE(NV) \
    AMX_SLICE(0)           \
    if ((NV) > 1) { AMX_SLICE(1) } \
    if ((NV) > 2) { AMX_SLICE(2) } \
    if ((NV) > 3) { AMX_SLICE(3) }
#define AMX_STORE_SUMS(OUT, NV)                          \
    _tile_stored(0, (OUT)[0], 64);                       \
    if ((NV) > 1) _tile_stored(1, (OUT)[1], 64);         \
    if ((NV) > 2) _tile_stored(2, (OUT)[2], 64);         \
    if ((NV) > 3) _tile_stored(3, (OUT)[3], 64);

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config_t;

/* Tiles 0-3: float32 sums (16 columns x 16 rows of W each), 4 and 5: the hi and lo bfloat16 halves
 * of 16 columns x 32 k, 6: 32 k x 16 rows of W (pair layout); every tile 16 rows of 64 bytes. A
 * static object: GCC drops stores to a local one that only ldtilecfg reads. */
static const tile_config_t AMX_CONFIG = {
    .palette = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16},
};

static AMX_TARGET void amx_configure(void) { _tile_loadconfig(&AMX_CONFIG); }

/* acc[j][0..rows) += W (bfloat16 pair layout, rows x K) @ (hi + lo)[j] for j < ncols, where the
 * bfloat16 halves of column j start at xhi / xlo + j * xstride (elements), zero from K up to a
 * multiple of BF16_K_PAD, and 16 more columns are readable (their sums are dropped). The tiles must
 * be configured (amx_configure). */
static AMX_TARGET void tile_product_amx_bf16(const uint16_t *w, int K, int rows, int ncols, const uint16_t *xhi,
                                             const uint16_t *xlo, size_t xstride, float *const *acc) {
    float out[GROUP_VECS][16][16] __attribute__((aligned(64)));
    for (int g0 = 0; g0 < rows; g0 += GROUP_ROWS) {
        const int nv = imin((rows - g0) / VEC, GROUP_VECS);
        const uint16_t *wg = w + tile_group_at(DTYPE_BF16, K, g0);
        const size_t wstride = (size_t)nv * VEC * BF16_K_GROUP * sizeof(uint16_t); /* bytes between k pairs */
        for (int m0 = 0; m0 < ncols; m0 += 16) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int k0 = 0; k0 < K; k0 += BF16_K_PAD) {
                _tile_loadd(4, xhi + (size_t)m0 * xstride + k0, xstride * sizeof(uint16_t));
                _tile_loadd(5, xlo + (size_t)m0 * xstride + k0, xstride * sizeof(uint16_t));
                const uint16_t *wk = wg + (size_t)(k0 / BF16_K_GROUP) * nv * VEC * BF16_K_GROUP;
#define AMX_SLICE(I)                                                  \
    _tile_loadd(6, wk + (I) * VEC * BF16_K_GROUP, wstride);           \
    _tile_dpbf16ps(I, 4, 6);                                          \
    _tile_dpbf16ps(I, 5, 6);
                AMX_EACH_SLICE(nv)
#undef AMX_SLICE
            }
            AMX_STORE_SUMS(out, nv)
            const int M = imin(16, ncols - m0);
            for (int m = 0; m < M; m++)
                for (int i = 0; i < nv; i++) *(vf *)(acc[m0 + m] + g0 + VEC * i) += *(const vf *)out[i][m];
        }
    }
}

/* acc[j][0..rows) += W (int8 tile, rows x K) @ x_j for j < ncols, x_j quantized: column j's bytes
 * at xq + j * xstride (q + INT8_ACT_OFFSET, zero from K up to a multiple of INT8_K_PAD; 16 more
 * columns readable), its scale xs[j * xs_stride]. Tile dot products (tdpbusd), then the same correction and
 * scaling as the VNNI product. The tiles must be configured (amx_configure). */
static AMX_TARGET void tile_product_amx_int8(const int8_t *w, int K, int rows, int ncols, const uint8_t *xq,
                                             size_t xstride, const float *xs, size_t xs_stride, float *const *acc) {
    const float *scale = int8_tile_scales(w, K, rows);
    const int32_t *corr = int8_tile_offsets(w, K, rows);
    int32_t out[GROUP_VECS][16][16] __attribute__((aligned(64)));
    for (int g0 = 0; g0 < rows; g0 += GROUP_ROWS) {
        const int nv = imin((rows - g0) / VEC, GROUP_VECS);
        const int8_t *wg = w + tile_group_at(DTYPE_INT8, K, g0);
        const size_t wstride = (size_t)nv * VEC * INT8_K_GROUP; /* bytes between groups of four k */
        for (int m0 = 0; m0 < ncols; m0 += 16) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int k0 = 0; k0 < K; k0 += INT8_K_PAD) {
                _tile_loadd(4, xq + (size_t)m0 * xstride + k0, xstride);
                const int8_t *wk = wg + (size_t)(k0 / INT8_K_GROUP) * nv * VEC * INT8_K_GROUP;
#define AMX_SLICE(I)                                                  \
    _tile_loadd(6, wk + (I) * VEC * INT8_K_GROUP, wstride);           \
    _tile_dpbusd(I, 4, 6);
                AMX_EACH_SLICE(nv)
#undef AMX_SLICE
            }
            AMX_STORE_SUMS(out, nv)
            const int M = imin(16, ncols - m0);
            for (int i = 0; i < nv; i++) {
                const __m512i c = _mm512_loadu_si512((const void *)(corr + g0 + VEC * i));
                const __m512 s = _mm512_loadu_ps(scale + g0 + VEC * i);
                for (int m = 0; m < M; m++) {
                    const __m512 sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_load_si512((const void *)out[i][m]), c));
                    float *dst = acc[m0 + m] + g0 + VEC * i;
                    _mm512_storeu_ps(dst, _mm512_fmadd_ps(sum, _mm512_mul_ps(s, _mm512_set1_ps(xs[(size_t)(m0 + m) * xs_stride])), _mm512_loadu_ps(dst)));
                }
            }
        }
    }
}

static AMX_TARGET void amx_release(void) { _tile_release(); }

DECLARE_ISA_KERNELS(avx512)
void tile_q_i8_vnni(const void *, int, int, int, const uint8_t *const *, const float *, float *const *);

const kernel_set_t KERNELS_AMX = {
    ISA_KERNEL_FIELDS(avx512), .tile_q = {[DTYPE_INT8] = tile_q_i8_vnni}, .input_bf16 = tile_product_amx_bf16,
    .input_q = tile_product_amx_int8, .tiles_begin = amx_configure, .tiles_end = amx_release};
#endif
