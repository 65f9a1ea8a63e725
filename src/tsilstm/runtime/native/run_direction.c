/* run_direction: the kernel's Python entry point. It parses the call (its argument list defined
 * once, RUN_DIRECTION_ARGUMENTS, and exported as the module's RUN_ARGUMENTS), checks every buffer
 * against the layout before anything runs, allocates the job's rings and runs it (engine.c). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run_direction.h"
#include "dispatch.h"
#include "job.h"
#include "layout.h"
#include "profile.h"
#include "vector_math.h"

/* The arguments, in order: name, PyArg format, where the value goes. What changes from call to call
 * comes first: a caller can pass everything by position, which parses in a fraction of the time
 * keywords take (a one-step call of a small layer pays it); "|" starts the optional ones. */
#define RUN_DIRECTION_ARGUMENTS(ARG)                                                                     \
    ARG(batch, "i", &J.N) ARG(steps, "i", &J.T) ARG(k_first, "l", &J.k_first) ARG(k_last, "l", &J.k_last)      \
    ARG(x, "y*", &x) ARG(h0, "y*", &h0) ARG(y, "w*", &y) ARG(c, "w*", &c)                                      \
    ARG(cell, "i", &J.cell) ARG(hidden, "i", &J.H) ARG(recurrent, "i", &J.P) ARG(proj, "i", &J.proj)           \
    ARG(tile, "i", &J.b) ARG(threads, "i", &J.nthreads) ARG(period, "l", &J.period) ARG(ops, "y*", &ops)       \
    ARG(op_start, "y*", &op_start) ARG(weights, "y*", &w) ARG(input, "i", &J.X) ARG(wx, "y*", &wx)             \
    ARG(xoff, "y*", &xoff) ARG(bias_x, "y*", &bias_x) ARG(bias_h, "y*", &bias_h)                             \
    ARG(isa, "|i", &isa) ARG(weight_dtype, "i", &weight_dtype) ARG(variant, "i", &J.variant)                 \
    ARG(activations, "y*", &activations) ARG(clip, "d", &clip) ARG(input_forget, "p", &input_forget)         \
    ARG(peepholes, "y*", &peepholes) ARG(input_weight_dtype, "i", &input_dtype)                     \
    ARG(linger, "p", &J.linger) ARG(team, "p", &J.team) ARG(lengths, "y*", &lengths)

#define ARGUMENT_NAME(NAME, FORMAT, TARGET) #NAME,
#define ARGUMENT_FORMAT(NAME, FORMAT, TARGET) FORMAT
#define ARGUMENT_TARGET(NAME, FORMAT, TARGET) , TARGET
static const char *ARGUMENT_NAMES[] = {RUN_DIRECTION_ARGUMENTS(ARGUMENT_NAME) NULL};

int chosen_isa = -1;

PyObject *run_direction_argument_names(void) {
    const Py_ssize_t count = (Py_ssize_t)(sizeof ARGUMENT_NAMES / sizeof ARGUMENT_NAMES[0]) - 1;
    PyObject *names = PyTuple_New(count);
    for (Py_ssize_t i = 0; names && i < count; i++) {
        PyObject *name = PyUnicode_FromString(ARGUMENT_NAMES[i]);
        if (!name) {
            Py_CLEAR(names);
            break;
        }
        PyTuple_SET_ITEM(names, i, name);
    }
    return names;
}

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
    const long tile_align = tile_align_elements(J->w_dtype);
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

