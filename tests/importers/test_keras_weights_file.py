"""Keras weights-only files (``save_weights``: no model config) with an architecture from the caller,
on synthetic files in the Keras 2 layout and Keras 3's ``.weights.h5`` layout, checked against
Keras' equations in numpy; architectures that contradict the file or are invalid are refused."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from tsilstm.cells import run_reference
from tsilstm.errors import ArchitectureNeededError, InvalidParameterError
from tsilstm.importers import KerasArchitecture, KerasLayerSpec, ModelFileError, load_architecture, load_model, load_models
from tsilstm.importers.keras_architecture import architecture_from_mapping
from tsilstm.importers.keras_weights_file import describe_weights_file

from .keras_files import (
    hard_sigmoid_keras2,
    keras_cell_weights,
    keras_direction,
    layer_config,
    weight_names,
    write_keras2_weights_file,
    write_keras3_weights_file,
    write_keras_h5,
)

UNITS, INPUT = 5, 3


def _input() -> np.ndarray:
    return np.random.default_rng(5).standard_normal((2, 6, INPUT)).astype(np.float32)


def _max_error(model, want: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    got, _, _ = run_reference(model, _input().transpose(1, 0, 2).astype(np.float64))
    return float(np.max(np.abs(got.transpose(1, 0, 2) - want)))


def _keras2_file(tmp_path, version: bytes | None = b"2.15.0"):  # type: ignore[no-untyped-def]
    """A Keras 2 save_weights file: an LSTM, a reset-before GRU, a reset-after GRU, a bidirectional
    LSTM and a Dense layer; returns the path and each layer's weights."""
    lstm = keras_cell_weights("LSTM", INPUT, UNITS, seed=1)
    gru_before = keras_cell_weights("GRU", INPUT, UNITS, reset_after=False, seed=2)
    gru_after = keras_cell_weights("GRU", INPUT, UNITS, reset_after=True, seed=3)
    forward, backward = keras_cell_weights("LSTM", INPUT, UNITS, seed=4), keras_cell_weights("LSTM", INPUT, UNITS, seed=5)

    def arrays(w):  # type: ignore[no-untyped-def]
        return [w[role] for role in ("kernel", "recurrent_kernel", "bias")]

    bi_names = (weight_names("bidirectional", "LSTM", False, scope="forward_lstm/")
                + weight_names("bidirectional", "LSTM", False, scope="backward_lstm/"))
    groups = [
        ("input_1", []),
        ("lstm", list(zip(weight_names("lstm", "LSTM", False), arrays(lstm)))),
        ("gru", list(zip(weight_names("gru", "GRU", False), arrays(gru_before)))),
        ("gru_1", list(zip(weight_names("gru_1", "GRU", False), arrays(gru_after)))),
        ("bidirectional", list(zip(bi_names, arrays(forward) + arrays(backward)))),
        ("dense", [("dense/kernel:0", np.ones((2 * UNITS, 2), np.float32))]),
    ]
    path = write_keras2_weights_file(tmp_path / "weights.h5", groups, version)
    return path, {"lstm": lstm, "gru": gru_before, "gru_1": gru_after, "forward": forward, "backward": backward}


ARCHITECTURE = {
    "layers": [
        {"name": "lstm", "cell": "LSTM", "units": UNITS, "recurrent_activation": "hard_sigmoid"},
        {"name": "gru", "cell": "GRU", "units": UNITS, "reset_after": False},
        {"name": "gru_1", "cell": "GRU", "units": UNITS, "reset_after": True, "activation": "relu"},
        {"name": "bidirectional", "cell": "LSTM", "units": UNITS, "bidirectional": True, "recurrent_activation": "sigmoid"},
    ],
}


def test_keras2_layout_loads_with_an_architecture_and_equals_keras_equations(tmp_path):
    path, w = _keras2_file(tmp_path)
    models = load_models(path, architecture=ARCHITECTURE)
    assert [m.name for m in models] == ["lstm", "gru", "gru_1", "bidirectional"]
    assert [m.layers[0].variant for m in models] == ["standard", "reset_before", "reset_after", "standard"]
    assert models[0].metadata["keras_version"] == "2.15.0" and models[0].metadata["weights_only"]
    x = _input()
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    assert _max_error(models[0], keras_direction("LSTM", w["lstm"], x, True, recurrent=hard_sigmoid_keras2)) < 1e-5
    assert _max_error(models[1], keras_direction("GRU", w["gru"], x, False)) < 1e-5
    assert _max_error(models[2], keras_direction("GRU", w["gru_1"], x, True, activation=relu)) < 1e-5
    backward = keras_direction("LSTM", w["backward"], x[:, ::-1], True)[:, ::-1]
    assert _max_error(models[3], np.concatenate([keras_direction("LSTM", w["forward"], x, True), backward], axis=2)) < 1e-5


