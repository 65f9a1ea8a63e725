"""The public path a user takes, against the original framework: a model file loaded with
``load_model``, run with ``LSTM.from_model`` / ``GRU.from_model``, equals ONNX Runtime, torch or
Keras running the same file, for forward, reverse and bidirectional layers and both GRU forms."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tsilstm
from tsilstm.importers import ModelFileError, load_model

TOLERANCE = 1e-5
STEPS, BATCH, INPUT, HIDDEN = 200, 3, 6, 20


def _module(path, **kwargs):  # type: ignore[no-untyped-def]
    model = load_model(path)
    kind = tsilstm.LSTM if model.cell == "lstm" else tsilstm.GRU
    return kind.from_model(model, threads=2, tile=8, **kwargs)


ONNX_CASES = [
    ("LSTM", {}),
    ("GRU", {"linear_before_reset": 1}),
    ("GRU", {"linear_before_reset": 0}),
]


@pytest.mark.parametrize("schedule", ["tsi", "conventional"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
@pytest.mark.parametrize("op, attributes", ONNX_CASES, ids=["lstm", "gru-reset-after", "gru-reset-before"])
def test_onnx_file_equals_onnxruntime(tmp_path, op, attributes, direction, schedule) -> None:  # type: ignore[no-untyped-def]
    ort = pytest.importorskip("onnxruntime")
    from tests.importers.onnx_builders import build_recurrent_model, save

    path = save(build_recurrent_model(op, input_size=INPUT, hidden=HIDDEN, direction=direction,
                                      attributes=attributes, seed=4), tmp_path / "m.onnx")
    dirs = 2 if direction == "bidirectional" else 1
    data = np.random.default_rng(7)
    x = data.standard_normal((STEPS, BATCH, INPUT)).astype(np.float32)
    h0 = data.standard_normal((dirs, BATCH, HIDDEN)).astype(np.float32)
    c0 = data.standard_normal((dirs, BATCH, HIDDEN)).astype(np.float32)
    feed = {"X": x, "h0": h0, **({"c0": c0} if op == "LSTM" else {})}
    y, y_h = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["Y", "Y_h"], feed)
    module = _module(path, schedule=schedule)
    assert module.model.layers[0].direction == direction
    relu_x = np.maximum(x, 0)  # the file applies Relu before the recurrent node
    out, state = module(relu_x, (h0, c0)) if op == "LSTM" else module(relu_x, h0)
    h_n = state[0] if op == "LSTM" else state
    want = y.transpose(0, 2, 1, 3).reshape(STEPS, BATCH, dirs * HIDDEN)  # (T, D, N, H) -> (T, N, D*H)
    assert float(np.max(np.abs(out - want))) <= TOLERANCE
    assert float(np.max(np.abs(h_n - y_h))) <= TOLERANCE


@pytest.mark.parametrize("cell, bidirectional", [("lstm", True), ("lstm", False), ("gru", True)])
def test_torch_state_dict_file_equals_torch(tmp_path, cell, bidirectional) -> None:  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    kind = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
    net = kind(INPUT, HIDDEN, num_layers=2, bidirectional=bidirectional)
    torch.save(net.state_dict(), tmp_path / "rnn.pt")
    module = _module(tmp_path / "rnn.pt", schedule="tsi")
    x = torch.randn(STEPS, BATCH, INPUT)
    with torch.no_grad():
        want, _ = net(x)
    out, _ = module(x)
    assert float((out - want).abs().max()) <= 1e-4


@pytest.fixture(scope="module")
def keras():  # type: ignore[no-untyped-def]
    """Keras 3 on its torch backend (the backend is chosen before the first import)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip(f"Keras runs on {keras.backend.backend()} here, these tests pin the torch backend")
    return keras


@pytest.mark.parametrize(
    "layer_kind, reset_after, bidirectional",
    [("GRU", False, False), ("GRU", False, True), ("GRU", True, True), ("LSTM", None, True)],
    ids=["gru-reset-before", "bi-gru-reset-before", "bi-gru-reset-after", "bi-lstm"],
)
def test_keras_h5_file_equals_keras(tmp_path, keras, layer_kind, reset_after, bidirectional) -> None:  # type: ignore[no-untyped-def]
    keras.utils.set_random_seed(3)
    extra = {} if reset_after is None else {"reset_after": reset_after}
    layer = getattr(keras.layers, layer_kind)(HIDDEN, return_sequences=True, bias_initializer="glorot_uniform", **extra)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    net = keras.Sequential([keras.Input((STEPS, INPUT)), layer])
    path = tmp_path / "model.h5"
    net.save(path)
    x = np.random.default_rng(5).standard_normal((BATCH, STEPS, INPUT)).astype(np.float32)
    want = np.asarray(net.predict(x, verbose=0))
    module = _module(path, schedule="auto", batch_first=True)
    out, _ = module(x)
    assert out.shape == want.shape
    assert float(np.max(np.abs(out - want))) <= TOLERANCE


