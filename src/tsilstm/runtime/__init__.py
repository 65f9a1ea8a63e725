"""The CPU runtime: LSTM and GRU modules whose recurrence runs in a native, multi-threaded kernel
executing the plans of ``tsilstm.plan`` (tsi, conventional and the other hoisting schedules).

Modules: ``modules`` (LSTM, GRU), ``layer_run`` (``auto`` for one layer: programs, decisions, their
checks), ``schedule_tuning`` (timing the candidates, noise), ``decision_store`` (the store of decisions,
untrusted), ``inplace_choice`` / ``inplace_records`` (the host framework as a candidate, timed in
place), ``torch_interop`` (from_torch), ``packing`` (plan body -> per-thread op arrays, weights in
stream order), ``execution`` (calls the kernel), ``schedule_choice`` (auto rule), ``memory_budget``
(memory check before packing), ``random_weights`` and ``tile_defaults`` (modules built from sizes),
``infinite_inputs`` (float32's meaning of +-inf under int8 weights), ``calibration`` (the measurement
behind the auto rule), ``tensor_io`` (numpy / torch conversion), ``worker_threads`` (CPU binding of
the kernel's workers); the kernel is the C library in ``native/`` (``tsi_kernel.c`` is its Python
module; the layout, one file of tile products per instruction set, dispatch, pool, cells and the
step engine beside it: docs/design.md section 6)."""

from tsilstm.runtime.kernel_options import KernelOptions
from tsilstm.runtime.lstm_gru import GRU, LSTM
from tsilstm.runtime.modules import RecurrentModule
from tsilstm.runtime.schedule_choice import RUNTIME_SCHEDULES, choose_schedule
from tsilstm.runtime.torch_interop import from_torch, model_from_torch
from tsilstm.runtime.worker_threads import set_worker_pinning

__all__ = [
    "KernelOptions",
    "LSTM", "GRU", "RecurrentModule", "RUNTIME_SCHEDULES", "choose_schedule", "from_torch", "model_from_torch",
    "set_worker_pinning",
]
