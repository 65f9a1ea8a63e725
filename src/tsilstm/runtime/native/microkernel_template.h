/*
 * The microkernels, written once: the tile products (float32, bfloat16 and int8 weights on float
 * activations) and the pointwise cell updates, as macros that a per-ISA file instantiates with its
 * target attribute (DEFINE_ISA_KERNELS) and lists in its dispatch entry (ISA_KERNEL_FIELDS), so one
 * build runs on any x86-64 or aarch64 machine and picks the best at load (dispatch.c).
 */
#ifndef TSI_MICROKERNEL_TEMPLATE_H
#define TSI_MICROKERNEL_TEMPLATE_H

#include <stdint.h>
#include <string.h>

#include "dispatch.h"
#include "layout.h"
#include "vector_math.h"

/* The tile products ask for the weights this many bytes ahead of the row group they read (a tile
 * is one sequential stream, and the next tile of a thread follows it), one prefetch per cache line
 * read, so the stream from memory overlaps the products. Measured on a 2-vCPU Xeon (AVX-512, 2 MiB
 * L2), tsi, 2 threads: LSTM 2048 batch 4 1.87 -> 1.59 ms per step, GRU 2560 batch 4 2.10 -> 1.70,
 * LSTM 2048 batch 1 1.08 -> 0.96; 2, 4, 8 and 16 KiB ahead were alike within the noise. */
#define PREFETCH_BYTES 4096
/* The tile products start on a cache line, so where their inner loops fall (and so how the front
 * end fetches them) does not depend on what the linker happens to place before them. */
#define HOT_ALIGN __attribute__((aligned(64)))
#define PREFETCH_AHEAD(P) __builtin_prefetch((const char *)(P) + PREFETCH_BYTES, 0, 3)

/* The block products are written over a native vector of VB bytes (64: one AVX-512 register; 32:
 * AVX2; 16: SSE2 or NEON), float lanes FV, uint32 lanes UV and int32 lanes IV of that width: a
 * layout vector of VEC floats is VEC / LANES native ones. GCC lowers a vector wider than the
 * target's registers poorly: arrays of 64-byte vectors on AVX2 stayed in memory, one load and
 * store per operation (AMD EPYC without AVX-512, 2026-12-05: GRU 512 batch 8 11 ms a step against
 * torch's 1.2). */
#define NATIVE_LANES(FV) ((int)(sizeof(FV) / sizeof(float)))
#define NATIVE_PER_GROUP(FV) (GROUP_VECS * VEC / NATIVE_LANES(FV))

/* In a block product: L native lanes, nn native vectors per column (nv layout vectors), and the
 * accumulators a[j][i] loaded from acc[j] (ACCUMULATORS_LOADED) or stored back (ACCUMULATORS_STORED). */
#define ACCUMULATORS_LOADED(FV)                                                                        \
    enum { L = NATIVE_LANES(FV) };                                                                     \
    const int nn = nv * (VEC / L);                                                                     \
    FV a[COL_CHUNK][NATIVE_PER_GROUP(FV)];                                                             \
    for (int j = 0; j < nc; j++)                                                                       \
        for (int i = 0; i < nn; i++) a[j][i] = *(const FV *)(acc[j] + L * i)
#define ACCUMULATORS_STORED(FV)                                                                        \
    for (int j = 0; j < nc; j++)                                                                       \
        for (int i = 0; i < nn; i++) *(FV *)(acc[j] + L * i) = a[j][i]

/* acc[j][0..nv*VEC) += W (nv*VEC x K, the first nv vectors of rows stored [K][ws*VEC]) @
 * hcol[j][0..K) for j < nc, float32 weights. nv and nc are compile-time constants at every call
 * site (see TILE_PRODUCT), so the accumulators stay in registers. */
