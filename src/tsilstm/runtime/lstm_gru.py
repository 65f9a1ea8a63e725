"""``LSTM`` and ``GRU``: PyTorch-compatible modules (torch's constructor arguments and call) whose
recurrence runs in the native kernel (``RecurrentModule``)."""

from __future__ import annotations

from typing import Any

from tsilstm.cell_spec import cell_spec
from tsilstm.errors import InvalidParameterError
from tsilstm.runtime.kernel_options import KernelOptions
from tsilstm.runtime.modules import RecurrentModule
from tsilstm.runtime.random_weights import random_stack


class LSTM(RecurrentModule):
    """A multi-layer LSTM like ``torch.nn.LSTM`` (same arguments, gate order i, f, g, o and call),
    whose recurrence runs in the native kernel with ``schedule`` on ``threads`` threads.

    ``lstm(x, (h_0, c_0))`` returns ``output, (h_n, c_n)``; numpy arrays in give numpy arrays out,
    torch tensors in give torch tensors out. Weights are random like torch (uniform in
    +-1/sqrt(hidden_size)) from ``seed``; use ``LSTM.from_model`` or ``tsilstm.from_torch`` for
    given weights.
    """

    cell = "lstm"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        schedule: str = "auto",
        threads: int | None = None,
        tile: int | None = None,
        seed: int | None = None,
        isa: str | None = None,
        weight_dtype: str | None = "float32",
        tuning: str | None = None,
    ) -> None:
        self.dropout = _inference_dropout(dropout)
        options = KernelOptions(schedule, threads, weight_dtype, tile, isa, tuning)
        model = random_stack("lstm", input_size, hidden_size, num_layers, bias, bidirectional, proj_size, seed, options)
        super().__init__(model, batch_first=batch_first, options=options)

    @property
    def proj_size(self) -> int:
        """Projection size (0: none)."""
        return self.model.layers[0].proj_size

    def __call__(self, input: Any, hx: Any = None, *, lengths: Any = None) -> tuple[Any, tuple[Any, Any]]:
        """Run the LSTM over ``input`` from ``hx = (h_0, c_0)`` (zeros when None); returns
        ``output, (h_n, c_n)`` with torch's shapes. ``lengths`` (one whole number per sequence, in
        [0, T]): sequences of mixed lengths in one kernel call; the output is zero beyond each length
        and the final states are each sequence's own last step's (a reverse direction starts there)."""
        if hx is None:
            h0 = c0 = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            h0, c0 = hx
        else:
            raise InvalidParameterError("hx", type(hx).__name__, "must be None or a tuple (h_0, c_0)")
        out, h_n, c_n = self._forward(input, h0, c0, lengths)
        return out, (h_n, c_n)

    def __repr__(self) -> str:
        return (
            f"tsilstm.LSTM({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"batch_first={self.batch_first}, bidirectional={self.bidirectional}, proj_size={self.proj_size}, "
            f"schedule={self.requested_schedule!r}, threads={self.threads})"
        )


class GRU(RecurrentModule):
    """A multi-layer GRU like ``torch.nn.GRU`` (gate order r, z, n, reset applied after the
    recurrent product) whose recurrence runs in the native kernel; ``gru(x, h_0)`` returns
    ``output, h_n``. See ``LSTM`` for the other arguments."""

    cell = "gru"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        schedule: str = "auto",
        threads: int | None = None,
        tile: int | None = None,
        seed: int | None = None,
        isa: str | None = None,
        weight_dtype: str | None = "float32",
        tuning: str | None = None,
    ) -> None:
        self.dropout = _inference_dropout(dropout)
        options = KernelOptions(schedule, threads, weight_dtype, tile, isa, tuning)
        model = random_stack("gru", input_size, hidden_size, num_layers, bias, bidirectional, 0, seed, options)
        super().__init__(model, batch_first=batch_first, options=options)

    def __call__(self, input: Any, hx: Any = None, *, lengths: Any = None) -> tuple[Any, Any]:
        """Run the GRU over ``input`` from ``hx`` = h_0 (zeros when None); returns ``output, h_n``.
        ``lengths``: as for ``LSTM``."""
        if isinstance(hx, (tuple, list)) and self.model.uniform_states:
            raise InvalidParameterError("hx", type(hx).__name__, "must be None or one array h_0 for a GRU")
        out, h_n, _ = self._forward(input, hx, None, lengths)
        return out, h_n

    def __repr__(self) -> str:
        return (
            f"tsilstm.GRU({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"batch_first={self.batch_first}, bidirectional={self.bidirectional}, "
            f"schedule={self.requested_schedule!r}, threads={self.threads})"
        )


MODULE_CLASSES: dict[str, type[RecurrentModule]] = {module.cell: module for module in (LSTM, GRU)}
"""The runtime module of each cell."""


def module_class(cell: str) -> type[RecurrentModule]:
    """The runtime module (``LSTM`` or ``GRU``) that runs ``cell``; raises ``InvalidParameterError``
    naming ``cell`` for an unknown one."""
    return MODULE_CLASSES[cell_spec(cell).name]


def _inference_dropout(dropout: Any) -> float:
    """``dropout`` checked as torch checks it (a number in [0, 1]); these modules run inference only,
    where dropout does nothing (as in torch's eval mode)."""
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= float(dropout) <= 1.0:
        raise InvalidParameterError("dropout", dropout, "must be a number in [0, 1] (inference: it has no effect)")
    return float(dropout)


__all__ = ["LSTM", "GRU"]
