/* The engine: one call's threads hoisting the input product and running the sweeps of their op
 * lists (see job.h). */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "pool.h"
#include "profile.h"
#include "vector_math.h"

typedef struct {
    job_t *job;
    int index;
} worker_arg_t;

void *alloc64(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

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
    if (J->amx_x || J->amx_q) J->kernels->tiles_begin();
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
                if (J->amx_x) {
                    const size_t at = ((size_t)j0 * J->XC + xc) * J->KB, stride = (size_t)J->XC * J->KB;
                    J->kernels->input_bf16((const uint16_t *)w, K, rows, ncols, J->xhi + at, J->xlo + at, stride, acc);
                    continue;
                }
                if (J->amx_q) {
                    const size_t at = (size_t)j0 * J->XC + xc;
                    J->kernels->input_q((const int8_t *)w, K, rows, ncols, J->xq + at * J->KQ, (size_t)J->XC * J->KQ,
                                        J->xs + at, (size_t)J->XC, acc);
                    continue;
                }
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
    if (J->amx_x || J->amx_q) J->kernels->tiles_end();
}

static void run_sweeps(job_t *J, int p);

static void run_thread(void *arg, int p) {
    job_t *J = (job_t *)arg;
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

int job_run(job_t *J, int64_t *prepare_ns) {
    const int64_t prepare_start = J->profile ? now_ns() : 0;
    if (J->tile_q_fn_x) quantize_inputs(J);
    if (J->amx_x) split_inputs(J);
    if (J->tile_q_fn)
        for (int block = 0; block < J->HC; block++) quantize_h(J, block, -1);
    if (J->profile) *prepare_ns = now_ns() - prepare_start;
    int started = 0, failed = 0, pooled = 0;
    if (J->nthreads > 1) {
        const pool_task_t task = {run_thread, J, J->nthreads, J->linger, J->team};
        pooled = pool_run(&task);
    }
    pthread_t *th = NULL;
    worker_arg_t *wa = NULL;
    if (!pooled && J->nthreads > 1) {
        th = calloc((size_t)J->nthreads, sizeof(pthread_t));
        wa = calloc((size_t)J->nthreads, sizeof(worker_arg_t));
        failed = !th || !wa;
    }
    for (int p = 1; !pooled && !failed && p < J->nthreads; p++) {
        wa[p].job = J;
        wa[p].index = p;
        if (pthread_create(&th[p], NULL, worker_main, &wa[p]) != 0) {
            failed = 1;
            break;
        }
        started = p;
    }
    if (failed)
        atomic_store(&J->abort, 1);
    else if (!pooled)
        run_thread(J, 0);
    for (int p = 1; p <= started; p++) pthread_join(th[p], NULL);
    free(th);
    free(wa);
    return !failed;
}

int job_allocate(job_t *J) {
    if (J->len != NULL) { /* the live columns of the input product, in (step, sequence) order */
        long *live = malloc(sizeof(long) * ((size_t)J->T * J->N + 1));
        if (!live) return 0;
        J->live_count = 0;
        for (long t = 0; t < J->T; t++)
            for (int n = 0; n < J->N; n++)
                if (t < J->len[n]) live[J->live_count++] = t * J->N + n;
        J->live = live;
    } else {
        J->live_count = (long)J->T * J->N;
    }
    const size_t acc_floats = (size_t)RING * J->R * J->N * J->RP;
    J->acc = alloc64(sizeof(float) * acc_floats);
    J->gx = alloc64(sizeof(float) * (size_t)J->T * J->R * J->N * J->RP);
    J->mprog = alloc64(sizeof(counter_t) * J->R);
    J->hprog = J->mprog;
    if (J->proj) {
        const size_t accp_floats = (size_t)RING * J->PR * J->N * J->RPp;
        J->accp = alloc64(sizeof(float) * accp_floats);
        J->mring = alloc64(sizeof(float) * ((size_t)RING * J->N * J->H + VEC));
        J->hprog = alloc64(sizeof(counter_t) * J->PR);
        if (!J->accp || !J->mring || !J->hprog) return 0;
        memset(J->accp, 0, sizeof(float) * accp_floats);
    }
    if (J->variant == VARIANT_RESET_BEFORE) {
        J->rhring = alloc64(sizeof(float) * (size_t)RING * J->N * J->H);
        J->rprog = alloc64(sizeof(counter_t) * J->R);
        if (!J->rhring || !J->rprog) return 0;
    }
    J->KQ = (J->b + INT8_K_PAD - 1) / INT8_K_PAD * INT8_K_PAD;
    J->KB = (J->b + BF16_K_PAD - 1) / BF16_K_PAD * BF16_K_PAD;
    if (J->amx_x) {
        const size_t halves = (size_t)((long)J->T * J->N + 16) * J->XC * J->KB;
        J->xhi = alloc64(sizeof(uint16_t) * halves);
        J->xlo = alloc64(sizeof(uint16_t) * halves);
        if (!J->xhi || !J->xlo) return 0;
    }
    if (J->tile_q_fn_x) {
        J->xq = alloc64(((size_t)J->T * J->N + 16) * J->XC * J->KQ); /* 16 more columns: an AMX load reads them */
        J->xs = alloc64(sizeof(float) * (size_t)J->T * J->N * J->XC);
        if (!J->xq || !J->xs) return 0;
    }
    if (J->tile_q_fn) {
        J->HC = (J->P + J->b - 1) / J->b;
        J->hq = alloc64((size_t)RING * J->N * J->HC * J->KQ);
        J->hs = alloc64(sizeof(float) * (size_t)RING * J->N * J->HC);
        if (!J->hq || !J->hs) return 0;
    }
    if (!J->acc || !J->gx || !J->mprog) return 0;
    for (int slot = 0; slot < RING; slot++)
        for (int r = 0; r < J->R; r++)
            for (int n = 0; n < J->N; n++)
                memcpy(J->acc + (((size_t)slot * J->R + r) * J->N + n) * J->RP, J->bias_h + (size_t)r * J->RP,
                       sizeof(float) * J->RP);
    for (int r = 0; r < J->R; r++) atomic_init(&J->mprog[r].value, 0);
    for (int r = 0; r < J->PR; r++) atomic_init(&J->hprog[r].value, 0);
    if (J->rprog)
        for (int r = 0; r < J->R; r++) atomic_init(&J->rprog[r].value, 0);
    return 1;
}

void job_free(job_t *J) {
    free((void *)J->live);
    free(J->profile);
    free(J->hq);
    free(J->hs);
    free(J->xq);
    free(J->xs);
    free(J->xhi);
    free(J->xlo);
    free(J->acc);
    free(J->accp);
    free(J->mring);
    if (J->hprog != J->mprog) free(J->hprog);
    free(J->mprog);
    free(J->rhring);
    free(J->rprog);
    free(J->gx);
}
