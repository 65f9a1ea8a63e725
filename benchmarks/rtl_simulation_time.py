"""Wall time of a Verilator run of the generated accelerator: LSTM hidden 256, input 256, 16 steps,
batch 1 on the edge design, every schedule, at the edge preset's 512 KiB weight buffer and at a
128 KiB one (W_h streamed). The target: each run under 60 s on a 2-core machine. The simulator is
built (or taken from the cache) first and timed apart; each run is timed from program encoding to
the checked outputs (``run_layer``), and the load average is printed beside it.

usage: python benchmarks/rtl_simulation_time.py [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import time

from tsilstm.accel import load_arch
from tsilstm.rtl.build import build_simulator
from tsilstm.rtl.params import design_for
from tsilstm.rtl.run import RTL_SCHEDULES, random_inputs, run_layer

HIDDEN, INPUT, STEPS, BATCH = 256, 256, 16, 1
BUFFERS_KIB = (512, 128)
TARGET_S = 60.0
"""The largest wall time a run may take."""


def main() -> None:
    """Build once, then time every (buffer, schedule) run; print one row each and the worst."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per (buffer, schedule); the fastest is kept")
    args = parser.parse_args()
    arch = load_arch("edge")
    design = design_for(arch)
    start = time.perf_counter()
    build_simulator(design)
    print(f"build (or cache): {time.perf_counter() - start:.1f} s, load {os.getloadavg()[0]:.2f}")
    weights, x = random_inputs("lstm", HIDDEN, INPUT, STEPS, BATCH, seed=0)
    worst = 0.0
    print("buffer_kib  schedule       cycles      wall_s  load_1min  exact")
    for buffer_kib in BUFFERS_KIB:
        config = arch.with_overrides(weight_buffer_bytes=buffer_kib * 1024)
        for schedule in RTL_SCHEDULES:
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                result = run_layer(config, "lstm", HIDDEN, INPUT, STEPS, BATCH, schedule, weights, x, design=design)
                times.append(time.perf_counter() - start)
            worst = max(worst, min(times))
            exact = result.max_abs_error_vs_fixed_point_reference == 0.0
            print(f"{buffer_kib:>10}  {schedule:<12} {result.cycles:>9,}  {min(times):>9.2f}  {os.getloadavg()[0]:>9.2f}  {exact}")
    print(f"slowest run {worst:.2f} s: {'within' if worst < TARGET_S else 'OVER'} the {TARGET_S:.0f} s target")


if __name__ == "__main__":
    main()
