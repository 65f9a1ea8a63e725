"""Sizes given on the command line or to a module constructor are checked before allocation: the
memory estimate counts layers, batch, steps and the per-layer overhead, so huge values end in the
package's error within a second (never numpy's ``_ArrayMemoryError`` or minutes of work), and
refusals of bad weights in a model file name the file."""

from __future__ import annotations

import numpy as np
import pytest

from tests.importers.onnx_builders import build_recurrent_model, save
from tsilstm.accel.timing import MAX_SIMULATED_OPS
from tests.security.limited_run import run_cli_limited
from tsilstm.cli.size_checks import MAX_SIMULATED_LAYERS, MAX_VERIFY_MACS, check_verify_size
from tsilstm.cli.plan_command import MAX_PLAN_OPS
from tsilstm.errors import InvalidParameterError, ModelFileError, ResourceError
from tsilstm.runtime.memory_budget import (
    LAYER_DIRECTION_OVERHEAD_BYTES,
    MAX_NUM_LAYERS,
    check_shapes_fit,
    stacked_layer_shapes,
)

ONE_GIB = 2**30
MAX_SECONDS = 10.0


@pytest.mark.parametrize("args, refusal", [
    (["verify", "--hidden", "20000"], "of memory"),
    (["verify", "--batch", "1000000"], "of memory"),
    (["verify", "--layers", "100000"], f"[1, {MAX_NUM_LAYERS}]"),
    (["verify", "--layers", "20000"], f"[1, {MAX_NUM_LAYERS}]"),
    (["bench", "--hidden", "1000000", "--against="], "of memory"),
    (["bench", "--hidden", "8", "--layers", "100000", "--against="], f"[1, {MAX_NUM_LAYERS}]"),
    (["calibrate", "--steps", "1000000000"], "of memory"),
    (["calibrate", "--batch", "100000000"], "of memory"),
    (["calibrate", "--hidden", "1000000"], "of memory"),
    (["rtl", "run", "--hidden", "8", "--steps", "1000000000"], "of memory"),
    (["rtl", "run", "--hidden", "8", "--batch", "1000000000"], "of memory"),
    (["bench", "--hidden", "64", "--steps", "1000000000", "--against="], "of memory"),
    (["simulate", "--hidden", "64", "--layers", "1000000"], f"at most {MAX_SIMULATED_LAYERS}"),
    (["simulate", "--hidden", "64", "--full-timing", "--steps", "100000000"], f"limit of {MAX_SIMULATED_OPS}"),
    (["simulate", "--hidden", "8", "--steps", "1000000000000", "--batch", "1000000000000"],
     f"limit of {MAX_SIMULATED_OPS}"),
])
def test_huge_cli_sizes_are_refused_before_allocation(args, refusal):  # type: ignore[no-untyped-def]
    run = run_cli_limited(args, timeout_s=60, address_space_bytes=ONE_GIB)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr
    error_line = run.stderr.strip().splitlines()[-1]
    assert error_line.startswith("error: ") and refusal in error_line, error_line
    assert run.seconds < MAX_SECONDS


@pytest.mark.parametrize("hidden, args, refusal", [
    (4, ["--steps", "1000000000"], "--steps/--batch=1000000000/3 needs about"),
    (4, ["--batch", "1000000"], "--steps/--batch=9/1000000 needs about"),
    (4, ["--batch", "100000000"], "--steps/--batch=9/100000000 needs about"),
    (4, ["--steps", "200000"], f"more than the limit of {MAX_PLAN_OPS}"),
    (512, ["--steps", "2000", "--batch", "8", "--schedule", "tsi"], f"more than the limit of {MAX_VERIFY_MACS}"),
])
def test_model_file_verify_sizes_are_refused_before_allocation(tmp_path, hidden, args, refusal):  # type: ignore[no-untyped-def]
    path = save(build_recurrent_model("LSTM", input_size=hidden, hidden=hidden), tmp_path / "model.onnx")
    run = run_cli_limited(["verify", str(path), *args], timeout_s=60)
    assert run.returncode == 2, run.stderr[-2000:]
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr
    error_line = run.stderr.strip().splitlines()[-1]
    assert error_line.startswith("error: ") and refusal in error_line, error_line
    assert run.seconds < MAX_SECONDS


