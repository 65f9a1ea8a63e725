"""PyTorch ``state_dict`` (or a checkpoint holding one) -> ``RecurrentModel``: one model per nn.LSTM /
nn.GRU found, recognised by its ``[prefix]weight_ih_l0`` key. Pure numpy: the caller converts tensors."""

from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np

from tsilstm.cell_spec import CELLS_BY_GATES
from tsilstm.errors import InvalidParameterError, ModelFileError
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel, gate_count

RECURRENT_KEY = re.compile(r"^(?P<prefix>.*?)(?P<kind>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l(?P<layer>\d{1,9})(?P<rev>_reverse)?$")
STATE_DICT_HINT = "keys like '<prefix>weight_ih_l0', '<prefix>weight_hh_l0', '<prefix>bias_ih_l0', '<prefix>bias_hh_l0'"


def recurrent_prefixes(state: Mapping[str, Any]) -> list[str]:
    """The key prefixes (e.g. ``""``, ``"lstm."``, ``"encoder.rnn."``) of every recurrent module in ``state``."""
    prefixes = []
    for key in state:
        match = RECURRENT_KEY.match(str(key))
        if match and match["kind"] == "weight_ih" and match["layer"] == "0" and not match["rev"]:
            prefixes.append(match["prefix"])
    return prefixes


def find_state_dict(checkpoint: object, source: object, key: str | None = None) -> tuple[Mapping[str, Any], str]:
    """Return (the mapping that holds recurrent weights, its key path) inside ``checkpoint``.

    With ``key`` (dotted for nesting, e.g. ``"model_state"`` or ``"ema.state_dict"``) that sub-mapping
    is used; otherwise ``checkpoint`` itself if it holds recurrent keys, else the unique sub-mapping
    (searched breadth-first, three levels deep) that does. Raises ``ModelFileError`` naming the keys found.
    """
    if key:
        node: object = checkpoint
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                available = list(node)[:20] if isinstance(node, Mapping) else type(node).__name__
                raise ModelFileError(source, f"key {key!r}", f"not found (at {part!r}; available: {available})")
            node = node[part]
        if not isinstance(node, Mapping):
            raise ModelFileError(source, f"key {key!r}", f"holds a {type(node).__name__}", "a state_dict mapping")
        return node, key
    if not isinstance(checkpoint, Mapping):
        raise ModelFileError(source, "", f"holds a {type(checkpoint).__name__}", "a state_dict or a dict containing one")
    found: list[tuple[Mapping[str, Any], str]] = []
    level: list[tuple[Mapping[str, Any], str]] = [(checkpoint, "")]
    for _depth in range(4):
        found = [(m, path) for m, path in level if recurrent_prefixes(m)]
        if found:
            break
        level = [
            (value, f"{path}.{name}" if path else str(name))
            for m, path in level for name, value in m.items() if isinstance(value, Mapping)
        ]
    if not found:
        raise ModelFileError(
            source, "", f"no recurrent weights found (top-level keys: {list(checkpoint)[:20]})", STATE_DICT_HINT,
        )
    if len(found) > 1:
        raise ModelFileError(
            source, "", f"recurrent weights under several keys: {[p for _, p in found]}",
            "one of them chosen with key=...",
        )
    return found[0]


def models_from_state_dict(
    state: Mapping[str, np.ndarray], source: object, *, prefix: str | None = None, where: str = ""
) -> list[RecurrentModel]:
    """One ``RecurrentModel`` per recurrent module in ``state`` (numpy arrays by key), or only the
    one under ``prefix``. Cell, sizes, layers, directions and projection are read from the shapes;
    missing biases (``bias=False``) become zeros. Raises ``ModelFileError`` naming the key."""
    prefixes = recurrent_prefixes(state)
    if prefix is not None:
        if prefix not in prefixes:
            raise ModelFileError(source, f"prefix {prefix!r}", "has no recurrent weights", f"one of {prefixes}")
        prefixes = [prefix]
    if not prefixes:
        raise ModelFileError(source, where, f"no recurrent weights among keys {list(state)[:20]}", STATE_DICT_HINT)
    return [_model(state, p, source, where) for p in prefixes]


