"""The figures of a plan that users read: traffic totals and per step, buffer peak, notes."""

from __future__ import annotations

from tsilstm.plan.buffer_sim import simulate_buffer
from tsilstm.plan.ops import Plan

_MATRIX_NAMES = {"h": "w_hh", "x": "w_ih", "p": "w_hr", "r": "w_hh_reset"}


def plan_summary(plan: Plan) -> dict[str, object]:
    """A JSON-ready summary of ``plan``: schedule, sizes, weight bytes loaded from DRAM (total, by
    matrix, per step), the recurrent matrix bytes M, the peak buffer bytes and the generator's notes."""
    stats = simulate_buffer(plan)
    tiling = plan.tiling
    recurrent = stats.bytes_by_source["h"] + stats.bytes_by_source["p"] + stats.bytes_by_source.get("r", 0)
    return {
        "schedule": plan.schedule,
        "requested_schedule": plan.program.requested_schedule or plan.schedule,
        "fell_back": plan.program.fell_back,
        "hidden": tiling.hidden,
        "input": tiling.input,
        "proj_size": tiling.proj,
        "gates": tiling.gates,
        "steps": plan.steps,
        "batch": plan.batch,
        "tile": tiling.tile,
        "row_blocks": tiling.row_blocks,
        "dtype_bytes": tiling.dtype_bytes,
        "buffer_bytes": plan.buffer_bytes,
        "recurrent_matrix_bytes": tiling.matrix_bytes("h") + tiling.matrix_bytes("p") + tiling.matrix_bytes("r"),
        "weight_bytes_loaded": stats.weight_bytes_loaded,
        "weight_bytes_by_matrix": {_MATRIX_NAMES[k]: v for k, v in stats.bytes_by_source.items() if v},
        "weight_bytes_per_step": stats.weight_bytes_loaded / plan.steps,
        "recurrent_weight_bytes_per_step": recurrent / plan.steps,
        "peak_buffer_bytes": stats.peak_buffer_bytes,
        "tile_loads": stats.loads,
        "tile_uses": stats.uses,
        "notes": list(plan.program.notes),
    }
