/*
 * tsilstm native kernel: executes the periodic body of a tsilstm.plan Program (tsi, conventional,
 * snake, pinned, tsi-pinned) for one direction of one LSTM or GRU layer, multi-threaded.
 *
 * This file is the one definition of the kernel's layout: the constants and codes below are
 * exported to Python (module attributes and block_layout()), and tsilstm/runtime/packing.py builds
 * the buffers from them; everything is checked here again before anything runs.
 *
 * Layout contract:
 *   ops      int64 [n_ops][OP_FIELDS] per thread, concatenated; op_start[p] .. op_start[p+1] are
 *            thread p's ops. Fields: kind, row, col, step offset, nsteps, weight offset (elements).
 *   weights  packed W_h / W_hr (float32, bfloat16 or int8), 64-byte aligned; a float tile (rows
 *            padded to VEC, K columns) is stored as groups of up to GROUP_ROWS rows, each group
 *            [K][group rows] (column-major inside the group), so one use reads the tile as one
 *            sequential stream; int8 tiles as described at INT8_K_GROUP below.
 *   Row-block layout (block_layout): the gate rows of row-block r (br units) are gate-grouped. For
 *            the standard cells gate g starts at g*br and a block has pad(G*br) rows; for the
 *            original-form GRU (VARIANT_RESET_BEFORE) gate g starts at g*pad(b) and a block has
 *            3*pad(b) rows, so the reset, update and candidate rows can be accumulated apart.
 *   x        float32 [T][N][X]: the layer input.
 *   wx       float32 or int8 (input_weight_dtype), 64-byte aligned: W_ih tiles (r, xc), rows in the
 *            row-block layout, at xoff[r][xc] (elements).
 *   bias_x   float32 [R][RP]: gate-grouped b_ih (+ b_hh for LSTM) of each row-block.
 *   Each thread first hoists the input part of its own row-blocks for all steps,
 *   gx[t][r][n][RP] = W_ih x_t + bias_x (the same tile product, every step as a column), then
 *   runs the sweeps; only the owner of a row-block reads its gx, so no barrier is needed.
 *   bias_h   float32 [R][RP]: what the recurrent partial sums of a row-block start from
 *            (zeros for LSTM, gate-grouped b_hh for GRU).
 *   h0       float32 [N][P];  y float32 [T][N][P] (written);  c float32 [N][H] (LSTM, in/out).
 *
 * Original-form GRU (n = tanh(W_in x + W_hn (r * h_{t-1}) + b_hn)): each step runs in two passes.
 * OP_USE_R applies a tile of the reset-gate rows (pad(br) rows) to h_{t-1}; OP_RESET computes r_t
 * of a row-block and publishes r_t * h_{t-1} of its units (counter rprog); OP_USE_ZN applies a
 * tile's update rows to h_{t-1} and its candidate rows (stored after them, pad(br) rows each) to
 * r_t * h_{t-1}, which needs the reset of column block c for the same step.
 *
 * Threads: row-blocks are dealt to threads by the caller (the op lists); each row-block r carries
 * a progress counter "m finished for steps < value" (and, with a projection, each projection
 * row-block one for h). A use of tile (r, c) for steps t0..t1-1 waits (acquire) until column block
 * c is finished up to step t1-2; a finish publishes (release). The GIL is released while it runs.
 */
#define _GNU_SOURCE /* CPU_SET and pthread_setaffinity_np, for the pool's worker pinning */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 8          /* step slots of the partial-sum, m and r*h rings */
#define MAX_BODY_SPAN (RING / 2) /* steps one body instance may touch, so a ring slot is never
                                    reused while a step in flight still accumulates into it */
#define VEC 16          /* floats per vector register block (one 512-bit register) */
#define GROUP_VECS 4    /* vectors per row group: GROUP_ROWS rows of a tile are applied together */
#define GROUP_ROWS (GROUP_VECS * VEC)
#define COL_CHUNK 4     /* product columns (step x batch) applied together */
#define MAX_BATCH 64    /* sequences one call takes (the column arrays hold 2 steps x MAX_BATCH) */
#define MAX_COLS 512    /* columns of one tile product: a use has 2 steps x batch <= 2 * MAX_BATCH,
                           the input hoisting applies a tile to this many (step, sequence) columns */
#define MAX_TILE 1024   /* largest tile (units) */
#define ALIGN_BYTES 64  /* alignment of the weight buffers (a cache line) */
#define OP_FIELDS 6
#define SPINS_BEFORE_YIELD 256
/* The tile products ask for the weights this many bytes ahead of the row group they read (a tile
 * is one sequential stream, and the next tile of a thread follows it), one prefetch per cache line
 * read, so the stream from memory overlaps the products. Measured on a 2-vCPU Xeon (AVX-512, 2 MiB
 * L2), tsi, 2 threads: LSTM 2048 batch 4 1.87 -> 1.59 ms per step, GRU 2560 batch 4 2.10 -> 1.70,
 * LSTM 2048 batch 1 1.08 -> 0.96; 2, 4, 8 and 16 KiB ahead were alike within the noise. */
#define PREFETCH_BYTES 4096
#define PREFETCH_AHEAD(P) __builtin_prefetch((const char *)(P) + PREFETCH_BYTES, 0, 3)

enum { OP_USE_H = 0, OP_USE_P = 1, OP_FINISH = 2, OP_PROJECT = 3, OP_USE_R = 4, OP_RESET = 5, OP_USE_ZN = 6 };
enum { CELL_LSTM = 0, CELL_GRU = 1 };
/* Activation functions of a general cell (ONNX's list; tsilstm/activations.py documents them). */
enum { ACT_SIGMOID = 0, ACT_TANH = 1, ACT_RELU = 2, ACT_AFFINE = 3, ACT_LEAKY_RELU = 4, ACT_THRESHOLDED_RELU = 5,
       ACT_SCALED_TANH = 6, ACT_HARD_SIGMOID = 7, ACT_ELU = 8, ACT_SOFTSIGN = 9, ACT_SOFTPLUS = 10, ACT_COUNT = 11 };
static const char *const ACTIVATION_NAMES[ACT_COUNT] = {
    "sigmoid", "tanh", "relu", "affine", "leaky_relu", "thresholded_relu", "scaled_tanh", "hard_sigmoid", "elu",
    "softsign", "softplus"};
#define CELL_ACTIVATIONS 3 /* LSTM: f (i, f, o gates), g (candidate), h (output); GRU: f (r, z), g */
enum { VARIANT_STANDARD = 0, VARIANT_RESET_BEFORE = 1 };
/* Instruction sets, each including the ones before it. avx512_vnni only changes int8 weights: their
 * products with h_{t-1} and x_t become integer dot products (vpdpbusd) on h and x quantized per
 * step. amx (AMX-BF16 and AMX-INT8 tiles, granted by the kernel to this process) only changes the
 * hoisted input product of bfloat16 weights: x_t split into two bfloat16 (hi + lo) times bfloat16
 * W_ih in tile dot products (tdpbf16ps). */
enum { ISA_GENERIC = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_AVX512_VNNI = 3, ISA_AMX = 4, ISA_COUNT = 5 };
static const char *const ISA_NAMES[ISA_COUNT] = {"generic", "avx2", "avx512", "avx512_vnni", "amx"};
enum { DTYPE_F32 = 0, DTYPE_BF16 = 1, DTYPE_INT8 = 2, DTYPE_COUNT = 3 }; /* packed weight element types */
static const char *const DTYPE_NAMES[DTYPE_COUNT] = {"float32", "bfloat16", "int8"};
static const int DTYPE_BYTES[DTYPE_COUNT] = {4, 2, 1};
/* int8 tiles. A tile of `rows` rows (a multiple of VEC) and K columns is stored as
 *   groups of up to GROUP_ROWS rows, each [K4][group rows][INT8_K_GROUP] int8 (K4 = ceil(K / 4): the
 *   four consecutive k of a row share one 32-bit lane; k beyond K are zero), then
 *   float32 scale[rows]: weight = int8 * scale (symmetric, per row of the tile), then
 *   int32 offset[rows] = INT8_ACT_OFFSET * (sum of the row's int8 weights).
 * h and x quantized for the integer paths are stored as uint8 q + INT8_ACT_OFFSET (q in -127..127);
 * the integer products subtract the row's offset, so sum((q + 128) * w) - offset = sum(q * w). The
 * offsets are computed once, when the tile is packed (computing them alongside each product cost a
 * fifth of the product at batch 4: LSTM 2048 tsi 0.47 -> 0.38 ms per step without it). Every int8
 * tile is a multiple of 64 bytes. */
#define INT8_K_GROUP 4
#define INT8_ACT_OFFSET 128
#define INT8_TILE_ALIGN 64 /* offsets of int8 tiles (bytes) are multiples of this */
#define INT8_ROW_TRAILER_BYTES 8 /* after an int8 tile's groups, per row: the float32 scale and the int32 offset */
/* bfloat16 tiles: groups of up to GROUP_ROWS rows, each [K2][group rows][BF16_K_GROUP] (two
 * consecutive k of a row in one 32-bit lane, the pair layout of AMX's bf16 tiles; K2 = ceil(K / 2),
 * an odd K's last pair padded with a zero weight). */
#define BF16_K_GROUP 2
#define BF16_K_PAD 32 /* k of one AMX bf16 tile load (64 bytes of a row) */
#define INT8_K_PAD 64 /* k of one AMX int8 tile load; quantized activation blocks are padded to it */
/* An AMX weight load takes 16 rows of 64 bytes (32 k of bfloat16, 64 k of int8), so near the end of
 * a tile it reads up to this many bytes past it: a low-precision W_ih buffer ends in that many zeros.
 * What it reads there meets activations that are zero (the activation blocks are zero-padded) and
 * weights are finite, so it adds exact zeros. */
#define AMX_OVERREAD_BYTES (16 * GROUP_ROWS * 4)

/* Elements (of the weight type) one tile of `rows` x K occupies in the packed weights. */
static inline size_t tile_elements(int dtype, int K, int rows) {
    if (dtype == DTYPE_INT8)
        return (size_t)(K + INT8_K_GROUP - 1) / INT8_K_GROUP * INT8_K_GROUP * rows + INT8_ROW_TRAILER_BYTES * (size_t)rows;
    if (dtype == DTYPE_BF16) return (size_t)(K + BF16_K_GROUP - 1) / BF16_K_GROUP * BF16_K_GROUP * rows;
    return (size_t)K * rows;
}

typedef float vf __attribute__((vector_size(64)));

typedef struct {
    _Alignas(64) _Atomic long value;
    char pad[64 - sizeof(long)];
} counter_t;

typedef void (*tile_fn_t)(const void *w, int K, int rows, int ncols, const float *const *hcol,
                          float *const *acc);

/* ---------------------------------------------------------------- tile product (microkernel) */

typedef uint32_t u32v __attribute__((vector_size(64)));

static inline int imin(int a, int b) { return a < b ? a : b; }

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

#define CASE_NC(BLOCK, NV, NC) \
    case NC: BLOCK(wg, K, NV, NC, hcol + j0, acc_g + j0); break;
#define CASE_NV(BLOCK, NV)                                                                                   \
    case NV:                                                                                                 \
        switch (nc) { CASE_NC(BLOCK, NV, 1) CASE_NC(BLOCK, NV, 2) CASE_NC(BLOCK, NV, 3) CASE_NC(BLOCK, NV, 4) } \
        break;