def test_architecture_as_dataclass_toml_and_json_are_the_same(tmp_path):
    path, _ = _keras2_file(tmp_path)
    toml_text = "\n".join(
        ["[[layers]]\n" + "\n".join(f"{k} = {json.dumps(v)}" for k, v in entry.items()) for entry in ARCHITECTURE["layers"]])
    (tmp_path / "arch.toml").write_text(toml_text)
    (tmp_path / "arch.json").write_text(json.dumps(ARCHITECTURE))
    specs = KerasArchitecture(tuple(KerasLayerSpec(**entry) for entry in ARCHITECTURE["layers"]))  # type: ignore[arg-type]
    assert load_architecture(tmp_path / "arch.toml") == load_architecture(tmp_path / "arch.json") == specs
    from_file = load_model(path, architecture=tmp_path / "arch.toml", name="gru_1")
    from_specs = load_model(path, architecture=specs, name="gru_1")
    np.testing.assert_array_equal(from_file.layers[0].directions[0].w_hh, from_specs.layers[0].directions[0].w_hh)


def test_keras3_layout_names_by_layer_name_or_group_path(tmp_path):
    lstm = keras_cell_weights("LSTM", INPUT, UNITS, seed=1)
    gru = keras_cell_weights("GRU", INPUT, UNITS, use_bias=False, seed=2)
    path = write_keras3_weights_file(tmp_path / "m.weights.h5", [
        ("lstm", "encoder", [[lstm["kernel"], lstm["recurrent_kernel"], lstm["bias"]]]),
        ("gru", "lstm", [[gru["kernel"], gru["recurrent_kernel"]]]),  # its layer name is another group's key
    ])
    architecture = {"layers": [
        {"name": "encoder", "cell": "LSTM", "units": UNITS, "recurrent_activation": "hard_sigmoid"},
        {"name": "layers/gru", "cell": "GRU", "units": UNITS, "reset_after": False, "use_bias": False},
    ]}
    encoder, decoder = load_models(path, architecture=architecture)
    assert encoder.metadata["keras_version"] == "3" and encoder.layers[0].activations[0].describe() == "hard_sigmoid(alpha=0.166667, beta=0.5)"
    keras3_hard_sigmoid = lambda v: np.clip(v / 6.0 + 0.5, 0.0, 1.0)  # noqa: E731
    assert _max_error(encoder, keras_direction("LSTM", lstm, _input(), True, recurrent=keras3_hard_sigmoid)) < 1e-5
    assert _max_error(decoder, keras_direction("GRU", gru, _input(), False)) < 1e-5
    architecture["layers"][1]["name"] = "lstm"  # the layer name of layers/gru and the key of layers/lstm
    with pytest.raises(ModelFileError, match=r"layer 'lstm': matches several groups \['layers/gru', 'layers/lstm'\]"):
        load_models(path, architecture=architecture)


@pytest.mark.parametrize("change, message", [
    ({"units": 6}, "layer 'gru': the architecture says units=6 but the weights have 5 units"),
    ({"cell": "LSTM", "reset_after": None}, "layer 'gru': the architecture says cell=LSTM but the weights are a GRU's: 3 gates"),
    ({"reset_after": True}, r"layer 'gru': the architecture says reset_after=True but the bias has shape \(15,\)"),
    ({"bidirectional": True}, "layer 'gru': the architecture says bidirectional=True but the file holds one direction's"),
    ({"use_bias": False}, "layer 'gru': the architecture says use_bias=False but the file holds a bias"),
    ({"name": "decoder"}, r"layer 'decoder': is not in the file \(expected one of its recurrent layers \['lstm', 'gru'"),
    ({"name": "dense"}, "layer 'dense': is not a recurrent layer in the file"),
])
def test_architectures_that_contradict_the_file_are_refused_naming_the_layer(tmp_path, change, message):
    path, _ = _keras2_file(tmp_path)
    layers = [dict(entry) for entry in ARCHITECTURE["layers"]]
    layers[1].update(change)
    layers[1] = {k: v for k, v in layers[1].items() if v is not None}
    with pytest.raises(ModelFileError, match=message):
        load_models(path, architecture={"layers": layers})


