"""Fair baselines: a W_h that fits is never streamed, the load-ahead room is taken only when
needed, and the best non-interleaved schedule stands beside conventional."""

from __future__ import annotations

import pytest

from tsilstm.accel.arch_file import load_arch
from tsilstm.accel.baselines import BEST_NON_INTERLEAVED, NON_INTERLEAVED, best_non_interleaved, with_baselines
from tsilstm.accel.evaluate import evaluate_workload, layer_program
from tsilstm.accel.workloads import LayerShape, Workload
from tsilstm.plan import SCHEDULES


def _weights_per_extra_step(shape: LayerShape, buffer_bytes: int) -> dict[str, float]:
    arch = load_arch("edge").with_overrides(weight_buffer_bytes=buffer_bytes)
    short = evaluate_workload(Workload("s", (shape,), 6, 1), arch)
    long = evaluate_workload(Workload("l", (shape,), 9, 1), arch)
    return {a.schedule: (b.counts.dram_bytes["weights"] - a.counts.dram_bytes["weights"]) / 3 for a, b in zip(short, long)}


@pytest.mark.parametrize(
    "shape",
    [LayerShape("lstm", 192, 96), LayerShape("gru", 128, 200), LayerShape("lstm", 64, 128, proj_size=64),
     LayerShape("gru", 128, 64, variant="reset_before")],
)
def test_a_buffer_of_w_h_plus_one_tile_streams_no_recurrent_weight(shape: LayerShape) -> None:
    arch = load_arch("edge")
    largest_tile = max(shape.gates, 1) * 64 * 64 * arch.weight_bytes
    per_step = _weights_per_extra_step(shape, shape.recurrent_weight_bytes(arch.weight_bytes) + largest_tile)
    assert per_step == dict.fromkeys(SCHEDULES, 0.0)


def test_the_load_ahead_room_is_taken_only_when_w_h_streams() -> None:
    shape = LayerShape("lstm", 256, 256)
    arch = load_arch("edge")
    m = shape.recurrent_weight_bytes(arch.weight_bytes)
    fits = layer_program(shape, "conventional", 10, arch.with_overrides(weight_buffer_bytes=m))
    assert fits.buffer_bytes == m and len(fits.pinned) == 16
    streams = layer_program(shape, "pinned", 10, arch.with_overrides(weight_buffer_bytes=m // 2))
    assert streams.buffer_bytes == m // 2 - arch.prefetch_tiles * 4 * 64 * 64 * 2


def test_best_non_interleaved_is_the_least_energy_of_the_three() -> None:
    workload = Workload("w", (LayerShape("lstm", 256, 256),), 10, 1)
    results = evaluate_workload(workload, load_arch("edge").with_overrides(weight_buffer_bytes=256 * 1024))
    best = best_non_interleaved(results)
    assert best is not None and best.schedule == BEST_NON_INTERLEAVED
    candidates = {r.schedule: r.energy_pj for r in results if r.schedule in NON_INTERLEAVED}
    assert best.stands_for == min(candidates, key=candidates.get)
    assert best.energy_pj == min(candidates.values())
    assert [r.schedule for r in with_baselines(results)][-1] == BEST_NON_INTERLEAVED
    assert best_non_interleaved([r for r in results if r.schedule == "tsi"]) is None


def test_the_iso_traffic_buffer_matches_tsi_and_no_smaller_tile_count_does() -> None:
    from tsilstm.accel.iso_traffic import iso_traffic_buffer_bytes, recurrent_weight_bytes

    workload = Workload("w", (LayerShape("lstm", 256, 256),), 12, 1)
    arch = load_arch("edge").with_overrides(weight_buffer_bytes=64 * 1024)
    target = recurrent_weight_bytes(workload, "tsi", arch)
    buffer = iso_traffic_buffer_bytes(workload, "pinned", target, arch)
    tile = 4 * 64 * 64 * 2
    assert recurrent_weight_bytes(workload, "pinned", arch.with_overrides(weight_buffer_bytes=buffer)) <= target
    assert recurrent_weight_bytes(workload, "pinned", arch.with_overrides(weight_buffer_bytes=buffer - tile)) > target