def _model(state: Mapping[str, np.ndarray], prefix: str, source: object, where: str) -> RecurrentModel:
    params: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    for key, value in state.items():
        match = RECURRENT_KEY.match(str(key))
        if not match or match["prefix"] != prefix:
            continue
        params.setdefault((int(match["layer"]), 1 if match["rev"] else 0), {})[match["kind"]] = _array(value, source, key)
    num_layers = len({layer for layer, _ in params})  # bounded by the keys present: indices are never ranged over
    dirs = 2 if (0, 1) in params else 1
    missing = [(layer, d) for layer in range(num_layers) for d in range(dirs) if (layer, d) not in params]
    extra = sorted(key for key in params if key[0] >= num_layers or key[1] >= dirs)
    if missing or extra:
        raise ModelFileError(
            source, f"{where}{prefix}*", f"layers/directions missing {missing[:5]} or unexpected {extra[:5]}",
            f"layers 0..{num_layers - 1} each with {'forward and _reverse' if dirs == 2 else 'forward'} weights",
        )
    first = params[(0, 0)]
    hr = first.get("weight_hr")
    for required in ("weight_ih", "weight_hh"):
        if required not in first:
            raise ModelFileError(source, f"{prefix}{required}_l0", "missing", STATE_DICT_HINT)
    hidden = hr.shape[1] if hr is not None and hr.ndim == 2 else first["weight_hh"].shape[-1]
    proj = hr.shape[0] if hr is not None and hr.ndim == 2 else 0
    rows = first["weight_ih"].shape[0] if first["weight_ih"].ndim == 2 else -1
    spec = CELLS_BY_GATES.get(rows // hidden) if hidden > 0 and not rows % hidden else None
    if spec is None or (proj and not spec.supports_projection):
        raise ModelFileError(
            source, f"{prefix}weight_ih_l0", f"shape {first['weight_ih'].shape} with hidden size {hidden}",
            "(4*hidden, input) for an LSTM or (3*hidden, input) for a GRU",
        )
    cell = spec.name
    layers = []
    input_size = first["weight_ih"].shape[1]
    for layer in range(num_layers):
        directions = []
        for d in range(dirs):
            directions.append(_direction(params[(layer, d)], prefix, layer, d, cell, input_size, hidden, proj, source))
        name = f"{prefix}l{layer}" if prefix else f"l{layer}"
        try:
            layers.append(RecurrentLayer(cell, input_size, hidden, tuple(directions), proj, "standard", name))
        except InvalidParameterError as error:  # e.g. NaN weights: name the file, not only the layer
            raise ModelFileError(source, f"{where}{prefix}*_l{layer}", str(error)) from None
        input_size = (proj or hidden) * dirs
    module_name = prefix.rstrip(".") or cell
    return RecurrentModel(
        tuple(layers), name=module_name, source="torch",
        metadata={"format": "torch", "prefix": prefix, "path": str(source), "state_key": where.rstrip(": ")},
    )


def _direction(
    p: dict[str, np.ndarray], prefix: str, layer: int, d: int, cell: str, input_size: int, hidden: int,
    proj: int, source: object,
) -> DirectionWeights:
    suffix = f"_l{layer}" + ("_reverse" if d else "")
    rows = gate_count(cell) * hidden
    shapes = {"weight_ih": (rows, input_size), "weight_hh": (rows, proj or hidden), "bias_ih": (rows,), "bias_hh": (rows,)}
    if proj:
        shapes["weight_hr"] = (proj, hidden)
    elif "weight_hr" in p:
        raise ModelFileError(source, f"{prefix}weight_hr{suffix}", "present in a layer without projection")
    has_bias = "bias_ih" in p or "bias_hh" in p
    for kind, shape in shapes.items():
        key = f"{prefix}{kind}{suffix}"
        if kind.startswith("bias") and not has_bias:
            continue
        if kind not in p:
            raise ModelFileError(source, key, "missing", f"an array of shape {shape}")
        if p[kind].shape != shape:
            raise ModelFileError(source, key, f"has shape {tuple(p[kind].shape)}", f"shape {shape}")
    dtype = p["weight_hh"].dtype
    zeros = np.zeros(rows, dtype=dtype)
    return DirectionWeights(
        p["weight_ih"], p["weight_hh"], p.get("bias_ih", zeros), p.get("bias_hh", zeros), p.get("weight_hr"),
    )


def _array(value: object, source: object, key: object) -> np.ndarray:
    """A floating-point numpy copy of ``value`` (a numpy array or anything with ``__array__``)."""
    try:
        array = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - any conversion failure is a bad entry
        raise ModelFileError(source, str(key), f"cannot be read as an array ({error})") from error
    if array.dtype.kind != "f":
        raise ModelFileError(source, str(key), f"has dtype {array.dtype}", "floating-point weights")
    if array.dtype.itemsize < 4:
        array = array.astype(np.float32)
    return np.array(array, copy=True)