def test_every_recurrent_layer_must_be_described_unless_one_is_chosen(tmp_path):
    path, _ = _keras2_file(tmp_path)
    only_gru = {"layers": [ARCHITECTURE["layers"][1]]}
    with pytest.raises(ModelFileError, match=r"does not describe the recurrent layer\(s\) \['lstm', 'gru_1', 'bidirectional'\]"):
        load_models(path, architecture=only_gru)
    assert load_model(path, architecture=only_gru, layer="gru").layers[0].variant == "reset_before"


@pytest.mark.parametrize("data, key", [
    ({"layers": [{"name": "gru", "cell": "GRU", "units": UNITS, "reset_after": False, "dropout": 0.1}]}, "layers[0].dropout"),
    ({"layers": [], "backend": "tensorflow"}, "backend"),
    ({"layers": [{"name": "gru", "cell": "GRU", "units": "5", "reset_after": False}]}, "layers[0].units"),
    ({"layers": [{"name": "gru", "cell": "GRU", "units": 5.0, "reset_after": False}]}, "layers[0].units"),
    ({"layers": [{"name": "gru", "cell": "GRU", "units": 0, "reset_after": False}]}, "layers[0].units"),
    ({"layers": [{"name": "gru", "cell": "GRU", "units": 5, "reset_after": "no"}]}, "layers[0].reset_after"),
    ({"layers": [{"name": "gru", "cell": "GRU", "units": 5}]}, "layers[0].reset_after"),
    ({"layers": [{"name": "lstm", "cell": "LSTM", "units": 5, "reset_after": True}]}, "layers[0].reset_after"),
    ({"layers": [{"name": "rnn", "cell": "SimpleRNN", "units": 5}]}, "layers[0].cell"),
    ({"layers": [{"name": "lstm", "cell": "LSTM", "units": 5, "activation": "gelu"}]}, "layers[0].activation"),
    ({"layers": [{"name": "lstm", "cell": "LSTM", "units": 5, "go_backwards": True}]}, "layers[0].go_backwards"),
    ({"layers": [{"name": "lstm", "cell": "LSTM"}]}, "layers[0].units"),
    ({"layers": [{"name": "a", "cell": "LSTM", "units": 5}, {"name": "a", "cell": "LSTM", "units": 5}]}, "layers"),
    ({"layers": [{"name": "a", "cell": "LSTM", "units": 5}], "keras_version": "two"}, "keras_version"),
    ({"layers": []}, "layers"),
])
def test_invalid_architectures_are_refused_naming_the_key(data, key):
    with pytest.raises(InvalidParameterError) as caught:
        architecture_from_mapping(data)
    assert caught.value.name == key, str(caught.value)


def test_keras_versions_from_the_file_or_the_architecture(tmp_path):
    path, w = _keras2_file(tmp_path, version=None)
    no_default = {"layers": [{"name": "gru", "cell": "GRU", "units": UNITS, "reset_after": False}]}
    with pytest.raises(ModelFileError, match="recurrent_activation"):  # the default depends on the version
        load_model(path, architecture=no_default, layer="gru")
    old = load_model(path, architecture={**no_default, "keras_version": "2.2.4"}, layer="gru")
    assert old.layers[0].activations[0].describe() == "hard_sigmoid(alpha=0.2, beta=0.5)"
    assert _max_error(old, keras_direction("GRU", w["gru"], _input(), False, recurrent=hard_sigmoid_keras2)) < 1e-5
    stated, _ = _keras2_file(tmp_path, version=b"2.15.0")
    with pytest.raises(ModelFileError, match="architecture keras_version: is '2.2.4' but the file was written by Keras '2.15.0'"):
        load_model(stated, architecture={**no_default, "keras_version": "2.2.4"}, layer="gru")
    keras3 = write_keras3_weights_file(tmp_path / "k3.weights.h5", [("lstm", "lstm", [[w["lstm"][r] for r in ("kernel", "recurrent_kernel", "bias")]])])
    with pytest.raises(ModelFileError, match="Keras 3 .weights.h5 layout"):
        load_model(keras3, architecture={"layers": [{"name": "lstm", "cell": "LSTM", "units": UNITS}], "keras_version": "2.15.0"})


