"""Arrows point one way: only the integrations themselves, their doors (``tsilstm.nn``,
``tsilstm.onnx`` and the package's lazy ``tsilstm.convert``) and the layers above them (cli,
report) refer to ``tsilstm.integrations``; nothing below them does."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "tsilstm"
DOORS = {SRC / "__init__.py", SRC / "nn.py", SRC / "onnx.py"}
ABOVE = (SRC / "integrations", SRC / "cli", SRC / "report")


def test_nothing_below_imports_the_integrations() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path not in DOORS and not any(folder in path.parents for folder in ABOVE)
        and "tsilstm.integrations" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
    assert "tsilstm.integrations" in (SRC / "nn.py").read_text(encoding="utf-8")
