"""tsilstm inside PyTorch models: ``LSTM`` / ``GRU`` (torch modules with torch's parameters and
forward, run by the native kernel), ``convert`` (replace every ``torch.nn.LSTM`` / ``GRU`` in a
model) and the registered operators ``torch.ops.tsilstm.lstm_forward`` / ``gru_forward`` that
``torch.compile``, ``torch.export`` and ``torch.jit.trace`` record (docs/design.md section 11).
Importing it imports torch."""

from tsilstm.integrations.torch.conversion import ConversionReport, convert, explain_conversion
from tsilstm.integrations.torch.modules import GRAD_MODES, GRU, LSTM

__all__ = ["LSTM", "GRU", "GRAD_MODES", "convert", "explain_conversion", "ConversionReport"]
