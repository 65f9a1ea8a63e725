"""The benchmark's machine description and the bandwidth measurement's bookkeeping (no timing
assertions); the readers behind it are tested in tests/test_hardware.py."""

from __future__ import annotations

import pytest

from tsilstm.bench.bandwidth import measure_read_bandwidth
from tsilstm.bench.machine import describe_machine
from tsilstm.errors import InvalidParameterError


def test_describe_machine_fields():
    machine = describe_machine(threads=2)
    assert machine["threads"] == 2
    assert machine["logical_cores"] >= 1
    assert set(machine) >= {"cpu_model", "cpu_simd_flags", "cache_bytes", "llc_bytes", "load_average_1min"}


def test_bandwidth_measurement_reports_bytes_and_threads():
    result = measure_read_bandwidth(threads=2, array_bytes=16 * 2**20, passes=2)
    assert result.array_bytes == 16 * 2**20
    assert result.best_bytes_per_s >= result.median_bytes_per_s > 0
    assert set(result.by_threads_bytes_per_s) == {1, 2}
    assert result.as_dict()["bandwidth_gbs"] == pytest.approx(result.best_bytes_per_s / 1e9)
    with pytest.raises(InvalidParameterError, match="threads"):
        measure_read_bandwidth(threads=0)
