"""The rtl package sits at the accelerator model's level: cli -> rtl -> accel / plan -> model /
cells. Only the CLI imports it; it imports nothing above it or beside it but accel."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "tsilstm"
ABOVE_OR_BESIDE = ("cli", "report", "runtime", "bench", "integrations", "importers", "verification")


def test_only_the_cli_imports_rtl() -> None:
    offenders = [
        str(path.relative_to(SRC)) for path in SRC.rglob("*.py")
        if "tsilstm.rtl" in path.read_text(encoding="utf-8") and SRC / "rtl" not in path.parents and SRC / "cli" not in path.parents
    ]
    assert offenders == []


def test_rtl_imports_only_what_is_below_it() -> None:
    pattern = re.compile(r"^\s*(?:from|import) tsilstm\.(\w+)", re.MULTILINE)
    imported = {name for path in (SRC / "rtl").rglob("*.py") for name in pattern.findall(path.read_text(encoding="utf-8"))}
    assert imported and not imported & set(ABOVE_OR_BESIDE)