#define BLOCK_PRODUCT_F32(NAME, FV)                                                                    \
    static inline __attribute__((always_inline)) void NAME(const float *restrict w, int K, int ws, int nv, \
                                                           int nc, const float *const *hcol, float *const *acc) { \
        ACCUMULATORS_LOADED(FV);                                                                       \
        for (int k = 0; k < K; k++) {                                                                  \
            const float *wk = w + (size_t)k * ws * VEC;                                                \
            FV wv[NATIVE_PER_GROUP(FV)];                                                               \
            for (int i = 0; i < nv; i++) PREFETCH_AHEAD(wk + VEC * i);                                 \
            for (int i = 0; i < nn; i++) wv[i] = *(const FV *)(wk + L * i);                            \
            for (int j = 0; j < nc; j++) {                                                             \
                const float s = hcol[j][k];                                                            \
                for (int i = 0; i < nn; i++) a[j][i] += wv[i] * s;                                     \
            }                                                                                          \
        }                                                                                              \
        ACCUMULATORS_STORED(FV);                                                                       \
    }

/* The same for bfloat16 weights in the pair layout: a 32-bit lane holds k (low half) and k + 1
 * (high half) of one row; a bfloat16 is the top half of a float32, so shifting the low half up, or
 * masking the low half off, gives the two float32 weights. Products and sums are float32. */
#define BLOCK_PRODUCT_BF16(NAME, FV, UV)                                                               \
    static inline __attribute__((always_inline)) void NAME(const uint16_t *restrict w, int K, int ws, int nv, \
                                                           int nc, const float *const *hcol, float *const *acc) { \
        ACCUMULATORS_LOADED(FV);                                                                       \
        const int pairs = K / BF16_K_GROUP;                                                            \
        for (int k2 = 0; k2 < pairs; k2++) {                                                           \
            const uint16_t *wk = w + (size_t)k2 * ws * VEC * BF16_K_GROUP;                             \
            FV w0[NATIVE_PER_GROUP(FV)], w1[NATIVE_PER_GROUP(FV)];                                     \
            for (int i = 0; i < nv; i++) PREFETCH_AHEAD(wk + VEC * BF16_K_GROUP * i);                  \
            for (int i = 0; i < nn; i++) {                                                             \
                const UV raw = *(const UV *)(wk + L * BF16_K_GROUP * i);                               \
                w0[i] = (FV)(raw << 16);                                                               \
                w1[i] = (FV)(raw & 0xFFFF0000u);                                                       \
            }                                                                                          \
            for (int j = 0; j < nc; j++) {                                                             \
                const float s0 = hcol[j][2 * k2], s1 = hcol[j][2 * k2 + 1];                            \
                for (int i = 0; i < nn; i++) a[j][i] += w0[i] * s0 + w1[i] * s1;                       \
            }                                                                                          \
        }                                                                                              \
        if (K % BF16_K_GROUP) { /* the last k alone: h beyond K is not read */                         \
            const uint16_t *wk = w + (size_t)pairs * ws * VEC * BF16_K_GROUP;                          \
            for (int i = 0; i < nn; i++) {                                                             \
                const FV w0 = (FV)(*(const UV *)(wk + L * BF16_K_GROUP * i) << 16);                    \
                for (int j = 0; j < nc; j++) a[j][i] += w0 * hcol[j][K - 1];                           \
            }                                                                                          \
        }                                                                                              \
        ACCUMULATORS_STORED(FV);                                                                       \
    }

/* Columns of the next chunk when `left` remain: the chunks of `chunk` (at most COL_CHUNK) or fewer
 * are made as even as possible (25 columns in chunks of 4: 4,4,4,4,3,3,3, not six of 4 and one of
 * 1: a chunk of one column has too few independent sums to keep the FMA units busy). */
static inline int chunk_columns(int left, int chunk) {
    const int chunks = (left + chunk - 1) / chunk;
    return (left + chunks - 1) / chunks;
}

#define CASE_NC_X(BLOCK, NV, NC, ...) \
    case NC: BLOCK(wg, K, ws, NV, NC, __VA_ARGS__); break;
#define CASE_NV_X(BLOCK, NV, ...)                                                                        \
    case NV:                                                                                             \
        switch (nc) {                                                                                    \
            CASE_NC_X(BLOCK, NV, 1, __VA_ARGS__) CASE_NC_X(BLOCK, NV, 2, __VA_ARGS__)                    \
            CASE_NC_X(BLOCK, NV, 3, __VA_ARGS__) CASE_NC_X(BLOCK, NV, 4, __VA_ARGS__)                    \
        }                                                                                                \
        break;