def test_verify_work_limit_names_the_options(monkeypatch):
    import tsilstm.cli.size_checks as size_checks

    monkeypatch.setattr(size_checks, "check_run_fits", lambda *args: None)  # only the work limit can refuse
    sizes = (("lstm", "gru"), ("tsi", "conventional"), 96, 96, 1, 0, False, 9)
    with pytest.raises(InvalidParameterError, match="--hidden/--input/--layers/--steps/--batch.*multiply-accumulates"):
        check_verify_size(*sizes, MAX_VERIFY_MACS, 16, 8)
    check_verify_size(*sizes, 3, 16, 8)  # the default batch passes


def test_per_layer_overhead_is_in_the_estimate_before_any_shape_is_built():
    limit_bytes = 4 * 2**30
    limits = (lambda: limit_bytes,)
    with pytest.raises(ResourceError, match=f"{MAX_NUM_LAYERS} layers needs"):
        stacked_layer_shapes("lstm", 3, 5, MAX_NUM_LAYERS, 0, False, (lambda: 2**20,))
    shapes = stacked_layer_shapes("lstm", 3, 5, 1000, 0, True, limits)
    needed = check_shapes_fit(shapes, "float32", 64, limits)
    assert needed >= 1000 * 2 * LAYER_DIRECTION_OVERHEAD_BYTES


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_module_with_a_million_layers_is_refused_quickly(kind):  # type: ignore[no-untyped-def]
    import time

    import tsilstm

    start = time.monotonic()
    with pytest.raises(InvalidParameterError, match=rf"num_layers=1000000 is invalid: .*\[1, {MAX_NUM_LAYERS}\]"):
        getattr(tsilstm, kind)(3, 5, num_layers=10**6)
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_torch_drop_in_with_a_million_layers_is_refused_before_torch_allocates(kind):  # type: ignore[no-untyped-def]
    """tsilstm.nn's modules check num_layers before torch.nn.RNNBase draws a million layers' weights."""
    pytest.importorskip("torch")
    import time

    import tsilstm.nn

    start = time.monotonic()
    with pytest.raises(InvalidParameterError, match=rf"num_layers=1000000 is invalid: .*\[1, {MAX_NUM_LAYERS}\]"):
        getattr(tsilstm.nn, kind)(3, 5, num_layers=10**6)
    assert time.monotonic() - start < 1.0


def test_module_with_the_most_layers_is_built_within_seconds():
    import time

    import tsilstm

    start = time.monotonic()
    module = tsilstm.GRU(3, 2, num_layers=MAX_NUM_LAYERS)
    assert module.num_layers == MAX_NUM_LAYERS
    assert time.monotonic() - start < MAX_SECONDS


def test_nan_weights_in_a_model_file_are_refused_naming_the_file(tmp_path):
    torch = pytest.importorskip("torch")
    from tsilstm.importers import load_model

    state = dict(torch.nn.LSTM(3, 4).state_dict())
    state["weight_hh_l0"] = state["weight_hh_l0"].clone()
    state["weight_hh_l0"][0, 0] = float("nan")
    path = tmp_path / "nan_weights.pt"
    torch.save(state, path)
    with pytest.raises(ModelFileError, match=r"nan_weights\.pt: .*weights must be finite"):
        load_model(path)


def test_nan_weights_in_a_keras_file_are_refused_naming_the_file(tmp_path):
    pytest.importorskip("h5py")
    from tests.importers.keras_files import keras_cell_weights, layer_config, weight_names, write_keras_h5
    from tsilstm.importers import load_model

    w = keras_cell_weights("GRU", 3, 4)
    w["recurrent_kernel"][1, 2] = np.nan
    names = weight_names("gru", "GRU", False)
    path = write_keras_h5(tmp_path / "nan_weights.h5", [(layer_config("GRU", "gru", 4, False, reset_after=True),
                                                         list(zip(names, (w["kernel"], w["recurrent_kernel"], w["bias"]))))])
    with pytest.raises(ModelFileError, match=r"nan_weights\.h5: layer 'gru': .*weights must be finite"):
        load_model(path)
