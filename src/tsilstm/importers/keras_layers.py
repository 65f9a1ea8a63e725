"""What the Keras HDF5 readers share (``keras_hdf5`` for whole-model files, ``keras_weights_file`` for
weights-only ones, ``keras_architecture`` for the architectures the latter take): the recurrent
layer classes, a layer's listed weights split by direction and role, its activations and the
``RecurrentModel`` built from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tsilstm.activations import Activation
from tsilstm.cell_spec import KERAS_LAYERS, cell_spec
from tsilstm.errors import InvalidParameterError, ModelFileError
from tsilstm.importers.hdf5_access import read_weight_dataset, resolve_in_file
from tsilstm.importers.gate_order import reorder_gates
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel, gate_count


CELL_CLASSES = {class_name: spec.name for class_name, spec in KERAS_LAYERS.items()}
"""Keras layer classes read as recurrent layers, and their cell."""


def takes_reset_after(class_name: str) -> bool:
    """True when the Keras layer class ``class_name`` has a ``reset_after`` option (a GRU that is not
    cuDNN's, which always resets after)."""
    return KERAS_LAYERS[class_name].supports_reset_before and not class_name.startswith("CuDNN")


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
    if cell_spec(cell).supports_reset_before:
        variant = "reset_before" if takes_reset_after(inner_class) and not inner_cfg.get("reset_after", False) else "reset_after"
    try:
        layer = RecurrentLayer(cell, input_size, hidden, tuple(directions), 0, variant, name,  # type: ignore[arg-type]
                               activations=activations)
    except InvalidParameterError as error:  # e.g. NaN weights: name the file, not only the layer
        raise ModelFileError(path, where, str(error)) from None
    full_metadata = {"format": "keras", "path": str(path), "layer": name, "class_name": inner_class,
                     "cell_class": inner_class, "keras_version": keras_version, "merge_mode": None, **metadata}
    return RecurrentModel((layer,), name=name, source="keras", metadata=full_metadata)


def check_cell_config(class_name: str, cfg: dict, path: Path, where: str, wrapped: bool) -> None:
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
        return cell_spec(cell).default_activations  # cuDNN layers have fixed tanh / sigmoid activations
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
    return (gate,) + (output,) * (len(cell_spec(cell).default_activations) - 1)  # the gates' activation, then the outputs


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
        elif takes_reset_after(class_name) and cfg.get("reset_after", False):
            expected = (2, rows)
        else:
            expected = (rows,)
        if tuple(bias_set.shape) != expected:  # type: ignore[attr-defined]
            raise ModelFileError(path, f"{where} bias", f"has shape {tuple(bias_set.shape)}", str(expected))  # type: ignore[attr-defined]
        flat = read_weight_dataset(bias_set, path, f"{where} bias").astype(np.float32).reshape(-1)
        b_ih, b_hh = (flat[:rows], flat[rows:]) if flat.size == 2 * rows else (flat, zeros)
    kernel = read_weight_dataset(kernel_set, path, f"{where} kernel").astype(np.float32)
    recurrent = read_weight_dataset(recurrent_set, path, f"{where} recurrent_kernel").astype(np.float32)
    order = cell_spec(cell).keras_to_canonical
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