def test_keras_go_backwards_outside_bidirectional_is_refused(tmp_path, keras) -> None:  # type: ignore[no-untyped-def]
    net = keras.Sequential([keras.Input((STEPS, INPUT)), keras.layers.LSTM(HIDDEN, go_backwards=True)])
    net.save(tmp_path / "back.h5")
    with pytest.raises(ModelFileError, match="go_backwards"):
        load_model(tmp_path / "back.h5")


def test_keras2_file_gru_reset_before_equals_keras_equations(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Keras 2 layout file (``reset_after=False``, the Keras 2 default) through the public path;
    Keras 2 itself (TensorFlow) is not installed here, so its equations written in numpy stand in."""
    pytest.importorskip("h5py")
    from tests.importers.keras_files import keras_cell_weights, keras_direction, layer_config, weight_names, write_keras_h5

    w = keras_cell_weights("GRU", INPUT, HIDDEN, reset_after=False, seed=6)
    entry = layer_config("GRU", "gru", HIDDEN, False, reset_after=False)
    path = write_keras_h5(tmp_path / "k2.h5", [(entry, list(zip(weight_names("gru", "GRU", False),
                                                                   (w["kernel"], w["recurrent_kernel"], w["bias"]))))])
    x = np.random.default_rng(8).standard_normal((BATCH, STEPS, INPUT)).astype(np.float32)
    module = _module(path, schedule="tsi", batch_first=True)
    assert module.model.layers[0].variant == "reset_before"
    out, _ = module(x)
    assert float(np.max(np.abs(out - keras_direction("GRU", w, x.astype(np.float64), reset_after=False)))) <= TOLERANCE


@pytest.mark.parametrize("layer_kind, extra", [("LSTM", {}), ("GRU", {"reset_after": False}), ("GRU", {"reset_after": True})])
def test_keras3_hard_sigmoid_and_relu_equal_keras(tmp_path, keras, layer_kind, extra) -> None:  # type: ignore[no-untyped-def]
    """Keras 3's hard_sigmoid (x / 6 + 0.5, clipped: not Keras 2's) and a relu candidate, schedule tsi."""
    keras.utils.set_random_seed(4)
    layer = getattr(keras.layers, layer_kind)(HIDDEN, return_sequences=True, recurrent_activation="hard_sigmoid",
                                             activation="relu", **extra)
    net = keras.Sequential([keras.Input((STEPS, INPUT)), layer])
    net.save(tmp_path / "hs.h5")
    x = np.random.default_rng(6).standard_normal((BATCH, STEPS, INPUT)).astype(np.float32)
    want = np.asarray(net.predict(x, verbose=0))
    module = _module(tmp_path / "hs.h5", schedule="tsi", batch_first=True)
    assert module.model.layers[0].activations[0].describe() == "hard_sigmoid(alpha=0.166667, beta=0.5)"
    out, _ = module(x)
    assert float(np.max(np.abs(out - want))) <= 1e-4 * max(1.0, float(np.max(np.abs(want))))


def _weights_only_module(path, spec, **kwargs):  # type: ignore[no-untyped-def]
    from tsilstm.importers import KerasArchitecture

    model = load_model(path, architecture=KerasArchitecture((spec,)))
    kind = tsilstm.LSTM if model.cell == "lstm" else tsilstm.GRU
    return kind.from_model(model, threads=2, tile=8, schedule="tsi", batch_first=True, **kwargs)


WEIGHTS_ONLY_CASES = [
    ("LSTM", {}, False), ("GRU", {"reset_after": True}, False), ("GRU", {"reset_after": False}, False),
    ("LSTM", {}, True), ("GRU", {"reset_after": False}, True),
    ("LSTM", {"recurrent_activation": "hard_sigmoid"}, False),
    ("GRU", {"reset_after": False, "recurrent_activation": "hard_sigmoid"}, True),
]


@pytest.mark.parametrize("layer_kind, options, bidirectional", WEIGHTS_ONLY_CASES,
                         ids=["lstm", "gru-reset-after", "gru-reset-before", "bi-lstm", "bi-gru-reset-before",
                              "lstm-hard-sigmoid", "bi-gru-hard-sigmoid"])
def test_keras3_weights_only_file_with_an_architecture_equals_keras(tmp_path, keras, layer_kind, options, bidirectional) -> None:  # type: ignore[no-untyped-def]
    """``save_weights`` (Keras 3 .weights.h5: no config) + the caller's architecture, schedule tsi."""
    from tsilstm.importers import KerasLayerSpec

    keras.utils.set_random_seed(9)
    layer = getattr(keras.layers, layer_kind)(HIDDEN, return_sequences=True, bias_initializer="glorot_uniform",
                                             name="rnn", **options)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer, name="bi_rnn")
    net = keras.Sequential([keras.Input((STEPS, INPUT)), layer, keras.layers.Dense(2, name="head")])
    path = tmp_path / "model.weights.h5"
    net.save_weights(path)
    x = np.random.default_rng(5).standard_normal((BATCH, STEPS, INPUT)).astype(np.float32)
    want = keras.ops.convert_to_numpy(net.layers[0](x))  # the recurrent layer's output (the Dense is not loaded)
    spec = KerasLayerSpec("bi_rnn" if bidirectional else "rnn", layer_kind, HIDDEN, bidirectional=bidirectional, **options)
    out, _ = _weights_only_module(path, spec)(x)
    assert out.shape == want.shape
    assert float(np.max(np.abs(out - want))) <= TOLERANCE


