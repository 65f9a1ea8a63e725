"""ONNX LSTM / GRU nodes with every activation of ONNX's list (with alpha / beta), clip,
input_forget and peepholes: loaded with ``load_model``, run by the native kernel (schedule tsi:
interleaving is kept for these cells) and equal to ONNX Runtime running the same file."""

from __future__ import annotations

import numpy as np
import pytest

import tsilstm
from tsilstm.activations import ONNX_ACTIVATION_NAMES
from tsilstm.importers import load_model

ort = pytest.importorskip("onnxruntime")
from tests.importers.onnx_builders import build_recurrent_model, recurrent_node_arrays, save  # noqa: E402

TOLERANCE = 1e-5
STEPS, BATCH, INPUT, HIDDEN = 40, 2, 5, 24
ALL = tuple(ONNX_ACTIVATION_NAMES)
ALPHA = {"Affine": 0.7, "LeakyRelu": 0.05, "ThresholdedRelu": 0.2, "ScaledTanh": 0.9, "HardSigmoid": 0.25, "Elu": 0.8}
BETA = {"Affine": 0.1, "ScaledTanh": 1.2, "HardSigmoid": 0.45}


def _parameters(names: list[str]) -> dict[str, list[float]]:
    """activation_alpha / activation_beta lists in the order the activations consume them."""
    lists = {"activation_alpha": [ALPHA[n] for n in names if n in ALPHA],
             "activation_beta": [BETA[n] for n in names if n in BETA]}
    return {key: values for key, values in lists.items() if values}  # ONNX attributes cannot be empty lists


def _compare(tmp_path, op: str, direction: str, attributes: dict, peephole: bool = False,
             schedule: str = "tsi", scale: float = 2.0) -> float:
    dirs = 2 if direction == "bidirectional" else 1
    arrays = recurrent_node_arrays(op, INPUT, HIDDEN, dirs, seed=11, peephole=peephole)
    arrays = {key: value * scale for key, value in arrays.items()}  # scale > 1: clip and saturation bite
    path = save(build_recurrent_model(op, input_size=INPUT, hidden=HIDDEN, direction=direction, arrays=arrays,
                                      attributes=attributes, surrounding=False), tmp_path / "m.onnx")
    data = np.random.default_rng(3)
    x = data.standard_normal((STEPS, BATCH, INPUT)).astype(np.float32)
    h0 = data.standard_normal((dirs, BATCH, HIDDEN)).astype(np.float32)
    c0 = data.standard_normal((dirs, BATCH, HIDDEN)).astype(np.float32)
    feed = {"X": x, "h0": h0, **({"c0": c0} if op == "LSTM" else {})}
    y, y_h = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["Y", "Y_h"], feed)
    model = load_model(path)
    module = (tsilstm.LSTM if op == "LSTM" else tsilstm.GRU).from_model(model, schedule=schedule, threads=2, tile=8)
    out, state = module(x, (h0, c0)) if op == "LSTM" else module(x, h0)
    h_n = state[0] if op == "LSTM" else state
    assert all(run.program.schedule == schedule for run in module.layer_runs) or op == "GRU"
    want = y.transpose(0, 2, 1, 3).reshape(STEPS, BATCH, dirs * HIDDEN)
    return max(float(np.max(np.abs(out - want))), float(np.max(np.abs(h_n - y_h))))


@pytest.mark.parametrize("slot", [0, 1, 2])
@pytest.mark.parametrize("name", ALL)
def test_lstm_each_activation_in_each_slot(tmp_path, name, slot) -> None:  # type: ignore[no-untyped-def]
    names = ["Sigmoid", "Tanh", "Tanh"]
    names[slot] = name
    assert _compare(tmp_path, "LSTM", "forward", {"activations": names, **_parameters(names)}) <= TOLERANCE


@pytest.mark.parametrize("linear_before_reset", [0, 1])
@pytest.mark.parametrize("slot", [0, 1])
@pytest.mark.parametrize("name", ALL)
def test_gru_each_activation_in_each_slot(tmp_path, name, slot, linear_before_reset) -> None:  # type: ignore[no-untyped-def]
    names = ["Sigmoid", "Tanh"]
    names[slot] = name
    attributes = {"activations": names, "linear_before_reset": linear_before_reset, **_parameters(names)}
    # an unbounded update gate (z outside [0, 1]) lets h grow without bound: small weights keep it finite
    scale = 2.0 if slot == 1 or name in ("Sigmoid", "HardSigmoid") else 0.25
    assert _compare(tmp_path, "GRU", "forward", attributes, schedule="conventional", scale=scale) <= TOLERANCE


@pytest.mark.parametrize("schedule", ["tsi", "conventional", "snake"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_lstm_with_peepholes_clip_input_forget_and_hard_activations(tmp_path, direction, schedule) -> None:  # type: ignore[no-untyped-def]
    dirs = 2 if direction == "bidirectional" else 1
    names = ["HardSigmoid", "ScaledTanh", "Tanh"] * dirs
    attributes = {"activations": names, **_parameters(names), "clip": 1.5, "input_forget": 1}
    assert _compare(tmp_path, "LSTM", direction, attributes, peephole=True, schedule=schedule) <= TOLERANCE


@pytest.mark.parametrize("option", [{"clip": 0.8}, {"input_forget": 1}, {}])
def test_lstm_peepholes_with_each_option_alone(tmp_path, option) -> None:  # type: ignore[no-untyped-def]
    assert _compare(tmp_path, "LSTM", "forward", option, peephole=True) <= TOLERANCE


@pytest.mark.parametrize("linear_before_reset", [0, 1])
def test_gru_with_clip_and_hard_sigmoid(tmp_path, linear_before_reset) -> None:  # type: ignore[no-untyped-def]
    names = ["HardSigmoid", "Softsign"] * 2
    attributes = {"activations": names, **_parameters(names), "clip": 1.2, "linear_before_reset": linear_before_reset}
    assert _compare(tmp_path, "GRU", "bidirectional", attributes, schedule="snake") <= TOLERANCE


def test_default_alpha_and_beta_when_the_lists_are_absent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    names = ["HardSigmoid", "LeakyRelu", "Elu"]
    assert _compare(tmp_path, "LSTM", "forward", {"activations": names}) <= TOLERANCE
