"""Schedules of the original-form GRU (``reset_before``: n = tanh(W_in x + W_hn (r * h) + b)).

Its candidate rows of tile (r, c) need r_t[c], the reset gate of row-block c for the same step,
which needs every column of h_{t-1} (docs/design.md section 3). Each step therefore runs in two passes:

    pass 1, every row-block: its W_x tiles (naive only), its reset-row tiles ``r`` (r, c), then
            ``reset`` (r_t * h_{t-1} of those units is ready);
    pass 2, every row-block: its ``h`` tiles (update and candidate rows), then ``finish``.

The tiles of W_h are split in two sources so each pass streams only what it uses. tsi does not
apply: the step-t+1 use of a tile's reset rows would have to follow every step-t finish, while its
step-t candidate rows precede them, so a tile cannot serve two steps in one visit; tsi and
tsi-pinned fall back to snake and pinned, and a note says so (as for an LSTM with projection).
"""

from __future__ import annotations

from dataclasses import replace

from tsilstm.errors import InvalidParameterError
from tsilstm.plan.ops import Op, Program, finish, reset
from tsilstm.plan.schedules.step_order import emit_streamed, pin_prefix, recurrent_if_fits, row_pass, step_ranges, tiles_of
from tsilstm.plan.tiling import Tile, Tiling

FALLBACK = {"tsi": "snake", "tsi-pinned": "pinned"}


def two_pass_items(tiling: Tiling, with_inputs: bool, reverse: bool = False) -> list[Tile | Op]:
    """The work of one step in the two-pass order above (steps relative, 0); row-blocks and
    columns descending when ``reverse``."""
    rows, h_cols, x_cols = step_ranges(tiling, reverse)
    return row_pass(rows, x_cols if with_inputs else (), "r", h_cols, reset) + row_pass(rows, (), "h", h_cols, finish)


def reset_before_program(schedule: str, tiling: Tiling, buffer_bytes: int) -> Program:
    """The program of ``schedule`` for an original-form GRU layer (``tiling`` is converted to the
    split-source form): naive, conventional, snake and pinned as in per_step.py but in two passes
    per step; tsi and tsi-pinned fall back (see module doc)."""
    if not tiling.spec.supports_reset_before:
        raise InvalidParameterError("variant", "reset_before", f"the {tiling.spec.name.upper()} has no reset_before form")
    tiling = replace(tiling, reset_before=True)
    chosen = FALLBACK.get(schedule, schedule)
    notes: tuple[str, ...] = ()
    if chosen != schedule:
        notes = (
            f"{schedule} does not apply to a GRU with reset before the recurrent product: the candidate "
            f"rows need every row-block's reset gate of the same step, so a tile cannot serve two steps; "
            f"fell back to {chosen}",
        )
    forward = two_pass_items(tiling, with_inputs=chosen == "naive")
    recurrent = [t for t in tiles_of(forward) if t.src != "x"]
    everything = tiles_of(forward)
    fits = sum(tiling.tile_bytes(t) for t in everything) <= buffer_bytes
    hoist = chosen != "naive"
    if fits:
        body = emit_streamed(forward, 0, keep=set(), pinned=set(everything))
        program = Program(chosen, tiling, tuple(body), 1, 0, hoist, tuple(everything), buffer_bytes)
    elif chosen in ("naive", "conventional"):
        pin = recurrent_if_fits(everything, tiling, buffer_bytes) if chosen == "naive" else []
        body = emit_streamed(forward, 0, keep=set(), pinned=set(pin))
        program = Program(chosen, tiling, tuple(body), 1, 0, hoist, tuple(pin), buffer_bytes)
    elif chosen == "snake":
        backward = two_pass_items(tiling, with_inputs=False, reverse=True)
        budget = buffer_bytes - tiling.max_tile_bytes  # pass 1 streams next to what is carried
        keep_forward = set(pin_prefix(tiles_of(forward)[::-1], tiling, budget))
        keep_backward = set(pin_prefix(tiles_of(backward)[::-1], tiling, budget))
        body = emit_streamed(forward, 0, keep_forward, set()) + emit_streamed(backward, 1, keep_backward, set())
        program = Program(chosen, tiling, tuple(body), 2, 0, hoist, (), buffer_bytes)
    else:  # pinned
        pin = pin_prefix(recurrent, tiling, buffer_bytes - tiling.max_tile_bytes)
        body = emit_streamed(forward, 0, keep=set(), pinned=set(pin))
        pin_note = (f"pinned {len(pin)} of {len(recurrent)} W_h tiles (reset rows and update/candidate rows)",)
        program = Program(chosen, tiling, tuple(body), 1, 0, hoist, tuple(pin), buffer_bytes, pin_note)
    return replace(program, notes=notes + program.notes, requested_schedule=schedule)
