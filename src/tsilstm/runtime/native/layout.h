/*
 * The packed format: the only definition of how weights are laid out for the kernel. The packers
 * (tsilstm/runtime/packing.py), the memory estimate (memory_budget.py) and the microkernels all
 * take tile geometry, sizes and offsets from here (Python through the functions the module exports:
 * tile_layout, block_layout, input_weight_dtype).
 *
 * Tiles. A tile is `rows` rows (a multiple of VEC) by K columns of one weight matrix, stored as
 * groups of up to GROUP_ROWS rows, one group after another; inside a group the layout depends on
 * the element type (its code, DTYPE_*):
 *   float32   [K][group rows]                        (column-major inside the group)
 *   bfloat16  [K2][group rows][BF16_K_GROUP]         (K2 = ceil(K / 2): two consecutive k of a row
 *             in one 32-bit lane, the pair layout of AMX's bf16 tiles; an odd K's last pair padded
 *             with a zero weight)
 *   int8      [K4][group rows][INT8_K_GROUP]         (K4 = ceil(K / 4): four consecutive k of a row
 *             share one 32-bit lane; k beyond K are zero), and after the last group, per row of the
 *             tile: float32 scale[rows] (weight = int8 * scale, symmetric, per row), then
 *             int32 offset[rows] = INT8_ACT_OFFSET * (sum of the row's int8 weights).
 * so one use of a tile reads it as one sequential stream. The k a row stores (K rounded up to the
 * lane) is tile_stored_k(); the tile's size tile_elements() / tile_bytes(); the int8 trailer's place
 * int8_scales_at() / int8_offsets_at(). Every int8 tile is a multiple of INT8_TILE_ALIGN bytes
 * (rows are a multiple of 16: 4 * K4 * rows and 8 * rows are multiples of 64).
 *
 * h and x quantized for the integer paths are stored as uint8 q + INT8_ACT_OFFSET (q in -127..127);
 * the integer products subtract the row's offset, so sum((q + 128) * w) - offset = sum(q * w). The
 * offsets are computed once, when the tile is packed (computing them alongside each product cost a
 * fifth of the product at batch 4: LSTM 2048 tsi 0.47 -> 0.38 ms per step without it).
 *
 * Buffers. W_h / W_hr tiles (weight_dtype) and W_ih tiles (input_weight_dtype(weight_dtype, isa))
 * are two buffers, each ALIGN_BYTES-aligned; a tile starts at a multiple of tile_align_elements().
 * A low-precision W_ih buffer ends in input_tail_bytes() of zeros (what an AMX load reads past it).
 *
 * Row-blocks (block_layout): the gate rows of row-block r (br units) are gate-grouped. For the
 * standard cells gate g starts at g*br and a block has pad(G*br) rows; for the original-form GRU
 * (VARIANT_RESET_BEFORE) gate g starts at g*pad(b) and a block has 3*pad(b) rows, so the reset,
 * update and candidate rows can be accumulated apart. A W_h tile (r, c) of a standard cell holds
 * every gate of its row-block (pad(G*br) rows); the original-form GRU has a reset tile (pad(br)
 * rows) and an update/candidate tile (two tiles of pad(br) rows, one after the other).
 */
#ifndef TSI_LAYOUT_H
#define TSI_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define VEC 16          /* floats per vector register block (one 512-bit register) */
#define GROUP_VECS 4    /* vectors per row group: GROUP_ROWS rows of a tile are applied together */
#define GROUP_ROWS (GROUP_VECS * VEC)
#define MAX_TILE 1024   /* largest tile (units) */
#define ALIGN_BYTES 64  /* alignment of the weight buffers (a cache line) */

enum { DTYPE_F32 = 0, DTYPE_BF16 = 1, DTYPE_INT8 = 2, DTYPE_COUNT = 3 }; /* packed weight element types */
static const char *const DTYPE_NAMES[DTYPE_COUNT] = {"float32", "bfloat16", "int8"};
static const int DTYPE_BYTES[DTYPE_COUNT] = {4, 2, 1};

#define INT8_K_GROUP 4
#define INT8_ACT_OFFSET 128
#define INT8_TILE_ALIGN 64 /* offsets of int8 tiles (bytes) are multiples of this */
#define INT8_ROW_TRAILER_BYTES 8 /* after an int8 tile's groups, per row: the float32 scale and the int32 offset */
#define BF16_K_GROUP 2
#define BF16_K_PAD 32 /* k of one AMX bf16 tile load (64 bytes of a row) */
#define INT8_K_PAD 64 /* k of one AMX int8 tile load; quantized activation blocks are padded to it */
/* An AMX weight load takes 16 rows of 64 bytes (32 k of bfloat16, 64 k of int8), so near the end of
 * a tile it reads up to this many bytes past it: a low-precision W_ih buffer ends in that many zeros.
 * What it reads there meets activations that are zero (the activation blocks are zero-padded) and
 * weights are finite, so it adds exact zeros. */
