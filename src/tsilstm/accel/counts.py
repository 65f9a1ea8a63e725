"""Event counts of one layer direction under one schedule: DRAM bytes by data kind, SRAM bytes by
buffer, MACs, activation evaluations, element-wise multiplies. All in closed form from the
``Program`` (nothing is expanded), so they cost the same for 25 or 1500 steps.

DRAM kinds: ``weights`` are the recurrent weights W_h (and W_hr with a projection), the figure
time-step interleaving reduces; ``input_weights`` are W_x, loaded once by every hoisting schedule
(every step by naive); ``inputs``, ``preactivations``, ``states`` and ``outputs`` as in
``tsilstm.accel.activation_traffic``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tsilstm.accel.activation_traffic import ActivationTraffic
from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.weight_traffic import weight_dram_bytes
from tsilstm.plan import Program
from tsilstm.plan.ops import USE

DRAM_KINDS = ("weights", "input_weights", "inputs", "preactivations", "states", "outputs")
SRAM_BUFFERS = ("weight_buffer", "activation_buffer")


@dataclass(frozen=True)
class Counts:
    """What one run moves and computes (bytes, events); ``plus`` adds two runs."""

    dram_read_bytes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DRAM_KINDS, 0.0))
    dram_write_bytes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DRAM_KINDS, 0.0))
    sram_read_bytes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SRAM_BUFFERS, 0.0))
    sram_write_bytes: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SRAM_BUFFERS, 0.0))
    macs: int = 0
    activation_evaluations: int = 0
    cell_multiplies: int = 0
    tile_uses: int = 0

    @property
    def dram_bytes(self) -> dict[str, float]:
        """DRAM bytes read plus written, by kind."""
        return {k: self.dram_read_bytes[k] + self.dram_write_bytes[k] for k in DRAM_KINDS}

    @property
    def dram_total_bytes(self) -> float:
        """All DRAM bytes read and written."""
        return sum(self.dram_bytes.values())

    def plus(self, other: "Counts") -> "Counts":
        """The counts of both runs together."""
        add = lambda a, b: {k: a[k] + b[k] for k in a}  # noqa: E731
        return Counts(
            add(self.dram_read_bytes, other.dram_read_bytes), add(self.dram_write_bytes, other.dram_write_bytes),
            add(self.sram_read_bytes, other.sram_read_bytes), add(self.sram_write_bytes, other.sram_write_bytes),
            self.macs + other.macs, self.activation_evaluations + other.activation_evaluations,
            self.cell_multiplies + other.cell_multiplies, self.tile_uses + other.tile_uses,
        )


def use_op_count(program: Program, steps: int) -> tuple[int, float]:
    """(number of tile uses, weight bytes they read from the buffer) of ``program`` over ``steps``:
    one read of the tile per use, whatever the number of steps it serves. Counted per body op
    from the range of sweeps whose clipped use is not empty."""
    tiling = program.tiling
    period = program.period
    ks = program.sweeps(steps)
    uses = 0
    read = 0.0
    if program.hoist_inputs:
        uses += len(tiling.tiles("x"))
        read += tiling.matrix_bytes("x")
    for op in program.body:
        if op.kind != USE:
            continue
        k_lo = max(ks.start, (-op.step - op.nsteps) // period + 1)
        k_hi = min(ks.stop - 1, (steps - op.step - 1) // period)
        count = max(0, k_hi - k_lo + 1)
        uses += count
        read += count * tiling.tile_bytes(op.tile)
    return uses, read


def count_events(program: Program, steps: int, batch: int, arch: ArchConfig, traffic: ActivationTraffic,
                 *, peepholes: bool = False) -> Counts:
    """The counts of ``program`` run for ``steps`` steps of ``batch`` sequences on ``arch``; an LSTM
    with ``peepholes`` adds one multiply per peephole gate, unit and step to the cell update."""
    tiling = program.tiling
    act, acc = arch.activation_bytes, arch.accumulator_bytes
    hidden, recurrent, gates, spec = tiling.hidden, tiling.recurrent, tiling.gates, tiling.spec
    weights = weight_dram_bytes(program, steps)
    reads = dict.fromkeys(DRAM_KINDS, 0.0)
    writes = dict.fromkeys(DRAM_KINDS, 0.0)
    reads["weights"] = float(weights["h"] + weights["p"] + weights.get("r", 0))
    reads["input_weights"] = float(weights["x"])
    for kind in ("inputs", "preactivations", "states", "outputs"):
        reads[kind] = float(traffic.read_bytes[kind])
        writes[kind] = float(traffic.write_bytes[kind])
    uses, weight_reads = use_op_count(program, steps)
    # activation buffer, per (tile, step): the tile's input slice read, its partial sums read and
    # written; per cell update: the gate pre-activations and the old state read, the new state written
    per_step_in = tiling.row_blocks * (recurrent + tiling.input)
    per_step_psum = gates * hidden * (len(tiling.col_bounds["h"]) + len(tiling.col_bounds["x"]))
    macs_per_step = gates * hidden * (recurrent + tiling.input)
    if tiling.reset_before:  # the reset rows read h_{t-1} a second time
        per_step_in += tiling.row_blocks * recurrent
    if tiling.proj:
        per_step_in += len(tiling.proj_row_bounds) * hidden
        per_step_psum += recurrent * len(tiling.col_bounds["p"])
        macs_per_step += recurrent * hidden
    state_per_step = traffic.state_bytes_per_sequence
    act_reads = steps * batch * (per_step_in * act + per_step_psum * acc + gates * hidden * acc + state_per_step)
    act_writes = steps * batch * (per_step_psum * acc + state_per_step)
    return Counts(
        dram_read_bytes=reads,
        dram_write_bytes=writes,
        sram_read_bytes={"weight_buffer": weight_reads, "activation_buffer": float(act_reads)},
        sram_write_bytes={"weight_buffer": float(sum(weights.values())), "activation_buffer": float(act_writes)},
        macs=steps * batch * macs_per_step,
        activation_evaluations=steps * batch * hidden * spec.activation_evaluations,
        cell_multiplies=steps * batch * hidden * (spec.cell_multiplies + (len(spec.peephole_gates) if peepholes else 0)),
        tile_uses=uses,
    )