def test_files_and_architectures_that_do_not_belong_together(tmp_path):
    path, _ = _keras2_file(tmp_path)
    with pytest.raises(ArchitectureNeededError, match="weights-only file"):
        load_models(path)
    whole = write_keras_h5(tmp_path / "whole.h5", [(layer_config("LSTM", "lstm", UNITS, False), [])], extra_layers=False)
    with pytest.raises(ModelFileError, match="architecture: was given but the file holds its own model_config"):
        load_models(whole, architecture=ARCHITECTURE)
    with pytest.raises(InvalidParameterError, match="architecture"):
        load_models(path, architecture=tmp_path / "missing.yaml")


def test_weights_behind_external_links_are_refused(tmp_path):
    w = keras_cell_weights("LSTM", INPUT, UNITS)
    path = write_keras3_weights_file(tmp_path / "x.weights.h5", [("lstm", "lstm", [[w["kernel"], w["recurrent_kernel"]]])])
    with h5py.File(tmp_path / "other.h5", "w") as other:
        other["bias"] = w["bias"]
    with h5py.File(path, "a") as handle:
        handle["layers/lstm/cell/vars/2"] = h5py.ExternalLink("other.h5", "bias")
    with pytest.raises(ModelFileError, match="external link"):
        describe_weights_file(path)
    with pytest.raises(ModelFileError, match="external link"):
        load_models(path, architecture={"layers": [{"name": "lstm", "cell": "LSTM", "units": UNITS}]})


def test_describe_lists_groups_and_writes_an_architecture_that_loads(tmp_path):
    path, _ = _keras2_file(tmp_path)
    summary = describe_weights_file(path)
    assert summary.layout == "keras2" and summary.keras_version == "2.15.0"
    implied = {g.name: g.implied for g in summary.groups}
    assert implied["dense"] is None and implied["input_1"] is None
    assert (implied["gru"].cell, implied["gru"].units, implied["gru"].input_size, implied["gru"].reset_after) == ("GRU", UNITS, INPUT, False)
    assert implied["gru_1"].reset_after and implied["bidirectional"].bidirectional
    (tmp_path / "example.toml").write_text(summary.example_architecture())
    models = load_models(path, architecture=tmp_path / "example.toml")
    assert [(m.name, m.layers[0].variant) for m in models] == [
        ("lstm", "standard"), ("gru", "reset_before"), ("gru_1", "reset_after"), ("bidirectional", "standard")]


def test_an_architecture_for_another_kind_of_source_is_refused(tmp_path):
    onnx_file = tmp_path / "m.onnx"
    onnx_file.write_bytes(b"\x08\x07")
    with pytest.raises(ModelFileError, match="architecture: was given for a file of format onnx"):
        load_models(onnx_file, architecture=ARCHITECTURE)
    with pytest.raises(ModelFileError, match="architecture: was given for an in-memory object"):
        load_models({"weight_ih_l0": np.zeros((4, 2), np.float32)}, architecture=ARCHITECTURE)


def test_objects_of_the_wrong_kind_are_refused_naming_them(tmp_path):
    w = keras_cell_weights("LSTM", INPUT, UNITS)
    path = write_keras3_weights_file(tmp_path / "odd.weights.h5", [("lstm", "lstm", [[w["kernel"]]])])
    with h5py.File(path, "a") as handle:
        handle.create_group("layers/lstm/cell/vars/1")  # a group where the recurrent kernel belongs
        handle["layers/stray"] = np.zeros(3, np.float32)  # a dataset where a layer's group belongs
    with pytest.raises(ModelFileError, match="layers/lstm/cell/vars/1: is a Group, not a dataset"):
        describe_weights_file(path)


def test_a_cell_with_more_variables_than_a_keras_lstm_is_not_read_as_one(tmp_path):
    w = keras_cell_weights("LSTM", INPUT, UNITS)
    arrays = [w["kernel"], w["recurrent_kernel"], w["bias"], w["bias"]]
    path = write_keras3_weights_file(tmp_path / "peep.weights.h5", [("lstm", "lstm", [arrays])])
    assert describe_weights_file(path).groups[0].implied is None
    with pytest.raises(ModelFileError, match="layer 'lstm': is not a recurrent layer in the file .*more variables"):
        load_models(path, architecture={"layers": [{"name": "lstm", "cell": "LSTM", "units": UNITS}]})
