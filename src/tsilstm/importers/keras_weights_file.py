"""Keras weights-only HDF5 files (``model.save_weights``: weights, no model config) ->
``RecurrentModel``, with the architecture supplied by the caller (``keras_architecture``) and
checked against the weight shapes. Two layouts:

* Keras 2 (and Keras 3's legacy HDF5 writer): root attributes ``layer_names`` (and ``keras_version``),
  one group per layer whose ``weight_names`` lists its datasets: the layout of ``model_weights`` in a
  whole-model file.
* Keras 3 ``.weights.h5``: a group ``layers/<key>`` per layer (``key`` from the class: ``lstm``,
  ``gru_1``; the layer's own name is the attribute ``name`` of ``layers/<key>/vars``), its cell's
  weights in ``layers/<key>/cell/vars/0, 1, 2`` (kernel, recurrent_kernel, bias), a Bidirectional's in
  ``forward_layer/cell/vars`` and ``backward_layer/cell/vars``, a nested model's layers under
  ``layers/<key>/layers/``. No Keras version is written: the layout itself is Keras 3's.

An architecture's layer ``name`` is matched to a group by its path in the file (``layers/gru_1``),
else by the layer's name or the group's key; a name that matches two groups is refused. Every
recurrent group of the file must be described (or one chosen with ``layer=``). ``describe_weights_file``
lists what a file holds (for ``tsilstm inspect``) and writes an example architecture from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tsilstm.cell_spec import CELLS_BY_GATES
from tsilstm.errors import ArchitectureNeededError, ModelFileError
from tsilstm.importers.hdf5_access import GroupWalk, declared_shape, open_hdf5, resolve_in_file
from tsilstm.importers.keras_architecture import KerasArchitecture, KerasArchitectureSource, KerasLayerSpec, as_architecture
from tsilstm.importers.keras_layers import (
    CELL_CLASSES,
    WEIGHT_ROLES,
    attribute_list,
    keras_layer_model,
    keras_version_number,
    listed_weights,
    split_directions,
    takes_reset_after,
    text_value,
    weights_by_role,
)
from tsilstm.model import RecurrentModel, gate_count

LAYOUTS = {"keras2": "Keras 2 save_weights layout (layer_names, weight_names)",
           "keras3": "Keras 3 .weights.h5 layout (layers/<name>/cell/vars)"}
"""The weights-only layouts read here, with how ``inspect`` names them."""
KERAS3_LAYOUT_VERSION = "3"
"""The Keras version a ``.weights.h5`` layout implies (Keras 3 writes no version into it)."""
MAX_NESTED_MODELS = 8
"""Models nested inside models that are searched for layers (a deeper file is refused: it may loop)."""

RoleMap = dict[str, tuple[str, Any]]  # kernel / recurrent_kernel / bias -> (dataset path, h5py dataset)


@dataclass(frozen=True)
class ImpliedLayer:
    """What a recurrent group's weight shapes say: the ``cell`` class (LSTM, GRU, CuDNNLSTM, CuDNNGRU),
    ``units``, ``input_size``, whether it is ``bidirectional``, a GRU's ``reset_after`` (None when
    unknown: no bias) and whether it has a bias (``use_bias``)."""

    cell: str
    units: int
    input_size: int
    bidirectional: bool
    reset_after: bool | None
    use_bias: bool


@dataclass(frozen=True)
class WeightsGroup:
    """One layer's group in a weights-only file: its ``path`` in the file, the layer's ``name``, its
    ``datasets`` (path in the file, shape), what its shapes imply (``implied``, None when it is not a
    recurrent layer) and, then, why not (``problem``)."""

    path: str
    name: str
    datasets: tuple[tuple[str, tuple[int, ...]], ...]
    implied: ImpliedLayer | None
    problem: str = ""


@dataclass(frozen=True)
class WeightsFileSummary:
    """What a weights-only Keras file holds: its ``layout`` (a key of ``LAYOUTS``), the
    ``keras_version`` it states ('' when none) and its layer ``groups``."""

    path: str
    layout: str
    keras_version: str
    groups: tuple[WeightsGroup, ...]

    def example_architecture(self) -> str:
        """A TOML architecture for this file from its shapes; activations are Keras' defaults for the
        file's version (the file does not record them): the caller checks them against the model."""
        version = self.keras_version or (KERAS3_LAYOUT_VERSION if self.layout == "keras3" else "")
        number = keras_version_number(version)
        default_gate = "hard_sigmoid" if number is not None and (number < (2, 3) or version.endswith("-tf")) else "sigmoid"
        lines = ["# The file records no activations: the values below are Keras' defaults for its version;",
                 "# set them to what the model used (recurrent_activation was hard_sigmoid before Keras 2.3)."]
        if not self.keras_version and self.layout == "keras2":
            lines.append('keras_version = "2.15.0"  # the file does not say: the Keras version that wrote it')
        for group in self.groups:
            implied = group.implied
            if implied is None:
                continue
            lines += ["", "[[layers]]", f"name = {json.dumps(self.unambiguous_name(group))}", f'cell = "{implied.cell}"',
                      f"units = {implied.units}"]
            if not implied.cell.startswith("CuDNN"):
                lines += ['activation = "tanh"', f'recurrent_activation = "{default_gate}"']
            if takes_reset_after(implied.cell):
                reset_after = "true  # unknown without a bias: check" if implied.reset_after is None else str(implied.reset_after).lower()
                lines.append(f"reset_after = {reset_after}")
            lines.append(f"bidirectional = {str(implied.bidirectional).lower()}")
            if not implied.use_bias:
                lines.append("use_bias = false")
        return "\n".join(lines) + "\n"


    def unambiguous_name(self, group: WeightsGroup) -> str:
        """The layer's name if it names no other group of the file (as layer name or group key),
        else its path in the file: what an architecture calls it."""
        others = [g for g in self.groups if g is not group]
        clash = any(group.name in (g.name, g.path.rsplit("/", 1)[-1]) for g in others)
        return group.path if clash else group.name


