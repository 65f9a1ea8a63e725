/*
 * tsilstm native kernel: executes the periodic body of a tsilstm.plan Program (tsi, conventional,
 * snake, pinned, tsi-pinned) for one direction of one LSTM or GRU layer, multi-threaded.
 *
 * The job: what one call of run_direction runs (the buffers' shapes, the op lists, the progress
 * counters) and the engine that runs it (engine.c). The packed weights' format is layout.h's.
 *
 * The call's buffers:
 *   ops      int64 [n_ops][OP_FIELDS] per thread, concatenated; op_start[p] .. op_start[p+1] are
 *            thread p's ops. Fields: kind, row, col, step offset, nsteps, weight offset (elements).
 *   weights  packed W_h / W_hr tiles (weight_dtype; layout.h), at the ops' weight offsets.
 *   x        float32 [T][N][X]: the layer input.
 *   wx       W_ih tiles (r, xc) (input_weight_dtype: float32, bfloat16 or int8; layout.h), rows in
 *            the row-block layout, at xoff[r][xc] (elements).
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
#ifndef TSI_JOB_H
#define TSI_JOB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cells.h"
#include "dispatch.h"
#include "layout.h"

#define RING 8          /* step slots of the partial-sum, m and r*h rings */
#define MAX_BODY_SPAN (RING / 2) /* steps one body instance may touch, so a ring slot is never
                                    reused while a step in flight still accumulates into it */
#define MAX_BATCH 64    /* sequences one call takes (the column arrays hold 2 steps x MAX_BATCH) */
#define OP_FIELDS 6 /* kind, row, col, step offset, nsteps, weight offset (elements) */
enum { OP_USE_H = 0, OP_USE_P = 1, OP_FINISH = 2, OP_PROJECT = 3, OP_USE_R = 4, OP_RESET = 5, OP_USE_ZN = 6 };

typedef struct {
    _Alignas(64) _Atomic long value;
    char pad[64 - sizeof(long)];
} counter_t;

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
    const kernel_set_t *kernels; /* the dispatch entry of the call's instruction set */
    tile_fn_t tile_fn;   /* for the recurrent tiles (element type of w) */
    tile_q_fn_t tile_q_fn; /* int8 on quantized h_{t-1} for OP_USE_H, or NULL */
    uint8_t *hq;  /* with tile_q_fn: h_{t-1} of step s quantized, [RING][N][HC][KQ] (slot s % RING) */
    float *hs;    /* its scales [RING][N][HC] */
    int HC, KQ;   /* column blocks of h; bytes per quantized block (b rounded up to INT8_K_GROUP) */
    tile_fn_t tile_fn_x; /* for the W_ih tiles (element type of wx) on float x */
    tile_q_fn_t tile_q_fn_x; /* int8 W_ih on quantized x, or NULL */
    uint8_t *xq;  /* with tile_q_fn_x: x quantized, [T][N][XC][KQ] */
    float *xs;    /* its scales [T][N][XC] */
    int amx_x;    /* bfloat16 W_ih on tile units (kernels->input_bf16): x split into xhi + xlo */
    uint16_t *xhi, *xlo; /* with amx_x: [T * N + 16][XC][KB] bfloat16, zero beyond each block's features */
    int KB;       /* b rounded up to BF16_K_PAD */
    int amx_q;    /* int8 W_ih on tile units (kernels->input_q, on the quantized x of tile_q_fn_x) */
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
    int team;   /* 1: run on the calling framework's OpenMP team when one is registered (pool.h) */
    int64_t *profile;  /* with profiling on: [nthreads][PROFILE_FIELDS] nanoseconds, else NULL */
} job_t;

/* 64-byte aligned allocation (size rounded up to a multiple of 64, as C11 aligned_alloc wants) */
void *alloc64(size_t bytes);

/* Allocate and initialise J's rings, progress counters, live columns and quantized or split
 * inputs (its sizes, kernels and buffers set and checked); 0 when out of memory. job_free releases
 * what the job owns (also after a failed allocation, and J->profile). */
int job_allocate(job_t *J);
void job_free(job_t *J);

/* Run job J: prepare its inputs (quantize or split x, quantize h0 as its kernels need), then every
 * thread (on the pool, or on threads started for it when the pool is busy). Called without the
 * GIL. Returns 0 when threads could not be started (the outputs are then incomplete); *prepare_ns
 * gets the preparation time when J->profile is set. */
int job_run(job_t *J, int64_t *prepare_ns);

#endif
