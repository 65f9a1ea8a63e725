"""Entry point of the schedule generators: validate a workload, pick the generator, expand."""

from __future__ import annotations

from dataclasses import replace

from tsilstm.errors import InvalidParameterError
from tsilstm.cell_spec import cell_spec
from tsilstm.plan.expand import expand
from tsilstm.plan.ops import Plan, Program
from tsilstm.plan.schedules.per_step import conventional, naive, pinned, snake
from tsilstm.plan.schedules.reset_before import reset_before_program
from tsilstm.plan.schedules.tsi import tsi
from tsilstm.plan.traffic import weight_bytes_by_source
from tsilstm.plan.tiling import Tiling
from tsilstm.validation import require_choice, require_int

SCHEDULES = ("naive", "conventional", "snake", "pinned", "tsi", "tsi-pinned")
DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
DEFAULT_TILE = 64
DEFAULT_BUFFER_BYTES = 1024 * 1024

_FALLBACK_WITH_PROJECTION = {"tsi": "snake", "tsi-pinned": "pinned"}
_STEADY_STATE_STEPS = 1000  # horizon of tsi-pinned's choice when the step count is not known


def default_tile(hidden: int) -> int:
    """The default tile size in hidden units: 64, or the hidden size when that is smaller."""
    return min(DEFAULT_TILE, hidden)


def make_tiling(
    hidden: int,
    input_size: int | None = None,
    *,
    tile: int | None = None,
    cell: str = "lstm",
    proj_size: int = 0,
    dtype: str = "float32",
) -> Tiling:
    """The tiling of one layer direction; ``input_size`` defaults to ``hidden``, ``tile`` to
    ``default_tile(hidden)``. Raises ``InvalidParameterError`` naming the bad parameter."""
    hidden = require_int("hidden", hidden)
    input_size = hidden if input_size is None else require_int("input", input_size)
    tile = default_tile(hidden) if tile is None else require_int("tile", tile, maximum=hidden)
    spec = cell_spec(cell)
    require_choice("dtype", dtype, tuple(DTYPE_BYTES))
    proj_size = require_int("proj_size", proj_size, minimum=0, maximum=hidden - 1)
    if proj_size and not spec.supports_projection:
        raise InvalidParameterError("proj_size", proj_size, f"must be 0 for a {cell.upper()}")
    return Tiling(hidden, input_size, tile, spec.gates, proj_size, DTYPE_BYTES[dtype])


def make_program(
    schedule: str, tiling: Tiling, buffer_bytes: int, *, variant: str = "standard", steps: int | None = None
) -> Program:
    """Generate the periodic program of ``schedule`` for ``tiling`` and a weight buffer of
    ``buffer_bytes``. With a projection, tsi and tsi-pinned fall back to snake and pinned (a note
    says why). tsi-pinned takes snake's order over the unpinned rest where that loads fewer bytes
    over ``steps`` steps (default: the steady state): a rest of about one tile, or two steps.
    The original GRU form (``variant="reset_before"``) gets the two-pass programs of
    schedules/reset_before.py. Raises for an unknown schedule or a buffer smaller than the largest
    tile."""
    require_choice("schedule", schedule, SCHEDULES)
    buffer_bytes = require_int("buffer_bytes", buffer_bytes)
    if buffer_bytes < tiling.max_tile_bytes:
        raise InvalidParameterError(
            "buffer_bytes", buffer_bytes, f"must hold at least one tile: >= {tiling.max_tile_bytes} bytes "
            f"for tile={tiling.tile} (use a larger buffer or a smaller tile)"
        )
    if variant == "reset_before":  # original-form GRU: two passes per step, tsi falls back
        return reset_before_program(schedule, tiling, buffer_bytes)
    chosen = schedule
    notes: tuple[str, ...] = ()
    if tiling.proj and schedule in _FALLBACK_WITH_PROJECTION:
        chosen = _FALLBACK_WITH_PROJECTION[schedule]
        notes = (
            f"{schedule} does not apply to an LSTM with projection (proj_size={tiling.proj}): every "
            f"h_t block needs all of m_t, so a tile cannot serve two steps; fell back to {chosen}",
        )
    if chosen == "naive":
        program = naive(tiling, buffer_bytes)
    elif chosen == "conventional":
        program = conventional(tiling, buffer_bytes)
    elif chosen == "snake":
        program = snake(tiling, buffer_bytes)
    elif chosen == "pinned":
        program = pinned(tiling, buffer_bytes)
    elif chosen == "tsi":
        program = tsi(tiling, buffer_bytes)
    else:
        program = _best_tsi_pinned(tiling, buffer_bytes, steps)
    return replace(program, notes=notes + program.notes, requested_schedule=schedule)


def _best_tsi_pinned(tiling: Tiling, buffer_bytes: int, steps: int | None) -> Program:
    interleaved = tsi(tiling, buffer_bytes, pin=True)
    carried = snake(tiling, buffer_bytes)
    horizon = steps if steps is not None else _STEADY_STATE_STEPS
    m_bytes = tiling.matrix_bytes("h")
    pinned_bytes = sum(tiling.tile_bytes(t) for t in interleaved.pinned)
    # bounds: every unpinned tile is loaded at most T//2 + 1 times by tsi; snake loads at least
    # all of W_h once and then at least M - buffer per step
    tsi_at_most = pinned_bytes + (m_bytes - pinned_bytes) * (horizon // 2 + 1)
    snake_at_least = m_bytes + (horizon - 1) * max(0, m_bytes - buffer_bytes)
    if tsi_at_most <= snake_at_least:
        return interleaved
    cost = lambda program: weight_bytes_by_source(program, horizon)["h"]  # noqa: E731
    if cost(carried) < cost(interleaved):
        note = (
            f"the W_h left after pinning is about one tile (or the sequence is short): snake's carry "
            f"loads fewer bytes over {horizon} steps than interleaving, so its order is used"
        )
        return replace(carried, schedule="tsi-pinned", notes=carried.notes + (note,))
    return interleaved


def generate_plan(
    schedule: str,
    hidden: int,
    input_size: int | None = None,
    *,
    steps: int = 25,
    batch: int = 1,
    tile: int | None = None,
    buffer_bytes: int = DEFAULT_BUFFER_BYTES,
    dtype: str = "float32",
    cell: str = "lstm",
    proj_size: int = 0,
    variant: str = "standard",
) -> Plan:
    """Build the plan of ``schedule`` for one layer direction: hidden units, input features,
    ``steps`` time steps, ``batch`` sequences, square tiles of ``tile`` units, a weight buffer of
    ``buffer_bytes`` bytes and weights of ``dtype``."""
    steps = require_int("steps", steps)
    batch = require_int("batch", batch)
    tiling = make_tiling(hidden, input_size, tile=tile, cell=cell, proj_size=proj_size, dtype=dtype)
    return expand(make_program(schedule, tiling, buffer_bytes, variant=variant, steps=steps), steps, batch)
