"""A whole PyTorch model before and after ``tsilstm.convert``: same weights, same input, same thread
count, one process, interleaved rounds (tsilstm.bench.harness.measure_interleaved, each sample
primed by an untimed call).

usage: python benchmarks/torch_model.py [--model MODULE:FACTORY] [--batch 1] [--steps 50]
                                        [--threads 2] [--rounds 15] [--schedule auto] [--json FILE]

FACTORY(batch, steps) returns (model, inputs): an nn.Module and the tuple of arguments of one
forward call. The default is the Embedding(1000, 1024) -> 2 x LSTM(1024) -> Linear(1024, 1000)
model below, fed (steps, batch) token ids. Every call runs under torch.inference_mode(), with
torch.set_num_threads(threads) for both models (embedding and head run in torch in both) and
``threads`` kernel threads after conversion. Prints the median ms per call of each model, the
speedup (ratio of medians), the max abs difference of the outputs and the 1-minute load average
before and after; --json writes the same as a JSON object.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from typing import Any, Callable

import torch

import tsilstm
from tsilstm.bench.harness import measure_interleaved


class EmbeddingLSTMHead(torch.nn.Module):
    """Embedding(vocabulary, width) -> LSTM(width, width, num_layers=2) -> Linear(width, vocabulary)."""

    def __init__(self, vocabulary: int = 1000, width: int = 1024) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(vocabulary, width)
        self.rnn = torch.nn.LSTM(width, width, num_layers=2)
        self.head = torch.nn.Linear(width, vocabulary)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(self.emb(tokens))[0])


def embedding_lstm_head(batch: int, steps: int) -> tuple[torch.nn.Module, tuple[Any, ...]]:
    """The default model and (steps, batch) random token ids."""
    torch.manual_seed(0)
    return EmbeddingLSTMHead(), (torch.randint(0, 1000, (steps, batch)),)


def load_factory(spec: str) -> Callable[[int, int], tuple[torch.nn.Module, tuple[Any, ...]]]:
    """The function named by ``MODULE:FACTORY``."""
    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise SystemExit(f"--model {spec!r}: expected MODULE:FACTORY, e.g. mypackage.models:make_model")
    return getattr(importlib.import_module(module_name), name)


def max_abs_difference(a: Any, b: Any) -> float:
    """Max abs difference over (nested tuples of) tensors."""
    if isinstance(a, (tuple, list)):
        return max(max_abs_difference(x, y) for x, y in zip(a, b))
    return float((a.double() - b.double()).abs().max())


def run(factory: Callable[..., Any], batch: int, steps: int, threads: int, rounds: int, schedule: str) -> dict[str, Any]:
    """Time the model from ``factory`` before and after conversion; returns the figures."""
    torch.set_num_threads(threads)
    model, inputs = factory(batch, steps)
    model = model.eval()
    fast = tsilstm.convert(model, schedule=schedule, threads=threads)
    load_before = os.getloadavg()[0]
    with torch.inference_mode():
        error = max_abs_difference(fast(*inputs), model(*inputs))  # first call: packs and (auto) measures
        stats = measure_interleaved({"torch": lambda: model(*inputs), "tsilstm": lambda: fast(*inputs)}, rounds,
                                    prime=True)
    summaries = [m.plan_summary() for m in fast.modules() if hasattr(m, "plan_summary")]
    return {
        "batch": batch, "steps": steps, "threads": threads, "rounds": rounds, "schedule": schedule,
        "torch_ms": stats["torch"].median_s * 1e3, "tsilstm_ms": stats["tsilstm"].median_s * 1e3,
        "torch_ms_min": stats["torch"].min_s * 1e3, "tsilstm_ms_min": stats["tsilstm"].min_s * 1e3,
        "speedup": stats["torch"].median_s / stats["tsilstm"].median_s,
        "max_abs_error": error,
        "load_average_1min": {"before": load_before, "after": os.getloadavg()[0]},
        "torch_version": torch.__version__, "plan": summaries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="MODULE:FACTORY (default: Embedding -> 2 x LSTM(1024) -> Linear)")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--schedule", default="auto")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    factory = load_factory(args.model) if args.model else embedding_lstm_head
    result = run(factory, args.batch, args.steps, args.threads, args.rounds, args.schedule)
    print("\n".join(result["plan"]))
    print(f"batch {result['batch']}, {result['steps']} steps, {result['threads']} threads, {result['rounds']} rounds; "
          f"load average {result['load_average_1min']['before']:.2f} -> {result['load_average_1min']['after']:.2f}")
    print(f"torch   : {result['torch_ms']:8.2f} ms per call (median; min {result['torch_ms_min']:.2f})")
    print(f"tsilstm : {result['tsilstm_ms']:8.2f} ms per call (median; min {result['tsilstm_ms_min']:.2f})")
    print(f"speedup : {result['speedup']:.2f}x   max abs difference of the outputs: {result['max_abs_error']:.2e}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
