"""Arrows point one way: only the integrations themselves, ``tsilstm.nn`` and the package's lazy
``tsilstm.convert`` refer to ``tsilstm.integrations``; nothing below them does."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "tsilstm"
DOORS = {SRC / "__init__.py", SRC / "nn.py"}


def test_nothing_below_imports_the_integrations() -> None:
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path not in DOORS and (SRC / "integrations") not in path.parents
        and "tsilstm.integrations" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
    assert "tsilstm.integrations" in (SRC / "nn.py").read_text(encoding="utf-8")
