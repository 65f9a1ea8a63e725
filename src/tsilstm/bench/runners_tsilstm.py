"""tsilstm's native runtime as a benchmark implementation: one module per schedule, built from the
same model description (hence the same weights) as the torch and ONNX Runtime baselines."""

from __future__ import annotations

import numpy as np

from tsilstm.model import RecurrentModel

TSILSTM_SCHEDULES = ("tsi", "conventional", "auto")
FLOAT32 = "float32"  # the weight dtype of the reference and of the float peers


def tsilstm_weight_dtypes() -> tuple[str, ...]:
    """The element types the native kernel packs recurrent weights in (``kernel_abi.WEIGHT_DTYPES``,
    e.g. float32, bfloat16, int8); just float32 when the runtime is not available."""
    try:
        from tsilstm.runtime.kernel_abi import WEIGHT_DTYPES
    except ImportError:
        return (FLOAT32,)
    return tuple(WEIGHT_DTYPES)


def runtime_unavailable_reason() -> str | None:
    """None when the native runtime (``tsilstm.runtime``) imports, else why it does not."""
    try:
        from tsilstm import runtime  # noqa: F401
    except ImportError as error:
        return f"the tsilstm native runtime is not available: {error}"
    return None


class TsilstmRunner:
    """``tsilstm.LSTM`` / ``tsilstm.GRU`` ``.from_model(model, schedule=..., threads=...,
    weight_dtype=...)``; call with numpy ``(x, h0, c0)`` (torch layout) and get numpy
    ``(output, h_n, c_n)``."""

    def __init__(self, model: RecurrentModel, schedule: str, threads: int, weight_dtype: str = FLOAT32) -> None:
        from tsilstm.runtime.lstm_gru import module_class

        self.schedule = schedule
        self.weight_dtype = weight_dtype
        self.has_cell_state = model.spec.has_cell_state
        self.module = module_class(model.cell).from_model(model, schedule=schedule, threads=threads, weight_dtype=weight_dtype)

    def __call__(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Run the sequence ``x`` (T, N, X) from states ``h0``/``c0`` (L*D, N, H)."""
        if self.has_cell_state:
            y, (h_n, c_n) = self.module(x, (h0, c0))
            return y, h_n, c_n
        y, h_n = self.module(x, h0)
        return y, h_n, None

    def plan_summary(self) -> str:
        """The module's own account of what runs (``plan_summary()``)."""
        return str(self.module.plan_summary())

    def schedules_ran(self) -> list[str]:
        """The schedule each layer executes (after ``auto`` and any fallback)."""
        return [str(info["schedule"]) for info in self.module.schedule_info]
