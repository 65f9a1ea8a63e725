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

static inline __attribute__((always_inline)) vf load_f32(const float *p) { return *(const vf *)p; }

/* acc[j][0..nv*16) += W (nv*16 x K, stored [K][nv*16]) @ hcol[j][0..K) for j < nc. nv and nc are
 * compile-time constants at every call site (see TILE_PRODUCT), so the accumulators stay in
 * registers. WT is the stored weight type, LOAD turns 16 of them into a float vector. */
#define BLOCK_PRODUCT(NAME, WT, LOAD)                                                                  \
    static inline __attribute__((always_inline)) void NAME(const WT *restrict w, int K, int nv, int nc, \
                                                           const float *const *hcol, float *const *acc) { \
        vf a[COL_CHUNK][GROUP_VECS];                                                                   \
        for (int j = 0; j < nc; j++)                                                                   \
            for (int i = 0; i < nv; i++) a[j][i] = *(const vf *)(acc[j] + VEC * i);                    \
        const float *h[COL_CHUNK];                                                                     \
        for (int j = 0; j < nc; j++) h[j] = hcol[j];                                                   \
        for (int k = 0; k < K; k++) {                                                                  \
            const WT *wk = w + (size_t)k * nv * VEC;                                                   \
            vf wv[GROUP_VECS];                                                                         \
            for (int i = 0; i < nv; i++) PREFETCH_AHEAD(wk + VEC * i);                                 \
            for (int i = 0; i < nv; i++) wv[i] = LOAD(wk + VEC * i);                                   \
            for (int j = 0; j < nc; j++) {                                                             \
                const float s = h[j][k];                                                               \
                for (int i = 0; i < nv; i++) a[j][i] += wv[i] * s;                                     \
            }                                                                                          \
        }                                                                                              \
        for (int j = 0; j < nc; j++)                                                                   \
            for (int i = 0; i < nv; i++) *(vf *)(acc[j] + VEC * i) = a[j][i];                          \
    }

BLOCK_PRODUCT(block_product_f32, float, load_f32)

/* bfloat16 weights in the pair layout: a 32-bit lane holds k (low half) and k + 1 (high half) of
 * one row; a bfloat16 is the top half of a float32, so shifting the low half up, or masking the
 * low half off, gives the two float32 weights. Products and sums are float32. */
static inline __attribute__((always_inline)) void block_product_bf16(const uint16_t *restrict w, int K, int nv, int nc,
                                                                     const float *const *hcol, float *const *acc) {
    vf a[COL_CHUNK][GROUP_VECS];
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nv; i++) a[j][i] = *(const vf *)(acc[j] + VEC * i);
    const int pairs = K / BF16_K_GROUP;
    for (int k2 = 0; k2 < pairs; k2++) {
        const uint16_t *wk = w + (size_t)k2 * nv * VEC * BF16_K_GROUP;
        vf w0[GROUP_VECS], w1[GROUP_VECS];
        for (int i = 0; i < nv; i++) {
            PREFETCH_AHEAD(wk + VEC * BF16_K_GROUP * i);
            const u32v raw = *(const u32v *)(wk + VEC * BF16_K_GROUP * i);
            w0[i] = (vf)(raw << 16);
            w1[i] = (vf)(raw & 0xFFFF0000u);
        }
        for (int j = 0; j < nc; j++) {
            const float s0 = hcol[j][2 * k2], s1 = hcol[j][2 * k2 + 1];
            for (int i = 0; i < nv; i++) a[j][i] += w0[i] * s0 + w1[i] * s1;
        }
    }
    if (K % BF16_K_GROUP) { /* the last k alone: h beyond K is not read */
        const uint16_t *wk = w + (size_t)pairs * nv * VEC * BF16_K_GROUP;
        for (int i = 0; i < nv; i++) {
            const vf w0 = (vf)(*(const u32v *)(wk + VEC * BF16_K_GROUP * i) << 16);
            for (int j = 0; j < nc; j++) a[j][i] += w0 * hcol[j][K - 1];
        }
    }
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nv; i++) *(vf *)(acc[j] + VEC * i) = a[j][i];
}

/* Columns of the next chunk when `left` remain: the chunks of COL_CHUNK or fewer are made as even as
 * possible (25 columns: 4,4,4,4,3,3,3, not six of 4 and one of 1: a chunk of one column has too few
 * independent sums to keep the FMA units busy). */
static inline int chunk_columns(int left) {
    const int chunks = (left + COL_CHUNK - 1) / COL_CHUNK;
    return (left + chunks - 1) / chunks;
}

#define CASE_NC_X(BLOCK, NV, NC, ...) \
    case NC: BLOCK(wg, K, NV, NC, __VA_ARGS__); break;
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

