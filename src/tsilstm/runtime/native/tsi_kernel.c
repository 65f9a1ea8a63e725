/*
 * tsilstm native kernel: the Python module tsilstm.runtime._kernel. It exports run_direction
 * (run_direction.c), the packed format's sizes and codes (layout.h: tile_layout, block_layout,
 * input_weight_dtype, input_tail_bytes and constants), what the dispatch table gives each
 * instruction set (dispatch.c), and the worker pool's and profile's switches.
 *
 * The library, by job: layout.h (the packed format, its only definition); microkernel_template.h
 * (tile products and cell updates written once) instantiated by kernels_<isa>.c, each also holding
 * its dispatch entry; dispatch.c (the one table, ISA -> kernels, and the CPU's best ISA); job.h and
 * engine.c (one call's job: hoisting the input product, the sweeps, the progress counters); cells.c
 * (cells beyond PyTorch's); pool.c (persistent workers); profile.c (optional timing).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "run_direction.h"
#include "cells.h"
#include "dispatch.h"
#include "job.h"
#include "layout.h"
#include "pool.h"
#include "profile.h"

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

static PyObject *py_set_framework_team(PyObject *self, PyObject *args) {
    unsigned long long parallel = 0, num_threads = 0, thread_num = 0;
    if (!PyArg_ParseTuple(args, "KKK", &parallel, &num_threads, &thread_num)) return NULL;
    pool_set_team((team_parallel_fn)(uintptr_t)parallel, (team_query_fn)(uintptr_t)num_threads,
                  (team_query_fn)(uintptr_t)thread_num);
    Py_RETURN_NONE;
}

static PyObject *py_set_profiling(PyObject *self, PyObject *arg) {
    const int enabled = PyObject_IsTrue(arg);
    if (enabled < 0) return NULL;
    return PyBool_FromLong(profile_set(enabled));
}

static PyObject *py_take_profile(PyObject *self, PyObject *unused) {
    static int64_t sums[MAX_PROFILED_THREADS][PROFILE_FIELDS]; /* under the GIL */
    int threads_seen;
    int64_t calls, prepare_ns;
    profile_take(sums, &threads_seen, &calls, &prepare_ns, 1);
    PyObject *threads = PyList_New(0);
    for (int p = 0; threads && p < threads_seen; p++) {
        PyObject *row = Py_BuildValue("(LLLL)", (long long)sums[p][PROFILE_HOIST], (long long)sums[p][PROFILE_UPDATE],
                                      (long long)sums[p][PROFILE_WAIT], (long long)sums[p][PROFILE_TOTAL]);
        if (!row || PyList_Append(threads, row) != 0) Py_CLEAR(threads);
        Py_XDECREF(row);
    }
    return threads ? Py_BuildValue("(LLN)", (long long)calls, (long long)prepare_ns, threads) : NULL;
}

