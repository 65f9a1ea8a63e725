"""The schedule IR: tiling, ops, generators for every schedule, checker, buffer simulation, replay.

This package knows nothing of its consumers (accelerator model, runtime, CLI).
"""

from tsilstm.plan.buffer_sim import BufferStats, simulate_buffer
from tsilstm.plan.checker import check_plan
from tsilstm.plan.expand import expand
from tsilstm.plan.generate import (
    DEFAULT_BUFFER_BYTES,
    DTYPE_BYTES,
    SCHEDULES,
    default_tile,
    generate_plan,
    make_program,
    make_tiling,
)
from tsilstm.plan.ops import Op, Plan, Program
from tsilstm.plan.replay import replay_direction, replay_runner
from tsilstm.plan.tiling import Tile, Tiling

__all__ = [
    "BufferStats", "simulate_buffer", "check_plan", "expand", "DEFAULT_BUFFER_BYTES", "DTYPE_BYTES",
    "SCHEDULES", "default_tile", "generate_plan", "make_program", "make_tiling", "Op", "Plan",
    "Program", "replay_direction", "replay_runner", "Tile", "Tiling",
]
