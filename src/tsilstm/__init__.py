"""tsilstm: time-step interleaved weight reuse for memory-bound LSTM/GRU inference."""

__version__ = "0.1.0"
