"""Run a PyTorch file's recurrent weights in ``torch.nn.LSTM`` / ``nn.GRU``: the framework side of
``tsilstm verify FILE`` for PyTorch files."""

from __future__ import annotations

import numpy as np

from tsilstm.errors import ModelFileError
from tsilstm.importers.torch_checkpoint import load_torch_state
from tsilstm.importers.torch_module import import_torch
from tsilstm.importers.torch_state_dict import RECURRENT_KEY
from tsilstm.model import RecurrentModel


def run_torch_file(
    model: RecurrentModel, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Load the original tensors of ``model`` (an import of a PyTorch file, see its metadata) into a
    fresh ``nn.LSTM`` / ``nn.GRU`` with ``load_state_dict(strict=True)`` and run it in float32 on
    ``x`` (T, N, X) from ``h0`` (L*D, N, P) / ``c0``. Returns (output, h_n, c_n or None)."""
    torch = import_torch()
    path, prefix = model.metadata["path"], model.metadata["prefix"]
    state, _ = load_torch_state(path, key=model.metadata.get("state_key") or None)
    own = {}
    for key, value in state.items():
        match = RECURRENT_KEY.match(key)
        if match and match["prefix"] == prefix:
            own[key[len(prefix):]] = torch.from_numpy(np.asarray(value, dtype=np.float32))
    first = model.layers[0]
    kind = getattr(torch.nn, first.spec.torch_class_name)
    options = {"proj_size": first.proj_size} if first.spec.supports_projection else {}
    module = kind(first.input_size, first.hidden_size, len(model.layers), bias=any(k.startswith("bias") for k in own),
                  bidirectional=first.bidirectional, **options)
    try:
        module.load_state_dict(own, strict=True)
    except RuntimeError as error:
        raise ModelFileError(path, prefix or "state_dict", f"does not load into torch.nn.{kind.__name__} ({str(error)[:300]})") from error
    module.eval()
    with torch.no_grad():
        tx = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        th = torch.from_numpy(np.ascontiguousarray(h0, dtype=np.float32))
        if first.spec.has_cell_state:
            out, (h_n, c_n) = module(tx, (th, torch.from_numpy(np.ascontiguousarray(c0, dtype=np.float32))))
            return out.numpy(), h_n.numpy(), c_n.numpy()
        out, h_n = module(tx, th)
        return out.numpy(), h_n.numpy(), None
