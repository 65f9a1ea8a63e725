"""``from_torch``: a tsilstm LSTM or GRU with the weights of a ``torch.nn.LSTM`` / ``torch.nn.GRU``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tsilstm.cell_spec import TORCH_MODES
from tsilstm.errors import InvalidParameterError, UnsupportedModelError
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel
from tsilstm.optional_packages import import_optional


def model_from_torch(module: Any) -> RecurrentModel:
    """The ``RecurrentModel`` of a ``torch.nn.LSTM`` or ``torch.nn.GRU`` (weights copied, float32;
    missing biases become zeros; proj_size kept)."""
    torch = import_optional("torch", "convert torch.nn.LSTM / GRU modules")

    if not isinstance(module, (torch.nn.LSTM, torch.nn.GRU)):
        raise UnsupportedModelError(
            f"from_torch takes a torch.nn.LSTM or torch.nn.GRU, not {type(module).__name__}"
        )
    cell = TORCH_MODES[module.mode].name
    proj = int(getattr(module, "proj_size", 0) or 0)
    suffixes = ("", "_reverse") if module.bidirectional else ("",)
    layers = []
    in_size = module.input_size
    for index in range(module.num_layers):
        dirs = []
        for suffix in suffixes:
            def get(name: str) -> np.ndarray | None:
                tensor = getattr(module, f"{name}_l{index}{suffix}", None)
                return None if tensor is None else tensor.detach().to("cpu").float().numpy().copy()

            w_ih, w_hh = get("weight_ih"), get("weight_hh")
            rows = w_hh.shape[0]
            b_ih = get("bias_ih") if module.bias else None
            b_hh = get("bias_hh") if module.bias else None
            dirs.append(
                DirectionWeights(
                    w_ih=w_ih,
                    w_hh=w_hh,
                    b_ih=np.zeros(rows, np.float32) if b_ih is None else b_ih,
                    b_hh=np.zeros(rows, np.float32) if b_hh is None else b_hh,
                    w_hr=get("weight_hr") if proj else None,
                )
            )
        layer = RecurrentLayer(cell, in_size, module.hidden_size, tuple(dirs), proj, name=f"layer{index}")
        layers.append(layer)
        in_size = layer.output_size * len(suffixes)
    return RecurrentModel(tuple(layers), name=type(module).__name__, source="torch")


def from_torch(module: Any, *, schedule: str = "auto", threads: int | None = None, tile: int | None = None,
               isa: str | None = None, weight_dtype: str = "float32") -> Any:
    """A ``tsilstm.LSTM`` or ``tsilstm.GRU`` computing what ``module`` (torch.nn.LSTM / GRU) computes,
    with its weights copied and packed once; batch_first, bidirectional, bias and proj_size carry over.
    ``weight_dtype="bfloat16"`` stores the recurrent weights rounded to bfloat16 (half the bytes per
    step; results then differ from torch's float32 by the rounding of the weights)."""
    from tsilstm.runtime.kernel_options import KernelOptions
    from tsilstm.runtime.lstm_gru import module_class

    options = KernelOptions(schedule=schedule, threads=threads, weight_dtype=weight_dtype, tile=tile, isa=isa)
    model = model_from_torch(module)
    if not isinstance(module.batch_first, bool):
        raise InvalidParameterError("module.batch_first", module.batch_first, "must be True or False")
    return module_class(model.cell).from_model(model, batch_first=module.batch_first, options=options)
