"""The memory this process may allocate: the smallest of MemAvailable, RLIMIT_AS and cgroup limits."""

import subprocess
import sys
import textwrap
from pathlib import Path

from tsilstm import hardware


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_meminfo_available(tmp_path):
    meminfo = _write(tmp_path / "meminfo", "MemTotal: 100 kB\nMemAvailable:   2048 kB\n")
    assert hardware.meminfo_available_bytes(meminfo) == 2048 * 1024
    assert hardware.meminfo_available_bytes(tmp_path / "absent") is None


def test_cgroup_v2_limit_minus_usage_smallest_ancestor(tmp_path):
    cgroup = _write(tmp_path / "cgroup", "0::/outer/inner\n")
    root = tmp_path / "fs"
    _write(root / "outer" / "memory.max", "1000000\n")
    _write(root / "outer" / "memory.current", "100000\n")
    _write(root / "outer" / "inner" / "memory.max", "max\n")
    _write(root / "outer" / "inner" / "memory.current", "50000\n")
    assert hardware.cgroup_headroom_bytes(cgroup, root) == 900000


def test_cgroup_v1_limit_and_its_no_limit_value(tmp_path):
    cgroup = _write(tmp_path / "cgroup", "4:memory:/job\n3:cpu:/\n")
    root = tmp_path / "fs"
    _write(root / "memory" / "job" / "memory.limit_in_bytes", "5000000\n")
    _write(root / "memory" / "job" / "memory.usage_in_bytes", "1000000\n")
    _write(root / "memory" / "memory.limit_in_bytes", "9223372036854771712\n")
    assert hardware.cgroup_headroom_bytes(cgroup, root) == 4000000
    _write(root / "memory" / "job" / "memory.limit_in_bytes", "9223372036854771712\n")
    assert hardware.cgroup_headroom_bytes(cgroup, root) is None


def test_no_cgroup_file_means_no_limit(tmp_path):
    assert hardware.cgroup_headroom_bytes(tmp_path / "absent", tmp_path) is None


def _run_limited(code: str, address_space_bytes: int) -> subprocess.CompletedProcess:
    limited = textwrap.dedent(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({address_space_bytes}, {address_space_bytes}))
    """) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", limited], capture_output=True, text=True, timeout=60)


def test_address_space_limit_is_the_figure_under_ulimit_v():
    result = _run_limited("""
        from tsilstm import hardware
        print(hardware.available_memory_bytes(), hardware.address_space_headroom_bytes())
    """, 4_000_000 * 1024)
    assert result.returncode == 0, result.stderr
    smallest, headroom = map(int, result.stdout.split())
    assert smallest == headroom and 0 < headroom < 4_000_000 * 1024


def test_big_random_module_refused_under_ulimit_v_before_drawing_weights():
    result = _run_limited("""
        import resource, time
        import tsilstm
        from tsilstm.errors import ResourceError
        start = time.monotonic()
        try:
            tsilstm.LSTM(16, 40000)
        except ResourceError as error:
            # VmHWM: this process's own peak (ru_maxrss keeps the forking parent's peak across exec)
            peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
            print("refused", time.monotonic() - start, peak_kib, error)
    """, 4_000_000 * 1024)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused"), result.stdout + result.stderr
    _, seconds, peak_kib, *_ = result.stdout.split()
    assert float(seconds) < 10 and int(peak_kib) < 1024**2  # under 1 GiB of RSS
    assert "ulimit -v" in result.stdout
