"""``tsilstm.onnx.InferenceSession``: a drop-in for ``onnxruntime.InferenceSession`` that runs the
model's LSTM/GRU nodes in tsilstm (see ``tsilstm.integrations.onnxruntime``). onnxruntime is
imported when this module's names are first used, never by ``import tsilstm``."""

from __future__ import annotations

from typing import Any

__all__ = ["InferenceSession", "convert_model"]


def __getattr__(name: str) -> Any:
    """Lazy re-exports of ``InferenceSession`` and ``convert_model``."""
    if name in __all__:
        from tsilstm.integrations import onnxruntime as integration

        return getattr(integration, name)
    raise AttributeError(f"module 'tsilstm.onnx' has no attribute {name!r}")