/* One tile use: all row groups, all columns in chunks of COL_CHUNK. */
#define TILE_PRODUCT(NAME, ATTR, WT, BLOCK, KSTORED)                                          \
    ATTR static void NAME(const void *wv, int K, int rows, int ncols, const float *const *hcol, \
                          float *const *acc) {                                                \
        const WT *w = (const WT *)wv;                                                         \
        float *acc_g[MAX_COLS];                                                               \
        for (int g0 = 0; g0 < rows; g0 += GROUP_VECS * VEC) {                                 \
            int nv = (rows - g0) / VEC;                                                       \
            if (nv > GROUP_VECS) nv = GROUP_VECS;                                             \
            const WT *wg = w + (size_t)g0 * (KSTORED);                                        \
            for (int j0 = 0, nc; j0 < ncols; j0 += nc) {                                      \
                nc = chunk_columns(ncols - j0);                                               \
                for (int j = 0; j < nc; j++) acc_g[j0 + j] = acc[j0 + j] + g0;                \
                switch (nv) { CASE_NV(BLOCK, 1) CASE_NV(BLOCK, 2) CASE_NV(BLOCK, 3) CASE_NV(BLOCK, 4) } \
            }                                                                                 \
        }                                                                                     \
    }


#define BF16_K_STORED ((K + BF16_K_GROUP - 1) / BF16_K_GROUP * BF16_K_GROUP)
TILE_PRODUCT(tile_product_generic, , float, block_product_f32, K)
TILE_PRODUCT(tile_product_bf16_generic, , uint16_t, block_product_bf16, BF16_K_STORED)
#if defined(__x86_64__) || defined(__i386__)
TILE_PRODUCT(tile_product_avx2, __attribute__((target("avx2,fma"))), float, block_product_f32, K)
TILE_PRODUCT(tile_product_avx512, __attribute__((target("avx512f,fma"))), float, block_product_f32, K)
TILE_PRODUCT(tile_product_bf16_avx2, __attribute__((target("avx2,fma"))), uint16_t, block_product_bf16, BF16_K_STORED)
TILE_PRODUCT(tile_product_bf16_avx512, __attribute__((target("avx512f,fma"))), uint16_t, block_product_bf16, BF16_K_STORED)
#endif

/* int8 weights, h kept in float: each 32-bit lane holds four k of one row; shifting byte q to the
 * top and back (arithmetic) sign-extends it, which is converted to float and multiplied as usual.
 * The partial sums start at zero and are scaled by the rows' scales once, at the end. */
typedef int32_t i32v __attribute__((vector_size(64)));

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

#define TILE_PRODUCT_I8(NAME, ATTR)                                                                      \
    ATTR static void NAME(const void *wv, int K, int rows, int ncols, const float *const *hcol,         \
                          float *const *acc) {                                                          \
        const int8_t *w = (const int8_t *)wv;                                                           \
        const size_t K4 = (size_t)(K + INT8_K_GROUP - 1) / INT8_K_GROUP;                                 \
        const float *scale = (const float *)(w + K4 * INT8_K_GROUP * rows);                             \
        float *acc_g[MAX_COLS];                                                                         \
        for (int g0 = 0; g0 < rows; g0 += GROUP_ROWS) {                                                 \
            int nv = (rows - g0) / VEC;                                                                 \
            if (nv > GROUP_VECS) nv = GROUP_VECS;                                                       \
            const int8_t *wg = w + (size_t)g0 * K4 * INT8_K_GROUP;                                      \
            for (int j0 = 0, nc; j0 < ncols; j0 += nc) {                                                \
                nc = chunk_columns(ncols - j0);                                                         \
                for (int j = 0; j < nc; j++) acc_g[j0 + j] = acc[j0 + j] + g0;                          \
                SWITCH_NV(block_product_i8, hcol + j0, acc_g + j0, scale + g0)                          \
            }                                                                                           \
        }                                                                                               \
    }

TILE_PRODUCT_I8(tile_product_i8_generic, )
#if defined(__x86_64__) || defined(__i386__)
TILE_PRODUCT_I8(tile_product_i8_avx2, __attribute__((target("avx2,fma"))))
TILE_PRODUCT_I8(tile_product_i8_avx512, __attribute__((target("avx512f,fma"))))
#endif

/* int8 weights times h quantized per step (uint8 q + INT8_ACT_OFFSET, one scale per sequence and
 * column block): exact int32 dot products of four k at a time (vpdpbusd), then
 * acc += (sum - the row's offset) * weight scale * h scale. hq rows are padded with INT8_ACT_OFFSET to a
 * multiple of four k, where the weights are zero. */