PyObject *py_run_direction(PyObject *self, PyObject *args, PyObject *kwargs) {
    job_t J;
    memset(&J, 0, sizeof J);
    int isa = -1;
    int weight_dtype = DTYPE_F32, input_dtype = DTYPE_F32;
    Py_buffer ops = {0}, op_start = {0}, w = {0}, x = {0}, wx = {0}, xoff = {0}, bias_x = {0}, bias_h = {0}, h0 = {0}, y = {0}, c = {0};
    Py_buffer activations = {0}, peepholes = {0}, lengths = {0};
    double clip = 0.0;
    int input_forget = 0;
    J.linger = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, RUN_DIRECTION_ARGUMENTS(ARGUMENT_FORMAT), (char **)ARGUMENT_NAMES
                                     RUN_DIRECTION_ARGUMENTS(ARGUMENT_TARGET)))
        return NULL;
    PyObject *result = NULL;

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
    if (input_dtype < 0 || input_dtype >= DTYPE_COUNT) {
        PyErr_SetString(PyExc_ValueError, "input_weight_dtype: must be one of the codes in WEIGHT_DTYPES");
        goto done;
    }
    J.wx_dtype = input_dtype;
    J.wx_elem = (size_t)DTYPE_BYTES[input_dtype];
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
    const kernel_set_t *kernels = kernels_for(isa);
    J.kernels = kernels;
    J.op_start = (const int64_t *)op_start.buf;
    J.xoff = (const int64_t *)xoff.buf;
    if (!check_ops(&J, (size_t)w.len / J.w_elem, ops.len / (OP_FIELDS * 8))) goto done;
    for (int r = 0; r < J.R; r++)
        for (int xc = 0; xc < J.XC; xc++) {
            int64_t off = J.xoff[(size_t)r * J.XC + xc];
            int gate_stride, rows;
            block_layout(J.G, J.variant, J.b, imin(J.b, J.H - r * J.b), &gate_stride, &rows);
            const size_t need = tile_elements(J.wx_dtype, imin(J.b, J.X - xc * J.b), rows);
            const long align = tile_align_elements(J.wx_dtype);
            /* tile units read past a low-precision W_ih's last tile (layout.h) */
            const int tile_units = J.wx_dtype == DTYPE_BF16 ? kernels->input_bf16 != NULL
                                   : J.wx_dtype == DTYPE_INT8 ? kernels->input_q != NULL : 0;
            const size_t overread = tile_units ? input_tail_bytes(J.wx_dtype) / J.wx_elem : 0;
            if (off < 0 || off % align != 0 || (size_t)off + need + overread > (size_t)wx.len / J.wx_elem) {
                PyErr_Format(PyExc_ValueError, "xoff: tile (%d, %d) lies outside wx", r, xc);
                goto done;
            }
        }
    J.tile_fn = kernels->tile[weight_dtype];
    /* the integer path needs h quantized per column block; the original-form GRU's second operand
     * (r * h) and the projection's m stay float (int8 weights widened) */
    J.tile_q_fn = J.variant == VARIANT_STANDARD ? kernels->tile_q[weight_dtype] : NULL;
    J.tile_fn_x = kernels->tile[J.wx_dtype];
    J.tile_q_fn_x = kernels->tile_q[J.wx_dtype];
    J.amx_x = J.wx_dtype == DTYPE_BF16 && kernels->input_bf16 != NULL;
    J.amx_q = J.wx_dtype == DTYPE_INT8 && kernels->input_q != NULL && J.tile_q_fn_x != NULL;
    J.lstm_fn = kernels->lstm;
    J.gru_fn = kernels->gru;
    J.gru_rb_fn = kernels->gru_rb;
    J.w = (const char *)w.buf;
    J.x = (const float *)x.buf;
    J.wx = (const char *)wx.buf;
    J.bias_x = (const float *)bias_x.buf;
    J.bias_h = (const float *)bias_h.buf;
    J.h0 = (const float *)h0.buf;
    J.y = (float *)y.buf;
    J.c = (float *)c.buf;

    if (!job_allocate(&J)) {
        PyErr_NoMemory();
        goto done;
    }

    if (profile_enabled() && J.nthreads <= MAX_PROFILED_THREADS)
        J.profile = calloc((size_t)J.nthreads * PROFILE_FIELDS, sizeof(int64_t)); /* NULL: not profiled */
    int64_t prepare_ns = 0;
    int ran;
    Py_BEGIN_ALLOW_THREADS
    ran = job_run(&J, &prepare_ns);
    Py_END_ALLOW_THREADS
    if (!ran) {
        /* the started workers saw the abort flag and stopped; the outputs are incomplete */
        PyErr_SetString(PyExc_RuntimeError, "could not start the kernel's threads");
        goto done;
    }
    if (J.profile) profile_add(J.profile, J.nthreads, prepare_ns);
    result = Py_None;
    Py_INCREF(result);
done:
    job_free(&J);
    PyBuffer_Release(&ops);
    PyBuffer_Release(&op_start);
    PyBuffer_Release(&w);
    PyBuffer_Release(&x);
    PyBuffer_Release(&wx);
    PyBuffer_Release(&xoff);
    PyBuffer_Release(&bias_x);
    PyBuffer_Release(&bias_h);
    PyBuffer_Release(&h0);
    PyBuffer_Release(&y);
    PyBuffer_Release(&c);
    PyBuffer_Release(&activations);
    PyBuffer_Release(&peepholes);
    PyBuffer_Release(&lengths);
    return result;
}
