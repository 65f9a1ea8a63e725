"""tsilstm: time-step interleaved weight reuse for memory-bound LSTM/GRU inference."""

from tsilstm.version import __version__

__all__ = ["__version__"]

_RUNTIME_EXPORTS = ("LSTM", "GRU", "from_torch")


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """Lazy re-exports of the runtime (``tsilstm.LSTM``, ``tsilstm.GRU``, ``tsilstm.from_torch``),
    and of ``tsilstm.convert`` (torch models, ``tsilstm.integrations.torch``), so that ``import tsilstm``
    stays cheap and never imports torch or the native kernel."""
    if name in _RUNTIME_EXPORTS:
        from tsilstm import runtime

        return getattr(runtime, name)
    if name == "convert":
        from tsilstm.integrations.torch import convert

        return convert
    raise AttributeError(f"module 'tsilstm' has no attribute {name!r}")
