"""PyTorch files (``.pt`` / ``.pth`` checkpoints, state_dicts, TorchScript archives) -> ``RecurrentModel``."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

from tsilstm.errors import ModelFileError
from tsilstm.importers.read_budget import check_read_budget, read_budget_bytes
from tsilstm.importers.torch_legacy_format import check_legacy_storages
from tsilstm.importers.torch_state_dict import find_state_dict, models_from_state_dict
from tsilstm.importers.torch_tensors import import_torch, tensors_to_numpy
from tsilstm.model import RecurrentModel


TRUST_CODE_HINT = (
    "a state_dict saved with torch.save(model.state_dict(), path); or, only for a file you trust, "
    "load_model(path, allow_code=True) / tsilstm inspect --trust-code, which runs the archive's code"
)


def load_torch_state(path: str | Path, *, key: str | None = None, allow_code: bool = False) -> tuple[dict, str]:
    """The state_dict (numpy arrays by key) holding recurrent weights in the file at ``path``, and
    the checkpoint key it sits under ("" at top level).

    Files are read with ``torch.load(..., weights_only=True)``: only tensors and plain containers
    are unpickled, never code. Before torch reads the file, the bytes its zip members inflate to
    are checked against the read budget; a legacy (pre-1.6, non-zip) file, for which torch
    allocates every storage at its declared size, must hold every storage it declares
    (``torch_legacy_format``). The tensors (views of those storages) are checked by
    ``tensors_to_numpy`` before they are copied: no stride-0 or overlapping views, copies within
    the read budget.
    TorchScript archives hold code that runs when they are loaded (a scripted ``__setstate__`` can
    do anything): they are refused unless ``allow_code=True``, which loads them with
    ``torch.jit.load`` and so EXECUTES THE FILE'S CODE.
    """
    torch = import_torch()
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "", "no such file")
    members = _zip_members(path)
    if members is None:
        with open(path, "rb") as handle:
            zip_signature = handle.read(2) == b"PK"
        if zip_signature:
            raise ModelFileError(path, "", "is not a readable PyTorch file (a corrupt zip archive)",
                                 "a file written by torch.save")
        check_legacy_storages(path)
    else:
        check_read_budget(path, "zip members", sum(info.file_size for info in members), "inflated zip members")
    if members is not None and _is_torchscript(members):
        if allow_code is not True:
            raise ModelFileError(
                path, "", "is a TorchScript archive: loading it runs the code it contains, so it is refused", TRUST_CODE_HINT,
            )
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
    return tensors_to_numpy(dict(state), path, read_budget_bytes(path.stat().st_size)), where


def models_from_torch_file(path: str | Path, *, key: str | None = None, prefix: str | None = None,
                           allow_code: bool = False) -> list[RecurrentModel]:
    """One ``RecurrentModel`` per nn.LSTM / nn.GRU whose weights the file at ``path`` holds (under
    the checkpoint sub-key ``key`` if given, else found automatically; only ``prefix`` if given).
    ``allow_code=True`` lets TorchScript archives load, running their code (see ``load_torch_state``)."""
    state, where = load_torch_state(path, key=key, allow_code=allow_code)
    models = models_from_state_dict(state, path, prefix=prefix, where=f"{where}: " if where else "")
    for model in models:
        model.metadata.update({"path": str(path), "state_key": where})
    return models


def _zip_members(path: Path) -> list[zipfile.ZipInfo] | None:
    """The members of the zip at ``path``; None when it is not a readable zip (torch.load then
    reports the file)."""
    if not zipfile.is_zipfile(path):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError):  # corrupt directory
        return None


def _is_torchscript(members: list[zipfile.ZipInfo]) -> bool:
    """True for a TorchScript archive (``torch.jit.save``) with these zip ``members``: it has
    ``constants.pkl`` or ``code/``."""
    names = [info.filename for info in members]
    return any(name == "constants.pkl" or name.endswith("/constants.pkl") or "/code/" in name for name in names)


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]
