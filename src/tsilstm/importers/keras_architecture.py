"""The architecture of a Keras weights-only file (``model.save_weights``: weights, no model config),
given by the caller: one ``KerasLayerSpec`` per recurrent layer to load, in the order the models are
returned, in a ``KerasArchitecture``. Written in Python or as a small TOML or JSON file with the same
fields (JSON: ``{"keras_version": ..., "layers": [{...}, ...]}``)::

    keras_version = "2.15.0"          # only needed when the file does not say (Keras 2 layout files do)
    [[layers]]
    name = "lstm"                     # the layer's name in the file
    cell = "LSTM"                     # LSTM, GRU, CuDNNLSTM or CuDNNGRU
    units = 64
    activation = "tanh"               # optional, default tanh
    recurrent_activation = "sigmoid"  # optional, default: the Keras version's default
    reset_after = true                # GRU only, and required for it
    bidirectional = false             # optional: the layer is wrapped in Bidirectional
    go_backwards = false              # optional (True is refused: Keras reverses the output order)
    use_bias = true                   # optional

Checked here: the description alone (unknown keys, wrong types, impossible values), raised as
``InvalidParameterError`` naming the key (``layers[1].units``). The importer checks it against the
file's weight shapes (``keras_weights_file``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Union

from tsilstm.errors import InvalidParameterError
from tsilstm.importers.keras_layers import CELL_CLASSES, KERAS_ACTIVATIONS, keras_version_number, takes_reset_after
from tsilstm.toml_reader import TOMLDecodeError, loads_toml
from tsilstm.validation import require_choice, require_int

ARCHITECTURE_SUFFIXES = (".toml", ".json")
"""File types an architecture is read from."""
MAX_ARCHITECTURE_BYTES = 2**20
"""Largest architecture file read (a description of a few layers takes a few hundred bytes)."""


@dataclass(frozen=True)
class KerasLayerSpec:
    """One recurrent layer of a weights-only Keras file: its ``name`` in the file, ``cell`` class
    (LSTM, GRU, CuDNNLSTM, CuDNNGRU), ``units`` (hidden size), activations (Keras names),
    ``reset_after`` (GRU only, required for it), ``bidirectional`` (wrapped in Bidirectional),
    ``go_backwards`` and ``use_bias``. Invalid values raise ``InvalidParameterError`` naming the field."""

    name: str
    cell: str
    units: int
    activation: str = "tanh"
    recurrent_activation: str | None = None
    reset_after: bool | None = None
    bidirectional: bool = False
    go_backwards: bool = False
    use_bias: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidParameterError("name", self.name, "the layer's name in the file (a non-empty string)")
        require_choice("cell", self.cell, tuple(CELL_CLASSES))
        require_int("units", self.units)
        if isinstance(self.units, float):  # require_int accepts 64.0; a layer size is written as an integer
            raise InvalidParameterError("units", self.units, "must be an integer >= 1")
        require_choice("activation", self.activation, KERAS_ACTIVATIONS)
        if self.recurrent_activation is not None:
            require_choice("recurrent_activation", self.recurrent_activation, KERAS_ACTIVATIONS)
        for flag in ("bidirectional", "go_backwards", "use_bias"):
            _require_bool(flag, getattr(self, flag))
        if takes_reset_after(self.cell):
            if self.reset_after is None:
                raise InvalidParameterError("reset_after", None, "required for a GRU: true (the default since Keras "
                                            "2.3 / tf.keras 2) or false (Keras 2 before 2.3); the bias shape tells: "
                                            "(2, 3*units) is true, (3*units,) false")
            _require_bool("reset_after", self.reset_after)
        elif self.reset_after is not None:
            raise InvalidParameterError("reset_after", self.reset_after, f"only for cell GRU, not {self.cell}")
        if self.cell.startswith("CuDNN"):
            chosen = (self.activation, self.recurrent_activation or "sigmoid")
            if chosen != ("tanh", "sigmoid"):
                raise InvalidParameterError("activation", chosen, f"{self.cell} layers have fixed activations tanh, sigmoid")
        if self.go_backwards:
            where = "inside Bidirectional (it swaps the directions)" if self.bidirectional else (
                "outside Bidirectional (Keras returns the outputs in reversed time order)")
            raise InvalidParameterError("go_backwards", True, f"not supported {where}; false")

    def layer_config(self) -> dict[str, Any]:
        """The layer's config as a Keras model config would hold it (the keys the importer reads)."""
        config: dict[str, Any] = {"name": self.name, "units": self.units, "activation": self.activation,
                                  "use_bias": self.use_bias, "go_backwards": self.go_backwards}
        if self.recurrent_activation is not None:
            config["recurrent_activation"] = self.recurrent_activation
        if self.reset_after is not None:
            config["reset_after"] = self.reset_after
        return config


