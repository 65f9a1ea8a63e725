"""Where the non-weight data of one layer direction lives, and the DRAM bytes it moves.

The activation buffer holds the recurrent working set of the schedule (``WORKING_SET``): what it
really keeps live. The per-step schedules (naive, conventional, snake, pinned) finish a row-block
before starting the next, so they keep the partial sums of one row-block of one step open and h
and c of two steps (h_{t-1} read by every row-block, h_t written); tsi and tsi-pinned keep the
partial sums of three whole steps open and h, c of four (docs/design.md section 3). Plus one
input vector. What does not fit spills to DRAM:

* ``inputs``: the hoisting GEMM reads x once when the whole input sequence fits beside the working
  set, else once per row-block of W_x (it streams x for every W_x tile row). Naive reads x_t once
  per step.
* ``preactivations``: the hoisted W_x x_t + b of every step (accumulator width). Kept on chip when
  they fit beside the working set; else written once by the GEMM and read once in the recurrence.
* ``states``: h_0 (and c_0) read once, h_T (and c_T) written once; when the working set itself
  does not fit, the partial sums and states of every step are written and read back once.
* ``outputs``: every h_t written once (the next layer's input).

The same figures are charged op by op to the DRAM channel of the event model (``per_*`` fields).
"""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.plan import Tiling

WORKING_SET = {
    # schedule -> (steps of partial sums open, whole steps (True) or one row-block (False), steps of h and c live)
    "naive": (1, False, 2), "conventional": (1, False, 2), "snake": (1, False, 2), "pinned": (1, False, 2),
    "tsi": (3, True, 4), "tsi-pinned": (3, True, 4),
}
"""What each schedule keeps live in the activation buffer (see the module doc)."""


@dataclass(frozen=True)
class ActivationTraffic:
    """Spill decisions and DRAM bytes of non-weight data for one layer direction (see module doc)."""

    hoisted: bool
    schedule: str
    working_set_bytes: int
    input_sequence_bytes: int
    preactivation_bytes: int
    inputs_fit: bool
    preactivations_spill: bool
    working_set_spills: bool
    state_bytes_per_sequence: int
    read_bytes: dict[str, int]
    write_bytes: dict[str, int]


def activation_traffic(
    tiling: Tiling, steps: int, batch: int, arch: ArchConfig, hoisted: bool, schedule: str
) -> ActivationTraffic:
    """The DRAM bytes of inputs, pre-activations, states and outputs of one layer direction run for
    ``steps`` x ``batch`` under ``schedule`` (the one executed) on ``arch`` (bytes at the config's
    activation / accumulator widths)."""
    act, acc = arch.activation_bytes, arch.accumulator_bytes
    hidden, recurrent, gates = tiling.hidden, tiling.recurrent, tiling.gates
    state_bytes_per_seq = (recurrent + (hidden if tiling.spec.has_cell_state else 0)) * act
    psum_steps, whole_steps, state_steps = WORKING_SET[schedule]
    psum_units = hidden if whole_steps else max(u1 - u0 for u0, u1 in tiling.row_bounds)
    working = batch * (psum_steps * gates * psum_units * acc + state_steps * state_bytes_per_seq + tiling.input * act)
    x_seq = steps * batch * tiling.input * act
    preacts = steps * batch * gates * hidden * acc if hoisted else 0
    capacity = arch.activation_buffer_bytes
    working_spills = working > capacity
    inputs_fit = not working_spills and working + x_seq <= capacity
    preacts_spill = hoisted and (working_spills or working + preacts > capacity)
    reads = {"inputs": 0, "preactivations": 0, "states": 0, "outputs": 0}
    writes = dict(reads)
    if hoisted:
        reads["inputs"] = x_seq * (1 if inputs_fit else tiling.row_blocks)
    else:
        reads["inputs"] = x_seq
    if preacts_spill:
        reads["preactivations"] = writes["preactivations"] = preacts
    reads["states"] = writes["states"] = batch * state_bytes_per_seq
    if working_spills:
        per_step = batch * (gates * hidden * acc + state_bytes_per_seq)
        reads["states"] += steps * per_step
        writes["states"] += steps * per_step
    writes["outputs"] = steps * batch * recurrent * act
    return ActivationTraffic(
        hoisted, schedule, working, x_seq, preacts, inputs_fit, preacts_spill, working_spills,
        state_bytes_per_seq, reads, writes,
    )


def finish_dram_bytes(traffic: ActivationTraffic, tiling: Tiling, row: int, batch: int, arch: ArchConfig) -> float:
    """DRAM bytes charged to the channel at the cell update of row-block ``row`` for one step: its
    spilled pre-activations read back, its share of a spilled working set (written and read), and
    its output write (with a projection the output is written at the projection instead)."""
    u0, u1 = tiling.row_bounds[row]
    units = u1 - u0
    act, acc = arch.activation_bytes, arch.accumulator_bytes
    out = 0.0
    if traffic.preactivations_spill:
        out += tiling.gates * units * batch * acc
    if traffic.working_set_spills:
        out += 2 * batch * (tiling.gates * units * acc + traffic.state_bytes_per_sequence * units / tiling.hidden)
    if not tiling.proj:
        out += units * batch * act
    return out


def project_dram_bytes(tiling: Tiling, batch: int, arch: ArchConfig) -> float:
    """DRAM bytes of the output write charged at the projection of one step (LSTMP)."""
    return tiling.recurrent * batch * arch.activation_bytes


def x_use_dram_bytes(
    traffic: ActivationTraffic, tiling: Tiling, row: int, col: int, nsteps: int, batch: int, arch: ArchConfig
) -> float:
    """DRAM bytes charged at a use of W_x tile (row, col) for ``nsteps`` steps: the x columns it
    reads (the first row only when the sequence fits on chip) and, at the row's last column with
    hoisting, the write of the row's spilled pre-activations."""
    c0, c1 = tiling.col_bounds["x"][col]
    act, acc = arch.activation_bytes, arch.accumulator_bytes
    out = 0.0
    if row == 0 or (traffic.hoisted and not traffic.inputs_fit):
        out += nsteps * batch * (c1 - c0) * act
    if traffic.preactivations_spill and col == len(tiling.col_bounds["x"]) - 1:
        u0, u1 = tiling.row_bounds[row]
        out += nsteps * batch * tiling.gates * (u1 - u0) * acc
    return out


def boundary_state_bytes(traffic: ActivationTraffic, batch: int) -> float:
    """DRAM bytes of the initial state read (and, equally, of the final state write)."""
    return float(batch * traffic.state_bytes_per_sequence)
