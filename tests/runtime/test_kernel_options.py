"""``KernelOptions``: the kernel settings every entry point builds once; each field checked with an
error naming it; unset is None; entry points refuse bad options before building anything."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import tsilstm
from tsilstm.errors import InvalidParameterError
from tsilstm.runtime import KernelOptions


@pytest.mark.parametrize("field, value", [("schedule", "fastest"), ("threads", 0), ("threads", 10_000), ("threads", 1.5),
                                          ("weight_dtype", "float16"), ("tile", 0), ("isa", "sse9"), ("tuning", "maybe")])
def test_each_field_is_checked_by_name(field, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError) as error:
        KernelOptions(**{field: value})
    assert error.value.name == field


def test_unset_is_none_and_float32_by_default() -> None:
    options = KernelOptions(weight_dtype=None)
    assert (options.schedule, options.threads, options.tile, options.isa, options.tuning) == ("auto", None, None, None, None)
    assert options.weight_dtype == options.dtype == "float32"
    assert options.with_threads(3).threads == 3 and options.with_threads(None) is options
    assert KernelOptions(tile=8).tile_units == 8 and KernelOptions().tile_units > 0


@pytest.mark.parametrize("make", [
    lambda: tsilstm.LSTM(3, 4, schedule="nope"),
    lambda: tsilstm.GRU(3, 4, threads=0),
    lambda: tsilstm.LSTM.from_model(tsilstm.LSTM(3, 4).model, weight_dtype="int4"),
    lambda: tsilstm.LSTM.from_model(tsilstm.LSTM(3, 4).model, options=KernelOptions(), schedule="tsi"),
])
def test_entry_points_refuse_bad_options(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError):
        make()


def test_a_module_keeps_its_options_through_pickling() -> None:
    module = tsilstm.GRU(5, 16, schedule="tsi", threads=1, tile=8, seed=2)
    assert module.options == KernelOptions("tsi", 1, "float32", 8)
    copy = pickle.loads(pickle.dumps(module))
    assert copy.options == module.options
    x = np.random.default_rng(0).standard_normal((4, 2, 5)).astype(np.float32)
    assert np.array_equal(copy(x)[0], module(x)[0])
