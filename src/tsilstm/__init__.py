"""tsilstm: time-step interleaved weight reuse for memory-bound LSTM/GRU inference."""

__version__ = "0.1.0"

_RUNTIME_EXPORTS = ("LSTM", "GRU", "from_torch")


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """Lazy re-exports of the runtime (``tsilstm.LSTM``, ``tsilstm.GRU``, ``tsilstm.from_torch``),
    so that ``import tsilstm`` stays cheap and never imports torch or the native kernel."""
    if name in _RUNTIME_EXPORTS:
        from tsilstm import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'tsilstm' has no attribute {name!r}")
