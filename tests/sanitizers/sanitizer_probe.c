/* Deliberate defects, one per sanitizer, to prove that a sanitized run reports them (and so that
 * the zero-report result of tests/sanitizers/sanitized_run.py means something): a heap overflow
 * (ASan), a signed shift overflow (UBSan) and an unsynchronised counter shared by two threads
 * (TSan). Built and run only by sanitized_run.py; never part of the package. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdlib.h>

static int shared_counter;

static void *bump(void *arg) {
    for (int i = 0; i < 100000; i++) shared_counter++;
    return arg;
}

static PyObject *race(PyObject *self, PyObject *unused) {
    pthread_t a, b;
    pthread_create(&a, NULL, bump, NULL);
    pthread_create(&b, NULL, bump, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return PyLong_FromLong(shared_counter);
}

static PyObject *overflow(PyObject *self, PyObject *unused) {
    volatile char *p = malloc(16);
    p[16] = 1;
    free((void *)p);
    Py_RETURN_NONE;
}

static PyObject *shift(PyObject *self, PyObject *arg) {
    volatile int x = (int)PyLong_AsLong(arg);
    return PyLong_FromLong(x << 23);
}

static PyMethodDef methods[] = {{"race", race, METH_NOARGS, "data race"},
                                {"overflow", overflow, METH_NOARGS, "heap overflow"},
                                {"shift", shift, METH_O, "signed shift overflow"},
                                {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "sanitizer_probe", "deliberate defects", -1, methods};
PyMODINIT_FUNC PyInit_sanitizer_probe(void) { return PyModule_Create(&module); }