@dataclass(frozen=True)
class KerasArchitecture:
    """The recurrent ``layers`` of a weights-only Keras file (one ``KerasLayerSpec`` each, distinct
    names, models returned in this order) and the ``keras_version`` that wrote it (e.g. "2.15.0";
    needed when the file does not say and a layer uses hard_sigmoid or omits recurrent_activation)."""

    layers: tuple[KerasLayerSpec, ...]
    keras_version: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.layers, list):
            object.__setattr__(self, "layers", tuple(self.layers))
        if not isinstance(self.layers, tuple) or not self.layers:
            raise InvalidParameterError("layers", self.layers, "a non-empty list of layer descriptions")
        for index, spec in enumerate(self.layers):
            if not isinstance(spec, KerasLayerSpec):
                raise InvalidParameterError(f"layers[{index}]", spec, "a KerasLayerSpec")
        names = [spec.name for spec in self.layers]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise InvalidParameterError("layers", repeated, "each layer named once")
        if self.keras_version is not None and (
                not isinstance(self.keras_version, str) or keras_version_number(self.keras_version) is None):
            raise InvalidParameterError("keras_version", self.keras_version, 'a Keras version such as "2.15.0" or "3.6.0"')


KerasArchitectureSource = Union[KerasArchitecture, Mapping[str, Any], str, Path]
"""What ``architecture=`` accepts: a ``KerasArchitecture``, the mapping a TOML/JSON file holds, or
the path of such a file."""

_LAYER_KEYS = tuple(field.name for field in fields(KerasLayerSpec))
_TOP_KEYS = ("keras_version", "layers")
_OPTIONAL_TYPES = {"activation": str, "recurrent_activation": str, "reset_after": bool, "bidirectional": bool,
                   "go_backwards": bool, "use_bias": bool}


def as_architecture(source: KerasArchitectureSource) -> KerasArchitecture:
    """``source`` as a validated ``KerasArchitecture`` (see ``KerasArchitectureSource``)."""
    if isinstance(source, KerasArchitecture):
        return source
    if isinstance(source, (str, Path)):
        return load_architecture(source)
    if isinstance(source, Mapping):
        return architecture_from_mapping(source)
    raise InvalidParameterError("architecture", type(source).__name__,
                                "a KerasArchitecture, a mapping or the path of a .toml / .json file")


def load_architecture(path: str | Path) -> KerasArchitecture:
    """The architecture in the TOML or JSON file at ``path``, validated; errors name the key."""
    path = Path(path)
    if path.suffix.lower() not in ARCHITECTURE_SUFFIXES:
        raise InvalidParameterError("architecture", str(path), "a .toml or .json file")
    if not path.is_file():
        raise InvalidParameterError("architecture", str(path), "no such file")
    if path.stat().st_size > MAX_ARCHITECTURE_BYTES:
        raise InvalidParameterError("architecture", str(path), f"a file of at most {MAX_ARCHITECTURE_BYTES} bytes "
                                    f"(this one has {path.stat().st_size})")
    kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
    try:
        text = path.read_text(encoding="utf-8")
        data = loads_toml(text) if kind == "TOML" else json.loads(text)
    except (TOMLDecodeError, ValueError) as error:  # UnicodeDecodeError is a ValueError
        raise InvalidParameterError("architecture", str(path), f"not valid {kind}: {str(error)[:200]}") from None
    except RecursionError:
        raise InvalidParameterError("architecture", str(path), f"{kind} nested too deeply to parse; "
                                    "an architecture is a table with a list of flat layer tables") from None
    return architecture_from_mapping(data)


def architecture_from_mapping(data: object) -> KerasArchitecture:
    """The architecture a parsed TOML/JSON document describes (see module doc), validated: unknown
    keys, wrong types and impossible values raise ``InvalidParameterError`` naming the key."""
    if not isinstance(data, Mapping):
        raise InvalidParameterError("architecture", type(data).__name__, "a table with keras_version and [[layers]]")
    for key in data:
        if key not in _TOP_KEYS:
            raise InvalidParameterError(str(key), data[key], "unknown key; allowed: " + ", ".join(_TOP_KEYS))
    entries = data.get("layers")
    if not isinstance(entries, list) or not entries:
        raise InvalidParameterError("layers", entries, "a non-empty list of layer tables ([[layers]] in TOML)")
    specs = tuple(_layer_spec(entry, f"layers[{index}]") for index, entry in enumerate(entries))
    version = data.get("keras_version")
    if version is not None and not isinstance(version, str):
        raise InvalidParameterError("keras_version", version, 'a string such as "2.15.0"')
    return KerasArchitecture(specs, version)


def _layer_spec(entry: object, key: str) -> KerasLayerSpec:
    if not isinstance(entry, Mapping):
        raise InvalidParameterError(key, entry, "a table of name, cell, units, ...")
    for name, value in entry.items():
        if name not in _LAYER_KEYS:
            raise InvalidParameterError(f"{key}.{name}", value, "unknown key; allowed: " + ", ".join(_LAYER_KEYS))
    for required in ("name", "cell", "units"):
        if required not in entry:
            raise InvalidParameterError(f"{key}.{required}", None, "missing (required)")
    for name, kind in _OPTIONAL_TYPES.items():
        if name in entry and not isinstance(entry[name], kind):
            raise InvalidParameterError(f"{key}.{name}", entry[name], f"must be a {'boolean' if kind is bool else 'string'}")
    try:
        return KerasLayerSpec(**entry)
    except InvalidParameterError as error:
        raise InvalidParameterError(f"{key}.{error.name}", error.value, error.allowed) from None


def _require_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidParameterError(name, value, "must be true or false")
