"""Weight traffic of a program for any step count without expanding every step.

After the first few body instances a program's loads repeat exactly every period (the residency
pass of expansion reaches its steady state), and the sequence's end depends only on the step count
modulo the period; so the bytes for T steps follow from two short expansions:
L(T) = L(T0) + (T - T0) / period * (L(T0 + period) - L(T0)), with T0 = T mod period + 4 periods.
Tested against the full expansion in tests/plan/test_traffic.py.
"""

from __future__ import annotations

from tsilstm.plan.buffer_sim import simulate_buffer
from tsilstm.plan.expand import expand
from tsilstm.plan.ops import Program
from tsilstm.validation import require_int

_WARMUP_PERIODS = 4


def weight_bytes_by_source(program: Program, steps: int) -> dict[str, int]:
    """DRAM bytes of each weight matrix (``h``, ``x``, ``p``) that ``program`` loads over ``steps``
    time steps, by two short expansions and linear extension of the steady state."""
    steps = require_int("steps", steps)
    period = program.period
    short = steps % period + _WARMUP_PERIODS * period
    if steps <= short + period:
        return dict(simulate_buffer(expand(program, steps)).bytes_by_source)
    first = simulate_buffer(expand(program, short)).bytes_by_source
    second = simulate_buffer(expand(program, short + period)).bytes_by_source
    periods = (steps - short) // period
    out = {}
    for src in first:
        # W_x is loaded once whatever the step count: its bytes do not grow
        out[src] = first[src] + periods * (second[src] - first[src])
    return out