typedef void (*tile_q_fn_t)(const void *w, int K, int rows, int ncols, const uint8_t *const *hq, const float *hs,
                            float *const *acc);

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni,fma")))
static inline __attribute__((always_inline)) VNNI_TARGET void block_product_vnni(
    const int8_t *restrict w, int K, int nv, int nc, const uint8_t *const *hq, const float *hs, float *const *acc,
    const float *scale, const int32_t *offsets) {
    __m512i a[COL_CHUNK][GROUP_VECS];
    for (int j = 0; j < nc; j++)
        for (int i = 0; i < nv; i++) a[j][i] = _mm512_setzero_si512();
    const int K4 = (K + INT8_K_GROUP - 1) / INT8_K_GROUP;
    for (int k4 = 0; k4 < K4; k4++) {
        const int8_t *wk = w + (size_t)k4 * nv * VEC * INT8_K_GROUP;
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

static VNNI_TARGET void tile_product_vnni(const void *wv, int K, int rows, int ncols, const uint8_t *const *hq,
                                          const float *hs, float *const *acc) {
    const int8_t *w = (const int8_t *)wv;
    const size_t K4 = (size_t)(K + INT8_K_GROUP - 1) / INT8_K_GROUP;
    const float *scale = (const float *)(w + K4 * INT8_K_GROUP * rows);
    const int32_t *offsets = (const int32_t *)(scale + rows);
    float *acc_g[MAX_COLS];
    for (int g0 = 0; g0 < rows; g0 += GROUP_ROWS) {
        int nv = (rows - g0) / VEC;
        if (nv > GROUP_VECS) nv = GROUP_VECS;
        const int8_t *wg = w + (size_t)g0 * K4 * INT8_K_GROUP;
        for (int j0 = 0, nc; j0 < ncols; j0 += nc) {
            nc = chunk_columns(ncols - j0);
            for (int j = 0; j < nc; j++) acc_g[j0 + j] = acc[j0 + j] + g0;
            SWITCH_NV(block_product_vnni, hq + j0, hs + j0, acc_g + j0, scale + g0, offsets + g0)
        }
    }
}
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define ARCH_REQ_XCOMP_PERM 0x1023 /* Linux arch_prctl: ask for an extended state component */
#define XFEATURE_XTILEDATA 18      /* the AMX tile data */
#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16,amx-int8,avx512f,avx512bw,avx512vnni,fma")))

/* AMX-TILE, AMX-BF16 and AMX-INT8 present (CPUID.7.0:EDX bits 24, 22, 25) and the tile data granted
 * to this process by the kernel (Linux >= 5.16 asks each process to request it). */
static int amx_usable(void) {
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
    const int KS = BF16_K_STORED;
    float out[GROUP_VECS][16][16] __attribute__((aligned(64)));
    for (int g0 = 0; g0 < rows; g0 += GROUP_ROWS) {
        const int nv = imin((rows - g0) / VEC, GROUP_VECS);
        const uint16_t *wg = w + (size_t)g0 * KS;
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
    const size_t K4 = (size_t)(K + INT8_K_GROUP - 1) / INT8_K_GROUP;
    const float *scale = (const float *)(w + K4 * INT8_K_GROUP * rows);
    const int32_t *corr = (const int32_t *)(scale + rows);
    int32_t out[GROUP_VECS][16][16] __attribute__((aligned(64)));
    for (int g0 = 0; g0 < rows; g0 += GROUP_ROWS) {
        const int nv = imin((rows - g0) / VEC, GROUP_VECS);
        const int8_t *wg = w + (size_t)g0 * K4 * INT8_K_GROUP;
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
#endif

/* f as bfloat16, rounded to nearest even (NaN stays NaN; a value that would round past the
 * largest bfloat16 is cut instead, so no finite value becomes infinite). */
static inline uint16_t bf16_round(float f) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    if (f != f) return 0x7FC0;
    if ((bits & 0x7FFFFFFFu) >= 0x7F7F8000u) return (uint16_t)(bits >> 16);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

static inline float bf16_value(uint16_t h) {
    const uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int best_isa_found = -1;

static int best_isa(void) {
    if (best_isa_found >= 0) return best_isa_found;
    int isa = ISA_GENERIC;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = ISA_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) isa = ISA_AVX512;
    if (isa == ISA_AVX512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni")) isa = ISA_AVX512_VNNI;
    if (isa == ISA_AVX512_VNNI && amx_usable()) isa = ISA_AMX;
#endif
    best_isa_found = isa;
    return isa;
}

/* The tile product of float h (or m) for weights of `dtype` on `isa`. */
static tile_fn_t tile_fn_for(int isa, int dtype) {
#if defined(__x86_64__) || defined(__i386__)
    if (isa >= ISA_AVX512)
        return dtype == DTYPE_BF16 ? tile_product_bf16_avx512 : dtype == DTYPE_INT8 ? tile_product_i8_avx512 : tile_product_avx512;
    if (isa == ISA_AVX2)
        return dtype == DTYPE_BF16 ? tile_product_bf16_avx2 : dtype == DTYPE_INT8 ? tile_product_i8_avx2 : tile_product_avx2;
#endif
    return dtype == DTYPE_BF16 ? tile_product_bf16_generic : dtype == DTYPE_INT8 ? tile_product_i8_generic : tile_product_generic;
}

/* The integer tile product on quantized h, or NULL where `isa` / `dtype` has none. */
static tile_q_fn_t tile_q_fn_for(int isa, int dtype) {
#if defined(__x86_64__) || defined(__i386__)
    if (isa >= ISA_AVX512_VNNI && dtype == DTYPE_INT8) return tile_product_vnni;
#endif
    (void)isa;
    (void)dtype;
    return NULL;
}

/* ---------------------------------------------------------------- cell updates */

/* exp(x) for float, branch-free so loops over it vectorise: Cody-Waite range reduction and the
 * degree-5 minimax polynomial of Cephes expf (relative error ~2 ulp). x is clamped to
 * [-87.3, 88.0] (results stay normal and finite; sigmoid/tanh saturate there anyway); NaN stays
 * NaN: the clamps are comparisons that are false for NaN, and 2^n is built from the bits of the
 * rounded value with integer arithmetic only. */
static inline __attribute__((always_inline)) float exp_approx(float x) {
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.3f ? -87.3f : x;
    const float shifted = x * 1.44269504088896341f + 12582912.0f; /* 1.5 * 2^23: round to integer */
    const float n = shifted - 12582912.0f;
    uint32_t bits; /* unsigned: the arithmetic below wraps (defined) for NaN's bit pattern */
    memcpy(&bits, &shifted, sizeof bits);
    const uint32_t pow2_bits = (bits - 0x4B400000u + 127u) << 23;
    float pow2;
    memcpy(&pow2, &pow2_bits, sizeof pow2);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    return p * pow2;
}

/* Below -87.3 exp_approx(-x) is clamped (finite), so 1 / (1 + e) would stay ~1e-38 where the exact
 * sigmoid is 0 (or a denormal): a GRU update gate that small times a state near the float32 limit
 * would then add ~1 instead of ~0. The select keeps the loop vectorisable and NaN propagating. */
static inline __attribute__((always_inline)) float sigmoid_f(float x) {
    const float s = 1.0f / (1.0f + exp_approx(-x));
    return x < -87.0f ? 0.0f : s;
}

static inline __attribute__((always_inline)) float tanh_f(float x) {
    return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f);
}

/* ---------------------------------------------------------------- general cells */

/* The options of an ONNX / Keras cell beyond PyTorch's: activations with parameters, clip of every
 * activation's input, coupled input and forget gates, peepholes. Element by element, not vectorised:
 * only cells that use them take this path. */
typedef struct {
    int code[CELL_ACTIVATIONS];
    float alpha[CELL_ACTIVATIONS], beta[CELL_ACTIVATIONS];
    float clip; /* 0: none */
    int input_forget;
    const float *peep; /* [3][H]: i, f, o rows, or NULL */
} cell_options_t;

/* Activation slot k of x; clip bounds the input of the gate activations (slots 0 and 1), not the
 * LSTM output activation h(c_t) (slot 2), as ONNX Runtime computes it. */
static float activate(const cell_options_t *o, int k, float x) {
    if (o->clip > 0.0f && k < 2) x = x > o->clip ? o->clip : (x < -o->clip ? -o->clip : x);
    const float a = o->alpha[k], b = o->beta[k];
    switch (o->code[k]) {
    case ACT_SIGMOID: return sigmoid_f(x);
    case ACT_TANH: return tanh_f(x);
    case ACT_RELU: return x > 0.0f ? x : 0.0f;
    case ACT_AFFINE: return a * x + b;
    case ACT_LEAKY_RELU: return x >= 0.0f ? x : a * x;
    case ACT_THRESHOLDED_RELU: return x >= a ? x : 0.0f;
    case ACT_SCALED_TANH: return a * tanh_f(b * x);
    case ACT_HARD_SIGMOID: {
        const float v = a * x + b;
        return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    }
    case ACT_ELU: return x >= 0.0f ? x : a * expm1f(x);
    case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    default: return x > 20.0f ? x + log1pf(expf(-x)) : log1pf(expf(x)); /* ACT_SOFTPLUS, no overflow */
    }
}

/* LSTM update of br units with general options; u0 is the row-block's first unit (peepholes). */
static void general_lstm(const cell_options_t *o, int br, int u0, int H, const float *gx, const float *acc,
                         float *c, float *m) {
    const float *p = o->peep;
    for (int u = 0; u < br; u++) {
        const float cp = c[u];
        float gi = gx[u] + acc[u], gf = gx[br + u] + acc[br + u];
        const float gg = gx[2 * br + u] + acc[2 * br + u];
        float go = gx[3 * br + u] + acc[3 * br + u];
        if (p) {
            gi += p[u0 + u] * cp;
            gf += p[H + u0 + u] * cp;
        }
        const float i = activate(o, 0, gi);
        const float f = o->input_forget ? 1.0f - i : activate(o, 0, gf);
        const float cn = f * cp + i * activate(o, 1, gg);
        if (p) go += p[2 * H + u0 + u] * cn;
        c[u] = cn;
        m[u] = activate(o, 0, go) * activate(o, 2, cn);
    }
}

/* GRU update with general options: gates gs apart; reset_before: acc's candidate rows hold
 * W_hn (r * h) + b_hn already, else the reset gate scales them here. */
static void general_gru(const cell_options_t *o, int reset_before, int br, int gs, const float *gx,
                        const float *acc, const float *hp, float *h) {
    for (int u = 0; u < br; u++) {
        const float z = activate(o, 0, gx[gs + u] + acc[gs + u]);
        const float candidate_h = reset_before ? acc[2 * gs + u] : activate(o, 0, gx[u] + acc[u]) * acc[2 * gs + u];
        const float n = activate(o, 1, gx[2 * gs + u] + candidate_h);
        h[u] = (1.0f - z) * n + z * hp[u];
    }
}

/* LSTM update of br units: gate pre-activations gx + acc (gate-grouped, br apart), c in place, m out. */
#define POINTWISE(NAME, ATTR)                                                                          \
    ATTR static void NAME##_lstm(int br, const float *restrict gx, const float *restrict acc,          \
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
    ATTR static void NAME##_gru(int br, const float *restrict gx, const float *restrict acc,           \
                                const float *restrict hp, float *restrict h) {                         \
        for (int u = 0; u < br; u++) {                                                                 \
            float rg = sigmoid_f(gx[u] + acc[u]);                                                      \
            float zg = sigmoid_f(gx[br + u] + acc[br + u]);                                            \
            float ng = tanh_f(gx[2 * br + u] + rg * acc[2 * br + u]);                                  \
            h[u] = (1.0f - zg) * ng + zg * hp[u];                                                      \
        }                                                                                              \
    }                                                                                                  \
    /* original-form GRU: gates gs apart; acc's candidate rows already hold W_hn (r * h) + b_hn */      \
    ATTR static void NAME##_gru_rb(int br, int gs, const float *restrict gx, const float *restrict acc, \
                                   const float *restrict hp, float *restrict h) {                      \
        for (int u = 0; u < br; u++) {                                                                 \
            float zg = sigmoid_f(gx[gs + u] + acc[gs + u]);                                            \
            float ng = tanh_f(gx[2 * gs + u] + acc[2 * gs + u]);                                       \
            h[u] = (1.0f - zg) * ng + zg * hp[u];                                                      \
        }                                                                                              \
    }

typedef void (*lstm_fn_t)(int, const float *, const float *, float *, float *);
typedef void (*gru_fn_t)(int, const float *, const float *, const float *, float *);
typedef void (*gru_rb_fn_t)(int, int, const float *, const float *, const float *, float *);

POINTWISE(pointwise_generic, )
#if defined(__x86_64__) || defined(__i386__)
POINTWISE(pointwise_avx2, __attribute__((target("avx2,fma"))))
POINTWISE(pointwise_avx512, __attribute__((target("avx512f,fma"))))
#endif

static lstm_fn_t lstm_fn_for(int isa) {
#if defined(__x86_64__) || defined(__i386__)
    if (isa >= ISA_AVX512) return pointwise_avx512_lstm;
    if (isa == ISA_AVX2) return pointwise_avx2_lstm;
#endif
    return pointwise_generic_lstm;
}

static gru_fn_t gru_fn_for(int isa) {
#if defined(__x86_64__) || defined(__i386__)
    if (isa >= ISA_AVX512) return pointwise_avx512_gru;
    if (isa == ISA_AVX2) return pointwise_avx2_gru;
#endif
    return pointwise_generic_gru;
}

static gru_rb_fn_t gru_rb_fn_for(int isa) {
#if defined(__x86_64__) || defined(__i386__)
    if (isa >= ISA_AVX512) return pointwise_avx512_gru_rb;
    if (isa == ISA_AVX2) return pointwise_avx2_gru_rb;
#endif
    return pointwise_generic_gru_rb;
}

static inline int pad_vec(int n) { return (n + VEC - 1) / VEC * VEC; }

/* The row-block layout (see the header): where gate g of a row-block of br units starts
 * (*gate_stride * g) and how many rows its vectors and W_ih tiles have (*rows), for a layer cut
 * into tiles of b units. */
static void block_layout(int gates, int variant, int b, int br, int *gate_stride, int *rows) {
    if (variant == VARIANT_RESET_BEFORE) {
        *gate_stride = pad_vec(b);
        *rows = gates * pad_vec(b);
    } else {
        *gate_stride = br;
        *rows = pad_vec(gates * br);
    }
}

/* ---------------------------------------------------------------- profiling */

/* With profiling on (set_profiling(True); off by default, then nothing is timed), every call
 * records where each thread's time went, in nanoseconds (CLOCK_MONOTONIC): the hoisted input
 * product, the cell updates (finish, reset and projection ops), the waits for other threads'
 * progress, and the whole thread; the tile products of the sweeps are the rest. Plus the
 * caller's preparation before the threads start (quantizing or splitting x). The figures are
 * summed by thread index over every profiled call (of any caller) until take_profile() reads and
 * clears them. */
enum { PROFILE_HOIST, PROFILE_UPDATE, PROFILE_WAIT, PROFILE_TOTAL, PROFILE_FIELDS };
#define MAX_PROFILED_THREADS 256
static _Atomic int profiling = 0;
static pthread_mutex_t profile_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t profile_sums[MAX_PROFILED_THREADS][PROFILE_FIELDS];
static int64_t profile_prepare_ns, profile_calls;
static int profile_threads; /* the most threads a profiled call had */

static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------- the job */

typedef struct {
    int cell, variant, H, P, proj, N, T, b, G, GS, R, PR, RP, RPp, nthreads, X, XC;
    long period, k_first, k_last;
    const int64_t *ops;
    const int64_t *op_start;
    const char *w; /* packed W_h / W_hr tiles, w_elem bytes per weight */
    size_t w_elem;
    const char *wx; /* packed W_ih tiles, wx_elem bytes per weight */
    size_t wx_elem;
    int wx_dtype;
    const float *x, *bias_x, *bias_h, *h0;
    const int64_t *xoff;
    float *gx, *y, *c, *acc, *accp, *mring, *rhring;
    counter_t *mprog, *hprog, *rprog;
    int w_dtype;
    tile_fn_t tile_fn;   /* for the recurrent tiles (element type of w) */
    tile_q_fn_t tile_q_fn; /* int8 on quantized h_{t-1} for OP_USE_H, or NULL */
    uint8_t *hq;  /* with tile_q_fn: h_{t-1} of step s quantized, [RING][N][HC][KQ] (slot s % RING) */
    float *hs;    /* its scales [RING][N][HC] */
    int HC, KQ;   /* column blocks of h; bytes per quantized block (b rounded up to INT8_K_GROUP) */
    tile_fn_t tile_fn_x; /* for the W_ih tiles (element type of wx) on float x */
    tile_q_fn_t tile_q_fn_x; /* int8 W_ih on quantized x, or NULL */
    uint8_t *xq;  /* with tile_q_fn_x: x quantized, [T][N][XC][KQ] */
    float *xs;    /* its scales [T][N][XC] */
    int amx_x;    /* bfloat16 W_ih on AMX tiles: x split into xhi + xlo */
    uint16_t *xhi, *xlo; /* with amx_x: [T * N + 16][XC][KB] bfloat16, zero beyond each block's features */
    int KB;       /* b rounded up to BF16_K_PAD */
    int amx_q;    /* int8 W_ih on AMX tiles (on the quantized x of tile_q_fn_x) */
    lstm_fn_t lstm_fn;
    gru_fn_t gru_fn;
    gru_rb_fn_t gru_rb_fn;
    int general;              /* the cell has options beyond PyTorch's: general_lstm / general_gru */
    cell_options_t options;
    _Atomic int abort; /* set when a worker could not be started: every thread stops */
    const int32_t *len; /* steps of each sequence in this call (NULL: all T). From step len[n] on,
                         * sequence n is frozen: its h (written to y) and c carry the values of step
                         * len[n] - 1, so the final states are those of its own last step; the caller
                         * zeroes y beyond each length. */
    const long *live; /* with len: the (step * N + sequence) of each column not yet ended, in order;
                       * the input product runs on these only (xhi / xq hold them compacted) */
    long live_count;  /* columns of the input product: T * N, or those of live */
    int linger; /* 1: pool workers spin a while after this job and bind away from the caller; 0 (a
                 * call from inside another framework, whose own threads need the cores between
                 * calls): they sleep at once and float */
    int64_t *profile;  /* with profiling on: [nthreads][PROFILE_FIELDS] nanoseconds, else NULL */
} job_t;

typedef struct {
    job_t *job;
    int index;
} worker_arg_t;


/* 64-byte aligned allocation (size rounded up to a multiple of 64, as C11 aligned_alloc wants) */
static void *alloc64(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Wait (acquire) until *counter >= target; returns 0 if the job was aborted meanwhile. */
static inline int wait_for(job_t *J, counter_t *counter, long target, int64_t *times) {
    if (atomic_load_explicit(&counter->value, memory_order_acquire) >= target) return 1;
    const int64_t start = times ? now_ns() : 0;
    int spins = 0;
    while (atomic_load_explicit(&counter->value, memory_order_acquire) < target) {
        if (++spins < SPINS_BEFORE_YIELD)
            cpu_relax();
        else {
            if (atomic_load_explicit(&J->abort, memory_order_relaxed)) return 0;
            sched_yield();
            spins = 0;
        }
    }
    if (times) times[PROFILE_WAIT] += now_ns() - start;
    return 1;
}

static const float *h_prev_row(const job_t *J, long t, int n) {
    /* h_{t-1} of sequence n (P floats) */
    return t == 0 ? J->h0 + (size_t)n * J->P : J->y + ((size_t)(t - 1) * J->N + n) * J->P;
}

/* Column j of the input product: its (step * N + sequence) */
static inline long input_column(const job_t *J, long j) { return J->live ? J->live[j] : j; }

/* v[0..n) quantized for the integer tile product: *scale = max|v| / 127, q[u] = round(v[u] / scale)
 * + INT8_ACT_OFFSET, q[n..width) = 0 (no feature there: the weights are zero, or an AMX load's
 * overread meets it). A vector holding NaN or an infinity gets
 * a NaN scale, so the products it feeds are NaN, as in float. */
static void quantize_vector(const float *v, int n, int width, uint8_t *q, float *scale) {
    float top = 0.0f;
    int finite = 1;
    for (int u = 0; u < n; u++) {
        const float a = fabsf(v[u]);
        finite &= a <= 3.4e38f; /* false for NaN and infinities */
        top = a > top ? a : top;
    }
    for (int u = 0; u < width; u++) q[u] = u < n ? INT8_ACT_OFFSET : 0; /* zero bytes beyond: AMX reads them */
    if (!finite) {
        *scale = NAN;
        return;
    }
    *scale = top / 127.0f;
    if (top == 0.0f) return;
    const float inv = 127.0f / top;
    for (int u = 0; u < n; u++) {
        float r = rintf(v[u] * inv);
        r = r > 127.0f ? 127.0f : (r < -127.0f ? -127.0f : r);
        q[u] = (uint8_t)((int)r + INT8_ACT_OFFSET);
    }
}

/* h_t of column block `block` (units block*b ..) of every sequence, quantized into ring slot
 * (t + 1) % RING (h0 is t = -1), one scale per sequence and block. */
static void quantize_h(job_t *J, int block, long t) {
    const int N = J->N, u0 = block * J->b, bw = imin(J->b, J->P - u0);
    const int slot = (int)((t + 1) % RING);
    for (int n = 0; n < N; n++) {
        const float *h = t < 0 ? J->h0 + (size_t)n * J->P + u0 : J->y + ((size_t)t * N + n) * J->P + u0;
        const size_t at = ((size_t)slot * N + n) * J->HC + block;
        quantize_vector(h, bw, J->KQ, J->hq + at * J->KQ, J->hs + at);
    }
}

/* The whole input x as two bfloat16 halves (hi = x rounded, lo = the rest rounded: their sum is x to
 * about 2^-16 of |x|) per (step, sequence, column block of b features) for the AMX input product. */
static void split_inputs(job_t *J) {
    const long columns = J->live_count;
    memset(J->xhi, 0, sizeof(uint16_t) * (size_t)(columns + 16) * J->XC * J->KB);
    memset(J->xlo, 0, sizeof(uint16_t) * (size_t)(columns + 16) * J->XC * J->KB);
    for (long j = 0; j < columns; j++)
        for (int xc = 0; xc < J->XC; xc++) {
            const float *v = J->x + (size_t)input_column(J, j) * J->X + (size_t)xc * J->b;
            uint16_t *hi = J->xhi + ((size_t)j * J->XC + xc) * J->KB, *lo = J->xlo + ((size_t)j * J->XC + xc) * J->KB;
            for (int u = 0, n = imin(J->b, J->X - xc * J->b); u < n; u++) {
                hi[u] = bf16_round(v[u]);
                lo[u] = bf16_round(v[u] - bf16_value(hi[u]));
            }
        }
}

/* The whole input x quantized per (step, sequence, column block of b features) for the integer
 * W_ih product: xq [T][N][XC][KQ], xs [T][N][XC]. */
static void quantize_inputs(job_t *J) {
    const long columns = J->live_count;
    memset(J->xq + (size_t)columns * J->XC * J->KQ, 0, (size_t)16 * J->XC * J->KQ);
    for (long j = 0; j < columns; j++)
        for (int xc = 0; xc < J->XC; xc++) {
            const size_t at = (size_t)j * J->XC + xc;
            quantize_vector(J->x + (size_t)input_column(J, j) * J->X + (size_t)xc * J->b, imin(J->b, J->X - xc * J->b), J->KQ,
                            J->xq + at * J->KQ, J->xs + at);
        }
}

/* Sequence n has ended before step t (per-sequence lengths): its state is carried, not updated. */
static inline int frozen(const job_t *J, long t, int n) {
    return J->len != NULL && t >= J->len[n];
}

static void finish_rows(job_t *J, int r, long t) {
    const int H = J->H, N = J->N;
    const int u0 = r * J->b, br = imin(J->b, H - u0);
    const int slot = (int)(t % RING);
    for (int n = 0; n < N; n++) {
        float *acc = J->acc + (((size_t)slot * J->R + r) * N + n) * J->RP;
        const float *gx = J->gx + (((size_t)t * J->R + r) * N + n) * J->RP;
        float *out = J->y + ((size_t)t * N + n) * J->P + u0;
        if (frozen(J, t, n)) { /* c stays; h carried (a projection carries its p in project_rows) */
            if (!J->proj) memcpy(out, h_prev_row(J, t, n) + u0, sizeof(float) * br);
        } else if (J->cell == CELL_LSTM) {
            float *m = J->proj ? J->mring + ((size_t)slot * N + n) * H + u0 : out;
            if (J->general)
                general_lstm(&J->options, br, u0, H, gx, acc, J->c + (size_t)n * H + u0, m);
            else
                J->lstm_fn(br, gx, acc, J->c + (size_t)n * H + u0, m);
        } else if (J->general) {
            const int reset_before = J->variant == VARIANT_RESET_BEFORE;
            general_gru(&J->options, reset_before, br, reset_before ? J->GS : br, gx, acc, h_prev_row(J, t, n) + u0, out);
        } else if (J->variant == VARIANT_RESET_BEFORE) {
            J->gru_rb_fn(br, J->GS, gx, acc, h_prev_row(J, t, n) + u0, J->y + ((size_t)t * N + n) * J->P + u0);
        } else {
            J->gru_fn(br, gx, acc, h_prev_row(J, t, n) + u0, J->y + ((size_t)t * N + n) * J->P + u0);
        }
        memcpy(acc, J->bias_h + (size_t)r * J->RP, sizeof(float) * J->RP);
    }
    if (J->tile_q_fn && !J->proj) quantize_h(J, r, t);
}

/* Original-form GRU: r_t of row-block r (its reset rows' partial sums are complete for step t)
 * and r_t * h_{t-1} of its units into the r*h ring, which the candidate rows of every row-block read. */
static void reset_rows(job_t *J, int r, long t) {
    const int N = J->N, H = J->H;
    const int u0 = r * J->b, br = imin(J->b, H - u0);
    const int slot = (int)(t % RING);
    for (int n = 0; n < N; n++) {
        const float *acc = J->acc + (((size_t)slot * J->R + r) * N + n) * J->RP;
        const float *gx = J->gx + (((size_t)t * J->R + r) * N + n) * J->RP;
        const float *hp = h_prev_row(J, t, n) + u0;
        float *rh = J->rhring + ((size_t)slot * N + n) * H + u0;
        if (J->general)
            for (int u = 0; u < br; u++) rh[u] = activate(&J->options, 0, gx[u] + acc[u]) * hp[u];
        else
            for (int u = 0; u < br; u++) rh[u] = sigmoid_f(gx[u] + acc[u]) * hp[u];
    }
}

static void project_rows(job_t *J, int pr, long t) {
    const int N = J->N;
    const int p0 = pr * J->b, bw = imin(J->b, J->P - p0);
    const int slot = (int)(t % RING);
    for (int n = 0; n < N; n++) {
        float *acc = J->accp + (((size_t)slot * J->PR + pr) * N + n) * J->RPp;
        memcpy(J->y + ((size_t)t * N + n) * J->P + p0, frozen(J, t, n) ? h_prev_row(J, t, n) + p0 : acc,
               sizeof(float) * bw);
        memset(acc, 0, sizeof(float) * J->RPp);
    }
    if (J->tile_q_fn) quantize_h(J, pr, t);
}

/* gx of the row-blocks of thread p for all steps: bias, then every W_ih tile applied to every
 * (step, sequence) column, MAX_COLS columns at a time (the tile stays in L1/L2 meanwhile). */
static void hoist_inputs(job_t *J, int p) {
    const int N = J->N, T = J->T, R = J->R;
#if defined(__x86_64__) || defined(__i386__)
    if (J->amx_x || J->amx_q) amx_configure();
#endif
    const float *hcol[MAX_COLS];
    float *acc[MAX_COLS];
    const uint8_t *xq[MAX_COLS];
    float xs[MAX_COLS];
    const long columns = J->live_count;
    for (int r = p; r < R; r += J->nthreads) {
        int gate_stride, rows;
        block_layout(J->G, J->variant, J->b, imin(J->b, J->H - r * J->b), &gate_stride, &rows);
        for (long j = 0; j < (long)T * N; j++)
            memcpy(J->gx + ((size_t)(j / N) * R + r) * N * J->RP + (size_t)(j % N) * J->RP,
                   J->bias_x + (size_t)r * J->RP, sizeof(float) * J->RP);
        for (int xc = 0; xc < J->XC; xc++) {
            const int c0 = xc * J->b, K = imin(J->b, J->X - c0);
            const char *w = J->wx + (size_t)J->xoff[(size_t)r * J->XC + xc] * J->wx_elem;
            for (long j0 = 0; j0 < columns; j0 += MAX_COLS) {
                int ncols = (int)(columns - j0 < MAX_COLS ? columns - j0 : MAX_COLS);
                for (int j = 0; j < ncols; j++) {
                    const long at = input_column(J, j0 + j), t = at / N, n = at % N;
                    hcol[j] = J->x + (size_t)at * J->X + c0;
                    acc[j] = J->gx + (((size_t)t * R + r) * N + n) * J->RP;
                }
#if defined(__x86_64__) || defined(__i386__)
                if (J->amx_x) {
                    const size_t at = ((size_t)j0 * J->XC + xc) * J->KB, stride = (size_t)J->XC * J->KB;
                    tile_product_amx_bf16((const uint16_t *)w, K, rows, ncols, J->xhi + at, J->xlo + at, stride, acc);
                    continue;
                }
#endif
#if defined(__x86_64__) || defined(__i386__)
                if (J->amx_q) {
                    const size_t at = (size_t)j0 * J->XC + xc;
                    tile_product_amx_int8((const int8_t *)w, K, rows, ncols, J->xq + at * J->KQ, (size_t)J->XC * J->KQ,
                                          J->xs + at, (size_t)J->XC, acc);
                    continue;
                }
#endif
                if (J->tile_q_fn_x) {
                    for (int j = 0; j < ncols; j++) {
                        const size_t at = (size_t)(j0 + j) * J->XC + xc;
                        xq[j] = J->xq + at * J->KQ;
                        xs[j] = J->xs[at];
                    }
                    J->tile_q_fn_x(w, K, rows, ncols, xq, xs, acc);
                } else
                    J->tile_fn_x(w, K, rows, ncols, hcol, acc);
            }
        }
    }
#if defined(__x86_64__) || defined(__i386__)
    if (J->amx_x || J->amx_q) amx_release();
#endif
}

static void run_sweeps(job_t *J, int p);

static void run_thread(job_t *J, int p) {
    int64_t *times = J->profile ? J->profile + (size_t)p * PROFILE_FIELDS : NULL;
    const int64_t start = times ? now_ns() : 0;
    hoist_inputs(J, p);
    if (times) times[PROFILE_HOIST] = now_ns() - start;
    run_sweeps(J, p);
    if (times) times[PROFILE_TOTAL] = now_ns() - start;
}

/* The sweeps of thread p's op list (after its hoist). */
static void run_sweeps(job_t *J, int p) {
    int64_t *times = J->profile ? J->profile + (size_t)p * PROFILE_FIELDS : NULL;
    const int64_t *ops = J->ops + J->op_start[p] * OP_FIELDS;
    const long n_ops = (long)(J->op_start[p + 1] - J->op_start[p]);
    const int N = J->N, T = J->T;
    const float *hcol[MAX_COLS];
    float *acc[MAX_COLS];
    const uint8_t *hq[MAX_COLS];
    float hs[MAX_COLS];
    long col_step[MAX_COLS]; /* the step and sequence of each product column (ended sequences have none) */
    int col_seq[MAX_COLS];
    for (long k = J->k_first; k <= J->k_last; k++) {
        const long base = k * J->period;
        for (long i = 0; i < n_ops; i++) {
            const int64_t *op = ops + i * OP_FIELDS;
            const int kind = (int)op[0], row = (int)op[1], col = (int)op[2];
            const long t = op[3] + base;
            if (kind == OP_USE_H || kind == OP_USE_P || kind == OP_USE_R || kind == OP_USE_ZN) {
                long t0 = t < 0 ? 0 : t, t1 = t + op[4];
                if (t1 > T) t1 = T;
                if (t1 <= t0) continue;
                const int c0 = col * J->b;
                int K, rows, stride_rows, ncols = 0;
                if (kind != OP_USE_P) {
                    /* h_{t-1} of column block c; the candidate rows of OP_USE_ZN also need r_t * h_{t-1} */
                    if (!wait_for(J, &J->hprog[col], t1 - 1, times)) return;
                    if (kind == OP_USE_ZN && !wait_for(J, &J->rprog[col], t1, times)) return;
                    K = imin(J->b, J->P - c0);
                    const int br = imin(J->b, J->H - row * J->b);
                    rows = kind == OP_USE_H ? pad_vec(J->G * br) : pad_vec(br);
                    stride_rows = J->RP;
                    for (long s = t0; s < t1; s++) {
                        float *a = J->acc + ((size_t)(s % RING) * J->R + row) * N * (size_t)stride_rows;
                        for (int n = 0; n < N; n++) {
                            if (frozen(J, s, n)) continue; /* its state is carried: no product needed */
                            col_step[ncols] = s;
                            col_seq[ncols] = n;
                            hcol[ncols] = h_prev_row(J, s, n) + c0;
                            acc[ncols++] = a + (size_t)n * stride_rows;
                        }
                    }
                    if (ncols == 0) continue;
                    if (kind == OP_USE_H && J->tile_q_fn) {
                        for (int j = 0; j < ncols; j++) {
                            const size_t at = ((size_t)(col_step[j] % RING) * N + col_seq[j]) * J->HC + col;
                            hq[j] = J->hq + at * J->KQ;
                            hs[j] = J->hs[at];
                        }
                        J->tile_q_fn(J->w + (size_t)op[5] * J->w_elem, K, rows, ncols, hq, hs, acc);
                        continue;
                    }
                } else {
                    if (!wait_for(J, &J->mprog[col], t1, times)) return;
                    K = imin(J->b, J->H - c0);
                    rows = pad_vec(imin(J->b, J->P - row * J->b));
                    stride_rows = J->RPp;
                    for (long s = t0; s < t1; s++) {
                        float *a = J->accp + ((size_t)(s % RING) * J->PR + row) * N * (size_t)stride_rows;
                        const float *m = J->mring + (size_t)(s % RING) * N * J->H;
                        for (int n = 0; n < N; n++) {
                            if (frozen(J, s, n)) continue;
                            hcol[ncols] = m + (size_t)n * J->H + c0;
                            acc[ncols++] = a + (size_t)n * stride_rows;
                        }
                    }
                    if (ncols == 0) continue;
                }
                if (kind == OP_USE_ZN) {
                    /* update rows (gate 1) on h_{t-1}, then candidate rows (gate 2) on r_t * h_{t-1} */
                    for (int j = 0; j < ncols; j++) acc[j] += J->GS;
                    J->tile_fn(J->w + (size_t)op[5] * J->w_elem, K, rows, ncols, hcol, acc);
                    for (int j = 0; j < ncols; j++) {
                        hcol[j] = J->rhring + ((size_t)(col_step[j] % RING) * N + col_seq[j]) * J->H + c0;
                        acc[j] += J->GS;
                    }
                    J->tile_fn(J->w + ((size_t)op[5] + tile_elements(J->w_dtype, K, rows)) * J->w_elem, K, rows, ncols,
                               hcol, acc);
                } else {
                    J->tile_fn(J->w + (size_t)op[5] * J->w_elem, K, rows, ncols, hcol, acc);
                }
            } else {
                if (t < 0 || t >= T) continue;
                const int64_t start = times ? now_ns() : 0;
                if (kind == OP_RESET) {
                    reset_rows(J, row, t);
                    atomic_store_explicit(&J->rprog[row].value, t + 1, memory_order_release);
                } else if (kind == OP_FINISH) {
                    finish_rows(J, row, t);
                    atomic_store_explicit(&J->mprog[row].value, t + 1, memory_order_release);
                } else {
                    project_rows(J, row, t);
                    atomic_store_explicit(&J->hprog[row].value, t + 1, memory_order_release);
                }
                if (times) times[PROFILE_UPDATE] += now_ns() - start;
            }
        }
    }
}

static void *worker_main(void *arg) {
    worker_arg_t *a = (worker_arg_t *)arg;
    run_thread(a->job, a->index);
    return NULL;
}

/* ---------------------------------------------------------------- persistent workers */

/* Worker threads kept between calls, so a call does not pay for thread creation (tens of us, as
 * much as a whole step of a small layer). One caller at a time uses the pool (try-lock; a second
 * concurrent caller starts threads of its own, as before). A job is published by bumping
 * `generation` (release); after a job that lingers (the default) workers spin on it for a while (a
 * stream of calls hands off in well under a microsecond), then sleep on a condition variable; after
 * a job that does not (called from inside a framework whose own thread pool needs the cores between
 * calls) they sleep at once and float. Worker i runs thread
 * index i of the job when i < nthreads; every worker then counts `remaining` down (release); the
 * caller runs index 0 and waits for remaining == 0 (acquire). After fork() the child starts with
 * an empty pool. */
#define MAX_POOL_WORKERS 255
#define POOL_SPINS_BEFORE_SLEEP 20000

/* Worker pinning (on unless set_worker_pinning(False)): at the start of each job a worker binds
 * itself, if it is not bound there already, to one of the CPUs the pool's creator may run on,
 * other than the caller's while there are enough (worker_cpu). The caller's thread is never
 * bound. Without it, a worker woken after an idle spell was often placed on the caller's CPU and
 * stayed there (measured on a 2-vCPU KVM guest: one call of GRU 512 took 570 us instead of 190 us,
 * the two lockstep threads sharing one CPU); binding workers to fixed CPUs alone was not enough,
 * as the caller then sometimes sat on a worker's CPU. The binding changes only when the caller has
 * moved (one system call then). Off: workers float (for a deployment that sets affinities itself). */
static _Atomic int pin_workers = 1;

typedef struct {
    pthread_mutex_t use;   /* held by the caller whose job the pool runs */
    pthread_mutex_t sleep; /* with `wake`: where idle workers sleep */
    pthread_cond_t wake;
    int size;              /* workers started: indices 1..size */
    job_t *job;
    _Atomic long generation;
    _Atomic int remaining;
    long born_at[MAX_POOL_WORKERS + 1]; /* the generation before a worker's first job */
    int caller_cpu;        /* the CPU the caller ran on when it published the job, or -1 */
    cpu_set_t allowed;     /* the CPUs the pool's creator may run on (workers pick from these) */
    _Atomic long thread_id[MAX_POOL_WORKERS + 1]; /* each worker's kernel thread id, once started */
} pool_t;

static pool_t pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL, 0, 0, {0}, -1, {{0}}, {0}};

/* The CPU worker `index` (1..) binds itself to while the caller runs on `caller_cpu`: the allowed
 * CPUs are taken in order with the caller's moved last, and worker i gets the (i-1)-th (modulo
 * their count), so workers share the caller's CPU only when there are more threads than CPUs;
 * -1 when pinning is off or fewer than two CPUs are allowed. */
static int worker_cpu(int index, int caller_cpu, int pin) {
    if (!pin) return -1;
    const int count = CPU_COUNT(&pool.allowed);
    if (count < 2) return -1;
    const int callers = caller_cpu >= 0 && caller_cpu < CPU_SETSIZE && CPU_ISSET(caller_cpu, &pool.allowed);
    const int wanted = (index - 1) % count;
    if (callers && wanted == count - 1) return caller_cpu;
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++)
        if (cpu != caller_cpu && CPU_ISSET(cpu, &pool.allowed) && seen++ == wanted) return cpu;
    return -1;
}

/* Bind this worker to `cpu` (-1: to every allowed CPU); best effort (a refusal leaves it as it was). */
static void bind_worker(int cpu) {
    cpu_set_t mask;
    if (cpu >= 0) {
        CPU_ZERO(&mask);
        CPU_SET(cpu, &mask);
    } else {
        mask = pool.allowed;
    }
    (void)pthread_setaffinity_np(pthread_self(), sizeof mask, &mask);
}

static void *pool_worker(void *arg) {
    const int index = (int)(intptr_t)arg;
    long seen = pool.born_at[index]; /* written before this thread was created */
    int bound_to = -1;                 /* the CPU this worker is bound to, -1: not bound */
    int seen_caller = -2, seen_pin = -1; /* what bound_to was worked out for */
    atomic_store(&pool.thread_id[index], (long)gettid());
    int spin_budget = 0; /* spins before sleeping: POOL_SPINS_BEFORE_SLEEP after a lingering job */
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen) {
            if (++spins < spin_budget) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool.sleep);
            while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen)
                pthread_cond_wait(&pool.wake, &pool.sleep);
            pthread_mutex_unlock(&pool.sleep);
        }
        seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        job_t *job = pool.job;
        const int pin = atomic_load_explicit(&pin_workers, memory_order_relaxed) && job->linger;
        spin_budget = job->linger ? POOL_SPINS_BEFORE_SLEEP : 0;
        if (pool.caller_cpu != seen_caller || pin != seen_pin) { /* the caller moved or the setting changed */
            seen_caller = pool.caller_cpu;
            seen_pin = pin;
            const int cpu = worker_cpu(index, seen_caller, pin);
            if (cpu != bound_to) {
                bind_worker(cpu);
                bound_to = cpu;
            }
        }
        if (index < job->nthreads) run_thread(job, index);
        /* every worker acknowledges every job, so none can still be reading this one when the
         * caller returns (and its job, on the caller's stack, is gone) or publishes the next */
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_acq_rel);
    }
    return NULL;
}

