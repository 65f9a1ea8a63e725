"""A bidirectional module called in a parent process keeps working in a ``fork()``ed child (the
default start method of multiprocessing pools and DataLoader workers on Linux): the reverse
direction's thread pool does not survive a fork, so the child must not wait on the parent's copy."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import tsilstm
from tsilstm.cells.stack import process_executor

CHILD_TIMEOUT_S = 60.0
"""A child that hangs fails the test after this long (a working call takes milliseconds)."""

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX only")

_MODULE = None
_INPUT = None


def _child_call(_: int) -> np.ndarray:
    """Runs in a forked pool worker: the parent's module on the parent's input."""
    out = _MODULE(_INPUT)[0]  # type: ignore[misc]
    return np.asarray(out.detach().numpy() if hasattr(out, "detach") else out)


def _forked_results(module, x) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    global _MODULE, _INPUT
    _MODULE, _INPUT = module, x
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            return pool.map_async(_child_call, range(2)).get(timeout=CHILD_TIMEOUT_S)
    finally:
        _MODULE = _INPUT = None


@pytest.mark.parametrize("cls", [tsilstm.LSTM, tsilstm.GRU])
def test_bidirectional_module_used_in_parent_runs_in_forked_worker(cls):  # type: ignore[no-untyped-def]
    module = cls(6, 12, num_layers=2, bidirectional=True, threads=2)
    x = np.random.default_rng(0).standard_normal((7, 3, 6)).astype(np.float32)
    expected = module(x)[0]  # starts the reverse-direction worker in the parent
    for result in _forked_results(module, x):
        np.testing.assert_array_equal(result, expected)
    np.testing.assert_array_equal(module(x)[0], expected)  # the parent's own pool still works


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_torch_module_used_in_parent_runs_in_forked_worker(name):  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    import tsilstm.nn

    module = getattr(tsilstm.nn, name)(5, 9, bidirectional=True, batch_first=True, threads=2)
    x = torch.randn(2, 6, 5)
    with torch.no_grad():
        expected = module(x)[0].numpy()
        for result in _forked_results(module, x):
            np.testing.assert_array_equal(result, expected)


def test_process_executor_is_the_executor_itself_in_its_process_and_a_new_one_in_a_child():
    with ThreadPoolExecutor(max_workers=1) as executor:
        assert process_executor(executor) is executor
        assert process_executor(executor).submit(lambda: 3).result() == 3
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: a pool of its own that runs work
            try:
                replacement = process_executor(executor)
                ok = replacement is not executor and replacement is process_executor(executor)
                ok = ok and replacement.submit(lambda: 4).result(timeout=CHILD_TIMEOUT_S) == 4
                os.write(write, b"1" if ok else b"0")
            finally:
                os._exit(0)
        os.close(write)
        answer = os.read(read, 1)
        os.close(read)
        os.waitpid(pid, 0)
        assert answer == b"1"
        assert process_executor(executor) is executor
