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

from tsilstm.errors import ModelFileError
from tsilstm.importers.hdf5_access import GroupWalk, open_hdf5, resolve_in_file
from tsilstm.importers.keras_architecture import KerasArchitectureSource
from tsilstm.importers.keras_layers import (
    CELL_CLASSES,
    check_cell_config,
    keras_layer_model,
    listed_weights,
    split_directions,
    text_value,
    weights_by_role,
)
from tsilstm.importers.keras_weights_file import models_from_weights_file
from tsilstm.model import RecurrentModel

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
            check_cell_config(backward.get("class_name", ""), backward.get("config", {}),
                               path, f"{where} (backward layer)", wrapped=True)
    else:
        inner_class, inner_cfg = class_name, cfg
    check_cell_config(inner_class, inner_cfg, path, where, wrapped=bidirectional)
    parts = [weights_by_role(part, path, where) for part in split_directions(arrays, bidirectional)]
    metadata = {"class_name": class_name, "merge_mode": cfg.get("merge_mode", "concat") if bidirectional else None}
    return keras_layer_model(parts, inner_class, inner_cfg, name=name, path=path, keras_version=keras_version,
                             bidirectional=bidirectional, metadata=metadata)


