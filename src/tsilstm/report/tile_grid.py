"""Draw one sweep of a schedule as a tile grid: load order and the steps each tile serves."""

from __future__ import annotations

from pathlib import Path

from tsilstm.errors import InvalidParameterError
from tsilstm.plan.expand import expand
from tsilstm.plan.ops import LOAD, USE, Program

_STEP_COLOURS = {(0,): "#9ecae1", (1,): "#fdae6b", (0, 1): "#3182bd", (1, 2): "#e6550d", (2,): "#a1d99b"}


def sweep_tile_uses(program: Program) -> dict[tuple[int, int], tuple[int, tuple[int, ...]]]:
    """For each W_h tile (row, col): (position of its first use in one body instance, 1-based;
    the step offsets it serves in that instance)."""
    order: dict[tuple[int, int], tuple[int, tuple[int, ...]]] = {}
    for op in program.body:
        if op.kind != USE or op.src != "h":
            continue
        key = (op.row, op.col)
        steps = tuple(range(op.step, op.step + op.nsteps))
        if key in order:
            position, served = order[key]
            order[key] = (position, tuple(sorted(set(served + steps))))
        else:
            order[key] = (len(order) + 1, steps)
    return order


def steady_loads_per_step(program: Program) -> dict[tuple[int, int], float]:
    """For each W_h tile (row, col): how many times it is loaded per time step in steady state
    (from two expansions, 4 and 6 periods long; pinned tiles load 0 times per step)."""
    counts: list[dict[tuple[int, int], int]] = []
    for periods in (4, 6):
        tally: dict[tuple[int, int], int] = {}
        for op in expand(program, periods * program.period).ops:
            if op.kind == LOAD and op.src == "h":
                tally[(op.row, op.col)] = tally.get((op.row, op.col), 0) + 1
        counts.append(tally)
    steps = 2 * program.period
    return {key: (counts[1].get(key, 0) - counts[0].get(key, 0)) / steps for key in counts[1]}


def draw_tile_grid(program: Program, path: str | Path) -> Path:
    """Write a PNG or SVG (by ``path``'s suffix) of one body instance of ``program``: each W_h tile
    shows the order in which it is first used, its colour the steps it serves (relative to the
    instance's first step s); tiles loaded from DRAM at every step are pale, tiles loaded once per
    two steps are solid, pinned tiles hatched. Returns the path."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise InvalidParameterError("plot", str(path), "must end in .png or .svg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    uses = sweep_tile_uses(program)
    rows = program.tiling.row_blocks
    cols = len(program.tiling.col_bounds["h"])
    pinned = {(t.row, t.col) for t in program.pinned if t.src == "h"}
    loads = steady_loads_per_step(program)
    size = min(12.0, 1.2 + 0.45 * max(rows, cols))
    fig, ax = plt.subplots(figsize=(size + 2.5, size))
    font = max(4.0, min(10.0, 120.0 / max(rows, cols)))
    for (r, c), (position, steps) in uses.items():
        colour = _STEP_COLOURS.get(steps, "#cccccc")
        every_step = loads.get((r, c), 0.0) >= 1.0
        ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour, edgecolor="white", alpha=0.35 if every_step else 1.0,
                               hatch="///" if (r, c) in pinned else None))
        if max(rows, cols) <= 24:
            ax.text(c + 0.5, r + 0.5, str(position), ha="center", va="center", fontsize=font)
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.set_xlabel("column block c (h_{t-1} inputs)")
    ax.set_ylabel("row-block r (hidden units, all gates)")
    labels = {(0,): "step s", (1,): "step s+1", (0, 1): "steps s, s+1", (1, 2): "steps s+1, s+2", (2,): "step s+2"}
    present = sorted({steps for _, steps in uses.values()}, key=lambda s: (s[0], len(s)))
    handles = [Patch(facecolor=_STEP_COLOURS.get(s, "#cccccc"), label=labels.get(s, str(s))) for s in present]
    if any(v >= 1.0 for v in loads.values()):
        handles.append(Patch(facecolor="#888888", alpha=0.35, label="loaded at every step"))
    if any(0 < v < 1.0 for v in loads.values()):
        handles.append(Patch(facecolor="#888888", label="loaded once per two steps"))
    if pinned:
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="pinned (never reloaded)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9)
    steps_per_instance = program.period
    ax.set_title(
        f"{program.schedule}: one {'sweep' if steps_per_instance == 2 and program.schedule.startswith('tsi') else 'period'} "
        f"({steps_per_instance} step{'s' if steps_per_instance > 1 else ''}); numbers = first-use order",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