static PyObject *py_worker_thread_ids(PyObject *self, PyObject *unused) {
    PyObject *out = PyList_New(0);
    for (int i = 1; out && i <= MAX_POOL_WORKERS; i++) {
        const long id = pool_worker_thread_id(i);
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

static int parse_dtype(int dtype) {
    if (dtype < 0 || dtype >= DTYPE_COUNT) {
        PyErr_SetString(PyExc_ValueError, "dtype: must be one of the codes in WEIGHT_DTYPES");
        return 0;
    }
    return 1;
}

static PyObject *py_tile_layout(PyObject *self, PyObject *args) {
    int dtype, K, rows;
    if (!PyArg_ParseTuple(args, "iii", &dtype, &K, &rows)) return NULL;
    if (!parse_dtype(dtype)) return NULL;
    if (K < 1 || K > (1 << 20) || rows < VEC || rows % VEC != 0 || rows > (1 << 20)) { /* far beyond any tile */
        PyErr_SetString(PyExc_ValueError, "tile_layout: K >= 1 columns and rows a positive multiple of VEC");
        return NULL;
    }
    const long scales = dtype == DTYPE_INT8 ? (long)int8_scales_at(K, rows) : -1;
    const long offsets = dtype == DTYPE_INT8 ? (long)int8_offsets_at(K, rows) : -1;
    return Py_BuildValue("(nniill)", (Py_ssize_t)tile_elements(dtype, K, rows), (Py_ssize_t)tile_bytes(dtype, K, rows),
                         tile_k_lane(dtype), (int)tile_stored_k(dtype, K), scales, offsets);
}

static PyObject *py_input_weight_dtype(PyObject *self, PyObject *args) {
    int dtype, isa;
    if (!PyArg_ParseTuple(args, "ii", &dtype, &isa)) return NULL;
    if (!parse_dtype(dtype)) return NULL;
    if (isa < 0 || isa >= ISA_COUNT) {
        PyErr_SetString(PyExc_ValueError, "isa: must be an index of ISAS");
        return NULL;
    }
    return PyLong_FromLong(input_weight_dtype(dtype, isa));
}

static PyObject *py_input_tail_bytes(PyObject *self, PyObject *args) {
    int dtype;
    if (!PyArg_ParseTuple(args, "i", &dtype) || !parse_dtype(dtype)) return NULL;
    return PyLong_FromSize_t(input_tail_bytes(dtype));
}

static PyMethodDef methods[] = {
    {"run_direction", (PyCFunction)(void (*)(void))py_run_direction, METH_VARARGS | METH_KEYWORDS,
     "Run the periodic body of a plan over one layer direction (see the module source for the layout)."},
    {"tile_layout", py_tile_layout, METH_VARARGS,
     "tile_layout(dtype, K, rows) -> (elements, bytes, k_lane, stored_k, scales_at, offsets_at): one packed tile "
     "of `rows` x K weights of type code `dtype`: its size, the consecutive k of a row stored together, the k a "
     "row stores (padding included), and for int8 the byte offsets of its float32 row scales and int32 row "
     "offsets (-1 otherwise)."},
    {"input_weight_dtype", py_input_weight_dtype, METH_VARARGS,
     "input_weight_dtype(dtype, isa) -> code: the element type of the packed W_ih for recurrent weights of "
     "type code `dtype` run on instruction set `isa` (an index of ISAS)."},
    {"input_tail_bytes", py_input_tail_bytes, METH_VARARGS,
     "input_tail_bytes(dtype) -> bytes: the zeros a packed W_ih buffer of type code `dtype` ends in."},
    {"block_layout", py_block_layout, METH_VARARGS,
     "block_layout(gates, variant, tile, units) -> (gate_stride, rows): where gate g of a row-block of "
     "`units` hidden units starts (gate_stride * g) and how many rows its vectors and W_ih tiles have."},
    {"set_worker_pinning", py_set_worker_pinning, METH_O,
     "Bind the persistent worker threads to one CPU each (True, the default) or let them float "
     "(False); each worker applies it at its next job; returns the previous setting."},
    {"set_framework_team", py_set_framework_team, METH_VARARGS,
     "set_framework_team(parallel, num_threads, thread_num): addresses of the GOMP_parallel, "
     "omp_get_num_threads and omp_get_thread_num of the OpenMP runtime a framework runs its threads on "
     "(0, 0, 0: none); calls with team=True then run their threads on that team when it has exactly their "
     "count. The addresses must be those functions of a library loaded for the life of the process."},
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
    pool_init();
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
    /* what the dispatch table gives each instruction set beyond the float products, by ISA name */
    PyObject *integer_dot = PyList_New(0), *input_tiles = PyList_New(0);
    for (int i = 0; integer_dot && input_tiles && i < ISA_COUNT; i++) {
        const kernel_set_t *k = kernels_for(i);
        PyObject *name = PyUnicode_FromString(ISA_NAMES[i]);
        if (!name || (k->tile_q[DTYPE_INT8] && PyList_Append(integer_dot, name) < 0) ||
            (k->input_bf16 && PyList_Append(input_tiles, name) < 0)) {
            Py_CLEAR(integer_dot);
        }
        Py_XDECREF(name);
    }
    PyObject *integer_dot_isas = integer_dot ? PyList_AsTuple(integer_dot) : NULL;
    PyObject *input_tile_isas = input_tiles && integer_dot ? PyList_AsTuple(input_tiles) : NULL;
    Py_XDECREF(integer_dot);
    Py_XDECREF(input_tiles);
    if (!integer_dot_isas || PyModule_AddObject(m, "INTEGER_DOT_ISAS", integer_dot_isas) < 0) {
        Py_XDECREF(integer_dot_isas);
        Py_XDECREF(input_tile_isas);
        goto fail;
    }
    if (!input_tile_isas || PyModule_AddObject(m, "INPUT_TILE_ISAS", input_tile_isas) < 0) {
        Py_XDECREF(input_tile_isas);
        goto fail;
    }
    PyObject *names = run_direction_argument_names();
    if (!names || PyModule_AddObject(m, "RUN_ARGUMENTS", names) < 0) {
        Py_XDECREF(names);
        goto fail;
    }
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
