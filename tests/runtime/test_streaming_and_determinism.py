"""Chunked streaming equals one call; repeated runs are bitwise identical."""

from __future__ import annotations

import numpy as np
import pytest

import tsilstm


@pytest.mark.parametrize("schedule", ["tsi", "conventional"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("chunks", [(1, 2, 3, 4, 5, 6), (7, 13, 20), (40,)])
def test_chunked_stream_equals_one_call(cell, schedule, chunks) -> None:  # type: ignore[no-untyped-def]
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    module = cls(6, 50, num_layers=2, schedule=schedule, threads=2, tile=16, seed=11)
    x = np.random.default_rng(2).standard_normal((sum(chunks), 3, 6)).astype(np.float32)
    whole, whole_state = module(x)
    parts, state, start = [], None, 0
    for length in chunks:
        out, state = module(x[start : start + length], state)
        parts.append(out)
        start += length
    assert np.abs(np.concatenate(parts) - whole).max() <= 1e-5
    flat = lambda s: s if cell == "gru" else np.concatenate([s[0].ravel(), s[1].ravel()])  # noqa: E731
    assert np.abs(flat(state) - flat(whole_state)).max() <= 1e-5


def test_long_sequence_runs_in_time_chunks() -> None:
    """Sequences longer than the hoisting chunk give the same result as one chunk."""
    from tsilstm.runtime.execution import run_packed

    module = tsilstm.LSTM(5, 40, schedule="tsi", threads=2, tile=16, seed=3)
    (_, packed), = module._packed.values()
    x = np.random.default_rng(4).standard_normal((61, 2, 5)).astype(np.float32)
    h0, c0 = np.zeros((2, 40), np.float32), np.zeros((2, 40), np.float32)
    whole = run_packed(packed, x, h0, c0, schedule="tsi")
    chunked = run_packed(packed, x, h0, c0, schedule="tsi", chunk_bytes=4 * 2 * 160 * 7)  # 7-step chunks -> 6 (even)
    for a, b in zip(chunked, whole):
        assert np.abs(a - b).max() <= 1e-6


@pytest.mark.parametrize("threads", [1, 2, 3, 4])
@pytest.mark.parametrize("schedule", ["tsi", "conventional"])
def test_repeated_runs_bitwise_identical(schedule, threads) -> None:  # type: ignore[no-untyped-def]
    module = tsilstm.LSTM(12, 96, num_layers=2, bidirectional=True, schedule=schedule, threads=threads, tile=16, seed=5)
    x = np.random.default_rng(6).standard_normal((60, 4, 12)).astype(np.float32)
    first, (h1, c1) = module(x)
    for _ in range(3):
        again, (h2, c2) = module(x)
        assert np.array_equal(first, again) and np.array_equal(h1, h2) and np.array_equal(c1, c2)


def test_thread_count_does_not_change_the_result() -> None:
    """Each row-block's partial sums are accumulated by its owner thread in body order, so the
    result does not depend on how row-blocks are dealt to threads."""
    x = np.random.default_rng(8).standard_normal((30, 2, 10)).astype(np.float32)
    outs = [tsilstm.GRU(10, 80, schedule="tsi", threads=t, tile=16, seed=9)(x)[0] for t in (1, 2, 3, 4)]
    assert all(np.array_equal(outs[0], other) for other in outs[1:])


def test_more_threads_than_cores_do_not_deadlock() -> None:
    module = tsilstm.LSTM(8, 256, schedule="tsi", threads=8, tile=16, seed=1)
    x = np.random.default_rng(1).standard_normal((20, 1, 8)).astype(np.float32)
    reference = tsilstm.LSTM(8, 256, schedule="tsi", threads=1, tile=16, seed=1)(x)[0]
    assert np.array_equal(module(x)[0], reference)


@pytest.mark.keep_thread_policy
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_bidirectional_directions_run_concurrently_with_identical_results(cell) -> None:  # type: ignore[no-untyped-def]
    """Small layers run one kernel thread per direction: with 2 threads the reverse direction runs on
    a worker beside the forward one, and the result is bitwise the sequential one."""
    import tsilstm

    kind = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    concurrent = kind(12, 48, num_layers=2, bidirectional=True, threads=2, seed=1, tuning="off")
    sequential = kind(12, 48, num_layers=2, bidirectional=True, threads=1, seed=1, tuning="off")
    assert concurrent._direction_executor(0, 3, 33) is not None and sequential._direction_executor(0, 3, 33) is None
    x = np.random.default_rng(2).standard_normal((33, 3, 12)).astype(np.float32)
    got, want = concurrent(x), sequential(x)
    assert np.array_equal(got[0], want[0])
    for a, b in zip(got[1] if cell == "lstm" else (got[1],), want[1] if cell == "lstm" else (want[1],)):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("half_ms, together", [(0.30, True), (0.34, False)])
def test_measured_half_threads_run_the_directions_at_once(half_ms, together) -> None:  # type: ignore[no-untyped-def]
    """With ``auto``, a layer packed for 2 threads runs its two directions at once on one thread each
    when its measured decision says one thread costs less than 1.6x (CONCURRENT_GAIN) two threads'
    time per step; the results are bitwise those of the directions in turn."""
    import tsilstm
    from tsilstm.runtime.layer_run import CONCURRENT_GAIN
    from tsilstm.runtime.schedule_tuning import Decision

    assert CONCURRENT_GAIN == pytest.approx(0.2)
    module = tsilstm.GRU(12, 96, bidirectional=True, threads=2, tile=32, seed=1, tuning="read-only")
    reference = tsilstm.GRU(12, 96, bidirectional=True, threads=2, tile=32, seed=1, schedule="tsi")
    run = module.layer_runs[0]
    if run.threads != 2:
        pytest.skip("the layer is not packed for 2 threads here")
    decision = Decision("tsi", {"tsi": 0.2, "tsi@1": half_ms, "conventional": 0.25, "conventional@1": 0.5}, "now", 8, 3)
    for single_step in (False, True):
        run._adopt((4, single_step), decision, "test")
    together_run = run.concurrent_directions(3, 33)
    assert (together_run is not None and (together_run[0].schedule, together_run[1]) == ("tsi", 1)) is together
    assert (module._direction_executor(0, 3, 33) is not None) is together
    x = np.random.default_rng(2).standard_normal((33, 3, 12)).astype(np.float32)
    got, want = module(x), reference(x)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert ("both at once" in module.plan_summary()) is together
