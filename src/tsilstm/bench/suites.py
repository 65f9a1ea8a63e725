"""Benchmark workloads by name: the DeepBench inference-server LSTM and GRU sets
(``tsilstm.accel.workloads.DEEPBENCH_LSTM`` / ``DEEPBENCH_GRU``: input size = hidden, one
unidirectional layer).

The suite shortens the GRU sequences (up to 1500 steps) by ``GRU_STEPS_DIVISOR`` so the whole
suite finishes in minutes on 2 cores: time per step is what is compared, and it hardly depends on
the sequence length once it is more than a few dozen steps. Each entry keeps its DeepBench length
(``full_steps``) and the report says when it ran shorter.

The suite also has streaming entries (``stream``): the small layers of deployed models (speech
enhancement, VAD, OCR: hidden ``STREAM_HIDDEN_SIZES``, batch 1) fed one time step per call with
their state carried, ``STREAM_SUITE_CALLS`` calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tsilstm.accel.workloads import DEEPBENCH_GRU, DEEPBENCH_LSTM, get_workload
from tsilstm.bench.shapes import BenchShape
from tsilstm.cell_spec import CELLS
from tsilstm.errors import InvalidParameterError

GRU_STEPS_DIVISOR = 8  # suite time on 2 cores: 1500 -> 188 steps, 187 -> 24 steps
SUITES = ("deepbench",)
STREAM_HIDDEN_SIZES = (128, 256, 512)  # hidden units of the suite's streaming entries (LSTM and GRU, batch 1)
STREAM_SUITE_CALLS = 100  # one-step calls per streaming sequence (time per call barely depends on it)


@dataclass(frozen=True)
class SuiteEntry:
    """A named workload: the shape that runs and the DeepBench sequence length it stands for."""

    name: str
    shape: BenchShape
    full_steps: int
    stream: bool = False

    @property
    def shortened(self) -> bool:
        """True when the run uses fewer steps than the DeepBench workload."""
        return self.shape.steps < self.full_steps


def shortened_steps(steps: int, divisor: int) -> int:
    """``steps`` divided by ``divisor``, rounded up (at least 1 step)."""
    return max(1, math.ceil(steps / divisor))


def deepbench_entries(gru_steps_divisor: int = GRU_STEPS_DIVISOR) -> tuple[SuiteEntry, ...]:
    """The DeepBench inference-server LSTM then GRU workloads, GRU sequences divided by
    ``gru_steps_divisor`` (1: full length)."""
    entries = [
        SuiteEntry(f"deepbench-lstm-{h}-b{n}", BenchShape("lstm", h, h, n, t), t) for h, n, t in DEEPBENCH_LSTM
    ]
    entries += [
        SuiteEntry(f"deepbench-gru-{h}-b{n}-t{t}", BenchShape("gru", h, h, n, shortened_steps(t, gru_steps_divisor)), t)
        for h, n, t in DEEPBENCH_GRU
    ]
    return tuple(entries)


def streaming_entries(calls: int = STREAM_SUITE_CALLS) -> tuple[SuiteEntry, ...]:
    """One-step-per-call entries (``stream-<cell>-<hidden>-b1``): LSTM then GRU at each of
    ``STREAM_HIDDEN_SIZES``, input = hidden, batch 1, ``calls`` calls."""
    return tuple(
        SuiteEntry(f"stream-{cell}-{h}-b1", BenchShape(cell, h, h, 1, calls), calls, stream=True)
        for cell in CELLS for h in STREAM_HIDDEN_SIZES
    )


def suite_entries(suite: str, gru_steps_divisor: int = GRU_STEPS_DIVISOR) -> tuple[SuiteEntry, ...]:
    """The entries of the named suite (DeepBench, then the streaming entries); raises naming
    ``suite`` and the known suites."""
    if suite != "deepbench":
        raise InvalidParameterError("suite", suite, "one of " + ", ".join(SUITES))
    return deepbench_entries(gru_steps_divisor) + streaming_entries()


def workload(name: str) -> SuiteEntry:
    """The named workload (full length) as a benchmark shape; raises ``InvalidParameterError``
    naming ``workload`` for an unknown name or a stack that one ``torch.nn.LSTM``/``GRU`` cannot
    express (layers of different sizes or directions)."""
    spec = get_workload(name)
    first = spec.layers[0]
    uniform = all(
        (layer.cell, layer.hidden_size, layer.proj_size, layer.bidirectional, layer.variant)
        == (first.cell, first.hidden_size, first.proj_size, first.bidirectional, first.variant)
        for layer in spec.layers
    )
    if not uniform or first.variant == "reset_before":
        raise InvalidParameterError(
            "workload", name,
            f"its layers ({spec.describe()}) are not one torch.nn.LSTM/GRU stack (same hidden size, projection, "
            "directions and reset_after GRU form in every layer), which tsilstm bench compares; use --hidden/--layers",
        )
    shape = BenchShape(
        first.cell, first.hidden_size, first.input_size, spec.batch, spec.steps, len(spec.layers),
        first.proj_size, first.bidirectional,
    )
    return SuiteEntry(name, shape, spec.steps)
