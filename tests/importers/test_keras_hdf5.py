"""Keras HDF5 importer on synthetic files in the Keras 2 and Keras 3 layouts, checked against a numpy
implementation of Keras' own equations (no TensorFlow), and bad input."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from tsilstm.cells import run_reference
from tsilstm.importers import ModelFileError, load_model, load_models
from tsilstm.verification.model_file import verify_model

from .keras_files import (
    bidirectional_config,
    keras_cell_weights,
    keras_direction,
    layer_config,
    weight_names,
    write_keras_h5,
)

UNITS, INPUT = 5, 3


def _single(class_name: str, keras3: bool, reset_after: bool = True, seed: int = 0, **extra: object):  # type: ignore[no-untyped-def]
    w = keras_cell_weights(class_name, INPUT, UNITS, reset_after=reset_after, seed=seed)
    if class_name == "GRU":
        extra["reset_after"] = reset_after
    name = {"LSTM": "lstm", "GRU": "gru", "CuDNNLSTM": "cu_dnnlstm", "CuDNNGRU": "cu_dnngru"}[class_name]
    entry = layer_config(class_name, name, UNITS, keras3, **extra)
    names = weight_names(name, class_name, keras3)
    return entry, list(zip(names, (w["kernel"], w["recurrent_kernel"], w["bias"]))), w


def _compare(model, want: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    x = _input()
    got, _, _ = run_reference(model, x.transpose(1, 0, 2).astype(np.float64))
    return float(np.max(np.abs(got.transpose(1, 0, 2) - want)))


def _input() -> np.ndarray:
    return np.random.default_rng(5).standard_normal((2, 6, INPUT)).astype(np.float32)


LAYER_CASES = [("LSTM", True, "standard"), ("GRU", True, "reset_after"), ("GRU", False, "reset_before"),
               ("CuDNNLSTM", True, "standard"), ("CuDNNGRU", True, "reset_after")]


@pytest.mark.parametrize(
    "keras3, class_name, reset_after, variant",
    [(k3, *case) for k3 in (False, True) for case in LAYER_CASES if not (k3 and case[0].startswith("CuDNN"))],
)  # CuDNN layers exist only in Keras 2
def test_layer_equals_keras_equations(tmp_path, keras3, class_name, reset_after, variant):
    entry, weights, w = _single(class_name, keras3, reset_after)
    path = write_keras_h5(tmp_path / "m.h5", [(entry, weights)], keras3=keras3)
    model = load_model(path)
    assert (model.cell, model.layers[0].variant, model.layers[0].input_size, model.layers[0].hidden_size) == (
        class_name.replace("CuDNN", "").lower(), variant, INPUT, UNITS)
    assert model.metadata["keras_version"] == ("3.6.0" if keras3 else "2.15.0")
    want = keras_direction(class_name, w, _input(), reset_after)
    assert _compare(model, want) < 1e-5


@pytest.mark.parametrize("keras3", [False, True], ids=["keras2", "keras3"])
@pytest.mark.parametrize("class_name", ["LSTM", "GRU"])
def test_bidirectional_wrapper(tmp_path, keras3, class_name):
    inner = layer_config(class_name, class_name.lower(), UNITS, keras3)
    fw = keras_cell_weights(class_name, INPUT, UNITS, seed=1)
    bw = keras_cell_weights(class_name, INPUT, UNITS, seed=2)
    cell = class_name.lower()
    names = (weight_names("bidirectional", class_name, keras3, scope=f"forward_{cell}/")
             + weight_names("bidirectional", class_name, keras3, scope=f"backward_{cell}/"))
    arrays = [fw["kernel"], fw["recurrent_kernel"], fw["bias"], bw["kernel"], bw["recurrent_kernel"], bw["bias"]]
    entry = bidirectional_config(inner, "bidirectional", keras3)
    path = write_keras_h5(tmp_path / "bi.h5", [(entry, list(zip(names, arrays)))], keras3=keras3)
    model = load_model(path)
    assert model.layers[0].bidirectional and model.metadata["merge_mode"] == "concat"
    x = _input()
    backward = keras_direction(class_name, bw, x[:, ::-1], True)[:, ::-1]
    want = np.concatenate([keras_direction(class_name, fw, x, True), backward], axis=2)
    assert _compare(model, want) < 1e-5


def test_keras_models_verify_every_schedule_against_the_reference(tmp_path):
    entry, weights, _ = _single("LSTM", False)
    model = load_model(write_keras_h5(tmp_path / "m.h5", [(entry, weights)]))
    checks = verify_model(model, schedules=("conventional", "tsi"), runtime=False)
    assert [(c.engine, c.against) for c in checks] == [("replay", "reference")] * 2
    assert all(c.ok for c in checks)


def test_several_layers_and_chunked_attributes(tmp_path):
    first, w1, _ = _single("LSTM", False, seed=1)
    second, w2, _ = _single("GRU", False, seed=2)
    path = write_keras_h5(tmp_path / "two.h5", [(first, w1), (second, w2)])
    with h5py.File(path, "r+") as handle:  # Keras splits large attributes into name0, name1, ...
        group = handle["model_weights/lstm"]
        names = list(group.attrs["weight_names"])
        del group.attrs["weight_names"]
        group.attrs["weight_names0"] = names[:2]
        group.attrs["weight_names1"] = names[2:]
    assert [m.name for m in load_models(path)] == ["lstm", "gru"]
    assert load_model(path, layer="gru").cell == "gru"


def test_use_bias_false(tmp_path):
    w = keras_cell_weights("LSTM", INPUT, UNITS, use_bias=False)
    entry = layer_config("LSTM", "lstm", UNITS, False, use_bias=False)
    names = weight_names("lstm", "LSTM", False)[:2]
    model = load_model(write_keras_h5(tmp_path / "nb.h5", [(entry, list(zip(names, (w["kernel"], w["recurrent_kernel"]))))]))
    assert _compare(model, keras_direction("LSTM", w, _input(), True)) < 1e-5


@pytest.mark.parametrize(
    "extra, message",
    [
        ({"recurrent_activation": "swish"}, "recurrent_activation='swish'"),
        ({"activation": "gelu"}, "activation='gelu'"),
        ({"go_backwards": True}, "go_backwards=True"),
    ],
)
def test_unsupported_layer_options_are_rejected_naming_the_layer(tmp_path, extra, message):
    entry, weights, _ = _single("LSTM", False, **extra)
    path = write_keras_h5(tmp_path / "bad.h5", [(entry, weights)])
    with pytest.raises(ModelFileError, match="layer 'lstm'") as caught:
        load_models(path)
    assert message in str(caught.value) and "bad.h5" in str(caught.value)


def test_mis_shaped_and_missing_weights(tmp_path):
    entry, weights, _ = _single("GRU", False, reset_after=True)
    weights[2] = (weights[2][0], weights[2][1][0])  # reset_after GRU needs a (2, 3u) bias
    with pytest.raises(ModelFileError, match=r"bias: has shape \(15,\) \(expected \(2, 15\)\)"):
        load_models(write_keras_h5(tmp_path / "b.h5", [(entry, weights)]))
    entry, weights, _ = _single("LSTM", False)
    path = write_keras_h5(tmp_path / "m.h5", [(entry, weights[:1])])
    with pytest.raises(ModelFileError, match="has no recurrent_kernel"):
        load_models(path)


def test_files_that_are_not_keras_models(tmp_path):
    weights_only = tmp_path / "weights.h5"
    with h5py.File(weights_only, "w") as handle:
        handle.attrs["layer_names"] = [b"lstm"]
    with pytest.raises(ModelFileError, match="weights-only file"):
        load_models(weights_only)
    entry, weights, _ = _single("LSTM", False)
    good = write_keras_h5(tmp_path / "good.h5", [(entry, weights)]).read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(good[: len(good) // 3])
    with pytest.raises(ModelFileError, match="cut.h5"):
        load_models(cut)
    no_rnn = tmp_path / "dense.h5"
    with h5py.File(no_rnn, "w") as handle:
        handle.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"name": "d"}}]}})
        handle.create_group("model_weights")
    with pytest.raises(ModelFileError, match=r"has no LSTM or GRU layer \(its layers: Dense\)"):
        load_models(no_rnn)
    zipped = tmp_path / "model.keras"
    import zipfile

    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(ModelFileError, match=r"\.keras zip archive"):
        load_models(zipped)


@pytest.mark.parametrize("class_name, reset_after", [("LSTM", True), ("GRU", False), ("GRU", True)])
def test_keras2_hard_sigmoid_equals_keras_equations_in_the_runtime(tmp_path, class_name, reset_after):
    """Keras 2's hard_sigmoid (0.2 x + 0.5, clipped) through load_model -> from_model -> call, tsi."""
    import tsilstm
    from .keras_files import hard_sigmoid_keras2

    entry, weights, w = _single(class_name, False, reset_after=reset_after, recurrent_activation="hard_sigmoid")
    model = load_model(write_keras_h5(tmp_path / "hs.h5", [(entry, weights)]))
    assert model.layers[0].activations[0].describe() == "hard_sigmoid(alpha=0.2, beta=0.5)"
    module = (tsilstm.LSTM if class_name == "LSTM" else tsilstm.GRU).from_model(model, schedule="tsi", batch_first=True,
                                                                                   threads=2, tile=2)
    out, _ = module(_input())
    want = keras_direction(class_name, w, _input().astype(np.float64), reset_after, recurrent=hard_sigmoid_keras2)
    assert float(np.max(np.abs(out - want))) < 1e-5


