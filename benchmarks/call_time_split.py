"""Where a call's time goes, per shape: the hoisted input product (W_ih x for every step), the
recurrent tile products, the cell updates and the waits for the other thread, as shares of the
kernel threads' time (tsilstm.runtime.call_profile), plus the whole call's ms per step.

usage: python benchmarks/call_time_split.py [--threads 2] [--steps 25] [--repeats 5]
       [--hidden 1024,1536,2048,2560,2816] [--batch 1,4] [--cell lstm,gru] [--schedule tsi]
Input size = hidden (DeepBench). Take figures with nothing else running.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tsilstm.runtime import GRU, LSTM
from tsilstm.runtime.call_profile import profiling


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hidden", type=_ints, default=[1024, 1536, 2048, 2560, 2816])
    parser.add_argument("--batch", type=_ints, default=[1, 4])
    parser.add_argument("--cell", default="lstm,gru")
    parser.add_argument("--schedule", default="tsi")
    args = parser.parse_args()
    print("| cell | hidden | batch | ms/step | hoist | tile products | cell updates | waits |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rng = np.random.default_rng(0)
    for cell in args.cell.split(","):
        module_class = LSTM if cell == "lstm" else GRU
        for hidden in args.hidden:
            module = module_class(hidden, hidden, schedule=args.schedule, threads=args.threads)
            for batch in args.batch:
                x = rng.standard_normal((args.steps, batch, hidden)).astype(np.float32)
                module(x)  # warm: pages touched, workers started
                seconds = []
                with profiling() as profile:
                    for _ in range(args.repeats):
                        start = time.perf_counter()
                        module(x)
                        seconds.append(time.perf_counter() - start)
                result = profile.result
                assert result is not None
                ms_per_step = 1e3 * float(np.median(seconds)) / args.steps
                shares = [100 * result.share(part) for part in ("hoist_s", "products_s", "update_s", "wait_s")]
                print(f"| {cell} | {hidden} | {batch} | {ms_per_step:.3f} | "
                      + " | ".join(f"{share:.0f} %" for share in shares) + " |")


if __name__ == "__main__":
    main()
