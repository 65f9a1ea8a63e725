"""Run the ``tsilstm`` CLI in a child process under an address-space limit and measure it: exit
status, output, wall time and the child's own peak RSS (from wait4, so other children do not count)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

CLI = "from tsilstm.cli.main import cli; cli()"
ADDRESS_SPACE_LIMIT_BYTES = 4_000_000 * 1024
"""``ulimit -v 4000000``, as in the issue's reproducers (torch needs ~2.5 GB of address space to import)."""


@dataclass(frozen=True)
class LimitedRun:
    """What one limited CLI run did."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_bytes: int


def run_cli_limited(args: list[str], timeout_s: float = 60.0,
                    address_space_bytes: int = ADDRESS_SPACE_LIMIT_BYTES) -> LimitedRun:
    """Run ``tsilstm ARGS`` (this interpreter, this PYTHONPATH) with RLIMIT_AS set; kill it after
    ``timeout_s`` (returncode -9 then)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space_bytes, address_space_bytes))

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        process = subprocess.Popen([sys.executable, "-W", "ignore", "-c", CLI, *args], stdout=out, stderr=err,
                                   preexec_fn=limit)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout_s:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return LimitedRun(process.returncode, out.read(), err.read(), seconds, usage.ru_maxrss * 1024)
