/* What the module (tsi_kernel.c) takes from run_direction.c. */
#ifndef TSI_RUN_DIRECTION_H
#define TSI_RUN_DIRECTION_H

#include <Python.h>

/* run_direction(batch, steps, ...): see RUN_DIRECTION_ARGUMENTS in run_direction.c. */
PyObject *py_run_direction(PyObject *self, PyObject *args, PyObject *kwargs);

/* Its argument names in order (a new tuple), exported as RUN_ARGUMENTS. */
PyObject *run_direction_argument_names(void);

/* The instruction set run_direction uses when none is given (the best, set at load). */
extern int chosen_isa;

#endif
