"""The machine facts, read from fake sysfs and /proc trees: one reader each, unknown is None."""

from __future__ import annotations

import os

import pytest

from tsilstm import hardware


def _sysfs(root, entries):  # type: ignore[no-untyped-def]
    for index, (level, kind, size) in enumerate(entries):
        folder = root / f"index{index}"
        folder.mkdir()
        (folder / "level").write_text(f"{level}\n")
        (folder / "type").write_text(f"{kind}\n")
        (folder / "size").write_text(f"{size}\n")
    return root


def test_parse_cache_sizes():
    assert hardware.parse_cache_size_bytes("32768K\n") == 32 * 2**20
    assert hardware.parse_cache_size_bytes("2M") == 2 * 2**20
    assert hardware.parse_cache_size_bytes("512") == 512
    assert hardware.parse_cache_size_bytes("n/a") is None
    assert hardware.parse_cache_size_bytes("") is None


def test_cache_sizes_and_last_level_from_a_sysfs_tree(tmp_path):
    root = _sysfs(tmp_path, [(1, "Data", "48K"), (1, "Instruction", "32K"), (2, "Unified", "2048K"), (3, "Unified", "32768K")])
    assert hardware.cache_sizes_bytes(root) == {"L1d": 48 * 1024, "L1i": 32 * 1024, "L2": 2 * 2**20, "L3": 32 * 2**20}
    assert hardware.last_level_cache_bytes(root) == 32 * 2**20


def test_last_level_is_the_highest_data_level(tmp_path):
    root = _sysfs(tmp_path, [(1, "Data", "32K"), (1, "Instruction", "64K"), (2, "Unified", "1M")])
    assert hardware.last_level_cache_bytes(root) == 2**20


def test_unreadable_entries_are_skipped_and_nothing_known_is_none(tmp_path):
    root = _sysfs(tmp_path, [(2, "Unified", "garbage"), ("x", "Data", "1K")])
    assert hardware.cache_sizes_bytes(root) == {}
    assert hardware.last_level_cache_bytes(root) is None
    assert hardware.cache_sizes_bytes(tmp_path / "missing") == {}
    assert hardware.last_level_cache_bytes(tmp_path / "missing") is None


def test_cpu_identity_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Example CPU 9000\nflags\t\t: fpu sse4_2 avx2 fma\n"
                    "processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu\n")
    cpu = hardware.cpu_identity(info)
    assert cpu.model == "Example CPU 9000"
    assert {"avx2", "fma"} <= cpu.flags and cpu.simd_flags == ("sse4_2", "avx2", "fma")
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd\n")
    assert hardware.cpu_identity(arm).simd_flags == ("asimd",)
    missing = hardware.cpu_identity(tmp_path / "absent")
    assert missing.model and missing.flags == frozenset()


def test_usable_cores_is_the_affinity():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert hardware.usable_cores() == expected >= 1


def test_available_memory_is_the_smallest_known_bound(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    8000000 kB\n")
    assert hardware.meminfo_available_bytes(meminfo) == 8_000_000 * 1024
    assert hardware.meminfo_available_bytes(tmp_path / "absent") is None
    (tmp_path / "bad").write_text("MemAvailable: lots\n")
    assert hardware.meminfo_available_bytes(tmp_path / "bad") is None
    assert hardware.available_memory_bytes((lambda: 5, lambda: None, lambda: 3)) == 3
    assert hardware.available_memory_bytes((lambda: None,)) is None
    here = hardware.available_memory_bytes()
    assert here is None or here > 0


@pytest.mark.parametrize("module", ["tsilstm.runtime.schedule_choice", "tsilstm.bench.machine", "tsilstm.cli.inspect_command",
                                    "tsilstm.runtime.memory_budget", "tsilstm.runtime.modules",
                                    "tsilstm.runtime.lstm_gru"])
def test_no_other_module_reads_the_machine(module):
    import importlib
    import inspect

    source = inspect.getsource(importlib.import_module(module))
    for fact in ("/sys/devices", "/proc/", "sched_getaffinity", "cpu_count"):
        assert fact not in source, (module, fact)
