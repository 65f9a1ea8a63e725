"""Size checks of the commands that build and run models from their options (``verify``, ``bench``,
``simulate``): the memory a run needs and the work it does are estimated from the options (layers,
batch, steps, hidden, input) before anything is allocated, and a run that does not fit or would
take minutes is refused with an error naming the options."""

from __future__ import annotations

from collections.abc import Callable

from tsilstm.bench.shapes import BenchShape
from tsilstm.cell_spec import cell_spec
from tsilstm.cli.plan_command import MAX_PLAN_OPS, estimated_plan_ops
from tsilstm.errors import InvalidParameterError, ResourceError
from tsilstm.hardware import available_memory_bytes
from tsilstm.model import LayerShape, RecurrentModel
from tsilstm.plan import make_tiling
from tsilstm.runtime.memory_budget import (
    LAYER_DIRECTION_OVERHEAD_BYTES,
    MAX_NUM_LAYERS,
    stacked_layer_shapes,
    stored_weight_bytes,
)
from tsilstm.units import format_bytes
from tsilstm.validation import require_int

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
FLOAT64_BYTES = 8
"""``verify FILE`` and ``calibrate`` draw their inputs and run the reference in float64."""
CALIBRATE_COPIES = 2
"""Implementations ``calibrate`` runs side by side (tsi and conventional), each with its input,
hoisted gates and outputs."""


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
    require_int("--layers", layers, maximum=MAX_NUM_LAYERS)
    options, values = "--hidden/--input/--layers/--steps/--batch", f"{hidden}/{input_size}/{layers}/{steps}/{batch}"
    stacks = [stacked_layer_shapes(cell, input_size, hidden, layers, proj_size if cell_spec(cell).supports_projection else 0,
                                  bidirectional)
              for cell in cells]
    check_replays(options, values, stacks, schedules, steps, batch, lambda shape: tile, value_bytes)


def check_model_file_verify_size(models: list[RecurrentModel], schedules: tuple[str, ...], steps: int, batch: int,
                                 tile: int | None) -> None:
    """Refuse a ``verify MODEL_FILE`` run (``--steps``, ``--batch``) over ``models`` as
    ``check_verify_size`` refuses one over random models: the memory of the input and the float64
    reference, every replay's plans (``tile`` units a tile, default min(64, ceil(H/4)) as the
    replay takes it) and their multiply-accumulates."""
    def tile_of(shape: LayerShape) -> int:
        return min(64, -(-shape.hidden_size // 4)) if tile is None else min(tile, shape.hidden_size)

    check_replays("--steps/--batch", f"{steps}/{batch}", [[layer.shape for layer in model.layers] for model in models],
                  schedules, steps, batch, tile_of, FLOAT64_BYTES)


def check_replays(options: str, values: str, stacks: list[list[LayerShape]], schedules: tuple[str, ...], steps: int,
                  batch: int, tile_of: Callable[[LayerShape], int], value_bytes: int) -> None:
    """Refuse replaying each stack of ``stacks`` on every schedule of ``schedules`` over ``steps`` x
    ``batch`` when the run would need more memory than is available, a layer's plans more than
    ``MAX_PLAN_OPS`` ops, or all replays more than ``MAX_VERIFY_MACS`` multiply-accumulates; the
    error names ``options`` and their ``values``."""
    macs = 0
    for shapes in stacks:
        check_run_fits(options, values, run_bytes(shapes, steps, batch, value_bytes, RUN_COPIES))
        macs += steps * batch * (len(schedules) + 1) * sum(
            shape.directions * shape.gates * shape.hidden_size * (shape.input_size + shape.recurrent_size) for shape in shapes)
        for shape in set(shapes):  # the first layer's and the deeper layers'
            tiling = make_tiling(shape.hidden_size, shape.input_size, tile=tile_of(shape), cell=shape.cell,
                                 proj_size=shape.proj_size)
            ops = sum(estimated_plan_ops(name, tiling, steps) for name in schedules)
            if ops > MAX_PLAN_OPS:
                raise InvalidParameterError(options, values, f"a layer's plans would hold about {ops} ops, more than "
                                            f"the limit of {MAX_PLAN_OPS}: use smaller sizes or --steps, a larger "
                                            "--tile or one --schedule")
    if macs > MAX_VERIFY_MACS:
        raise InvalidParameterError(
            options, values, f"the replays would compute about {macs} multiply-accumulates, more than the limit of "
            f"{MAX_VERIFY_MACS} (about a minute): use smaller sizes, one --cell or one --schedule",
        )


def check_bench_size(shape: BenchShape, implementations: int) -> None:
    """Refuse a ``bench`` run of ``shape`` by ``implementations`` implementations side by side
    whose weights and activations would not fit in the memory available."""
    require_int("--layers", shape.num_layers, maximum=MAX_NUM_LAYERS)
    values = f"{shape.hidden}/{shape.input}/{shape.num_layers}/{shape.steps}/{shape.batch}"
    float32_bytes = 4
    check_run_fits("--hidden/--input/--layers/--steps/--batch", values,
                   run_bytes(list(shape.layers), shape.steps, shape.batch, float32_bytes, implementations))


def check_simulated_layers(layers: int) -> None:
    """Refuse a ``simulate`` run of more than ``MAX_SIMULATED_LAYERS`` layers, naming ``--layers``."""
    if layers > MAX_SIMULATED_LAYERS:
        raise InvalidParameterError("--layers", layers, f"at most {MAX_SIMULATED_LAYERS} (each layer is modelled "
                                    "on its own, ~1 ms each)")


def check_calibrate_size(cell: str, hidden_sizes: tuple[int, ...], steps: int, batch: int) -> None:
    """Refuse a ``calibrate`` run whose largest layer (input = hidden) with its float64 input,
    hoisted gates and outputs over ``steps`` x ``batch``, for tsi and conventional side by side,
    would not fit in the memory available; the error names the options."""
    for hidden in hidden_sizes:
        shapes = stacked_layer_shapes(cell, hidden, hidden, 1, 0, False)
        check_run_fits("--hidden/--steps/--batch", f"{hidden}/{steps}/{batch}",
                       run_bytes(shapes, steps, batch, FLOAT64_BYTES, CALIBRATE_COPIES))


def check_rtl_run_size(cell: str, hidden: int, input_size: int, steps: int, batch: int) -> None:
    """Refuse an ``rtl run`` whose float64 inputs, reference pass and outputs over ``steps`` x
    ``batch`` would not fit in the memory available; the error names the options."""
    shapes = stacked_layer_shapes(cell, input_size, hidden, 1, 0, False)
    check_run_fits("--hidden/--input/--steps/--batch", f"{hidden}/{input_size}/{steps}/{batch}",
                   run_bytes(shapes, steps, batch, FLOAT64_BYTES, RUN_COPIES))
