"""Modules can be pickled, deep-copied and sent to spawn / forkserver worker processes: the
weights travel, the packing is rebuilt on arrival, and the results equal the original's."""

import copy
import multiprocessing
import pickle

import numpy as np
import pytest

import tsilstm


def _modules():
    return [
        tsilstm.LSTM(5, 40, num_layers=2, bidirectional=True, proj_size=10, schedule="tsi", threads=2, tile=16, seed=1),
        tsilstm.GRU(5, 40, batch_first=True, bias=False, schedule="conventional", threads=1, seed=2),
        tsilstm.LSTM(5, 24, weight_dtype="bfloat16", seed=3),
    ]


def _input() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((6, 3, 5)).astype(np.float32)


def _outputs(module, x):  # type: ignore[no-untyped-def]
    out, state = module(x)
    states = state if isinstance(state, tuple) else (state,)
    return [np.asarray(out), *map(np.asarray, states)]


def _run_in_worker(payload: bytes) -> list[np.ndarray]:
    module, x = pickle.loads(payload)
    return _outputs(module, x)


@pytest.mark.parametrize("copier", [lambda m: pickle.loads(pickle.dumps(m)), copy.deepcopy], ids=["pickle", "deepcopy"])
def test_copy_gives_the_same_results(copier):
    x = _input()
    for module in _modules():
        twin = copier(module)
        assert twin is not module and repr(twin) == repr(module)
        assert twin.schedule_info == module.schedule_info
        for got, want in zip(_outputs(twin, x), _outputs(module, x)):
            np.testing.assert_array_equal(got, want)


def test_deepcopy_owns_its_weights():
    module = _modules()[0]
    twin = copy.deepcopy(module)
    assert twin.model.layers[0].directions[0].w_hh is not module.model.layers[0].directions[0].w_hh


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_modules_run_in_worker_processes(method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"start method {method} not available here")
    x = _input()
    modules = _modules()
    context = multiprocessing.get_context(method)
    with context.Pool(2) as pool:
        results = pool.map(_run_in_worker, [pickle.dumps((m, x)) for m in modules])
        direct = pool.starmap(_outputs, [(m, x) for m in modules])  # the module itself as a task argument
    for module, got, got_direct in zip(modules, results, direct):
        for a, b, want in zip(got, got_direct, _outputs(module, x)):
            np.testing.assert_array_equal(a, want)
            np.testing.assert_array_equal(b, want)
