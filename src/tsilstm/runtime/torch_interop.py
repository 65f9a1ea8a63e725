"""``from_torch``: a tsilstm LSTM or GRU with the weights of a ``torch.nn.LSTM`` / ``torch.nn.GRU``."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from tsilstm.errors import InvalidParameterError, UnsupportedModelError
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel, gate_count


def model_from_torch(module: Any) -> RecurrentModel:
    """The ``RecurrentModel`` of a ``torch.nn.LSTM`` or ``torch.nn.GRU`` (weights copied, float32;
    missing biases become zeros; proj_size kept)."""
    import torch  # optional dependency, imported only here

    if not isinstance(module, (torch.nn.LSTM, torch.nn.GRU)):
        raise UnsupportedModelError(
            f"from_torch takes a torch.nn.LSTM or torch.nn.GRU, not {type(module).__name__}"
        )
    cell = "lstm" if isinstance(module, torch.nn.LSTM) else "gru"
    weights = {name: getattr(module, name) for name in module._flat_weights_names}
    return model_from_torch_weights(cell, weights, num_layers=module.num_layers, bidirectional=module.bidirectional,
                                    proj_size=int(getattr(module, "proj_size", 0) or 0), name=type(module).__name__)


def model_from_torch_weights(cell: str, weights: Mapping[str, Any], *, num_layers: int, bidirectional: bool,
                             proj_size: int = 0, name: str = "") -> RecurrentModel:
    """The ``RecurrentModel`` of torch-named LSTM / GRU weights (``weight_ih_l0``, ``bias_hh_l1_reverse``,
    ``weight_hr_l0``, ...: tensors or arrays, copied as float32; missing biases become zeros)."""
    suffixes = ("", "_reverse") if bidirectional else ("",)
    layers = []
    in_size = 0
    for index in range(num_layers):
        dirs = []
        for suffix in suffixes:
            def get(kind: str) -> np.ndarray | None:
                value = weights.get(f"{kind}_l{index}{suffix}")
                if value is None:
                    return None
                if hasattr(value, "detach"):  # a torch tensor
                    value = value.detach().to("cpu").float().numpy()
                return np.array(value, dtype=np.float32, copy=True)

            w_ih, w_hh = get("weight_ih"), get("weight_hh")
            if w_ih is None or w_hh is None:
                raise UnsupportedModelError(f"weights of layer {index}{suffix} are missing (weight_ih / weight_hh)")
            rows = w_hh.shape[0]
            b_ih, b_hh = get("bias_ih"), get("bias_hh")
            dirs.append(
                DirectionWeights(
                    w_ih=w_ih,
                    w_hh=w_hh,
                    b_ih=np.zeros(rows, np.float32) if b_ih is None else b_ih,
                    b_hh=np.zeros(rows, np.float32) if b_hh is None else b_hh,
                    w_hr=get("weight_hr") if proj_size else None,
                )
            )
        in_size = in_size or dirs[0].w_ih.shape[1]
        hidden = dirs[0].w_hh.shape[0] // gate_count(cell)
        layer = RecurrentLayer(cell, in_size, hidden, tuple(dirs), proj_size, name=f"layer{index}")
        layers.append(layer)
        in_size = layer.output_size * len(suffixes)
    return RecurrentModel(tuple(layers), name=name, source="torch")


def from_torch(module: Any, *, schedule: str = "auto", threads: int | None = None, tile: int | None = None,
               isa: str | None = None, weight_dtype: str = "float32") -> Any:
    """A ``tsilstm.LSTM`` or ``tsilstm.GRU`` computing what ``module`` (torch.nn.LSTM / GRU) computes,
    with its weights copied and packed once; batch_first, bidirectional, bias and proj_size carry over.
    ``weight_dtype="bfloat16"`` stores the recurrent weights rounded to bfloat16 (half the bytes per
    step; results then differ from torch's float32 by the rounding of the weights)."""
    from tsilstm.runtime.modules import GRU, LSTM

    model = model_from_torch(module)
    if not isinstance(module.batch_first, bool):
        raise InvalidParameterError("module.batch_first", module.batch_first, "must be True or False")
    cls = LSTM if model.cell == "lstm" else GRU
    return cls.from_model(model, batch_first=module.batch_first, schedule=schedule, threads=threads, tile=tile, isa=isa,
                          weight_dtype=weight_dtype)
