/* The dispatch table: for each instruction set, the tile products per weight type and the cell
 * updates it runs (chosen once per call from the table, never by branching on the ISA elsewhere),
 * and the CPU's best instruction set. */
#ifndef TSI_DISPATCH_H
#define TSI_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"

#define COL_CHUNK 4     /* product columns (step x batch) applied together */
#define MAX_COLS 512    /* columns of one tile product: a use has 2 steps x batch <= 2 * MAX_BATCH (job.h),
                           the input hoisting applies a tile to this many (step, sequence) columns */

/* acc[j][0..rows) += W (a tile of the table's weight type, rows x K) @ hcol[j][0..K) for j < ncols. */
typedef void (*tile_fn_t)(const void *w, int K, int rows, int ncols, const float *const *hcol, float *const *acc);
/* The same on h quantized per step (uint8 q + INT8_ACT_OFFSET, scale hs[j] per column): integer
 * dot products, acc += (sum - the row's offset) * weight scale * h scale. hq rows are padded with
 * INT8_ACT_OFFSET to a multiple of four k, where the weights are zero. */
typedef void (*tile_q_fn_t)(const void *w, int K, int rows, int ncols, const uint8_t *const *hq, const float *hs,
                            float *const *acc);
/* acc[j] += bfloat16 W_ih @ (hi + lo)[j]: the bfloat16 halves of column j start at xhi / xlo + j *
 * xstride (elements), zero from K up to a multiple of BF16_K_PAD, and 16 more columns are readable. */
typedef void (*input_bf16_fn_t)(const uint16_t *w, int K, int rows, int ncols, const uint16_t *xhi,
                                const uint16_t *xlo, size_t xstride, float *const *acc);
/* acc[j] += int8 W_ih @ x_j quantized: column j's bytes at xq + j * xstride (zero from K up to a
 * multiple of INT8_K_PAD; 16 more columns readable), its scale xs[j * xs_stride]. */
typedef void (*input_q_fn_t)(const int8_t *w, int K, int rows, int ncols, const uint8_t *xq, size_t xstride,
                             const float *xs, size_t xs_stride, float *const *acc);
/* LSTM update of br units: gate pre-activations gx + acc (gate-grouped, br apart), c in place, m out. */
typedef void (*lstm_fn_t)(int br, const float *gx, const float *acc, float *c, float *m);
/* GRU update (reset after), gates br apart. */
typedef void (*gru_fn_t)(int br, const float *gx, const float *acc, const float *hp, float *h);
/* Original-form GRU update: gates gs apart; acc's candidate rows already hold W_hn (r * h) + b_hn. */
typedef void (*gru_rb_fn_t)(int br, int gs, const float *gx, const float *acc, const float *hp, float *h);

typedef struct {
    tile_fn_t tile[DTYPE_COUNT];     /* float activations times weights of each type */
    tile_q_fn_t tile_q[DTYPE_COUNT]; /* quantized activations times weights of each type, or NULL */
    input_bf16_fn_t input_bf16;      /* the hoisted input product on tile units for bfloat16 W_ih, or NULL */
    input_q_fn_t input_q;            /* the same for int8 W_ih on quantized x, or NULL */
    void (*tiles_begin)(void);       /* with input_bf16 / input_q: before a thread's first use, and after */
    void (*tiles_end)(void);
    lstm_fn_t lstm;
    gru_fn_t gru;
    gru_rb_fn_t gru_rb;
} kernel_set_t;

/* The kernels of `isa` (at most best_isa()). */
const kernel_set_t *kernels_for(int isa);

/* The best instruction set this CPU (and, for AMX, the operating system) supports. */
int best_isa(void);

#endif
