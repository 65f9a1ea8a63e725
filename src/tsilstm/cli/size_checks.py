"""Size checks of the commands that build and run models from their options (``verify``, ``bench``,
``simulate``): the memory a run needs and the work it does are estimated from the options (layers,
batch, steps, hidden, input) before anything is allocated, and a run that does not fit or would
take minutes is refused with an error naming the options."""

from __future__ import annotations

from tsilstm.bench.shapes import BenchShape
from tsilstm.cli.plan_command import MAX_PLAN_OPS, estimated_plan_ops
from tsilstm.errors import InvalidParameterError, ResourceError
from tsilstm.hardware import available_memory_bytes
from tsilstm.model import LayerShape
from tsilstm.plan import make_tiling
from tsilstm.runtime.memory_budget import LAYER_DIRECTION_OVERHEAD_BYTES, stacked_layer_shapes, stored_weight_bytes
from tsilstm.units import format_bytes

MAX_VERIFY_MACS = 40_000_000_000
"""Most multiply-accumulates ``tsilstm verify`` replays in one run (over every cell and schedule).
Measured 2026-12-05 on the 2-core EPYC, load ~2: replays run at ~0.7 GMAC/s (LSTM and GRU, 384
units, 8 layers, 20 steps, batch 8, every schedule: 1.5e10 MACs in 21 s), so about a minute."""
MAX_SIMULATED_LAYERS = 10_000
"""Most layers ``tsilstm simulate`` models in one run. Measured 2026-12-05 on the 2-core EPYC, load
~2: ~0.9 ms a layer (2000 layers of 256 units in 2.7 s with the start-up), so about 10 s."""
RUN_COPIES = 3
"""Copies of a run's weights and activations alive at once in ``verify`` (the model, the reference
pass, the replay) and, per implementation, in ``bench``."""


def run_bytes(shapes: list[LayerShape], steps: int, batch: int, value_bytes: int, copies: int) -> int:
    """Bytes a run of ``copies`` implementations of the stack ``shapes`` over ``steps`` x ``batch``
    needs: each holds the weights (``value_bytes`` a value, plus the per-layer-direction overhead of
    the objects around them), the input, every layer's hoisted gates and output."""
    weights = sum(stored_weight_bytes(shape, value_bytes) + LAYER_DIRECTION_OVERHEAD_BYTES * shape.directions
                  for shape in shapes)
    values_per_step = shapes[0].input_size + sum(
        shape.directions * (shape.gates * shape.hidden_size + shape.hidden_size) + shape.output_features for shape in shapes)
    return copies * (weights + steps * batch * values_per_step * value_bytes)


def check_run_fits(options: str, values: str, needed_bytes: int) -> None:
    """``ResourceError`` naming ``options`` (e.g. "--hidden/--layers/--steps/--batch") and their
    ``values`` when ``needed_bytes`` exceeds the memory this process may allocate."""
    available = available_memory_bytes()
    if available is not None and needed_bytes > available:
        raise ResourceError(
            f"{options}={values} needs about {needed_bytes} bytes ({format_bytes(needed_bytes)}) of memory, but only "
            f"{available} bytes ({format_bytes(available)}) are available to this process (the smallest of "
            "MemAvailable, ulimit -v and the cgroup limit): use smaller sizes"
        )


def check_verify_size(cells: tuple[str, ...], schedules: tuple[str, ...], input_size: int, hidden: int, layers: int,
                      proj_size: int, bidirectional: bool, steps: int, batch: int, tile: int, value_bytes: int) -> None:
    """Refuse a ``verify`` run over random models whose replays would need more memory than is
    available, whose plans would hold more than ``MAX_PLAN_OPS`` ops for one layer direction, or
    that would replay more than ``MAX_VERIFY_MACS`` multiply-accumulates in all."""
    options, values = "--hidden/--input/--layers/--steps/--batch", f"{hidden}/{input_size}/{layers}/{steps}/{batch}"
    macs = 0
    for cell in cells:
        cell_proj = proj_size if cell == "lstm" else 0
        shapes = stacked_layer_shapes(cell, input_size, hidden, layers, cell_proj, bidirectional)
        check_run_fits(options, values, run_bytes(shapes, steps, batch, value_bytes, RUN_COPIES))
        macs += steps * batch * (len(schedules) + 1) * sum(
            shape.directions * shape.gates * shape.hidden_size * (shape.input_size + shape.recurrent_size) for shape in shapes)
        for layer_input in {shape.input_size for shape in shapes}:  # the first layer's and the deeper layers'
            tiling = make_tiling(hidden, layer_input, tile=tile, cell=cell, proj_size=cell_proj)
            ops = sum(estimated_plan_ops(name, tiling, steps) for name in schedules)
            if ops > MAX_PLAN_OPS:
                raise InvalidParameterError(options, values, f"a layer's plans would hold about {ops} ops, more than "
                                            f"the limit of {MAX_PLAN_OPS}: use a smaller --hidden or --steps, a larger "
                                            "--tile or one --schedule")
    if macs > MAX_VERIFY_MACS:
        raise InvalidParameterError(
            options, values, f"the replays would compute about {macs} multiply-accumulates, more than the limit of "
            f"{MAX_VERIFY_MACS} (about a minute): use smaller sizes, one --cell or one --schedule",
        )


def check_bench_size(shape: BenchShape, implementations: int) -> None:
    """Refuse a ``bench`` run of ``shape`` by ``implementations`` implementations side by side
    whose weights and activations would not fit in the memory available."""
    values = f"{shape.hidden}/{shape.input}/{shape.num_layers}/{shape.steps}/{shape.batch}"
    float32_bytes = 4
    check_run_fits("--hidden/--input/--layers/--steps/--batch", values,
                   run_bytes(list(shape.layers), shape.steps, shape.batch, float32_bytes, implementations))


def check_simulated_layers(layers: int) -> None:
    """Refuse a ``simulate`` run of more than ``MAX_SIMULATED_LAYERS`` layers, naming ``--layers``."""
    if layers > MAX_SIMULATED_LAYERS:
        raise InvalidParameterError("--layers", layers, f"at most {MAX_SIMULATED_LAYERS} (each layer is modelled "
                                    "on its own, ~1 ms each)")