@pytest.mark.parametrize("version, expected", [(b"2.2.4", "hard_sigmoid"), (b"2.2.4-tf", "hard_sigmoid"),
                                               (b"2.15.0", "sigmoid"), (b"3.6.0", "sigmoid")])
def test_missing_recurrent_activation_takes_the_versions_default(tmp_path, version, expected):
    entry, weights, _ = _single("LSTM", version.startswith(b"3"))
    del entry["config"]["recurrent_activation"]
    path = write_keras_h5(tmp_path / "v.h5", [(entry, weights)], keras3=version.startswith(b"3"))
    with h5py.File(path, "a") as handle:
        handle.attrs["keras_version"] = version
        handle["model_weights"].attrs["keras_version"] = version
    assert load_model(path).layers[0].activations[0].name == expected


def test_missing_recurrent_activation_without_a_version_is_refused(tmp_path):
    entry, weights, _ = _single("GRU", False)
    del entry["config"]["recurrent_activation"]
    path = write_keras_h5(tmp_path / "nv.h5", [(entry, weights)])
    with h5py.File(path, "a") as handle:
        del handle.attrs["keras_version"]
        del handle["model_weights"].attrs["keras_version"]
    with pytest.raises(ModelFileError, match="recurrent_activation"):
        load_models(path)
