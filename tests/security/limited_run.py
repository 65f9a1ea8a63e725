"""Run the ``tsilstm`` CLI in a child process under an address-space limit and measure it: exit
status, output, wall time and the child's own peak RSS: its VmHWM, written by the child as it exits
(wait4's ru_maxrss would do for other children, but Linux carries the forking parent's peak across
exec into it, so a large test process would count); ru_maxrss only when the child could not write."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

PEAK_FILE_ENV = "TSILSTM_TEST_PEAK_FILE"
CLI = (
    "import atexit, os\n"
    "def _peak():\n"
    "    with open('/proc/self/status') as status, open(os.environ['" + PEAK_FILE_ENV + "'], 'w') as out:\n"
    "        out.write(next(line.split()[1] for line in status if line.startswith('VmHWM:')))\n"
    "atexit.register(_peak)\n"
    "from tsilstm.cli.main import cli; cli()"
)
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
    cpu_seconds: float = 0.0
    """The child's own user + system CPU time (wait4): its work, whatever else the machine runs."""


def run_cli_limited(args: list[str], timeout_s: float = 60.0,
                    address_space_bytes: int = ADDRESS_SPACE_LIMIT_BYTES) -> LimitedRun:
    """Run ``tsilstm ARGS`` (this interpreter, this PYTHONPATH) with RLIMIT_AS set; kill it after
    ``timeout_s`` (returncode -9 then)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space_bytes, address_space_bytes))

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.TemporaryDirectory() as folder:
        peak_file = os.path.join(folder, "peak_kib")
        start = time.monotonic()
        process = subprocess.Popen([sys.executable, "-W", "ignore", "-c", CLI, *args], stdout=out, stderr=err,
                                   preexec_fn=limit, env={**os.environ, PEAK_FILE_ENV: peak_file})
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
        try:
            with open(peak_file) as written:
                peak_kib = int(written.read())
        except (OSError, ValueError):
            peak_kib = usage.ru_maxrss
        return LimitedRun(process.returncode, out.read(), err.read(), seconds, peak_kib * 1024,
                          usage.ru_utime + usage.ru_stime)