@dataclass(frozen=True)
class _FoundGroup:
    summary: WeightsGroup
    parts: list[RoleMap]  # one role map per direction (h5py datasets, valid while the file is open)


def models_from_weights_file(handle: Any, path: Path, architecture: KerasArchitectureSource | None,
                             layer: str | None) -> list[RecurrentModel]:
    """One ``RecurrentModel`` per layer of ``architecture`` (or the one named ``layer``) from the open
    weights-only file ``handle`` at ``path``. Raises ``ArchitectureNeededError`` without an
    architecture, ``ModelFileError`` naming the layer when it does not match the file."""
    layout = _layout(handle, path)
    if architecture is None:
        raise ArchitectureNeededError(
            path, "", "is a Keras weights-only file (save_weights output: weights without a model config), which "
            "loads only with architecture=... describing its recurrent layers",
            "an architecture (KerasArchitecture or a .toml / .json file); `tsilstm inspect FILE` shows the layers "
            "the file holds and prints an example")
    spec = as_architecture(architecture)
    groups = _groups(handle, path, layout)
    version = _keras_version(handle, path, layout, spec)
    chosen = [(s, _match(s.name, groups, path)) for s in spec.layers]
    if layer is None:
        described = {found.summary.path for _, found in chosen}
        left = [g.summary.name for g in groups if g.summary.implied is not None and g.summary.path not in described]
        if left:
            raise ModelFileError(path, "architecture", f"does not describe the recurrent layer(s) {left} the file holds",
                                 "every recurrent layer described, or layer=... to load one")
    else:
        chosen = [(s, found) for s, found in chosen if layer in (s.name, found.summary.name)]
        if not chosen:
            raise ModelFileError(path, f"layer {layer!r}", "is not among the architecture's layers",
                                 f"one of {[s.name for s in spec.layers]}")
    models = []
    for layer_spec, found in chosen:
        _check_against_file(layer_spec, found.summary, path)
        metadata = {"class_name": "Bidirectional" if layer_spec.bidirectional else layer_spec.cell,
                    "weights_only": True, "group": found.summary.path, "layout": layout}
        models.append(keras_layer_model(found.parts, layer_spec.cell, layer_spec.layer_config(), name=layer_spec.name,
                                        path=path, keras_version=version, bidirectional=layer_spec.bidirectional,
                                        metadata=metadata))
    return models


def describe_weights_file(path: str | Path) -> WeightsFileSummary:
    """What the weights-only Keras file at ``path`` holds (layout, version, layer groups with their
    dataset shapes and the cells they imply); reads shapes only, no weights. Raises
    ``ModelFileError`` for a file that is not a weights-only Keras file."""
    path = Path(path)
    with open_hdf5(path, "a Keras .h5 weights file") as handle:
        if "model_config" in handle.attrs:
            raise ModelFileError(path, "", "is a whole-model Keras file (it has a model_config), not a weights-only one")
        layout = _layout(handle, path)
        version = text_value(handle.attrs.get("keras_version", b"")) if layout == "keras2" else ""
        return WeightsFileSummary(str(path), layout, version, tuple(g.summary for g in _groups(handle, path, layout)))


def _layout(handle: Any, path: Path) -> str:
    if "layer_names" in handle.attrs or "layer_names0" in handle.attrs:
        return "keras2"
    if handle.get("layers", getlink=True) is not None:
        return "keras3"
    raise ModelFileError(path, "", "has no model_config, no layer_names attribute and no 'layers' group",
                         "a Keras model file (model.save) or weights file (model.save_weights)")


