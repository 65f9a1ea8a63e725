"""Machine description parsing (on fake sysfs / cpuinfo trees) and the bandwidth measurement's
bookkeeping (no timing assertions)."""

from __future__ import annotations

import pytest

from tsilstm.bench.bandwidth import measure_read_bandwidth
from tsilstm.bench.machine import cache_sizes_bytes, cpu_model, describe_machine, last_level_cache_bytes, parse_cache_size_bytes
from tsilstm.errors import InvalidParameterError


def test_parse_cache_sizes():
    assert parse_cache_size_bytes("32768K\n") == 32 * 2**20
    assert parse_cache_size_bytes("2M") == 2 * 2**20
    assert parse_cache_size_bytes("512") == 512
    assert parse_cache_size_bytes("n/a") is None


def test_cache_sizes_from_a_sysfs_tree(tmp_path):
    for index, (level, kind, size) in enumerate([(1, "Data", "48K"), (1, "Instruction", "32K"), (2, "Unified", "2048K"), (3, "Unified", "32768K")]):
        folder = tmp_path / f"index{index}"
        folder.mkdir()
        (folder / "level").write_text(f"{level}\n")
        (folder / "type").write_text(f"{kind}\n")
        (folder / "size").write_text(f"{size}\n")
    caches = cache_sizes_bytes(tmp_path)
    assert caches == {"L1d": 48 * 1024, "L1i": 32 * 1024, "L2": 2 * 2**20, "L3": 32 * 2**20}
    assert last_level_cache_bytes(caches) == 32 * 2**20
    assert cache_sizes_bytes(tmp_path / "missing") == {}


def test_cpu_model_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Example CPU 9000\n")
    assert cpu_model(info) == "Example CPU 9000"


def test_describe_machine_fields():
    machine = describe_machine(threads=2)
    assert machine["threads"] == 2
    assert machine["logical_cores"] >= 1
    assert set(machine) >= {"cpu_model", "cache_bytes", "llc_bytes", "load_average_1min"}


def test_bandwidth_measurement_reports_bytes_and_threads():
    result = measure_read_bandwidth(threads=2, array_bytes=16 * 2**20, passes=2)
    assert result.array_bytes == 16 * 2**20
    assert result.best_bytes_per_s >= result.median_bytes_per_s > 0
    assert set(result.by_threads_bytes_per_s) == {1, 2}
    assert result.as_dict()["bandwidth_gbs"] == pytest.approx(result.best_bytes_per_s / 1e9)
    with pytest.raises(InvalidParameterError, match="threads"):
        measure_read_bandwidth(threads=0)
