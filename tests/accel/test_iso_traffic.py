"""The closed-form recurrent traffic of the non-interleaved schedules equals the count of their
generated programs at every buffer, so the iso-traffic search needs no program per probe."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tsilstm.accel.arch_file import load_arch
from tsilstm.accel.baselines import NON_INTERLEAVED
from tsilstm.accel.evaluate import layer_tiling
from tsilstm.accel.iso_traffic import RecurrentTraffic, recurrent_weight_bytes
from tsilstm.accel.workloads import LayerShape, Workload


@settings(max_examples=40, deadline=None)
@given(
    cell=st.sampled_from(["lstm", "gru"]), hidden=st.sampled_from([96, 160, 256]), proj=st.sampled_from([0, 0, 48]),
    tile=st.sampled_from([32, 64]), steps=st.integers(1, 9), prefetch=st.integers(0, 2),
    buffer_tiles=st.integers(1, 40), schedule=st.sampled_from(NON_INTERLEAVED),
)
def test_the_closed_form_equals_the_programs_count(  # type: ignore[no-untyped-def]
    cell, hidden, proj, tile, steps, prefetch, buffer_tiles, schedule
) -> None:
    shape = LayerShape(cell, hidden, hidden, proj if cell == "lstm" else 0)
    arch = load_arch("edge").with_overrides(tile_units=tile, prefetch_tiles=prefetch)
    tiling = layer_tiling(shape, arch)
    buffer = buffer_tiles * tiling.max_tile_bytes + (tiling.max_tile_bytes // 3 if buffer_tiles % 2 else 0)
    sized = arch.with_overrides(weight_buffer_bytes=buffer)
    form = RecurrentTraffic.of(tiling, steps, prefetch)
    assert form.bytes_moved(schedule, buffer) == recurrent_weight_bytes(Workload("w", (shape,), steps, 1), schedule, sized)