def _keras_version(handle: Any, path: Path, layout: str, architecture: KerasArchitecture) -> str:
    """The file's Keras version; the architecture's when the file states none; a contradiction is refused."""
    given = architecture.keras_version
    if layout == "keras3":
        number = keras_version_number(given) if given else None
        if number is not None and number[0] != 3:
            raise ModelFileError(path, "architecture keras_version", f"is {given!r} but the file has the Keras 3 "
                                 ".weights.h5 layout", "a 3.x version, or none")
        return given or KERAS3_LAYOUT_VERSION
    stated = text_value(handle.attrs.get("keras_version", b""))
    if stated and given and given != stated:
        raise ModelFileError(path, "architecture keras_version", f"is {given!r} but the file was written by Keras {stated!r}",
                             "no keras_version (the file's is used), or the same")
    return stated or given or ""


def _groups(handle: Any, path: Path, layout: str) -> list[_FoundGroup]:
    walk = GroupWalk(path)
    return _keras2_groups(handle, path, walk) if layout == "keras2" else _keras3_groups(handle, path, "layers", 0, walk)


def _keras2_groups(handle: Any, path: Path, walk: GroupWalk) -> list[_FoundGroup]:
    found = []
    for name in attribute_list(handle, "layer_names"):
        where = f"layer {name!r}"
        group = resolve_in_file(handle, name, path, where, "is listed in layer_names but has no group")
        walk.visit(group, where)
        arrays = listed_weights(group, path, where)
        datasets = tuple((f"{name}/{weight}", declared_shape(dataset, path, f"{where} weight {weight!r}"))
                         for weight, dataset in arrays)
        bidirectional = any("backward" in weight for weight, _ in arrays)
        try:
            parts = [weights_by_role(part, path, where) for part in split_directions(arrays, bidirectional)]
        except ModelFileError as error:  # not a cell's kernel / recurrent_kernel / bias: not a recurrent layer
            found.append(_FoundGroup(WeightsGroup(name, name, datasets, None, error.problem + f": {error.where}"), []))
            continue
        implied, problem = _implied(parts)
        found.append(_FoundGroup(WeightsGroup(name, name, datasets, implied, problem), parts))
    return found


def _keras3_groups(handle: Any, path: Path, container_path: str, depth: int, walk: GroupWalk) -> list[_FoundGroup]:
    if depth > MAX_NESTED_MODELS:
        raise ModelFileError(path, container_path, f"nests models more than {MAX_NESTED_MODELS} deep; refused")
    container = _child(handle, container_path, path, container_path)
    found: list[_FoundGroup] = []
    for key in container.keys() if container is not None else ():
        group_path = f"{container_path}/{key}"
        group = _child(container, key, path, group_path)
        if group is None:  # a dataset where a layer's group belongs: not a layer
            continue
        walk.visit(group, group_path)
        variables = _child(group, "vars", path, group_path)
        name = text_value(variables.attrs.get("name", key)) if variables is not None else key
        cells = [f"{group_path}/cell/vars"]
        if _child(group, "forward_layer", path, group_path) is not None:
            cells = [f"{group_path}/forward_layer/cell/vars", f"{group_path}/backward_layer/cell/vars"]
        parts: list[RoleMap] = []
        datasets: list[tuple[str, tuple[int, ...]]] = []
        counts: list[int] = []
        for cell_path in cells:
            cell_vars = _child(handle, cell_path, path, group_path)
            numbered = _numbered(cell_vars, path, cell_path) if cell_vars is not None else []
            datasets += [(p, declared_shape(d, path, p)) for p, d in numbered]
            parts.append(dict(zip(WEIGHT_ROLES, numbered)))
            counts.append(len(numbered))
        if not datasets and variables is not None:
            datasets = [(p, declared_shape(d, path, p)) for p, d in _numbered(variables, path, f"{group_path}/vars")]
        if any(count > len(WEIGHT_ROLES) for count in counts):
            implied, problem = None, "its cell has more variables than kernel, recurrent_kernel and bias"
        elif all(count >= 2 for count in counts):
            implied, problem = _implied(parts)
        else:
            implied, problem = None, "no cell weights: not a recurrent layer"
        found.append(_FoundGroup(WeightsGroup(group_path, name, tuple(datasets), implied, problem), parts))
        if _child(group, "layers", path, group_path) is not None:
            found += _keras3_groups(handle, path, f"{group_path}/layers", depth + 1, walk)
    return found


def _child(group: Any, name: str, path: Path, where: str) -> Any:
    """The group ``name`` ('/'-separated) under ``group`` through ``resolve_in_file``, or None when a
    link on the way does not exist (checked without following it) or the object is not a group."""
    import h5py

    node = group
    for part in name.split("/"):
        if not isinstance(node, h5py.Group) or node.get(part, getlink=True) is None:
            return None
        node = resolve_in_file(node, part, path, where)
    return node if isinstance(node, h5py.Group) else None


