"""``tsilstm.nn.LSTM`` and ``tsilstm.nn.GRU``: torch modules with torch's constructor, parameters,
``state_dict`` and forward, whose recurrence runs in tsilstm's native kernel (see
``tsilstm.integrations.torch``). Importing this module imports torch; ``import tsilstm`` does not."""

from tsilstm.integrations.torch import GRAD_MODES, GRU, LSTM

__all__ = ["LSTM", "GRU", "GRAD_MODES"]
