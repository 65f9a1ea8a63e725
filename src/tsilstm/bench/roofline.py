"""Roofline time per step of a schedule: the recurrent weight bytes it streams per step in steady
state over the measured read bandwidth.

The bytes per step come from the schedule's own plan (the periodic program of tsilstm.plan, with
a one-tile weight buffer, i.e. nothing assumed to stay in the cache): loads of W_h tiles in one
period over the period's steps. That is M (all of W_h) per step for the conventional schedule
and M / 2 for tsi. When W_h fits in the last-level cache the DRAM roofline does not bind.
"""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.bench.shapes import BenchShape
from tsilstm.plan import make_program, make_tiling
from tsilstm.plan.ops import LOAD

DEFAULT_TILE_UNITS = 64  # tsilstm.plan's default tile; traffic per step does not depend on it
RECURRENT_SOURCES = ("h", "p")  # W_h and (LSTM projection) W_hr: the matrices streamed every step


def steady_state_recurrent_bytes_per_step(schedule: str, shape: BenchShape, tile: int | None = None) -> float:
    """Bytes of recurrent weights (W_h and W_hr, summed over layers and directions) that one
    steady-state step of ``schedule`` loads with a one-tile buffer (the tile at most half the hidden
    units, so W_h never fits the buffer), from the schedule's periodic program."""
    if tile is None:  # at least two row-blocks, so that one tile never holds all of W_h
        tile = max(1, min(DEFAULT_TILE_UNITS, shape.hidden // 2))
    tiling = make_tiling(shape.hidden, shape.hidden, tile=tile, cell=shape.cell, proj_size=shape.proj_size)
    program = make_program(schedule, tiling, tiling.max_tile_bytes)
    loaded = sum(tiling.tile_bytes(op.tile) for op in program.body if op.kind == LOAD and op.src in RECURRENT_SOURCES)
    return shape.num_layers * shape.directions * loaded / program.period


@dataclass(frozen=True)
class Roofline:
    """Roofline of one schedule on one shape: bytes per step and the bound in ms per step."""

    schedule: str
    bytes_per_step: float
    ms_per_step: float
    weights_fit_in_llc: bool

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields."""
        return {
            "schedule": self.schedule,
            "roofline_bytes_per_step": self.bytes_per_step,
            "roofline_ms_per_step": self.ms_per_step,
            "weights_fit_in_llc": self.weights_fit_in_llc,
        }


def roofline(schedule: str, shape: BenchShape, bandwidth_bytes_per_s: float, llc_bytes: int | None = None) -> Roofline:
    """The roofline of ``schedule`` on ``shape``: steady-state recurrent bytes per step over
    ``bandwidth_bytes_per_s``, in ms per step; flags whether one layer direction's recurrent weights
    fit in ``llc_bytes``. With a projection, tsi falls back (docs/design.md section 3) and so does this."""
    bytes_per_step = steady_state_recurrent_bytes_per_step(schedule, shape)
    fits = llc_bytes is not None and shape.largest_recurrent_matrix_bytes <= llc_bytes
    return Roofline(schedule, bytes_per_step, 1000.0 * bytes_per_step / bandwidth_bytes_per_s, fits)
