"""Multi-layer, bidirectional, batch-first handling with PyTorch semantics around a per-direction runner."""

from __future__ import annotations

import os
import threading
import weakref
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Callable

import numpy as np

from tsilstm.cells.reference import reference_direction
from tsilstm.errors import InvalidParameterError
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel

DirectionRunner = Callable[
    [RecurrentLayer, DirectionWeights, np.ndarray, np.ndarray, "np.ndarray | None"],
    "tuple[np.ndarray, np.ndarray, np.ndarray | None]",
]


def run_model(
    model: RecurrentModel,
    x: np.ndarray,
    h0: np.ndarray | None,
    c0: np.ndarray | None,
    runner: DirectionRunner,
    *,
    batch_first: bool = False,
    concurrent: Callable[[int, int, int], Executor | None] | None = None,
    lengths: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run ``model`` like ``torch.nn.LSTM/GRU.forward`` with ``runner`` computing each direction.

    ``x`` is (T, N, X), or (N, T, X) with ``batch_first``, or unbatched (T, X). ``h0`` is
    (L*D, N, P) and ``c0`` (L*D, N, H) for LSTM (None means zeros). Returns (output, h_n, c_n)
    with output (T, N, D*P) (or batch-first / unbatched like the input); c_n is None for GRU.
    A stack whose layers differ in hidden size, projection or directions (``model.uniform_states``
    False) takes and returns its states as a tuple with one (N, P_k) array per layer direction, in
    order (layer 0 forward, layer 0 reverse, layer 1 ...). When ``concurrent(layer index, batch, steps)`` gives an
    executor, a bidirectional layer's reverse direction runs on it while this thread runs the forward
    one (the directions are independent: results are the same). An executor first used in another
    process (this one is a ``fork()`` of it: its worker thread did not come along) is replaced by a
    fresh one-worker pool of this process (``process_executor``).

    ``lengths`` (N,) (batched time-major input only): sequence n has ``lengths[n]`` real steps, the
    rest is padding. ``runner`` then takes ``lengths=`` and must carry each sequence's state beyond
    its length (the kernel does); a reverse direction runs each sequence from its own last step,
    the output is zero beyond each length and the final states are those of each sequence's own
    last step, as torch's PackedSequence and ONNX's ``sequence_lens`` have it.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise InvalidParameterError("input", str(x.dtype), "must be a floating-point array")
    unbatched = x.ndim == 2
    if unbatched:
        x = x[:, None, :]
    elif x.ndim != 3:
        raise InvalidParameterError("input", x.shape, "must have 2 (T, X) or 3 dimensions (T, N, X)")
    elif batch_first:
        x = x.transpose(1, 0, 2)
    steps, batch, features = x.shape
    if lengths is not None and (unbatched or batch_first or np.shape(lengths) != (batch,)):
        raise InvalidParameterError("lengths", np.shape(lengths), f"must be ({batch},) with time-major batched input")
    first = model.layers[0]
    if features != first.input_size:
        raise InvalidParameterError("input", x.shape, f"last dimension must be input_size={first.input_size}")
    with_c = first.spec.has_cell_state
    slots = [layer for layer in model.layers for _ in layer.directions]
    if model.uniform_states:
        h0 = _initial(h0, "h0", (len(slots), batch, first.recurrent_size), unbatched, x.dtype)
        c0 = _initial(c0, "c0", (len(slots), batch, first.hidden_size), unbatched, x.dtype) if with_c else None
    else:
        h0 = _initial_per_slot(h0, "h0", [(batch, layer.recurrent_size) for layer in slots], unbatched, x.dtype)
        c0 = _initial_per_slot(c0, "c0", [(batch, layer.hidden_size) for layer in slots], unbatched, x.dtype) if with_c else None
    h_n, c_n = [], []
    layer_in = x
    live = None if lengths is None else (np.arange(steps)[:, None] < lengths[None, :])[:, :, None]
    k = -1
    for li, layer in enumerate(model.layers):
        calls = []
        for d, weights in enumerate(layer.directions):
            k += 1
            seq = _reversed(layer_in, lengths) if layer.runs_reversed(d) else layer_in
            calls.append((weights, np.ascontiguousarray(seq), h0[k], None if c0 is None else c0[k]))
        extra = {} if lengths is None else {"lengths": lengths}
        executor = concurrent(li, batch, steps) if concurrent is not None and len(calls) == 2 else None
        if executor is not None:
            executor = process_executor(executor)
            reverse = executor.submit(runner, layer, *calls[1], **extra)
            results = [runner(layer, *calls[0], **extra), reverse.result()]
        else:
            results = [runner(layer, *call, **extra) for call in calls]
        outs = []
        for d, (y, h_last, c_last) in enumerate(results):
            y = _reversed(y, lengths) if layer.runs_reversed(d) else y
            if live is not None:  # zero beyond each length (in place when the array is the runner's own)
                y = np.multiply(y, live, out=y) if y.flags.writeable and y.flags.owndata else y * live
            outs.append(y)
            h_n.append(h_last)
            c_n.append(c_last)
        layer_in = np.concatenate(outs, axis=2) if len(outs) > 1 else outs[0]
    out = np.ascontiguousarray(layer_in)
    if not model.uniform_states:
        if unbatched:
            out, h_n, c_n = out[:, 0, :], [h[0] for h in h_n], [c[0] for c in c_n] if with_c else c_n
        elif batch_first:
            out = np.ascontiguousarray(out.transpose(1, 0, 2))
        return out, tuple(h_n), (tuple(c_n) if with_c else None)
    hn = h_n[0][None] if len(h_n) == 1 else np.stack(h_n)
    cn = None if not with_c else (c_n[0][None] if len(c_n) == 1 else np.stack(c_n))
    if unbatched:
        return out[:, 0, :], hn[:, 0, :], None if cn is None else cn[:, 0, :]
    if batch_first:
        out = np.ascontiguousarray(out.transpose(1, 0, 2))
    return out, hn, cn


def _reversed(seq: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """``seq`` (T, N, F) in reverse time order; with ``lengths``, each sequence n reversed within its
    first ``lengths[n]`` steps (its padding stays after it)."""
    if lengths is None:
        return seq[::-1]
    steps, batch = seq.shape[:2]
    t = np.arange(steps)[:, None]
    source = np.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)
    # (T, N) pairs picking whole feature rows: ~10x faster than take_along_axis's (T, N, F) index
    # (T 100, batch 8, 1024 features: 0.23 vs 2.3 ms, measured 2026-12-05)
    return seq[source, np.arange(batch)[None, :]]


_executor_owners: "weakref.WeakKeyDictionary[Executor, tuple[int, Executor]]" = weakref.WeakKeyDictionary()
"""Each executor given to ``run_model`` -> (the process id that first submitted to it, the executor
that process id uses in its place: itself in that process, a fresh pool in a forked child)."""
_owners_lock = threading.Lock()


def _reset_after_fork() -> None:
    """In a forked child: a new lock (another thread of the parent may have held the old one at the
    fork; the child would wait on it forever)."""
    global _owners_lock
    _owners_lock = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def process_executor(executor: Executor) -> Executor:
    """The executor this process submits to in place of ``executor``: ``executor`` itself in the
    process that first used it; in a process forked after that (whose copy of the pool has no
    worker thread: a task submitted to it would never run), a one-worker pool of its own, made
    once per process and reused."""
    pid = os.getpid()
    with _owners_lock:
        owner = _executor_owners.get(executor)
        if owner is None:
            _executor_owners[executor] = owner = (pid, executor)
        elif owner[0] != pid:
            _executor_owners[executor] = owner = (pid, ThreadPoolExecutor(max_workers=1, thread_name_prefix="tsilstm-reverse"))
        return owner[1]


def run_reference(
    model: RecurrentModel,
    x: np.ndarray,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    *,
    batch_first: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The reference forward pass of ``model`` (see ``run_model`` for shapes)."""
    return run_model(model, x, h0, c0, reference_direction, batch_first=batch_first)


def _initial_per_slot(states: object, name: str, shapes: list[tuple[int, int]], unbatched: bool,
                      dtype: np.dtype) -> list[np.ndarray]:
    """One initial state per layer direction of a non-uniform stack: zeros for None, else a sequence
    of ``len(shapes)`` arrays of those shapes ((P,) each when unbatched)."""
    if states is None:
        return [np.zeros(shape, dtype=dtype) for shape in shapes]
    if not isinstance(states, (list, tuple)) or len(states) != len(shapes):
        raise InvalidParameterError(
            name, type(states).__name__,
            f"this stack's layers differ in size, so its states are a sequence of {len(shapes)} arrays, one per "
            f"layer direction, of shapes {[shape[1:] if unbatched else shape for shape in shapes]}",
        )
    out = []
    for index, (state, shape) in enumerate(zip(states, shapes)):
        array = np.asarray(state, dtype=dtype)
        expected = shape[1:] if unbatched else shape
        if array.shape != expected:
            raise InvalidParameterError(f"{name}[{index}]", array.shape, f"must have shape {expected}")
        out.append(array[None, :] if unbatched else array)
    return out


def _initial(state: np.ndarray | None, name: str, shape: tuple[int, int, int], unbatched: bool, dtype: np.dtype) -> np.ndarray:
    if state is None:
        return np.zeros(shape, dtype=dtype)
    state = np.asarray(state, dtype=dtype)
    if unbatched:
        if state.shape != (shape[0], shape[2]):
            raise InvalidParameterError(name, state.shape, f"must have shape {(shape[0], shape[2])} for unbatched input")
        return state[:, None, :]
    if state.shape != shape:
        raise InvalidParameterError(name, state.shape, f"must have shape {shape}")
    return state
