"""The CPU runtime: LSTM and GRU modules whose recurrence runs in a native, multi-threaded kernel
executing the plans of ``tsilstm.plan`` (tsi, conventional and the other hoisting schedules)."""

from tsilstm.runtime.modules import GRU, LSTM, RecurrentModule, default_threads
from tsilstm.runtime.schedule_choice import RUNTIME_SCHEDULES, choose_schedule, last_level_cache_bytes
from tsilstm.runtime.torch_interop import from_torch, model_from_torch

__all__ = [
    "LSTM", "GRU", "RecurrentModule", "default_threads", "RUNTIME_SCHEDULES", "choose_schedule",
    "last_level_cache_bytes", "from_torch", "model_from_torch",
]
