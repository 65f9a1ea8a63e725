"""Reference LSTM and GRU in numpy: the ground truth every schedule and kernel is checked against."""

from tsilstm.cells.pointwise import gru_pointwise, lstm_pointwise, sigmoid
from tsilstm.cells.reference import reference_direction
from tsilstm.cells.stack import run_model, run_reference

__all__ = ["gru_pointwise", "lstm_pointwise", "sigmoid", "reference_direction", "run_model", "run_reference"]