#define SWITCH_NV(BLOCK, ...)                                                                            \
    switch (nv) {                                                                                        \
        CASE_NV_X(BLOCK, 1, __VA_ARGS__) CASE_NV_X(BLOCK, 2, __VA_ARGS__) CASE_NV_X(BLOCK, 3, __VA_ARGS__) \
        CASE_NV_X(BLOCK, 4, __VA_ARGS__)                                                                 \
    }

/* Register blocking. The columns of a tile use are taken CHUNK at a time (chunk_columns) and a row
 * group's layout vectors PASS at a time, PASS the largest of 4, 2, 1 whose PASS x nc accumulators
 * fit in ACC registers (a layout vector takes VREGS of them): AVX-512 (32 registers, a layout
 * vector one of them) runs a whole group on 4 columns; AVX2 (16 ymm, two a vector) one vector on 4
 * columns, two on 2 or 3, all four on one; SSE2 (16 xmm, four a vector) one vector on 2. Measured on
 * an AMD EPYC without AVX-512 (2026-12-05), tsi, GRU 512: batch 8 (16 columns) 0.50 ms a step with
 * one vector on 4 columns, 0.66 with two on 3, 0.97 with two on 2; batch 1 (2 columns) 0.10 with
 * two or four vectors, 0.12 with one. */
static inline int pass_vectors(int nc, int acc_registers, int registers_per_vector) {
    const int fit = acc_registers / (nc * registers_per_vector);
    return fit >= 4 ? 4 : fit >= 2 ? 2 : 1;
}

/* The loop of one tile use over the row groups of a tile of WT (element type code DTYPE) at w: its
 * columns in chunks (nc columns from j0), each group's vectors in passes (nv vectors from row r0,
 * whose weights start at wg; the group's rows are ws vectors long), acc_g (acc shifted to the
 * pass); for each the block product BLOCK(wg, K, ws, nv, nc, ...) runs with the remaining
 * arguments (compile-time nv and nc, see SWITCH_NV). ACC, VREGS and CHUNK: see pass_vectors. */
#define FOR_GROUPS_AND_CHUNKS(WT, DTYPE, ACC, VREGS, CHUNK, BLOCK, ...)                                 \
    float *acc_g[MAX_COLS];                                                                             \
    for (int g0 = 0; g0 < rows; g0 += GROUP_ROWS) {                                                     \
        int ws = (rows - g0) / VEC;                                                                     \
        if (ws > GROUP_VECS) ws = GROUP_VECS;                                                           \
        const WT *wgroup = w + tile_group_at(DTYPE, K, g0);                                             \
        for (int j0 = 0, nc; j0 < ncols; j0 += nc) {                                                    \
            nc = chunk_columns(ncols - j0, (CHUNK));                                                    \
            const int pass = pass_vectors(nc, (ACC), (VREGS));                                          \
            for (int i0 = 0, nv; i0 < ws; i0 += nv) {                                                   \
                nv = ws - i0 < pass ? ws - i0 : pass;                                                   \
                const WT *wg = wgroup + (size_t)i0 * VEC * tile_k_lane(DTYPE);                          \
                const int r0 = g0 + i0 * VEC;                                                           \
                for (int j = 0; j < nc; j++) acc_g[j0 + j] = acc[j0 + j] + r0;                          \
                SWITCH_NV(BLOCK, __VA_ARGS__)                                                           \
            }                                                                                           \
        }                                                                                               \
    }

/* One tile use of float32 or bfloat16 weights: all row groups, blocked as FOR_GROUPS_AND_CHUNKS. */
#define TILE_PRODUCT(NAME, ATTR, WT, BLOCK, DTYPE, ACC, VREGS, CHUNK)                                   \
    ATTR HOT_ALIGN void NAME(const void *wv, int K, int rows, int ncols, const float *const *hcol,      \
                             float *const *acc) {                                                       \
        const WT *w = (const WT *)wv;                                                                   \
        FOR_GROUPS_AND_CHUNKS(WT, DTYPE, ACC, VREGS, CHUNK, BLOCK, hcol + j0, acc_g + j0)               \
    }

/* int8 weights, h kept in float: each 32-bit lane holds four k of one row; shifting byte q to the
 * top and back (arithmetic) sign-extends it, which is converted to float and multiplied as usual.
 * The partial sums start at zero and are scaled by the rows' scales once, at the end. */
