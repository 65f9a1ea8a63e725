"""The native kernel built and run under AddressSanitizer + UBSan and under ThreadSanitizer, as part
of the normal suite (tests/sanitizers/sanitized_run.py; about 2-3 minutes on 2 cores). Any
sanitizer report, wrong result or a sanitizer that fails to catch the deliberate defects of its
probe fails the test."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mode", ["asan", "tsan"])
def test_kernel_under_sanitizer_has_zero_reports(mode):
    for lib in ("libasan.so", "libubsan.so", "libtsan.so"):
        path = subprocess.run(["gcc", f"-print-file-name={lib}"], capture_output=True, text=True).stdout.strip()
        assert Path(path).exists(), f"gcc has no {lib}: apt-get install libasan8 libubsan1 libtsan2 (see .ci/hardening)"
    run = subprocess.run(
        [sys.executable, "-m", "tests.sanitizers.sanitized_run", "--mode", mode, "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    assert "sanitizers: zero reports" in run.stdout