def _numbered(group: Any, path: Path, where: str) -> list[tuple[str, Any]]:
    """(path, dataset) of a Keras 3 ``vars`` group's datasets ``0``, ``1``, ... in number order."""
    keys = sorted(group.keys(), key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
    return [(f"{where}/{key}", resolve_in_file(group, key, path, f"{where}/{key}")) for key in keys]


def _implied(parts: list[RoleMap]) -> tuple[ImpliedLayer | None, str]:
    """The cell, units and options a group's weight shapes imply, or (None, why not)."""
    first = parts[0]
    if "kernel" not in first or "recurrent_kernel" not in first:
        return None, "no recurrent_kernel: not a recurrent layer"
    recurrent, kernel = (tuple(first[role][1].shape) for role in ("recurrent_kernel", "kernel"))  # datasets: checked on listing
    if len(recurrent) != 2 or not recurrent[0] or recurrent[1] % recurrent[0] or recurrent[1] // recurrent[0] not in CELLS_BY_GATES:
        shapes = " or ".join(f"(units, {gates}*units)" for gates in CELLS_BY_GATES)
        return None, f"recurrent_kernel has shape {recurrent}, not {shapes}"
    units, gates = recurrent[0], recurrent[1] // recurrent[0]
    bias = tuple(first["bias"][1].shape) if "bias" in first else None
    base = CELLS_BY_GATES[gates].keras_layer_names[0]
    cell = "CuDNN" + base if bias == (2 * gates * units,) else base
    reset_after = (bias == (2, gates * units)) if takes_reset_after(cell) and bias is not None else None
    return ImpliedLayer(cell, units, kernel[0] if kernel else 0, len(parts) == 2, reset_after, bias is not None), ""


def _match(name: str, groups: list[_FoundGroup], path: Path) -> _FoundGroup:
    """The group an architecture's layer ``name`` means: by path, else by layer name or group key."""
    matches = [g for g in groups if g.summary.path == name]
    if not matches:
        matches = [g for g in groups if name in (g.summary.name, g.summary.path.rsplit("/", 1)[-1])]
    if len(matches) > 1:
        raise ModelFileError(path, f"layer {name!r}", f"matches several groups {[g.summary.path for g in matches]}",
                             "the group's path in the file as the name")
    if not matches:
        recurrent = [g.summary.name for g in groups if g.summary.implied is not None]
        raise ModelFileError(path, f"layer {name!r}", "is not in the file", f"one of its recurrent layers {recurrent}")
    if matches[0].summary.implied is None:
        raise ModelFileError(path, f"layer {name!r}", f"is not a recurrent layer in the file ({matches[0].summary.problem})")
    return matches[0]


def _check_against_file(spec: KerasLayerSpec, group: WeightsGroup, path: Path) -> None:
    """Refuse, naming the layer and the mismatch, an architecture entry its group's shapes contradict."""
    implied = group.implied
    assert implied is not None  # _match returns recurrent groups only
    where = f"layer {spec.name!r}"
    gates = gate_count(CELL_CLASSES[implied.cell])
    shape = f"(recurrent_kernel {(implied.units, gates * implied.units)})"
    if CELL_CLASSES[spec.cell] != CELL_CLASSES[implied.cell]:
        raise ModelFileError(path, where, f"the architecture says cell={spec.cell} but the weights are a "
                             f"{CELL_CLASSES[implied.cell].upper()}'s: {gates} gates {shape}")
    if spec.units != implied.units:
        raise ModelFileError(path, where, f"the architecture says units={spec.units} but the weights have {implied.units} units {shape}")
    if spec.bidirectional != implied.bidirectional:
        held = "forward and backward weights" if implied.bidirectional else "one direction's weights"
        raise ModelFileError(path, where, f"the architecture says bidirectional={spec.bidirectional} but the file holds {held}")
    if spec.use_bias != implied.use_bias:
        raise ModelFileError(path, where, f"the architecture says use_bias={spec.use_bias} but the file "
                             + ("holds a bias" if implied.use_bias else "holds no bias"))
    if implied.use_bias and spec.cell.startswith("CuDNN") != implied.cell.startswith("CuDNN"):
        raise ModelFileError(path, where, f"the architecture says cell={spec.cell} but the bias shape is a {implied.cell}'s")
    if spec.reset_after is not None and implied.reset_after is not None and spec.reset_after != implied.reset_after:
        bias = f"(2, {3 * implied.units})" if implied.reset_after else f"({3 * implied.units},)"
        raise ModelFileError(path, where, f"the architecture says reset_after={spec.reset_after} but the bias has shape "
                             f"{bias}, a reset_after={implied.reset_after} GRU's")
