"""Synthetic Keras HDF5 model files in the exact layout Keras 2 (tf.keras 2.x) and Keras 3 (legacy
``.h5`` saving) write, and a numpy implementation of Keras' own LSTM/GRU equations as the oracle."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


def keras_cell_weights(class_name: str, input_size: int, units: int, *, reset_after: bool = True,
                       use_bias: bool = True, seed: int = 0) -> dict[str, np.ndarray]:
    """Random kernel (X, G*u), recurrent_kernel (u, G*u) and bias in the shape ``class_name`` keeps."""
    rng = np.random.default_rng(seed)
    gates = 4 if "LSTM" in class_name else 3
    out = {
        "kernel": rng.uniform(-0.5, 0.5, (input_size, gates * units)).astype(np.float32),
        "recurrent_kernel": rng.uniform(-0.5, 0.5, (units, gates * units)).astype(np.float32),
    }
    if class_name.startswith("CuDNN"):
        out["bias"] = rng.uniform(-0.5, 0.5, (2 * gates * units,)).astype(np.float32)
    elif use_bias:
        shape = (2, gates * units) if class_name == "GRU" and reset_after else (gates * units,)
        out["bias"] = rng.uniform(-0.5, 0.5, shape).astype(np.float32)
    return out


def hard_sigmoid_keras2(x: np.ndarray) -> np.ndarray:
    """Keras 2's hard_sigmoid: clip(0.2 x + 0.5, 0, 1)."""
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def keras_direction(class_name: str, w: dict[str, np.ndarray], x: np.ndarray, reset_after: bool,
                    recurrent=sigmoid, activation=np.tanh) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Keras' equations for one direction over ``x`` (N, T, X) from zero state, with the gates'
    ``recurrent`` activation and the candidate / output ``activation``; returns (N, T, u)."""
    units = w["recurrent_kernel"].shape[0]
    gates = 4 if "LSTM" in class_name else 3
    bias = w.get("bias", np.zeros(gates * units, np.float32)).reshape(-1)
    cudnn = class_name.startswith("CuDNN")
    b_in = bias[: gates * units]
    b_rec = bias[gates * units:] if bias.size == 2 * gates * units else np.zeros(gates * units)
    n = x.shape[0]
    h = np.zeros((n, units))
    c = np.zeros((n, units))
    ys = []
    for t in range(x.shape[1]):
        mx = x[:, t] @ w["kernel"] + b_in
        if gates == 4:  # keras LSTMCell: i, f, c, o
            z = mx + h @ w["recurrent_kernel"] + b_rec
            i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
            c = recurrent(f) * c + recurrent(i) * activation(g)
            h = recurrent(o) * activation(c)
        else:  # keras GRUCell: z, r, h
            xz, xr, xh = (mx[:, k * units:(k + 1) * units] for k in range(3))
            rk = w["recurrent_kernel"]
            if reset_after or cudnn:
                mh = h @ rk + b_rec
                rz, rr, rh = (mh[:, k * units:(k + 1) * units] for k in range(3))
                zg, rg = recurrent(xz + rz), recurrent(xr + rr)
                hh = activation(xh + rg * rh)
            else:
                zg = recurrent(xz + h @ rk[:, :units])
                rg = recurrent(xr + h @ rk[:, units:2 * units])
                hh = activation(xh + (rg * h) @ rk[:, 2 * units:])
            h = zg * h + (1 - zg) * hh
        ys.append(h)
    return np.stack(ys, axis=1)


def layer_config(class_name: str, name: str, units: int, keras3: bool, **extra: object) -> dict:
    """A layer entry of model_config as Keras 2 / Keras 3 serialize it."""
    cfg: dict[str, object] = {"name": name, "trainable": True, "dtype": "float32", "units": units, "return_sequences": True,
                              "go_backwards": False, "stateful": False}
    if not class_name.startswith("CuDNN"):
        cfg.update({"activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True, "dropout": 0.0,
                    "recurrent_dropout": 0.0, "unroll": False})
        if class_name == "GRU":
            cfg["reset_after"] = True
    cfg.update(extra)
    entry: dict[str, object] = {"class_name": class_name, "config": cfg}
    if keras3:
        entry.update({"module": "keras.layers", "registered_name": None, "build_config": {"input_shape": [None, None, 3]}})
    else:
        entry["name"] = name
        entry["inbound_nodes"] = [[["input_1", 0, 0, {}]]]
    return entry


def bidirectional_config(inner: dict, name: str, keras3: bool, merge_mode: str = "concat") -> dict:
    """A Bidirectional wrapper entry around ``inner`` (a layer entry)."""
    entry: dict[str, object] = {"class_name": "Bidirectional",
                                "config": {"name": name, "trainable": True, "layer": inner, "merge_mode": merge_mode}}
    if keras3:
        entry.update({"module": "keras.layers", "registered_name": None})
    else:
        entry["name"] = name
    return entry


def weight_names(layer_name: str, class_name: str, keras3: bool, scope: str = "") -> list[str]:
    """The weight_names a layer group lists: ``lstm/lstm_cell/kernel:0`` (Keras 2) or
    ``lstm/lstm_cell/kernel`` (Keras 3); CuDNN layers have no cell scope."""
    suffix = "" if keras3 else ":0"
    cell = {"LSTM": "lstm_cell", "GRU": "gru_cell"}.get(class_name)
    base = f"{layer_name}/{scope}" if scope else f"{layer_name}/"
    parts = f"{cell}/" if cell else ""
    return [f"{base}{parts}{role}{suffix}" for role in ("kernel", "recurrent_kernel", "bias")]


def write_keras_h5(path: Path, layers: list[tuple[dict, list[tuple[str, np.ndarray]]]], *, keras3: bool = False,
                   extra_layers: bool = True) -> Path:
    """Write a whole-model Keras HDF5 file: ``layers`` are (config entry, [(weight name, array)]);
    an InputLayer and a Dense layer (with weights) surround them when ``extra_layers``."""
    entries = [entry for entry, _ in layers]
    groups = [(entry["config"]["name"], weights) for entry, weights in layers]
    if extra_layers:
        entries = [{"class_name": "InputLayer", "config": {"name": "input_1", "batch_input_shape": [None, None, 3]}}] + entries
        entries.append({"class_name": "Dense", "config": {"name": "dense", "units": 2}})
        groups = [("input_1", [])] + groups + [("dense", [("dense/kernel" + ("" if keras3 else ":0"), np.ones((4, 2), np.float32))])]
    config = {"class_name": "Functional" if not keras3 else "Sequential", "config": {"name": "model", "layers": entries}}
    version = b"3.6.0" if keras3 else b"2.15.0"
    with h5py.File(path, "w") as handle:
        handle.attrs["keras_version"] = version
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["model_config"] = json.dumps(config).encode()
        _write_layer_groups(handle.create_group("model_weights"), groups, version)
    return path


def write_keras2_weights_file(path: Path, groups: list[tuple[str, list[tuple[str, np.ndarray]]]],
                              version: bytes | None = b"2.15.0") -> Path:
    """Write a weights-only file as Keras 2's ``model.save_weights("w.h5")`` does: ``groups`` are
    (layer name, [(weight name, array)]) at the root, with ``layer_names`` and ``keras_version``
    (left out when ``version`` is None) as root attributes; no model_config."""
    with h5py.File(path, "w") as handle:
        handle.attrs["backend"] = b"tensorflow"
        _write_layer_groups(handle, groups, version)
    return path


def _write_layer_groups(root, groups: list[tuple[str, list[tuple[str, np.ndarray]]]], version: bytes | None) -> None:  # type: ignore[no-untyped-def]
    root.attrs["layer_names"] = [name.encode() for name, _ in groups]
    if version is not None:
        root.attrs["keras_version"] = version
    for name, weights in groups:
        group = root.create_group(name)
        group.attrs["weight_names"] = [n.encode() for n, _ in weights]
        for weight_name, array in weights:
            group.create_dataset(weight_name, data=array)


def write_keras3_weights_file(path: Path, layers: list[tuple[str, str, list[list[np.ndarray]]]]) -> Path:
    """Write a weights-only file in Keras 3's ``.weights.h5`` layout (as ``model.save_weights``
    writes it): ``layers`` are (group key, layer name, one [kernel, recurrent_kernel, bias?] list per
    direction; two directions are written as a Bidirectional's forward_layer / backward_layer)."""
    with h5py.File(path, "w") as handle:
        handle.create_group("vars").attrs["name"] = "sequential"
        for key, name, directions in layers:
            group = handle.create_group(f"layers/{key}")
            group.create_group("vars").attrs["name"] = name
            scopes = ["cell"] if len(directions) == 1 else ["forward_layer/cell", "backward_layer/cell"]
            for scope, arrays in zip(scopes, directions):
                variables = group.create_group(f"{scope}/vars")
                for index, array in enumerate(arrays):
                    variables.create_dataset(str(index), data=array)
    return path