#define AMX_OVERREAD_BYTES (16 * GROUP_ROWS * 4)

/* Instruction sets, each including the ones before it (the dispatch table, dispatch.c, says what
 * each runs). avx512_vnni only changes int8 weights: their products with h_{t-1} and x_t become
 * integer dot products (vpdpbusd) on h and x quantized per step. amx (AMX-BF16 and AMX-INT8 tiles,
 * granted by the kernel to this process) only changes the hoisted input product of low-precision
 * W_ih: bfloat16 x_t split into two bfloat16 (hi + lo) times bfloat16 W_ih (tdpbf16ps), int8 on
 * tdpbusd. They are part of the format because W_ih's element type depends on them. */
enum { ISA_GENERIC = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_AVX512_VNNI = 3, ISA_AMX = 4, ISA_COUNT = 5 };
static const char *const ISA_NAMES[ISA_COUNT] = {"generic", "avx2", "avx512", "avx512_vnni", "amx"};

enum { VARIANT_STANDARD = 0, VARIANT_RESET_BEFORE = 1 };

static inline int pad_vec(int n) { return (n + VEC - 1) / VEC * VEC; }

/* Consecutive k of one row stored together (one 32-bit lane) in a tile of `dtype`. */
static inline int tile_k_lane(int dtype) {
    return dtype == DTYPE_INT8 ? INT8_K_GROUP : dtype == DTYPE_BF16 ? BF16_K_GROUP : 1;
}

/* k one row of a tile of K columns stores: K rounded up to the lane (the rest zero weights). */
static inline size_t tile_stored_k(int dtype, int K) {
    if (dtype == DTYPE_INT8) return (size_t)(K + INT8_K_GROUP - 1) / INT8_K_GROUP * INT8_K_GROUP;
    if (dtype == DTYPE_BF16) return (size_t)((K + BF16_K_GROUP - 1) / BF16_K_GROUP * BF16_K_GROUP);
    return (size_t)K;
}

/* Elements (of the weight type) one tile of `rows` x K occupies in the packed weights. */
static inline size_t tile_elements(int dtype, int K, int rows) {
    const size_t body = tile_stored_k(dtype, K) * rows;
    return dtype == DTYPE_INT8 ? body + INT8_ROW_TRAILER_BYTES * (size_t)rows : body;
}

static inline size_t tile_bytes(int dtype, int K, int rows) { return tile_elements(dtype, K, rows) * DTYPE_BYTES[dtype]; }

/* Elements from the start of a tile to its row group starting at row g0. */
static inline size_t tile_group_at(int dtype, int K, int g0) { return (size_t)g0 * tile_stored_k(dtype, K); }

/* Bytes from the start of an int8 tile to its float32 row scales, and to its int32 row offsets. */
static inline size_t int8_scales_at(int K, int rows) { return tile_stored_k(DTYPE_INT8, K) * rows; }
static inline size_t int8_offsets_at(int K, int rows) { return int8_scales_at(K, rows) + sizeof(float) * (size_t)rows; }
static inline const float *int8_tile_scales(const int8_t *w, int K, int rows) {
    return (const float *)(w + int8_scales_at(K, rows));
}
static inline const int32_t *int8_tile_offsets(const int8_t *w, int K, int rows) {
    return (const int32_t *)(w + int8_offsets_at(K, rows));
}

/* Tiles of `dtype` start at multiples of this many elements of the buffer. */
static inline long tile_align_elements(int dtype) { return dtype == DTYPE_INT8 ? INT8_TILE_ALIGN : VEC; }

/* The element type of the packed W_ih for recurrent weights of `dtype` run on `isa`: int8 with
 * int8 (the hoisted input product then runs on integer dot products where the CPU has them);
 * bfloat16 with bfloat16 on AMX (tile dot products, x split into two bfloat16 halves; elsewhere a
 * bfloat16 W_ih would only add rounding); float32 otherwise. */
static inline int input_weight_dtype(int dtype, int isa) {
    if (dtype == DTYPE_INT8) return DTYPE_INT8;
    return dtype == DTYPE_BF16 && isa == ISA_AMX ? DTYPE_BF16 : DTYPE_F32;
}

/* Zero bytes a packed W_ih buffer of `dtype` ends in (an AMX tile load reads up to this far past
 * the last tile; float32 W_ih never meets AMX). */
static inline size_t input_tail_bytes(int dtype) { return dtype == DTYPE_F32 ? 0 : AMX_OVERREAD_BYTES; }

/* The row-block layout: where gate g of a row-block of br units starts (*gate_stride * g) and how
 * many rows its vectors and W_ih tiles have (*rows), for a layer cut into tiles of b units. */
static inline void block_layout(int gates, int variant, int b, int br, int *gate_stride, int *rows) {
    if (variant == VARIANT_RESET_BEFORE) {
        *gate_stride = pad_vec(b);
        *rows = gates * pad_vec(b);
    } else {
        *gate_stride = br;
        *rows = pad_vec(gates * br);
    }
}

#endif