def test_keras2_layout_weights_file_from_keras_equals_keras(tmp_path, keras) -> None:  # type: ignore[no-untyped-def]
    """Keras 3's writer of the Keras 2 save_weights layout (layer_names, weight_names), a TOML architecture."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    keras.utils.set_random_seed(10)
    layer = keras.layers.Bidirectional(keras.layers.GRU(HIDDEN, return_sequences=True, reset_after=False,
                                                        bias_initializer="glorot_uniform"), name="encoder")
    net = keras.Sequential([keras.Input((STEPS, INPUT)), layer])
    with h5py.File(tmp_path / "weights.h5", "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, net)
    (tmp_path / "arch.toml").write_text('[[layers]]\nname = "encoder"\ncell = "GRU"\nunits = 20\nreset_after = false\n'
                                        'bidirectional = true\nrecurrent_activation = "sigmoid"\n')
    model = load_model(tmp_path / "weights.h5", architecture=tmp_path / "arch.toml")
    assert model.metadata["keras_version"] == "3.6.0"
    module = tsilstm.GRU.from_model(model, threads=2, tile=8, schedule="tsi", batch_first=True)
    x = np.random.default_rng(6).standard_normal((BATCH, STEPS, INPUT)).astype(np.float32)
    out, _ = module(x)
    assert float(np.max(np.abs(out - np.asarray(net.predict(x, verbose=0))))) <= TOLERANCE


def test_keras2_weights_only_hard_sigmoid_equals_keras2_equations(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Keras 2 save_weights file (written with h5py) with Keras 2's hard_sigmoid, public path, tsi."""
    pytest.importorskip("h5py")
    from tests.importers.keras_files import (
        hard_sigmoid_keras2, keras_cell_weights, keras_direction, weight_names, write_keras2_weights_file,
    )
    from tsilstm.importers import KerasLayerSpec

    w = keras_cell_weights("LSTM", INPUT, HIDDEN, seed=11)
    arrays = [w["kernel"], w["recurrent_kernel"], w["bias"]]
    path = write_keras2_weights_file(tmp_path / "w.h5", [("lstm", list(zip(weight_names("lstm", "LSTM", False), arrays)))])
    module = _weights_only_module(path, KerasLayerSpec("lstm", "LSTM", HIDDEN, recurrent_activation="hard_sigmoid"))
    x = np.random.default_rng(8).standard_normal((BATCH, STEPS, INPUT)).astype(np.float32)
    out, _ = module(x)
    want = keras_direction("LSTM", w, x.astype(np.float64), True, recurrent=hard_sigmoid_keras2)
    assert float(np.max(np.abs(out - want))) <= TOLERANCE