#define BLOCK_PRODUCT_I8(NAME, FV, IV)                                                                 \
    static inline __attribute__((always_inline)) void NAME(const int8_t *restrict w, int K, int ws, int nv, \
                                                           int nc, const float *const *hcol, float *const *acc, \
                                                           const float *scale) {                      \
        enum { L = NATIVE_LANES(FV) };                                                                 \
        const int nn = nv * (VEC / L);                                                                 \
        FV a[COL_CHUNK][NATIVE_PER_GROUP(FV)];                                                         \
        for (int j = 0; j < nc; j++)                                                                   \
            for (int i = 0; i < nn; i++) a[j][i] = (FV){0};                                            \
        const int full = K / INT8_K_GROUP, K4 = (K + INT8_K_GROUP - 1) / INT8_K_GROUP;                 \
        for (int k4 = 0; k4 < K4; k4++) {                                                              \
            const int8_t *wk = w + (size_t)k4 * ws * VEC * INT8_K_GROUP;                               \
            IV raw[NATIVE_PER_GROUP(FV)];                                                              \
            for (int i = 0; i < nv; i++) PREFETCH_AHEAD(wk + VEC * INT8_K_GROUP * i);                  \
            for (int i = 0; i < nn; i++) raw[i] = *(const IV *)(wk + L * INT8_K_GROUP * i);            \
            const int nq = k4 < full ? INT8_K_GROUP : K - INT8_K_GROUP * k4; /* h beyond K is not read */ \
            for (int q = 0; q < nq; q++) {                                                             \
                FV wv[NATIVE_PER_GROUP(FV)];                                                           \
                for (int i = 0; i < nn; i++) wv[i] = __builtin_convertvector((raw[i] << (24 - 8 * q)) >> 24, FV); \
                for (int j = 0; j < nc; j++) {                                                         \
                    const float s = hcol[j][INT8_K_GROUP * k4 + q];                                    \
                    for (int i = 0; i < nn; i++) a[j][i] += wv[i] * s;                                 \
                }                                                                                      \
            }                                                                                          \
        }                                                                                              \
        for (int j = 0; j < nc; j++)                                                                   \
            for (int i = 0; i < nn; i++) *(FV *)(acc[j] + L * i) += a[j][i] * *(const FV *)(scale + L * i); \
    }

/* One tile use of int8 weights on float activations, scaled by the tile's row scales. */
#define TILE_PRODUCT_I8(NAME, ATTR, BLOCK, ACC, VREGS, CHUNK)                                           \
    ATTR HOT_ALIGN void NAME(const void *wv, int K, int rows, int ncols, const float *const *hcol,      \
                             float *const *acc) {                                                       \
        const int8_t *w = (const int8_t *)wv;                                                           \
        const float *scale = int8_tile_scales(w, K, rows);                                              \
        FOR_GROUPS_AND_CHUNKS(int8_t, DTYPE_INT8, ACC, VREGS, CHUNK, BLOCK, hcol + j0, acc_g + j0,       \
                              scale + r0)                                                               \
    }


/* LSTM update of br units: gate pre-activations gx + acc (gate-grouped, br apart), c in place, m out. */
#define POINTWISE(NAME, ATTR)                                                                          \
    ATTR void NAME##_lstm(int br, const float *restrict gx, const float *restrict acc,          \
                                 float *restrict c, float *restrict m) {                               \
        for (int u = 0; u < br; u++) {                                                                 \
            float gi = gx[u] + acc[u];                                                                 \
            float gf = gx[br + u] + acc[br + u];                                                       \
            float gg = gx[2 * br + u] + acc[2 * br + u];                                               \
            float go = gx[3 * br + u] + acc[3 * br + u];                                               \
            float cn = sigmoid_f(gf) * c[u] + sigmoid_f(gi) * tanh_f(gg);                              \
            c[u] = cn;                                                                                 \
            m[u] = sigmoid_f(go) * tanh_f(cn);                                                         \
        }                                                                                              \
    }                                                                                                  \
    ATTR void NAME##_gru(int br, const float *restrict gx, const float *restrict acc,           \
                                const float *restrict hp, float *restrict h) {                         \
        for (int u = 0; u < br; u++) {                                                                 \
            float rg = sigmoid_f(gx[u] + acc[u]);                                                      \
            float zg = sigmoid_f(gx[br + u] + acc[br + u]);                                            \
            float ng = tanh_f(gx[2 * br + u] + rg * acc[2 * br + u]);                                  \
            h[u] = (1.0f - zg) * ng + zg * hp[u];                                                      \
        }                                                                                              \
    }                                                                                                  \
    /* original-form GRU: gates gs apart; acc's candidate rows already hold W_hn (r * h) + b_hn */      \
    ATTR void NAME##_gru_rb(int br, int gs, const float *restrict gx, const float *restrict acc, \
                                   const float *restrict hp, float *restrict h) {                      \
        for (int u = 0; u < br; u++) {                                                                 \
            float zg = sigmoid_f(gx[gs + u] + acc[gs + u]);                                            \
            float ng = tanh_f(gx[2 * gs + u] + acc[2 * gs + u]);                                       \
            h[u] = (1.0f - zg) * ng + zg * hp[u];                                                      \
        }                                                                                              \
    }


