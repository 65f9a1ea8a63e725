"""PyTorch files (``.pt`` / ``.pth`` checkpoints, state_dicts, TorchScript archives) -> ``RecurrentModel``."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

from tsilstm.errors import ModelFileError
from tsilstm.importers.torch_module import import_torch, tensors_to_numpy
from tsilstm.importers.torch_state_dict import find_state_dict, models_from_state_dict
from tsilstm.model import RecurrentModel


def load_torch_state(path: str | Path, *, key: str | None = None) -> tuple[dict, str]:
    """The state_dict (numpy arrays by key) holding recurrent weights in the file at ``path``, and
    the checkpoint key it sits under ("" at top level).

    Files are read with ``torch.load(..., weights_only=True)``: only tensors and plain containers
    are unpickled, never code. TorchScript archives are read with ``torch.jit.load``.
    """
    torch = import_torch()
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "", "no such file")
    if _is_torchscript(path):
        try:
            checkpoint = dict(torch.jit.load(str(path), map_location="cpu").state_dict())
        except Exception as error:  # noqa: BLE001 - torch raises many types for a corrupt archive
            raise ModelFileError(path, "", f"cannot be read as a TorchScript archive ({_short(error)})") from error
    else:
        try:
            checkpoint = torch.load(str(path), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:
            raise ModelFileError(
                path, "", f"holds Python objects other than tensors and containers ({_short(error)})",
                "a file saved from model.state_dict() (tsilstm loads with weights_only=True and runs no pickled code)",
            ) from error
        except Exception as error:  # noqa: BLE001 - torch raises RuntimeError/EOFError/... on corrupt files
            raise ModelFileError(path, "", f"is not a readable PyTorch file ({_short(error)})",
                                 "a file written by torch.save") from error
    state, where = find_state_dict(checkpoint, path, key)
    return tensors_to_numpy(dict(state)), where


def models_from_torch_file(path: str | Path, *, key: str | None = None, prefix: str | None = None) -> list[RecurrentModel]:
    """One ``RecurrentModel`` per nn.LSTM / nn.GRU whose weights the file at ``path`` holds (under
    the checkpoint sub-key ``key`` if given, else found automatically; only ``prefix`` if given)."""
    state, where = load_torch_state(path, key=key)
    models = models_from_state_dict(state, path, prefix=prefix, where=f"{where}: " if where else "")
    for model in models:
        model.metadata.update({"path": str(path), "state_key": where})
    return models


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("/constants.pkl") or name == "constants.pkl" for name in archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):  # corrupt directory
        return False  # torch.load below then reports the file as unreadable


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]
