"""``load_models`` / ``load_model``: pick the importer for a file or object by its type and content."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tsilstm.errors import ModelFileError
from tsilstm.model import RecurrentModel

FORMATS = ("onnx", "torch", "keras")
_SUFFIXES = {".onnx": "onnx", ".pt": "torch", ".pth": "torch", ".ckpt": "torch", ".bin": "torch",
             ".h5": "keras", ".hdf5": "keras", ".keras": "keras"}


def detect_format(path: str | Path) -> str:
    """``onnx``, ``torch`` or ``keras`` for the file at ``path``: the HDF5 signature means Keras, a
    zip or pickle means PyTorch, an ``.onnx`` suffix (or anything else that is not those) ONNX."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "", "no such file")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head:
        raise ModelFileError(path, "", "is empty", "an ONNX, PyTorch or Keras HDF5 model file")
    if head == b"\x89HDF\r\n\x1a\n":
        return "keras"
    by_suffix = _SUFFIXES.get(path.suffix.lower())
    if by_suffix == "keras" and zipfile.is_zipfile(path):
        raise ModelFileError(path, "", "is a Keras 3 .keras zip archive, which is not supported",
                             "a Keras HDF5 file: model.save('model.h5')")
    if by_suffix:
        return by_suffix
    if head.startswith(b"PK") or head[:1] == b"\x80":
        return "torch"
    return "onnx"


def load_models(source: str | Path | Any, *, format: str | None = None, **options: Any) -> list[RecurrentModel]:
    """Every recurrent model in ``source``: a file path (ONNX, PyTorch ``.pt``/``.pth``, Keras
    ``.h5``), a ``torch.nn.Module`` or a state_dict mapping. ``options`` go to the importer:
    ``node=`` (ONNX), ``key=`` and ``prefix=`` (PyTorch), ``layer=`` and ``architecture=`` (Keras:
    what a weights-only file from ``save_weights`` needs, a ``KerasArchitecture`` or a .toml / .json
    file, see ``tsilstm.importers.keras_architecture``), and ``allow_code=True`` (PyTorch): let
    TorchScript archives load, which RUNS THE CODE THEY CONTAIN (refused by default; only for files
    you trust). No other file type ever runs code."""
    if isinstance(source, (str, Path)):
        kind = format or detect_format(source)
        allow_code = options.pop("allow_code", False)
        if not isinstance(allow_code, bool):
            raise ModelFileError(source, "", f"allow_code={allow_code!r} is invalid", "True or False")
        architecture = options.pop("architecture", None)
        if architecture is not None and kind != "keras":
            raise ModelFileError(source, "architecture", f"was given for a file of format {kind}",
                                 "architecture= only for Keras weights-only files (save_weights output)")
        if kind == "onnx":
            from tsilstm.importers.onnx_graph import models_from_onnx

            return models_from_onnx(source, **options)
        if kind == "torch":
            from tsilstm.importers.torch_checkpoint import models_from_torch_file

            return models_from_torch_file(source, allow_code=allow_code, **options)
        if kind == "keras":
            from tsilstm.importers.keras_hdf5 import models_from_keras_h5

            return models_from_keras_h5(source, architecture=architecture, **options)
        raise ModelFileError(source, "", f"format={kind!r} is unknown", "one of " + ", ".join(FORMATS))
    if options.get("architecture") is not None:
        raise ModelFileError(_label(source), "architecture", "was given for an in-memory object",
                             "architecture= only with the path of a Keras weights-only file")
    if isinstance(source, Mapping):
        from tsilstm.importers.torch_state_dict import find_state_dict, models_from_state_dict

        state, where = find_state_dict(source, "state_dict", options.get("key"))
        arrays = _state_arrays(state)
        return models_from_state_dict(arrays, "state_dict", prefix=options.get("prefix"),
                                      where=f"{where}: " if where else "")
    try:
        import torch

        if isinstance(source, torch.nn.Module):
            from tsilstm.importers.torch_module import models_from_module

            return models_from_module(source, prefix=options.get("prefix"))
    except ImportError:
        pass
    raise ModelFileError(type(source).__name__, "", "cannot be imported",
                         "a file path, a torch.nn.Module or a state_dict mapping")


def load_model(source: str | Path | Any, *, name: str | None = None, **options: Any) -> RecurrentModel:
    """The one recurrent model in ``source`` (see ``load_models``), or the one called ``name`` (ONNX
    node name, Keras layer name or PyTorch module prefix without the dot) when there are several."""
    models = load_models(source, **options)
    if name is not None:
        chosen = [m for m in models if name in (m.name, m.metadata.get("locator"))]
        if not chosen:
            raise ModelFileError(_label(source), f"name {name!r}", "matches no recurrent layer", f"one of {[m.name for m in models]}")
        return chosen[0]
    if len(models) > 1:
        raise ModelFileError(_label(source), "", f"holds {len(models)} recurrent models {[m.name for m in models]}",
                             "name=... to choose one, or load_models() for all")
    return models[0]


def _state_arrays(state: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of a state_dict as numpy arrays (torch tensors converted when torch is present)."""
    import numpy as np

    out: dict[str, Any] = {}
    for key, value in state.items():
        if hasattr(value, "detach"):
            from tsilstm.importers.torch_tensors import tensors_to_numpy

            out.update(tensors_to_numpy({key: value}))
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            out[str(key)] = value
    return out


def _label(source: object) -> str:
    return str(source) if isinstance(source, (str, Path)) else type(source).__name__