/* The tile products and cell updates of one instruction set: tile_{f32,bf16,i8}_SUFFIX and
 * pointwise_SUFFIX_{lstm,gru,gru_rb}, compiled with ATTR (a target attribute, or nothing), the tile
 * products on native vectors FV / UV / IV (float, uint32, int32 vectors of one register's width),
 * at most ACC of them accumulating and CHUNK (<= COL_CHUNK) columns at a time (pass_vectors). */
#define DEFINE_ISA_KERNELS(SUFFIX, ATTR, FV, UV, IV, ACC, CHUNK)                                        \
    _Static_assert((CHUNK) >= 1 && (CHUNK) <= COL_CHUNK && VEC % NATIVE_LANES(FV) == 0 &&               \
                   sizeof(FV) == sizeof(UV) && sizeof(FV) == sizeof(IV), "blocking of " #SUFFIX);        \
    BLOCK_PRODUCT_F32(block_f32_##SUFFIX, FV)                                                           \
    BLOCK_PRODUCT_BF16(block_bf16_##SUFFIX, FV, UV)                                                     \
    BLOCK_PRODUCT_I8(block_i8_##SUFFIX, FV, IV)                                                         \
    TILE_PRODUCT(tile_f32_##SUFFIX, ATTR, float, block_f32_##SUFFIX, DTYPE_F32, ACC, VEC / NATIVE_LANES(FV), CHUNK) \
    TILE_PRODUCT(tile_bf16_##SUFFIX, ATTR, uint16_t, block_bf16_##SUFFIX, DTYPE_BF16, ACC, VEC / NATIVE_LANES(FV), \
                 CHUNK)                                                                                 \
    TILE_PRODUCT_I8(tile_i8_##SUFFIX, ATTR, block_i8_##SUFFIX, ACC, VEC / NATIVE_LANES(FV), CHUNK)      \
    POINTWISE(pointwise_##SUFFIX, ATTR)

/* Their declarations, for a dispatch entry in another file that reuses them. */
#define DECLARE_ISA_KERNELS(SUFFIX)                                                                     \
    void tile_f32_##SUFFIX(const void *, int, int, int, const float *const *, float *const *);         \
    void tile_bf16_##SUFFIX(const void *, int, int, int, const float *const *, float *const *);        \
    void tile_i8_##SUFFIX(const void *, int, int, int, const float *const *, float *const *);          \
    void pointwise_##SUFFIX##_lstm(int, const float *, const float *, float *, float *);               \
    void pointwise_##SUFFIX##_gru(int, const float *, const float *, const float *, float *);          \
    void pointwise_##SUFFIX##_gru_rb(int, int, const float *, const float *, const float *, float *);

/* The fields of a kernel_set_t that DEFINE_ISA_KERNELS(SUFFIX) provides. */
#define ISA_KERNEL_FIELDS(SUFFIX)                                                                       \
    .tile = {[DTYPE_F32] = tile_f32_##SUFFIX, [DTYPE_BF16] = tile_bf16_##SUFFIX, [DTYPE_INT8] = tile_i8_##SUFFIX}, \
    .lstm = pointwise_##SUFFIX##_lstm, .gru = pointwise_##SUFFIX##_gru, .gru_rb = pointwise_##SUFFIX##_gru_rb

#endif
