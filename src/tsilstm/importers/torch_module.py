"""``torch.nn.LSTM`` / ``torch.nn.GRU`` modules (or any module containing them) -> ``RecurrentModel``."""

from __future__ import annotations

from typing import Any

from tsilstm.errors import ModelFileError
from tsilstm.importers.torch_state_dict import models_from_state_dict
from tsilstm.importers.torch_tensors import import_torch, tensors_to_numpy
from tsilstm.model import RecurrentModel


def models_from_module(module: Any, *, prefix: str | None = None) -> list[RecurrentModel]:
    """One ``RecurrentModel`` per ``nn.LSTM`` / ``nn.GRU`` in ``module`` (the module itself or its
    submodules, named by their path). ``batch_first`` does not change weights and is recorded."""
    torch = import_torch()
    if not isinstance(module, torch.nn.Module):
        raise ModelFileError(type(module).__name__, "", "is not a torch.nn.Module", "an nn.LSTM, nn.GRU or a module containing them")
    found = [(name, m) for name, m in module.named_modules() if isinstance(m, (torch.nn.LSTM, torch.nn.GRU))]
    others = [name or type(m).__name__ for name, m in module.named_modules() if type(m) in (torch.nn.RNN,)]
    if not found:
        hint = f" (it has plain nn.RNN modules {others}, which are not supported)" if others else ""
        raise ModelFileError(type(module).__name__, "", "contains no nn.LSTM or nn.GRU" + hint)
    models = []
    for name, rnn in found:
        key_prefix = f"{name}." if name else ""
        if prefix is not None and key_prefix != prefix:
            continue
        state = tensors_to_numpy({f"{key_prefix}{k}": v for k, v in rnn.state_dict().items()}, type(module).__name__)
        (model,) = models_from_state_dict(state, type(module).__name__, prefix=key_prefix)
        model.metadata.update({"format": "torch", "path": "", "module": name or type(rnn).__name__,
                               "batch_first": bool(rnn.batch_first)})
        models.append(model)
    if not models:
        raise ModelFileError(type(module).__name__, f"prefix {prefix!r}", "matches no nn.LSTM or nn.GRU",
                             f"one of {[f'{n}.' if n else '' for n, _ in found]}")
    return models
