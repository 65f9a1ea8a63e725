"""The CPU runtime: LSTM and GRU modules whose recurrence runs in a native, multi-threaded kernel
executing the plans of ``tsilstm.plan`` (tsi, conventional and the other hoisting schedules).

Modules: ``modules`` (LSTM, GRU), ``torch_interop`` (from_torch), ``packing`` (plan body -> per-thread
op arrays, weights in stream order), ``execution`` (calls the kernel), ``schedule_choice`` (auto
rule, last-level cache size), ``calibration`` (the measurement behind the auto rule),
``tensor_io`` (numpy / torch conversion); the kernel is ``native/tsi_kernel.c``."""

from tsilstm.runtime.modules import GRU, LSTM, RecurrentModule, default_threads
from tsilstm.runtime.schedule_choice import RUNTIME_SCHEDULES, choose_schedule, last_level_cache_bytes
from tsilstm.runtime.torch_interop import from_torch, model_from_torch

__all__ = [
    "LSTM", "GRU", "RecurrentModule", "default_threads", "RUNTIME_SCHEDULES", "choose_schedule",
    "last_level_cache_bytes", "from_torch", "model_from_torch",
]