static void pool_after_fork_in_child(void) {
    pthread_mutex_init(&pool.use, NULL);
    pthread_mutex_init(&pool.sleep, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pool.size = 0; /* the workers were not copied into the child */
    for (int i = 0; i <= MAX_POOL_WORKERS; i++) atomic_store(&pool.thread_id[i], 0);
    pool.job = NULL;
}

/* Run job J on the pool (thread 0 here); returns 0 when the pool is busy or cannot grow to
 * J->nthreads - 1 workers (the caller then starts threads itself). Called without the GIL. */
static int pool_run(job_t *J) {
    if (J->nthreads - 1 > MAX_POOL_WORKERS || pthread_mutex_trylock(&pool.use) != 0) return 0;
    if (pool.size == 0 && sched_getaffinity(0, sizeof pool.allowed, &pool.allowed) != 0) CPU_ZERO(&pool.allowed);
    while (pool.size < J->nthreads - 1) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pool.born_at[pool.size + 1] = atomic_load_explicit(&pool.generation, memory_order_relaxed);
        const int ok = pthread_create(&thread, &attr, pool_worker, (void *)(intptr_t)(pool.size + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) {
            pthread_mutex_unlock(&pool.use);
            return 0;
        }
        pool.size++;
    }
    pool.job = J;
    pool.caller_cpu = sched_getcpu();
    atomic_store_explicit(&pool.remaining, pool.size, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_mutex_lock(&pool.sleep);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep);
    run_thread(J, 0);
    int spins = 0;
    while (atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0) {
        if (++spins < SPINS_BEFORE_YIELD)
            cpu_relax();
        else {
            sched_yield();
            spins = 0;
        }
    }
    pthread_mutex_unlock(&pool.use);
    return 1;
}

/* Turn worker pinning on or off (each worker applies it at its next job); returns the previous setting. */
static int pool_set_pinning(int enabled) {
    return atomic_exchange(&pin_workers, enabled);
}

/* ---------------------------------------------------------------- validation */

static int check_len(Py_buffer *buf, size_t need_bytes, const char *name) {
    if ((size_t)buf->len < need_bytes) {
        PyErr_Format(PyExc_ValueError, "%s: buffer has %zd bytes, the layout needs %zu", name, buf->len,
                     need_bytes);
        return 0;
    }
    return 1;
}

static int check_ops(const job_t *J, size_t n_weights, Py_ssize_t n_ops_total) {
    long lo = LONG_MAX, hi = LONG_MIN; /* steps touched by one body instance, relative to its base */
    const long tile_align = J->w_dtype == DTYPE_INT8 ? INT8_TILE_ALIGN : VEC; /* elements */
    for (int p = 0; p < J->nthreads; p++) {
        if (J->op_start[p] < 0 || J->op_start[p] > J->op_start[p + 1] || J->op_start[p + 1] > n_ops_total) {
            PyErr_SetString(PyExc_ValueError, "op_start: offsets must be ascending and within the ops");
            return 0;
        }
    }
    for (Py_ssize_t i = 0; i < n_ops_total; i++) {
        const int64_t *op = J->ops + i * OP_FIELDS;
        const int64_t kind = op[0], row = op[1], col = op[2];
        int ok = 1;
        if (op[4] < 1 || op[4] > 2 || op[3] < -16 || op[3] > 16) ok = 0;
        const int rb = J->variant == VARIANT_RESET_BEFORE;
        if (ok) {
            lo = op[3] < lo ? op[3] : lo;
            hi = op[3] + op[4] - 1 > hi ? op[3] + op[4] - 1 : hi;
        }
        if (kind == OP_USE_H || kind == OP_USE_R || kind == OP_USE_ZN) {
            /* standard cells use whole-block tiles; the original-form GRU its reset and update/candidate parts */
            ok = ok && (kind == OP_USE_H ? !rb : rb) && (kind != OP_USE_ZN || op[4] == 1);
            ok = ok && row >= 0 && row < J->R && col >= 0 && (long)col * J->b < J->P;
            if (ok) {
                size_t K = (size_t)imin(J->b, J->P - (int)col * J->b);
                const int br = imin(J->b, J->H - (int)row * J->b);
                const int rows = kind == OP_USE_H ? pad_vec(J->G * br) : pad_vec(br);
                const size_t need = tile_elements(J->w_dtype, (int)K, rows) * (kind == OP_USE_ZN ? 2 : 1);
                ok = op[5] >= 0 && op[5] % tile_align == 0 && (size_t)op[5] + need <= n_weights;
            }
        } else if (kind == OP_RESET) {
            ok = ok && rb && row >= 0 && row < J->R;
        } else if (kind == OP_USE_P) {
            ok = ok && J->proj && row >= 0 && row < J->PR && col >= 0 && col < J->R;
            if (ok) {
                const int K = imin(J->b, J->H - (int)col * J->b);
                const int rows = pad_vec(imin(J->b, J->P - (int)row * J->b));
                ok = op[5] >= 0 && op[5] % tile_align == 0 && (size_t)op[5] + tile_elements(J->w_dtype, K, rows) <= n_weights;
            }
        } else if (kind == OP_FINISH) {
            ok = ok && row >= 0 && row < J->R;
        } else if (kind == OP_PROJECT) {
            ok = ok && J->proj && row >= 0 && row < J->PR;
        } else {
            ok = 0;
        }
        if (!ok) {
            PyErr_Format(PyExc_ValueError, "op %zd (kind %lld row %lld col %lld) is out of range", i,
                         (long long)kind, (long long)row, (long long)col);
            return 0;
        }
    }
    if (n_ops_total && hi - lo + 1 > MAX_BODY_SPAN) {
        PyErr_Format(PyExc_ValueError, "ops: one body instance spans %ld steps, at most %d", hi - lo + 1, MAX_BODY_SPAN);
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- Python entry point */

static int chosen_isa = -1;

static PyObject *py_run_direction(PyObject *self, PyObject *args, PyObject *kwargs) {
    /* what changes from call to call comes first: a caller can pass everything by position, which
     * parses in a fraction of the time keywords take (a one-step call of a small layer pays it) */
    static char *kwlist[] = {"batch", "steps", "k_first", "k_last", "x", "h0", "y", "c",
                             "cell", "hidden", "recurrent", "proj", "tile", "threads", "period", "ops", "op_start",
                             "weights", "input", "wx", "xoff", "bias_x", "bias_h", "isa",
                             "weight_dtype", "variant", "activations", "clip", "input_forget", "peepholes",
                             "input_weight_dtype", "linger", "lengths", NULL};
    job_t J;
    memset(&J, 0, sizeof J);
    int isa = -1;
    int weight_dtype = DTYPE_F32, input_weight_dtype = DTYPE_F32;
    Py_buffer ops = {0}, op_start = {0}, w = {0}, x = {0}, wx = {0}, xoff = {0}, bias_x = {0}, bias_h = {0}, h0 = {0}, y = {0}, c = {0};
    Py_buffer activations = {0}, peepholes = {0}, lengths = {0};
    double clip = 0.0;
    int input_forget = 0;
    J.linger = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iilly*y*w*w*iiiiiily*y*y*iy*y*y*y*|iiiy*dpy*ipy*", kwlist, &J.N, &J.T,
                                     &J.k_first, &J.k_last, &x, &h0, &y, &c, &J.cell, &J.H, &J.P, &J.proj, &J.b,
                                     &J.nthreads, &J.period, &ops, &op_start, &w, &J.X, &wx, &xoff, &bias_x, &bias_h,
                                     &isa, &weight_dtype, &J.variant, &activations, &clip, &input_forget, &peepholes,
                                     &input_weight_dtype, &J.linger, &lengths))
        return NULL;
    PyObject *result = NULL;
    float *acc = NULL, *accp = NULL, *mring = NULL, *gx = NULL, *rhring = NULL;
    long *live = NULL;
    counter_t *mprog = NULL, *hprog = NULL, *rprog = NULL;
    pthread_t *threads = NULL;
    worker_arg_t *wargs = NULL;

    if ((J.cell != CELL_LSTM && J.cell != CELL_GRU) || J.H < 1 || J.N < 1 || J.T < 1 || J.b < 1 ||
        J.nthreads < 1 || J.period < 1 || J.N > MAX_BATCH || J.P < 1 || J.P > J.H ||
        (J.proj && (J.cell != CELL_LSTM || J.P != J.proj)) || (!J.proj && J.P != J.H) || J.b > MAX_TILE ||
        (J.variant != VARIANT_STANDARD && J.variant != VARIANT_RESET_BEFORE) ||
        (J.variant == VARIANT_RESET_BEFORE && J.cell != CELL_GRU)) {
        PyErr_SetString(PyExc_ValueError, "run_direction: inconsistent sizes (cell, variant, hidden, proj, batch, "
                                          "steps, tile, threads, period)");
        goto done;
    }
    J.G = J.cell == CELL_LSTM ? 4 : 3;
    J.R = (J.H + J.b - 1) / J.b;
    J.PR = J.proj ? (J.P + J.b - 1) / J.b : 0;
    block_layout(J.G, J.variant, J.b, J.b, &J.GS, &J.RP);
    J.RPp = pad_vec(J.b);
    if (J.X < 1) {
        PyErr_SetString(PyExc_ValueError, "input: must be >= 1");
        goto done;
    }
    J.XC = (J.X + J.b - 1) / J.b;
    /* general cell options: activations float32 [3][3] (code, alpha, beta per activation; empty:
     * PyTorch's cell), clip (0: none), input_forget, peepholes float32 [3][H] (empty: none) */
    if (activations.buf && activations.len) {
        if (activations.len != (Py_ssize_t)(sizeof(float) * 3 * CELL_ACTIVATIONS)) {
            PyErr_SetString(PyExc_ValueError, "activations: must be 9 float32 (code, alpha, beta) x 3");
            goto done;
        }
        const float *a = (const float *)activations.buf;
        for (int k = 0; k < CELL_ACTIVATIONS; k++) {
            const float code = a[3 * k];
            if (!(code >= 0.0f && code < (float)ACT_COUNT) || code != (float)(int)code || !isfinite(a[3 * k + 1]) ||
                !isfinite(a[3 * k + 2])) {
                PyErr_SetString(PyExc_ValueError, "activations: unknown activation code or non-finite parameter");
                goto done;
            }
            J.options.code[k] = (int)code;
            J.options.alpha[k] = a[3 * k + 1];
            J.options.beta[k] = a[3 * k + 2];
        }
        J.general = 1;
    }
    if (!(clip >= 0.0 && clip < 3.4e38) || (clip > 0.0 && !J.general) || (input_forget && (!J.general || J.cell != CELL_LSTM))) {
        PyErr_SetString(PyExc_ValueError, "clip / input_forget: clip must be finite and >= 0; both need activations, "
                                          "input_forget an LSTM");
        goto done;
    }
    J.options.clip = (float)clip;
    J.options.input_forget = input_forget;
    if (peepholes.buf && peepholes.len) {
        if (!J.general || J.cell != CELL_LSTM || peepholes.len != (Py_ssize_t)(sizeof(float) * 3 * (size_t)J.H)) {
            PyErr_SetString(PyExc_ValueError, "peepholes: an LSTM with activations takes 3 * hidden float32");
            goto done;
        }
        J.options.peep = (const float *)peepholes.buf;
    }
    if (weight_dtype < 0 || weight_dtype >= DTYPE_COUNT) {
        PyErr_SetString(PyExc_ValueError, "weight_dtype: must be one of the codes in WEIGHT_DTYPES");
        goto done;
    }
    J.w_elem = (size_t)DTYPE_BYTES[weight_dtype];
    J.w_dtype = weight_dtype;
    if (input_weight_dtype < 0 || input_weight_dtype >= DTYPE_COUNT) {
        PyErr_SetString(PyExc_ValueError, "input_weight_dtype: must be one of the codes in WEIGHT_DTYPES");
        goto done;
    }
    J.wx_dtype = input_weight_dtype;
    J.wx_elem = (size_t)DTYPE_BYTES[input_weight_dtype];
    if (ops.len % (OP_FIELDS * 8) != 0) {
        PyErr_SetString(PyExc_ValueError, "ops: length must be a multiple of 6 int64");
        goto done;
    }
    if (!check_len(&op_start, sizeof(int64_t) * (J.nthreads + 1), "op_start") ||
        !check_len(&x, sizeof(float) * (size_t)J.T * J.N * J.X, "x") ||
        !check_len(&xoff, sizeof(int64_t) * (size_t)J.R * J.XC, "xoff") ||
        !check_len(&bias_x, sizeof(float) * (size_t)J.R * J.RP, "bias_x") ||
        !check_len(&bias_h, sizeof(float) * (size_t)J.R * J.RP, "bias_h") ||
        !check_len(&h0, sizeof(float) * (size_t)J.N * J.P, "h0") ||
        !check_len(&y, sizeof(float) * (size_t)J.T * J.N * J.P, "y") ||
        (J.cell == CELL_LSTM && !check_len(&c, sizeof(float) * (size_t)J.N * J.H, "c")) ||
        (lengths.buf != NULL && !check_len(&lengths, sizeof(int32_t) * (size_t)J.N, "lengths")))
        goto done;
    if (lengths.buf != NULL) {
        J.len = (const int32_t *)lengths.buf;
        for (int n = 0; n < J.N; n++)
            if (J.len[n] < 0 || J.len[n] > J.T) {
                PyErr_SetString(PyExc_ValueError, "lengths: every length must be in [0, steps]");
                goto done;
            }
        live = malloc(sizeof(long) * ((size_t)J.T * J.N + 1));
        if (!live) {
            PyErr_NoMemory();
            goto done;
        }
        for (long t = 0; t < J.T; t++)
            for (int n = 0; n < J.N; n++)
                if (t < J.len[n]) live[J.live_count++] = t * J.N + n;
        J.live = live;
    } else {
        J.live_count = (long)J.T * J.N;
    }
    if (((uintptr_t)w.buf) % ALIGN_BYTES != 0 || ((uintptr_t)wx.buf) % ALIGN_BYTES != 0) {
        PyErr_SetString(PyExc_ValueError, "weights: buffer must be 64-byte aligned");
        goto done;
    }
    J.ops = (const int64_t *)ops.buf;
    if (isa < 0) isa = chosen_isa;
    if (isa >= ISA_COUNT || isa > best_isa()) {
        PyErr_SetString(PyExc_ValueError, "isa: this CPU does not support the requested instruction set");
        goto done;
    }
    J.op_start = (const int64_t *)op_start.buf;
    J.xoff = (const int64_t *)xoff.buf;
    if (!check_ops(&J, (size_t)w.len / J.w_elem, ops.len / (OP_FIELDS * 8))) goto done;
    for (int r = 0; r < J.R; r++)
        for (int xc = 0; xc < J.XC; xc++) {
            int64_t off = J.xoff[(size_t)r * J.XC + xc];
            int gate_stride, rows;
            block_layout(J.G, J.variant, J.b, imin(J.b, J.H - r * J.b), &gate_stride, &rows);
            const size_t need = tile_elements(J.wx_dtype, imin(J.b, J.X - xc * J.b), rows);
            const long align = J.wx_dtype == DTYPE_INT8 ? INT8_TILE_ALIGN : VEC; /* elements */
            const size_t overread = J.wx_dtype != DTYPE_F32 && isa >= ISA_AMX ? AMX_OVERREAD_BYTES / J.wx_elem : 0;
            if (off < 0 || off % align != 0 || (size_t)off + need + overread > (size_t)wx.len / J.wx_elem) {
                PyErr_Format(PyExc_ValueError, "xoff: tile (%d, %d) lies outside wx", r, xc);
                goto done;
            }
        }
    J.tile_fn = tile_fn_for(isa, weight_dtype);
    /* the integer path needs h quantized per column block; the original-form GRU's second operand
     * (r * h) and the projection's m stay float (int8 weights widened) */
    J.tile_q_fn = J.variant == VARIANT_STANDARD ? tile_q_fn_for(isa, weight_dtype) : NULL;
    J.tile_fn_x = tile_fn_for(isa, J.wx_dtype);
    J.tile_q_fn_x = tile_q_fn_for(isa, J.wx_dtype);
    J.amx_x = isa >= ISA_AMX && J.wx_dtype == DTYPE_BF16;
    J.amx_q = isa >= ISA_AMX && J.wx_dtype == DTYPE_INT8;
    J.lstm_fn = lstm_fn_for(isa);
    J.gru_fn = gru_fn_for(isa);
    J.gru_rb_fn = gru_rb_fn_for(isa);
    J.w = (const char *)w.buf;
    J.x = (const float *)x.buf;
    J.wx = (const char *)wx.buf;
    J.bias_x = (const float *)bias_x.buf;
    J.bias_h = (const float *)bias_h.buf;
    J.h0 = (const float *)h0.buf;
    J.y = (float *)y.buf;
    J.c = (float *)c.buf;

    size_t acc_floats = (size_t)RING * J.R * J.N * J.RP;
    acc = alloc64(sizeof(float) * acc_floats);
    gx = alloc64(sizeof(float) * (size_t)J.T * J.R * J.N * J.RP);
    J.gx = gx;
    mprog = alloc64(sizeof(counter_t) * J.R);
    if (J.proj) {
        size_t accp_floats = (size_t)RING * J.PR * J.N * J.RPp;
        accp = alloc64(sizeof(float) * accp_floats);
        mring = alloc64(sizeof(float) * ((size_t)RING * J.N * J.H + VEC));
        hprog = alloc64(sizeof(counter_t) * J.PR);
        if (accp) memset(accp, 0, sizeof(float) * accp_floats);
    }
    if (J.variant == VARIANT_RESET_BEFORE) {
        rhring = alloc64(sizeof(float) * (size_t)RING * J.N * J.H);
        rprog = alloc64(sizeof(counter_t) * J.R);
    }
    J.KQ = (J.b + INT8_K_PAD - 1) / INT8_K_PAD * INT8_K_PAD;
    J.KB = (J.b + BF16_K_PAD - 1) / BF16_K_PAD * BF16_K_PAD;
    if (J.amx_x) {
        const size_t halves = (size_t)((long)J.T * J.N + 16) * J.XC * J.KB;
        J.xhi = alloc64(sizeof(uint16_t) * halves);
        J.xlo = alloc64(sizeof(uint16_t) * halves);
        if (!J.xhi || !J.xlo) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (J.tile_q_fn_x) {
        J.xq = alloc64(((size_t)J.T * J.N + 16) * J.XC * J.KQ); /* 16 more columns: an AMX load reads them */
        J.xs = alloc64(sizeof(float) * (size_t)J.T * J.N * J.XC);
        if (!J.xq || !J.xs) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (J.tile_q_fn) {
        J.HC = (J.P + J.b - 1) / J.b;
        J.hq = alloc64((size_t)RING * J.N * J.HC * J.KQ);
        J.hs = alloc64(sizeof(float) * (size_t)RING * J.N * J.HC);
        if (!J.hq || !J.hs) {
            PyErr_NoMemory();
            goto done;
        }
    }
    threads = calloc((size_t)J.nthreads, sizeof(pthread_t));
    wargs = calloc((size_t)J.nthreads, sizeof(worker_arg_t));
    if (!acc || !gx || !mprog || !threads || !wargs || (J.proj && (!accp || !mring || !hprog)) ||
        (J.variant == VARIANT_RESET_BEFORE && (!rhring || !rprog))) {
        PyErr_NoMemory();
        goto done;
    }
    for (int slot = 0; slot < RING; slot++)
        for (int r = 0; r < J.R; r++)
            for (int n = 0; n < J.N; n++)
                memcpy(acc + (((size_t)slot * J.R + r) * J.N + n) * J.RP, J.bias_h + (size_t)r * J.RP,
                       sizeof(float) * J.RP);
    for (int r = 0; r < J.R; r++) atomic_init(&mprog[r].value, 0);
    for (int r = 0; r < J.PR; r++) atomic_init(&hprog[r].value, 0);
    if (rprog)
        for (int r = 0; r < J.R; r++) atomic_init(&rprog[r].value, 0);
    J.acc = acc;
    J.accp = accp;
    J.mring = mring;
    J.mprog = mprog;
    J.hprog = J.proj ? hprog : mprog;
    J.rhring = rhring;
    J.rprog = rprog;

    int started = 0, failed = 0, pooled = 0;
    if (atomic_load_explicit(&profiling, memory_order_relaxed) && J.nthreads <= MAX_PROFILED_THREADS)
        J.profile = calloc((size_t)J.nthreads * PROFILE_FIELDS, sizeof(int64_t)); /* NULL: not profiled */
    int64_t prepare_ns = 0;
    Py_BEGIN_ALLOW_THREADS
    const int64_t prepare_start = J.profile ? now_ns() : 0;
    if (J.tile_q_fn_x) quantize_inputs(&J);
    if (J.amx_x) split_inputs(&J);
    if (J.tile_q_fn)
        for (int block = 0; block < J.HC; block++) quantize_h(&J, block, -1);
    if (J.profile) prepare_ns = now_ns() - prepare_start;
    if (J.nthreads > 1) pooled = pool_run(&J);
    for (int p = 1; !pooled && p < J.nthreads; p++) {
        wargs[p].job = &J;
        wargs[p].index = p;
        if (pthread_create(&threads[p], NULL, worker_main, &wargs[p]) != 0) {
            failed = 1;
            break;
        }
        started = p;
    }
    if (failed)
        atomic_store(&J.abort, 1);
    else if (!pooled)
        run_thread(&J, 0);
    for (int p = 1; p <= started; p++) pthread_join(threads[p], NULL);
    Py_END_ALLOW_THREADS
    if (failed) {
        /* the started workers saw the abort flag and stopped; the outputs are incomplete */
        PyErr_SetString(PyExc_RuntimeError, "could not start the kernel's threads");
        goto done;
    }
    if (J.profile) {
        pthread_mutex_lock(&profile_lock);
        for (int p = 0; p < J.nthreads; p++)
            for (int f = 0; f < PROFILE_FIELDS; f++) profile_sums[p][f] += J.profile[(size_t)p * PROFILE_FIELDS + f];
        profile_threads = J.nthreads > profile_threads ? J.nthreads : profile_threads;
        profile_prepare_ns += prepare_ns;
        profile_calls++;
        pthread_mutex_unlock(&profile_lock);
    }
    result = Py_None;
    Py_INCREF(result);
done:
    free(live);
    free(J.profile);
    free(J.hq);
    free(J.hs);
    free(J.xq);
    free(J.xs);
    free(J.xhi);
    free(J.xlo);
    free(acc);
    free(accp);
    free(mring);
    free(mprog);
    free(hprog);
    free(rhring);
    free(rprog);
    free(threads);
    free(wargs);
    PyBuffer_Release(&ops);
    PyBuffer_Release(&op_start);
    PyBuffer_Release(&w);
    PyBuffer_Release(&x);
    PyBuffer_Release(&wx);
    PyBuffer_Release(&xoff);
    PyBuffer_Release(&bias_x);
    free(gx);
    PyBuffer_Release(&bias_h);
    PyBuffer_Release(&h0);
    PyBuffer_Release(&y);
    PyBuffer_Release(&c);
    PyBuffer_Release(&activations);
    PyBuffer_Release(&peepholes);
    PyBuffer_Release(&lengths);
    return result;
}

static PyObject *py_isa_names(PyObject *self, PyObject *unused) {
    int best = best_isa();
    PyObject *out = PyList_New(0);
    for (int i = 0; i <= best; i++) {
        PyObject *s = PyUnicode_FromString(ISA_NAMES[i]);
        PyList_Append(out, s);
        Py_DECREF(s);
    }
    return out;
}

static PyObject *py_set_worker_pinning(PyObject *self, PyObject *arg) {
    const int enabled = PyObject_IsTrue(arg);
    if (enabled < 0) return NULL;
    return PyBool_FromLong(pool_set_pinning(enabled));
}

static PyObject *py_set_profiling(PyObject *self, PyObject *arg) {
    const int enabled = PyObject_IsTrue(arg);
    if (enabled < 0) return NULL;
    return PyBool_FromLong(atomic_exchange(&profiling, enabled));
}

static PyObject *py_take_profile(PyObject *self, PyObject *unused) {
    pthread_mutex_lock(&profile_lock);
    PyObject *threads = PyList_New(0);
    for (int p = 0; threads && p < profile_threads; p++) {
        PyObject *row = Py_BuildValue("(LLLL)", (long long)profile_sums[p][PROFILE_HOIST],
                                      (long long)profile_sums[p][PROFILE_UPDATE], (long long)profile_sums[p][PROFILE_WAIT],
                                      (long long)profile_sums[p][PROFILE_TOTAL]);
        if (!row || PyList_Append(threads, row) != 0) Py_CLEAR(threads);
        Py_XDECREF(row);
    }
    PyObject *out = threads ? Py_BuildValue("(LLN)", (long long)profile_calls, (long long)profile_prepare_ns, threads) : NULL;
    if (out) {
        memset(profile_sums, 0, sizeof profile_sums);
        profile_prepare_ns = profile_calls = 0;
        profile_threads = 0;
    }
    pthread_mutex_unlock(&profile_lock);
    return out;
}

static PyObject *py_worker_thread_ids(PyObject *self, PyObject *unused) {
    PyObject *out = PyList_New(0);
    for (int i = 1; out && i <= MAX_POOL_WORKERS; i++) {
        const long id = atomic_load(&pool.thread_id[i]);
        if (id <= 0) continue;
        PyObject *value = PyLong_FromLong(id);
        if (!value || PyList_Append(out, value) != 0) Py_CLEAR(out);
        Py_XDECREF(value);
    }
    return out;
}

static PyObject *py_block_layout(PyObject *self, PyObject *args) {
    int gates, variant, tile, units;
    if (!PyArg_ParseTuple(args, "iiii", &gates, &variant, &tile, &units)) return NULL;
    if ((gates != 3 && gates != 4) || (variant != VARIANT_STANDARD && variant != VARIANT_RESET_BEFORE) ||
        (variant == VARIANT_RESET_BEFORE && gates != 3) || tile < 1 || tile > MAX_TILE || units < 1 || units > tile) {
        PyErr_SetString(PyExc_ValueError, "block_layout: gates 3 or 4, a known variant, 1 <= units <= tile <= MAX_TILE");
        return NULL;
    }
    int gate_stride, rows;
    block_layout(gates, variant, tile, units, &gate_stride, &rows);
    return Py_BuildValue("(ii)", gate_stride, rows);
}

static PyMethodDef methods[] = {
    {"run_direction", (PyCFunction)(void (*)(void))py_run_direction, METH_VARARGS | METH_KEYWORDS,
     "Run the periodic body of a plan over one layer direction (see the module source for the layout)."},
    {"block_layout", py_block_layout, METH_VARARGS,
     "block_layout(gates, variant, tile, units) -> (gate_stride, rows): where gate g of a row-block of "
     "`units` hidden units starts (gate_stride * g) and how many rows its vectors and W_ih tiles have."},
    {"set_worker_pinning", py_set_worker_pinning, METH_O,
     "Bind the persistent worker threads to one CPU each (True, the default) or let them float "
     "(False); each worker applies it at its next job; returns the previous setting."},
    {"set_profiling", py_set_profiling, METH_O,
     "Time where each call's threads spend their time (True) or not (False, the default); returns the previous setting."},
    {"take_profile", py_take_profile, METH_NOARGS,
     "(calls, prepare_ns, [(hoist_ns, update_ns, wait_ns, total_ns) per thread]) summed over the profiled "
     "calls since the last take; clears them."},
    {"worker_thread_ids", py_worker_thread_ids, METH_NOARGS,
     "Kernel thread ids of the persistent workers started so far (as threading.get_native_id gives)."},
    {"isa_names", py_isa_names, METH_NOARGS,
     "Instruction sets of the tile product this CPU can run, the last one is the default."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernel",
                                    "tsilstm native kernel: the periodic body of a plan over one layer direction.", -1, methods};

PyMODINIT_FUNC PyInit__kernel(void) {
    chosen_isa = best_isa();
    pthread_atfork(NULL, NULL, pool_after_fork_in_child);
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    static const struct { const char *name; long value; } constants[] = {
        {"RING", RING}, {"MAX_BODY_SPAN", MAX_BODY_SPAN}, {"VEC", VEC}, {"GROUP_ROWS", GROUP_ROWS},
        {"MAX_BATCH", MAX_BATCH}, {"MAX_TILE", MAX_TILE}, {"ALIGN_BYTES", ALIGN_BYTES}, {"OP_FIELDS", OP_FIELDS},
        {"OP_USE_H", OP_USE_H}, {"OP_USE_P", OP_USE_P}, {"OP_FINISH", OP_FINISH}, {"OP_PROJECT", OP_PROJECT},
        {"OP_USE_R", OP_USE_R}, {"OP_RESET", OP_RESET}, {"OP_USE_ZN", OP_USE_ZN},
        {"CELL_LSTM", CELL_LSTM}, {"CELL_GRU", CELL_GRU},
        {"VARIANT_STANDARD", VARIANT_STANDARD}, {"VARIANT_RESET_BEFORE", VARIANT_RESET_BEFORE},
        {"INT8_K_GROUP", INT8_K_GROUP}, {"INT8_ACT_OFFSET", INT8_ACT_OFFSET}, {"INT8_TILE_ALIGN", INT8_TILE_ALIGN},
        {"INT8_ROW_TRAILER_BYTES", INT8_ROW_TRAILER_BYTES},
        {"BF16_K_GROUP", BF16_K_GROUP}, {"AMX_OVERREAD_BYTES", AMX_OVERREAD_BYTES},
    };
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        if (PyModule_AddIntConstant(m, constants[i].name, constants[i].value) < 0) goto fail;
    PyObject *acts = PyTuple_New(ACT_COUNT);
    if (!acts) goto fail;
    for (int i = 0; i < ACT_COUNT; i++) PyTuple_SET_ITEM(acts, i, PyUnicode_FromString(ACTIVATION_NAMES[i]));
    if (PyModule_AddObject(m, "ACTIVATIONS", acts) < 0) {
        Py_DECREF(acts);
        goto fail;
    }
    if (PyModule_AddIntConstant(m, "CELL_ACTIVATIONS", CELL_ACTIVATIONS) < 0) goto fail;
    PyObject *isas = PyTuple_New(ISA_COUNT), *dtypes = PyDict_New();
    if (!isas || !dtypes) {
        Py_XDECREF(isas);
        Py_XDECREF(dtypes);
        goto fail;
    }
    for (int i = 0; i < ISA_COUNT; i++) PyTuple_SET_ITEM(isas, i, PyUnicode_FromString(ISA_NAMES[i]));
    for (int i = 0; i < DTYPE_COUNT; i++) {
        PyObject *entry = Py_BuildValue("(ii)", i, DTYPE_BYTES[i]);
        if (!entry || PyDict_SetItemString(dtypes, DTYPE_NAMES[i], entry) < 0) {
            Py_XDECREF(entry);
            Py_DECREF(isas);
            Py_DECREF(dtypes);
            goto fail;
        }
        Py_DECREF(entry);
    }
    if (PyModule_AddObject(m, "ISAS", isas) < 0) {
        Py_DECREF(isas);
        Py_DECREF(dtypes);
        goto fail;
    }
    if (PyModule_AddObject(m, "WEIGHT_DTYPES", dtypes) < 0) {
        Py_DECREF(dtypes);
        goto fail;
    }
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
