"""Bad input to tsilstm.nn.LSTM / GRU: clear errors naming the argument, never a silent result."""

from __future__ import annotations

import pytest

from tests.integrations.torch.twins import twin
from tsilstm.errors import InvalidParameterError
from tsilstm.integrations.torch import GRU, LSTM

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_inputs_that_are_refused(cell) -> None:  # type: ignore[no-untyped-def]
    _, fast = twin(cell, 4, 6)
    cases = {
        "integer": torch.ones(3, 2, 4, dtype=torch.int64),
        "meta": torch.empty(3, 2, 4, device="meta"),
        "rank 4": torch.randn(1, 3, 2, 4),
        "features": torch.randn(3, 2, 5),
        "no steps": torch.randn(0, 2, 4),
        "no sequences": torch.randn(3, 0, 4),
        "numpy": torch.randn(3, 2, 4).numpy(),
    }
    for what, value in cases.items():
        with torch.no_grad(), pytest.raises(InvalidParameterError, match="input") as error:
            fast(value)
        if what == "meta":
            assert "meta tensor" in str(error.value)


def test_states_that_are_refused() -> None:
    _, fast = twin("lstm", 4, 6, num_layers=2)
    x = torch.randn(3, 2, 4)
    good = torch.zeros(2, 2, 6)
    for hx, name in [(good, "hx"), ((good,), "hx"), ((torch.zeros(1, 2, 6), good), r"hx\[0\]"),
                     ((good, torch.zeros(2, 2, 6, dtype=torch.int32)), r"hx\[1\]"),
                     ((good, torch.zeros(2, 2, 6, device="meta")), r"hx\[1\]")]:
        with torch.no_grad(), pytest.raises(InvalidParameterError, match=name):
            fast(x, hx)
    _, gru = twin("gru", 4, 6)
    with torch.no_grad(), pytest.raises(InvalidParameterError, match="hx"):
        gru(x, (torch.zeros(1, 2, 6),))


def test_parameters_off_the_cpu_are_refused() -> None:
    fast = LSTM(4, 6, device="meta")
    with torch.no_grad(), pytest.raises(InvalidParameterError, match="weight_ih_l0") as error:
        fast(torch.randn(3, 2, 4))
    assert "device meta" in str(error.value)


def test_bad_options() -> None:
    for kwargs, name in [({"schedule": "naive"}, "schedule"), ({"threads": -1}, "threads"),
                         ({"weight_dtype": "float16x"}, "weight_dtype"), ({"grad_mode": None}, "grad_mode"),
                         ({"tuning": "sometimes"}, "tuning")]:
        with pytest.raises(InvalidParameterError, match=name):
            GRU(4, 6, **kwargs)
    with pytest.raises(TypeError, match="proj_size"):
        GRU(4, 6, proj_size=2)
