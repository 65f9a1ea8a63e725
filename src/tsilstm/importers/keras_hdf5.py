"""Keras HDF5 model files (``model.save("model.h5")``) -> ``RecurrentModel``, read with h5py (no
TensorFlow needed). One one-layer model per recurrent layer.

Supported layouts: the whole-model HDF5 file of Keras 2 (standalone Keras 2.x and ``tf.keras`` in
TensorFlow 1.x/2.x) and of Keras 3's legacy HDF5 saving (``model.save("x.h5")``): a root attribute
``model_config`` (JSON) and a group ``model_weights`` with one group per layer whose attribute
``weight_names`` lists its datasets (``.../kernel:0`` in Keras 2, ``.../kernel`` in Keras 3).
Attributes split into ``name0``, ``name1`` ... (large models) are joined. Weights-only files
(``save_weights``, no config) load with an architecture from the caller: ``keras_weights_file``.
Not supported: the Keras 3 ``.keras`` zip format, layers inside nested models.

Layers: ``LSTM``, ``GRU`` (``reset_after`` True -> variant ``reset_after``, False ->
``reset_before``), ``CuDNNLSTM`` / ``CuDNNGRU`` (bias = input biases then recurrent biases), and
``Bidirectional`` around any of them (forward weights first). Gate orders: LSTM ``i, f, c, o``
(canonical already), GRU ``z, r, h`` -> ``r, z, n``. Kernels are (input, gates*units) and are
transposed. Activations (``activation`` for the candidate and output, ``recurrent_activation`` for
the gates): tanh, sigmoid, hard_sigmoid (Keras 2: clip(0.2 x + 0.5, 0, 1); Keras 3: clip(x / 6 + 0.5,
0, 1): the version is read from the file), relu, linear, elu, softsign, softplus; a config without
``recurrent_activation`` takes the default of the file's Keras version (hard_sigmoid before 2.3 and
in TensorFlow 1's tf.keras, sigmoid since) and is refused when the file does not say its version.
``go_backwards`` outside a ``Bidirectional`` wrapper, or on the layer a ``Bidirectional`` wraps, is
rejected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tsilstm.activations import DEFAULT_ACTIVATIONS, Activation
from tsilstm.errors import InvalidParameterError, ModelFileError
from tsilstm.importers.hdf5_access import GroupWalk, open_hdf5, read_weight_dataset, resolve_in_file
from tsilstm.importers.gate_order import KERAS_GRU_TO_CANONICAL, KERAS_LSTM_TO_CANONICAL, reorder_gates
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel, gate_count

if TYPE_CHECKING:
    from tsilstm.importers.keras_architecture import KerasArchitectureSource

CELL_CLASSES = {"LSTM": "lstm", "CuDNNLSTM": "lstm", "GRU": "gru", "CuDNNGRU": "gru"}
_NESTED_MODELS = ("Sequential", "Functional", "Model")


def models_from_keras_h5(path: str | Path, *, layer: str | None = None,
                         architecture: KerasArchitectureSource | None = None) -> list[RecurrentModel]:
    """One ``RecurrentModel`` per recurrent layer of the Keras HDF5 file at ``path`` (or only the
    layer named ``layer``). A weights-only file (``save_weights``) needs ``architecture`` (see
    ``tsilstm.importers.keras_weights_file``); a whole-model file refuses one. Raises
    ``ModelFileError`` naming the file and layer."""
    path = Path(path)
    with open_hdf5(path, "a Keras .h5 model file") as handle:
        if "model_config" not in handle.attrs:
            from tsilstm.importers.keras_weights_file import models_from_weights_file

            return models_from_weights_file(handle, path, architecture, layer)
        if architecture is not None:
            raise ModelFileError(path, "architecture", "was given but the file holds its own model_config",
                                 "architecture= only for weights-only files (save_weights output)")
        config = _model_config(handle, path)
        weights_root = resolve_in_file(handle, "model_weights", path, "model_weights") if "model_weights" in handle else None
        if weights_root is None:
            raise ModelFileError(path, "", "has a model_config but no 'model_weights' group", "a file written by model.save()")
        keras_version = text_value(handle.attrs.get("keras_version", b"")) or text_value(weights_root.attrs.get("keras_version", b""))
        layer_configs = _layer_configs(config, path)
        walk = GroupWalk(path)
        models = [_layer_model(weights_root, name, class_name, cfg, path, keras_version, walk)
                  for name, class_name, cfg in layer_configs if layer is None or name == layer]
    if not models:
        if layer is not None:
            raise ModelFileError(path, f"layer {layer!r}", "not found among the recurrent layers",
                                 f"one of {[n for n, c, _ in layer_configs]}")
        classes = sorted({str(c) for _, c, _ in _all_layers(config)})
        raise ModelFileError(path, "", f"has no LSTM or GRU layer (its layers: {', '.join(classes[:30])})",
                             "a model with LSTM, GRU, CuDNNLSTM, CuDNNGRU or Bidirectional layers")
    return models


def _model_config(handle, path: Path) -> dict:  # type: ignore[no-untyped-def]
    try:
        config = json.loads(text_value(handle.attrs["model_config"]))
    except ValueError as error:
        raise ModelFileError(path, "model_config", f"is not valid JSON ({error})") from error
    if not isinstance(config, dict) or "config" not in config:
        raise ModelFileError(path, "model_config", "has no 'config' entry", '{"class_name": ..., "config": {...}}')
    _check_layer_entries(config, path)
    return config


def _check_layer_entries(config: dict, path: Path) -> None:
    """Every layer entry (and a Bidirectional's wrapped layer) is an object whose 'config' is an object."""
    inner = config.get("config", {})
    layers = inner.get("layers", []) if isinstance(inner, dict) else inner
    for index, entry in enumerate(layers if isinstance(layers, list) else []):
        wrapped = entry.get("config", {}).get("layer") if isinstance(entry, dict) and isinstance(entry.get("config", {}), dict) else None
        for label, item in ((f"layer entry {index}", entry), (f"layer entry {index}.config.layer", wrapped)):
            if item is None and label.endswith(".layer"):
                continue
            if not isinstance(item, dict) or not isinstance(item.get("config", {}), dict):
                raise ModelFileError(path, f"model_config {label}", "is not an object with a 'config' object",
                                     '{"class_name": ..., "config": {...}}')


def _all_layers(config: dict) -> list[tuple[str, str, dict]]:
    inner = config.get("config", {})
    layers = inner.get("layers", []) if isinstance(inner, dict) else inner
    out = []
    for entry in layers if isinstance(layers, list) else []:
        cfg = entry.get("config", {})
        out.append((entry.get("name") or cfg.get("name", ""), entry.get("class_name", ""), cfg))
    return out


def _layer_configs(config: dict, path: Path) -> list[tuple[str, str, dict]]:
    """(name, class name, config) of every recurrent top-level layer; nested models are refused."""
    found = []
    for name, class_name, cfg in _all_layers(config):
        if class_name in _NESTED_MODELS and _contains_recurrent(cfg):
            raise ModelFileError(path, f"layer {name!r}", f"is a nested {class_name} with recurrent layers, which is not supported",
                                 "recurrent layers at the top level of the saved model")
        inner_class = cfg.get("layer", {}).get("class_name") if class_name == "Bidirectional" else class_name
        if isinstance(inner_class, str) and inner_class in CELL_CLASSES:
            if not isinstance(name, str) or not name:
                raise ModelFileError(path, f"model_config {class_name} layer", f"has the name {name!r}", "a non-empty string")
            found.append((name, class_name, cfg))
        elif class_name == "Bidirectional" or class_name in ("RNN", "SimpleRNN", "ConvLSTM2D", "ConvLSTM1D"):
            raise ModelFileError(path, f"layer {name!r}", f"is a {class_name}({inner_class or ''}) layer, which is not supported",
                                 "LSTM, GRU, CuDNNLSTM, CuDNNGRU, optionally inside Bidirectional")
    return found


def _contains_recurrent(cfg: dict) -> bool:
    return any(c in CELL_CLASSES or c == "Bidirectional" for _, c, _ in _all_layers({"config": cfg}))


def _layer_model(weights_root, name: str, class_name: str, cfg: dict, path: Path, keras_version: str,  # type: ignore[no-untyped-def]
                 walk: GroupWalk) -> RecurrentModel:
    where = f"layer {name!r}"
    group = resolve_in_file(weights_root, name, path, where, "has no weights group under model_weights")
    walk.visit(group, where)
    arrays = listed_weights(group, path, where)
    bidirectional = class_name == "Bidirectional"
    if bidirectional:
        inner = cfg["layer"]
        inner_class, inner_cfg = inner["class_name"], inner.get("config", {})
        backward = cfg.get("backward_layer")
        if backward:
            if not isinstance(backward, dict) or not isinstance(backward.get("config", {}), dict):
                raise ModelFileError(path, f"{where} (backward layer)", f"is a {type(backward).__name__} in the model_config",
                                     '{"class_name": ..., "config": {...}}')
            _check_cell_config(backward.get("class_name", ""), backward.get("config", {}),
                               path, f"{where} (backward layer)", wrapped=True)
    else:
        inner_class, inner_cfg = class_name, cfg
    _check_cell_config(inner_class, inner_cfg, path, where, wrapped=bidirectional)
    parts = [weights_by_role(part, path, where) for part in split_directions(arrays, bidirectional)]
    metadata = {"class_name": class_name, "merge_mode": cfg.get("merge_mode", "concat") if bidirectional else None}
    return keras_layer_model(parts, inner_class, inner_cfg, name=name, path=path, keras_version=keras_version,
                             bidirectional=bidirectional, metadata=metadata)


def listed_weights(group, path: Path, where: str) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    """(name, h5py dataset) of every weight the layer group's ``weight_names`` attribute lists, in
    order (the Keras 2 layout of whole-model and ``save_weights`` files); nothing is read yet."""
    arrays = []
    for weight_name in attribute_list(group, "weight_names"):
        arrays.append((weight_name, resolve_in_file(group, weight_name, path, f"{where} weight {weight_name!r}",
                                                    "listed in weight_names but missing")))
    return arrays


def split_directions(arrays: list[tuple[str, object]], bidirectional: bool) -> list[list[tuple[str, object]]]:
    """The weights of each direction: all of them for a plain layer; for a Bidirectional wrapper the
    forward layer's then the backward layer's (by ``backward`` in their names, else by halves)."""
    if not bidirectional:
        return [arrays]
    if any("backward" in name for name, _ in arrays):
        return [[a for a in arrays if "backward" not in a[0]], [a for a in arrays if "backward" in a[0]]]
    half = len(arrays) // 2
    return [arrays[:half], arrays[half:]]


WEIGHT_ROLES = ("kernel", "recurrent_kernel", "bias")
"""The weights of a Keras LSTM/GRU cell, in the order Keras creates (and Keras 3 numbers) them."""


def weights_by_role(part: list[tuple[str, object]], path: Path, where: str) -> dict[str, tuple[str, object]]:
    """kernel / recurrent_kernel / bias -> (name, dataset) from Keras weight names such as
    ``lstm/lstm_cell/kernel:0``; an unknown or repeated role is refused naming the weight."""
    by_role: dict[str, tuple[str, object]] = {}
    for name, array in part:
        role = name.rsplit("/", 1)[-1].split(":", 1)[0]
        if role in by_role or role not in WEIGHT_ROLES:
            raise ModelFileError(path, f"{where} weight {name!r}", "is unexpected", "kernel, recurrent_kernel and bias once each")
        by_role[role] = (name, array)
    return by_role


def keras_layer_model(
    parts: list[dict[str, tuple[str, object]]], inner_class: str, inner_cfg: dict, *, name: str, path: Path,
    keras_version: str, bidirectional: bool, metadata: dict[str, object],
) -> RecurrentModel:
    """The one-layer ``RecurrentModel`` of a Keras layer of class ``inner_class`` (LSTM, GRU, CuDNN*;
    wrapped in Bidirectional when ``bidirectional``) with config ``inner_cfg`` (units, activations,
    reset_after, use_bias, go_backwards) and one role -> (name, dataset) map per direction. Every
    declared shape is checked against the config before a dataset is read; errors name the layer."""
    where = f"layer {name!r}"
    if bidirectional and inner_cfg.get("go_backwards"):
        raise ModelFileError(path, where, "is a Bidirectional wrapper around a go_backwards=True layer (its directions "
                             "swapped), which is not supported", "go_backwards=False inside Bidirectional")
    cell = CELL_CLASSES[inner_class]
    activations = keras_activations(cell, inner_class, inner_cfg, keras_version, path, where)
    units = inner_cfg.get("units")
    if units is not None and (isinstance(units, bool) or not isinstance(units, int) or units <= 0):
        raise ModelFileError(path, where, f"config units={units!r}", "a positive integer")
    directions = []
    input_size = None
    for index, part in enumerate(parts):
        label = f"{where}" + ("" if len(parts) == 1 else f" ({'forward' if index == 0 else 'backward'})")
        weights, in_size, hidden = _direction(part, inner_class, inner_cfg, cell, path, label, units)
        if input_size is not None and in_size != input_size:
            raise ModelFileError(path, label, f"input size {in_size} differs from the forward layer's {input_size}")
        input_size = in_size
        directions.append(weights)
    variant = "standard"
    if cell == "gru":
        variant = "reset_after" if inner_class == "CuDNNGRU" or inner_cfg.get("reset_after", False) else "reset_before"
    try:
        layer = RecurrentLayer(cell, input_size, hidden, tuple(directions), 0, variant, name,  # type: ignore[arg-type]
                               activations=activations)
    except InvalidParameterError as error:  # e.g. NaN weights: name the file, not only the layer
        raise ModelFileError(path, where, str(error)) from None
    full_metadata = {"format": "keras", "path": str(path), "layer": name, "class_name": inner_class,
                     "cell_class": inner_class, "keras_version": keras_version, "merge_mode": None, **metadata}
    return RecurrentModel((layer,), name=name, source="keras", metadata=full_metadata)


def _check_cell_config(class_name: str, cfg: dict, path: Path, where: str, wrapped: bool) -> None:
    if not isinstance(class_name, str) or class_name not in CELL_CLASSES:
        raise ModelFileError(path, where, f"wraps a {class_name!r} layer", "LSTM, GRU, CuDNNLSTM or CuDNNGRU")
    if cfg.get("go_backwards") and not wrapped:
        raise ModelFileError(path, where, "uses go_backwards=True outside a Bidirectional wrapper, which is not supported",
                             "go_backwards=False")


KERAS_ACTIVATIONS = ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear", "elu", "softsign", "softplus")
"""Keras activation names tsilstm runs (each is one of ONNX's activations with fixed parameters)."""


def keras_activations(cell: str, class_name: str, cfg: dict, keras_version: str, path: Path, where: str) -> tuple[Activation, ...]:
    """The layer's activations in the model's order (LSTM: recurrent, activation, activation; GRU:
    recurrent, activation), hard_sigmoid as the file's Keras version defines it."""
    if class_name.startswith("CuDNN"):
        return DEFAULT_ACTIVATIONS[cell]  # cuDNN layers have fixed tanh / sigmoid activations
    major_minor = keras_version_number(keras_version)
    if "recurrent_activation" in cfg:
        recurrent_name = _activation_name(cfg["recurrent_activation"])
    elif major_minor is None:
        raise ModelFileError(path, where, "has no recurrent_activation in its config and the file does not say which Keras "
                             "version wrote it (the default changed from hard_sigmoid to sigmoid in Keras 2.3)",
                             "a config with recurrent_activation, or a file with its keras_version")
    else:
        recurrent_name = "hard_sigmoid" if major_minor < (2, 3) or keras_version.endswith("-tf") else "sigmoid"
    output_name = _activation_name(cfg.get("activation", "tanh"))
    keras3 = major_minor is not None and major_minor >= (3, 0)
    gate, output = (_keras_activation(name, keras3, path, where, key)
                    for name, key in ((recurrent_name, "recurrent_activation"), (output_name, "activation")))
    return (gate, output, output) if cell == "lstm" else (gate, output)


def _keras_activation(name: str, keras3: bool, path: Path, where: str, key: str) -> Activation:
    if name == "hard_sigmoid":  # Keras 2: clip(0.2 x + 0.5); Keras 3: relu6(x + 3) / 6
        return Activation.named("hard_sigmoid", 1.0 / 6.0 if keras3 else 0.2, 0.5)
    if name == "linear":
        return Activation.named("affine", 1.0, 0.0)
    if name == "elu":
        return Activation.named("elu", 1.0)
    if name in KERAS_ACTIVATIONS:
        return Activation.named(name)
    raise ModelFileError(path, where, f"uses {key}={name!r}", "one of " + ", ".join(KERAS_ACTIVATIONS))


def keras_version_number(text: str) -> tuple[int, int] | None:
    """(major, minor) of a Keras version string such as ``2.15.0`` or ``2.2.4-tf``; None if unreadable."""
    parts = text.split("-")[0].split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except (ValueError, IndexError):
        return None


def _activation_name(value: object) -> str:
    if isinstance(value, dict):  # Keras 3 may serialize {"class_name": "function", "config": "tanh", ...}
        value = value.get("config", value.get("class_name", ""))
        if isinstance(value, dict):
            value = value.get("name", "")
    return str(value)


def _direction(
    by_role: dict[str, tuple[str, object]], class_name: str, cfg: dict, cell: str, path: Path, where: str, units: int | None,
) -> tuple[DirectionWeights, int, int]:
    """One direction's weights from its role -> (name, h5py dataset) map: every declared shape is
    checked against the config before any dataset is read."""
    for role in ("kernel", "recurrent_kernel"):
        if role not in by_role:
            raise ModelFileError(path, where, f"has no {role} weight (found {[n for n, _ in by_role.values()]})")
    kernel_set, recurrent_set = by_role["kernel"][1], by_role["recurrent_kernel"][1]
    gates = gate_count(cell)
    recurrent_shape, kernel_shape = tuple(recurrent_set.shape), tuple(kernel_set.shape)  # type: ignore[attr-defined]
    if len(recurrent_shape) != 2 or recurrent_shape[1] != gates * recurrent_shape[0]:
        raise ModelFileError(path, f"{where} recurrent_kernel", f"has shape {recurrent_shape}", f"(units, {gates}*units)")
    hidden = recurrent_shape[0]
    if units is not None and hidden != units:
        raise ModelFileError(path, where, f"recurrent_kernel is for {hidden} units but the config says units={units}")
    rows = gates * hidden
    if len(kernel_shape) != 2 or kernel_shape[1] != rows:
        raise ModelFileError(path, f"{where} kernel", f"has shape {kernel_shape}", f"(input, {rows})")
    zeros = np.zeros(rows, dtype=np.float32)
    bias_set = by_role["bias"][1] if "bias" in by_role else None
    if bias_set is None:
        if cfg.get("use_bias", True) and not class_name.startswith("CuDNN"):
            raise ModelFileError(path, where, "has no bias weight but use_bias is not False")
        b_ih, b_hh = zeros, zeros
    else:
        if class_name.startswith("CuDNN"):
            expected = (2 * rows,)
        elif cell == "gru" and cfg.get("reset_after", False):
            expected = (2, rows)
        else:
            expected = (rows,)
        if tuple(bias_set.shape) != expected:  # type: ignore[attr-defined]
            raise ModelFileError(path, f"{where} bias", f"has shape {tuple(bias_set.shape)}", str(expected))  # type: ignore[attr-defined]
        flat = read_weight_dataset(bias_set, path, f"{where} bias").astype(np.float32).reshape(-1)
        b_ih, b_hh = (flat[:rows], flat[rows:]) if flat.size == 2 * rows else (flat, zeros)
    kernel = read_weight_dataset(kernel_set, path, f"{where} kernel").astype(np.float32)
    recurrent = read_weight_dataset(recurrent_set, path, f"{where} recurrent_kernel").astype(np.float32)
    order = KERAS_LSTM_TO_CANONICAL if cell == "lstm" else KERAS_GRU_TO_CANONICAL
    weights = DirectionWeights(
        reorder_gates(kernel.T, order), reorder_gates(recurrent.T, order),
        reorder_gates(b_ih, order), reorder_gates(b_hh, order),
    )
    return weights, kernel.shape[0], hidden


def attribute_list(group, name: str) -> list[str]:  # type: ignore[no-untyped-def]
    """A list attribute as Keras writes it: ``name``, or chunks ``name0``, ``name1`` ... when large."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values = []
        index = 0
        while f"{name}{index}" in group.attrs:
            values += list(group.attrs[f"{name}{index}"])
            index += 1
    return [text_value(v) for v in values]


def text_value(value: object) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)
