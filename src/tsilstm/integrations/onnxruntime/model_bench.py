"""A whole ONNX model timed in ``onnxruntime.InferenceSession`` against ``tsilstm.onnx.InferenceSession``
(its LSTM/GRU nodes in tsilstm): same feeds, same session options, one process, blocks of calls in
interleaved rounds (``harness.measure_interleaved``), a do-nothing control, and the max abs
difference of every output."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tsilstm.bench.harness import measure_interleaved
from tsilstm.bench.quiescence import wait_until_quiet
from tsilstm.errors import InvalidParameterError
from tsilstm.validation import require_int

BATCH_AXIS_WORDS = ("batch", "n")
"""A dynamic axis whose name (lower case) is one of these, or contains 'batch', takes ``batch``;
every other dynamic axis takes ``steps``."""
_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16}


def auto_feeds(inputs: list[Any], *, batch: int = 1, steps: int = 50, seed: int = 0) -> dict[str, np.ndarray]:
    """Random standard-normal feeds for the float inputs ``inputs`` (``NodeArg``s of a session):
    fixed axes as declared, dynamic axes ``batch`` or ``steps`` (``BATCH_AXIS_WORDS``). Integer or
    boolean inputs cannot be guessed: ``InvalidParameterError`` asks for a feeds file."""
    batch, steps = require_int("batch", batch), require_int("steps", steps)
    rng = np.random.default_rng(seed)
    feeds = {}
    for arg in inputs:
        if arg.type not in _FLOAT_TYPES:
            raise InvalidParameterError(f"feeds (input {arg.name!r})", arg.type,
                                        "auto feeds only floating-point inputs; give a .npz file with this input")
        shape = [dim if isinstance(dim, int) and dim > 0 else _dynamic_size(dim, batch, steps) for dim in arg.shape]
        feeds[arg.name] = rng.standard_normal(shape).astype(_FLOAT_TYPES[arg.type])
    return feeds


def load_feeds(path: str | Path, inputs: list[Any]) -> dict[str, np.ndarray]:
    """The feeds stored in the ``.npz`` file ``path`` (one array per input name of ``inputs``)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as stored:
            feeds = {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as error:
        raise InvalidParameterError("feeds", str(path), f"must be a readable .npz file of arrays ({error})") from error
    missing = [arg.name for arg in inputs if arg.name not in feeds]
    if missing:
        raise InvalidParameterError("feeds", str(path), f"has no array for the input(s) {missing}")
    return {arg.name: feeds[arg.name] for arg in inputs}


BLOCK_SECONDS = 0.05
"""A timed block lasts at least this long (many calls of a short model, one of a long one)."""
MIN_BLOCK_CALLS = 3
"""A timed block holds at least this many calls: a block charges ONNX Runtime's pool spinning after
its last call (~30 ms) to nobody, where single interleaved calls charged it to the other side."""
SETTLE_SECONDS = 30.0
"""At most this long, untimed calls let ``auto``'s in-place choice of the tsilstm session finish."""


def compare_onnx_model(path: str | Path, feeds: dict[str, np.ndarray] | str, *, threads: int, repeats: int = 10,
                       batch: int = 1, steps: int = 50, schedule: str = "auto", seed: int = 0,
                       on_round: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Time the model at ``path`` in onnxruntime and in tsilstm.onnx.InferenceSession, both given the
    same ``SessionOptions`` (``threads`` intra-op threads, everything else ONNX Runtime's defaults),
    on ``feeds`` (``"auto"``: ``auto_feeds`` with ``batch`` and ``steps``; a path: ``load_feeds``).
    Each sample is a block of calls (at least MIN_BLOCK_CALLS and BLOCK_SECONDS), blocks interleaved
    in rotated rounds; a second onnxruntime session of the same model and options is timed as the
    control (what a change that does nothing measures: 1.00x within noise). Returns the per-call
    times in ms, the speedup of tsilstm and of the control, and the max abs difference of every output."""
    import onnxruntime

    from tsilstm.integrations.onnxruntime import InferenceSession

    threads = require_int("threads", threads)
    path = Path(path)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    providers = ["CPUExecutionProvider"]
    baseline = onnxruntime.InferenceSession(str(path), options, providers=providers)
    control = onnxruntime.InferenceSession(str(path), options, providers=providers)
    session = InferenceSession(path, schedule=schedule, threads=threads, sess_options=options, providers=providers)
    if isinstance(feeds, str) and feeds == "auto":
        feeds = auto_feeds(baseline.get_inputs(), batch=batch, steps=steps, seed=seed)
    elif not isinstance(feeds, dict):
        feeds = load_feeds(feeds, baseline.get_inputs())
    expected = baseline.run(None, feeds)
    got = session.run(None, feeds)  # also the first call: schedule="auto" measures here
    settle_until = time.monotonic() + SETTLE_SECONDS  # auto's in-place choice runs on the first calls: let it finish
    while not session.inplace_decisions and session._host_session is not None and time.monotonic() < settle_until:
        session.run(None, feeds)
    names = [arg.name for arg in baseline.get_outputs()]
    errors = {name: float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))
              if np.size(a) else 0.0 for name, a, b in zip(names, expected, got)}
    calls = {"onnxruntime": lambda: baseline.run(None, feeds), "tsilstm": lambda: session.run(None, feeds),
             "onnxruntime (control)": lambda: control.run(None, feeds)}
    stats = measure_interleaved(
        calls, require_int("repeats", repeats), warmup=2, min_sample_s=BLOCK_SECONDS, min_calls=MIN_BLOCK_CALLS,
        on_round=on_round, prime=True, settle=wait_until_quiet,
    )
    rows = [{"impl": name, "ms_per_call": s.median_s * 1e3, "ms_per_call_q1": s.q1_s * 1e3, "ms_per_call_q3": s.q3_s * 1e3,
             "ms_per_call_min": s.min_s * 1e3, "calls_per_block": s.calls_per_sample} for name, s in stats.items()]
    return {
        "model": str(path), "threads": threads, "repeats": repeats,
        "feeds": {name: list(np.shape(value)) for name, value in feeds.items()},
        "nodes": [d.describe() for d in session.decisions],
        "in_place": {key: decision.describe() for key, decision in session.inplace_decisions.items()},
        "results": rows,
        "speedup": stats["onnxruntime"].median_s / stats["tsilstm"].median_s,
        "control_speedup": stats["onnxruntime"].median_s / stats["onnxruntime (control)"].median_s,
        "max_abs_error": errors,
    }


def _dynamic_size(dim: object, batch: int, steps: int) -> int:
    name = str(dim or "").lower()
    return batch if name in BATCH_AXIS_WORDS or "batch" in name else steps
