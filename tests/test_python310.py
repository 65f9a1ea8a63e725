"""The oldest supported Python (3.10, pyproject's requires-python): every module of the package
imports, and the TOML reader, the accelerator presets and a CLI command work. Runs in a venv with
the core dependencies only; skipped (with the reason) where no Python 3.10 or no package index is
available."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
CANDIDATES = ("python3.10", "/root/.pyenv/versions/3.10.13/bin/python")
CORE_PACKAGES = ("numpy", "click", "rich", "matplotlib", "tomli")
"""pyproject's dependencies on Python 3.10."""
OPTIONAL_MODULES = ("torch", "onnx", "onnxruntime", "h5py", "yaml", "threadpoolctl")
"""Modules of the extras: a module may need one only when it is used, never on import."""

CHECK = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import tsilstm
    assert sys.version_info[:2] == (3, 10), sys.version
    failures = []
    for info in pkgutil.walk_packages(tsilstm.__path__, "tsilstm."):
        if info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as error:
            failures.append(f"{info.name}: {error!r}")
    from click.testing import CliRunner
    from tsilstm.accel.arch_file import load_arch
    from tsilstm.cli.main import cli
    assert load_arch("edge").weight_buffer_bytes > 0 and load_arch("server").mac_units > 0
    result = CliRunner().invoke(cli, ["plan", "--hidden", "64", "--steps", "4", "--json"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["simulate", "--hidden", "64", "--steps", "0"])
    assert result.exit_code == 2, result.output
    print("\\n".join(failures))
    """
)


def _python310() -> str | None:
    """The first candidate that exists and really runs Python 3.10 (a pyenv shim may not)."""
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if not found:
            continue
        probe = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2] == (3, 10))"],
                               capture_output=True, text=True, timeout=30)
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return found
    return None


def _venv(python: str) -> Path:
    """A venv of ``python`` with the core dependencies (kept between runs in the temp folder)."""
    venv = Path(tempfile.gettempdir()) / "tsilstm-py310-venv"
    interpreter = venv / "bin" / "python"
    ready = venv / "core-installed"
    if ready.is_file():
        return interpreter
    subprocess.run([python, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True, timeout=60)
    install = subprocess.run([str(interpreter), "-m", "pip", "install", "-q", *CORE_PACKAGES],
                             capture_output=True, text=True, timeout=240)
    if install.returncode != 0:
        pytest.skip(f"cannot install the core dependencies for Python 3.10: {install.stderr.strip()[-300:]}")
    ready.write_text(" ".join(CORE_PACKAGES))
    return interpreter


def _built_copy(interpreter: Path) -> Path:
    """A copy of the package's sources with the native kernel compiled for ``interpreter`` (the
    package's own build, in a temporary folder: the working tree is not touched); returns its src."""
    tree = Path(tempfile.gettempdir()) / "tsilstm-py310-build"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(SRC, tree / "src", ignore=shutil.ignore_patterns("*.so", "__pycache__", "*.egg-info"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    build = subprocess.run([str(interpreter), "setup.py", "-q", "build_ext", "--inplace"], cwd=tree,
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    return tree / "src"


@pytest.mark.skipif(_python310() is None, reason="no Python 3.10 interpreter (python3.10) on this machine")
@pytest.mark.skipif(sys.platform == "win32", reason="the venv layout assumed is POSIX")
def test_every_module_imports_and_the_cli_runs_on_python_310():
    interpreter = _venv(_python310())  # type: ignore[arg-type]
    src = _built_copy(interpreter)
    result = subprocess.run([str(interpreter), "-c", CHECK], capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg",
                                 "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    failures = [line for line in result.stdout.splitlines() if line.strip()]
    unexpected = [line for line in failures if not any(f"'{name}'" in line for name in OPTIONAL_MODULES)]
    assert not unexpected, unexpected
