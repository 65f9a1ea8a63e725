"""The activation working set is what each schedule keeps live: a per-step schedule is not charged
the spills of tsi's three open steps."""

from __future__ import annotations

from tsilstm.accel.activation_traffic import WORKING_SET, activation_traffic
from tsilstm.accel.arch_file import load_arch
from tsilstm.plan import SCHEDULES, Tiling


def test_every_schedule_has_a_working_set() -> None:
    assert set(WORKING_SET) == set(SCHEDULES)


def test_a_buffer_between_the_two_working_sets_spills_only_tsi() -> None:
    arch = load_arch("edge").with_overrides(activation_buffer_bytes=32 * 1024)
    tiling = Tiling(1024, 1024, 64, 4, 0, 2)
    per_step = activation_traffic(tiling, 25, 1, arch, True, "conventional")
    tsi = activation_traffic(tiling, 25, 1, arch, True, "tsi")
    # conventional: one row-block's sums (4 x 64 x 4 B) + h, c of two steps (2 x 4 KiB) + x (2 KiB)
    assert per_step.working_set_bytes == 4 * 64 * 4 + 2 * 4096 + 2048
    # tsi: sums of three whole steps (3 x 4 x 1024 x 4 B) + h, c of four steps + x
    assert tsi.working_set_bytes == 3 * 4 * 1024 * 4 + 4 * 4096 + 2048
    assert not per_step.working_set_spills and tsi.working_set_spills
    assert tsi.read_bytes["states"] > per_step.read_bytes["states"]