/* The loop of one tile use over the row groups of a tile of WT (element type code DTYPE) at w and
 * its columns in chunks of COL_CHUNK (chunk_columns): for each, wg (the group's weights), nv (its
 * vectors), nc (the chunk's columns), j0 (its first column), g0 (the group's first row) and acc_g
 * (acc shifted to the group) are set and the block product BLOCK(wg, K, nv, nc, ...) runs with the
 * remaining arguments (compile-time nv and nc, see SWITCH_NV). */
#define FOR_GROUPS_AND_CHUNKS(WT, DTYPE, BLOCK, ...)                                                    \
    float *acc_g[MAX_COLS];                                                                             \
    for (int g0 = 0; g0 < rows; g0 += GROUP_ROWS) {                                                     \
        int nv = (rows - g0) / VEC;                                                                     \
        if (nv > GROUP_VECS) nv = GROUP_VECS;                                                           \
        const WT *wg = w + tile_group_at(DTYPE, K, g0);                                                 \
        for (int j0 = 0, nc; j0 < ncols; j0 += nc) {                                                    \
            nc = chunk_columns(ncols - j0);                                                             \
            for (int j = 0; j < nc; j++) acc_g[j0 + j] = acc[j0 + j] + g0;                              \
            SWITCH_NV(BLOCK, __VA_ARGS__)                                                               \
        }                                                                                               \
    }

/* One tile use of float32 or bfloat16 weights: all row groups, all columns in chunks of COL_CHUNK. */
#define TILE_PRODUCT(NAME, ATTR, WT, BLOCK, DTYPE)                                                      \
    ATTR HOT_ALIGN void NAME(const void *wv, int K, int rows, int ncols, const float *const *hcol,      \
                             float *const *acc) {                                                       \
        const WT *w = (const WT *)wv;                                                                   \
        FOR_GROUPS_AND_CHUNKS(WT, DTYPE, BLOCK, hcol + j0, acc_g + j0)                                  \
    }

/* int8 weights, h kept in float: each 32-bit lane holds four k of one row; shifting byte q to the
 * top and back (arithmetic) sign-extends it, which is converted to float and multiplied as usual.
 * The partial sums start at zero and are scaled by the rows' scales once, at the end. */
static inline __attribute__((always_inline)) void block_product_i8(const int8_t *restrict w, int K, int nv, int nc,
                                                                   const float *const *hcol, float *const *acc,
                                                                   const float *scale) {
    vf a[COL_CHUNK][GROUP_VECS];
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nv; i++) a[j][i] = (vf){0};
    const int full = K / INT8_K_GROUP, K4 = (K + INT8_K_GROUP - 1) / INT8_K_GROUP;
    for (int k4 = 0; k4 < K4; k4++) {
        const int8_t *wk = w + (size_t)k4 * nv * VEC * INT8_K_GROUP;
        i32v raw[GROUP_VECS];
        for (int i = 0; i < nv; i++) PREFETCH_AHEAD(wk + VEC * INT8_K_GROUP * i);
        for (int i = 0; i < nv; i++) raw[i] = *(const i32v *)(wk + VEC * INT8_K_GROUP * i);
        const int nq = k4 < full ? INT8_K_GROUP : K - INT8_K_GROUP * k4; /* h beyond K is not read */
        for (int q = 0; q < nq; q++) {
            vf wv[GROUP_VECS];
            for (int i = 0; i < nv; i++) wv[i] = __builtin_convertvector((raw[i] << (24 - 8 * q)) >> 24, vf);
            for (int j = 0; j < nc; j++) {
                const float s = hcol[j][INT8_K_GROUP * k4 + q];
                for (int i = 0; i < nv; i++) a[j][i] += wv[i] * s;
            }
        }
    }
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nv; i++) *(vf *)(acc[j] + VEC * i) += a[j][i] * *(const vf *)(scale + VEC * i);
}

/* One tile use of int8 weights on float activations, scaled by the tile's row scales. */
#define TILE_PRODUCT_I8(NAME, ATTR)                                                                     \
    ATTR HOT_ALIGN void NAME(const void *wv, int K, int rows, int ncols, const float *const *hcol,      \
                             float *const *acc) {                                                       \
        const int8_t *w = (const int8_t *)wv;                                                           \
        const float *scale = int8_tile_scales(w, K, rows);                                              \
        FOR_GROUPS_AND_CHUNKS(int8_t, DTYPE_INT8, block_product_i8, hcol + j0, acc_g + j0, scale + g0)  \
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
 * pointwise_SUFFIX_{lstm,gru,gru_rb}, compiled with ATTR (a target attribute, or nothing). */
#define DEFINE_ISA_KERNELS(SUFFIX, ATTR)                                 \
    TILE_PRODUCT(tile_f32_##SUFFIX, ATTR, float, block_product_f32, DTYPE_F32) \
    TILE_PRODUCT(tile_bf16_##SUFFIX, ATTR, uint16_t, block_product_bf16, DTYPE_BF16) \
    TILE_PRODUCT_I8(tile_i8_##SUFFIX, ATTR)                              \
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
