"""One ONNX LSTM/GRU node run by tsilstm with the operator's semantics (docs/design.md section 10).

The weights are packed once (``NodeRunner.pack``); ``run`` takes the runtime-form inputs as ONNX
Runtime hands them over and returns every output. ``layout`` 0 tensors are X (T, N, X), Y (T, D, N,
H), states (D, N, H); ``layout`` 1 tensors are X (N, T, X), Y (N, T, D, H), states (N, D, H).
``sequence_lens``: the whole batch runs in one kernel call with each sequence's length: Y is zero
beyond a sequence's length, Y_h / Y_c are the states at its last real step, and a reverse direction
starts at that step. A length of 0 gives zeros everywhere (ONNX Runtime's CPU operator does the same).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tsilstm.errors import InvalidParameterError
from tsilstm.model import RecurrentModel

if TYPE_CHECKING:
    from tsilstm.runtime import KernelOptions


@dataclass
class NodeRunner:
    """The packed weights of one node and how to run them (see module doc)."""

    label: str
    """``LSTM node 'name'``: how errors name the node."""
    model: RecurrentModel
    layout: int
    module: Any

    @classmethod
    def pack(cls, label: str, model: RecurrentModel, layout: int, *, options: KernelOptions,
             host: str | None = None) -> "NodeRunner":
        """Pack ``model`` (one layer, from the importer) for the native kernel now, to run with
        ``options``; ``host``: the framework calling it from inside its graph (see ``RecurrentModule``)."""
        from tsilstm.runtime.lstm_gru import module_class

        module = module_class(model.cell).from_model(model, options=options, host=host)
        return cls(label, model, layout, module)

    @property
    def is_lstm(self) -> bool:
        """True for an LSTM node (three outputs), False for a GRU (two)."""
        return self.model.spec.has_cell_state

    def run(self, x: np.ndarray, sequence_lens: np.ndarray, initial_h: np.ndarray,
            initial_c: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Y, Y_h (and Y_c for LSTM) of the node for these inputs (an empty array means absent);
        raises ``InvalidParameterError`` naming the node and input for inputs the operator rejects."""
        layer = self.model.layers[0]
        dirs, hidden = len(layer.directions), layer.hidden_size
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != layer.input_size:
            axes = "[seq_length, batch_size, input_size]" if self.layout == 0 else "[batch_size, seq_length, input_size]"
            raise InvalidParameterError(f"{self.label} input X", x.shape, f"must be {axes} with input_size={layer.input_size}")
        if self.layout == 1:
            x = x.transpose(1, 0, 2)
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0 or batch == 0:
            raise InvalidParameterError(f"{self.label} input X", x.shape, "needs at least one time step and one sequence")
        h0 = self._state(initial_h, "initial_h", dirs, batch, hidden)
        c0 = self._state(initial_c, "initial_c", dirs, batch, hidden) if self.is_lstm else None
        lengths = self._lengths(sequence_lens, steps, batch)
        y, h_n, c_n = self._call(np.ascontiguousarray(x), h0, c0, lengths)
        if lengths is not None and not lengths.all():  # a length of 0: zero states, as ONNX Runtime gives
            empty = lengths == 0
            h_n[:, empty] = 0
            if c_n is not None:
                c_n[:, empty] = 0
        y = y.reshape(steps, batch, dirs, hidden).transpose((0, 2, 1, 3) if self.layout == 0 else (1, 0, 2, 3))
        outputs = [y, h_n] + ([c_n] if self.is_lstm else [])
        if self.layout == 1:
            outputs[1:] = [state.transpose(1, 0, 2) for state in outputs[1:]]
        return tuple(np.ascontiguousarray(out, dtype=np.float32) for out in outputs)

    def empty_outputs(self) -> tuple[np.ndarray, ...]:
        """Zero-size outputs (what the custom op hands back after an error, see custom_ops)."""
        return tuple(np.zeros((0,), dtype=np.float32) for _ in range(3 if self.is_lstm else 2))

    def _call(self, x: np.ndarray, h0: np.ndarray | None, c0: np.ndarray | None,  # type: ignore[no-untyped-def]
              lengths: np.ndarray | None):
        if self.is_lstm:
            y, (h_n, c_n) = self.module(x, None if h0 is None and c0 is None else (h0, c0), lengths=lengths)
            return y, h_n, c_n
        y, h_n = self.module(x, h0, lengths=lengths)
        return y, h_n, None

    def _state(self, value: np.ndarray | None, name: str, dirs: int, batch: int, hidden: int) -> np.ndarray | None:
        if value is None or np.size(value) == 0:
            return None
        value = np.asarray(value)
        expected = (dirs, batch, hidden) if self.layout == 0 else (batch, dirs, hidden)
        if value.shape != expected:
            axes = "[num_directions, batch_size, hidden_size]" if self.layout == 0 else "[batch_size, num_directions, hidden_size]"
            raise InvalidParameterError(f"{self.label} input {name}", value.shape, f"must be {axes} = {list(expected)}")
        state = value if self.layout == 0 else value.transpose(1, 0, 2)
        return np.ascontiguousarray(state, dtype=np.float32)

    def _lengths(self, value: np.ndarray | None, steps: int, batch: int) -> np.ndarray | None:
        """The lengths as int64, or None when absent or all equal to ``steps`` (one whole-batch call)."""
        if value is None or np.size(value) == 0:
            return None
        value = np.asarray(value)
        if value.shape != (batch,):
            raise InvalidParameterError(f"{self.label} input sequence_lens", value.shape, f"must be [batch_size] = [{batch}]")
        lengths = value.astype(np.int64)
        if lengths.min() < 0 or lengths.max() > steps:
            raise InvalidParameterError(f"{self.label} input sequence_lens", lengths.tolist(),
                                        f"every value must be >= 0 and <= seq_length={steps}")
        return None if np.all(lengths == steps) else lengths
