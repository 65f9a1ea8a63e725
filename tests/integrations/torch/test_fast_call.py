"""The repeated eager inference call of a converted module takes the short way (fast_call) and
gives torch's results; whatever changed since (weights, threads, grad mode, states, shape) takes
the full path and is right, or gets the full path's error."""

from __future__ import annotations

import pytest

from tests.integrations.torch.twins import TOLERANCE, max_error, twin
from tsilstm.errors import InvalidParameterError
from tsilstm.integrations.torch import fast_call

torch = pytest.importorskip("torch")


@pytest.fixture
def short_calls(monkeypatch):  # type: ignore[no-untyped-def]
    """The calls that took the short way (fast_call.run returning a result)."""
    taken = []
    real = fast_call.run

    def counted(*args):  # type: ignore[no-untyped-def]
        result = real(*args)
        if result is not None:
            taken.append(result)
        return result

    monkeypatch.setattr(fast_call, "run", counted)
    return taken


def _states(cell, layers, batch, hidden, proj=0):  # type: ignore[no-untyped-def]
    h = torch.randn(layers, batch, proj or hidden)
    return (h, torch.randn(layers, batch, hidden)) if cell == "lstm" else h


@pytest.mark.parametrize("schedule", ["tsi", "auto"])
@pytest.mark.parametrize("cell,proj", [("lstm", 0), ("lstm", 3), ("gru", 0)])
def test_repeated_calls_take_the_short_way_and_match_torch(cell, proj, schedule, short_calls) -> None:  # type: ignore[no-untyped-def]
    extra = {"proj_size": proj} if proj else {}
    reference, fast = twin(cell, 6, 10, num_layers=2, schedule=schedule, **extra)
    state = _states(cell, 2, 3, 10, proj)
    with torch.inference_mode():
        for _ in range(40):  # (auto: the in-place trial alternates; the kernel's turns run planned)
            x = torch.randn(1, 3, 6)
            expected = reference(x, state)
            got = fast(x, state)
            assert max_error(expected, got) <= TOLERANCE
            state = got[1]
    assert short_calls, "no call took the short way"


def test_state_none_and_no_grad(short_calls) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin("gru", 5, 8)
    x = torch.randn(2, 4, 5)
    with torch.no_grad():
        fast(x)
        expected, got = reference(x), fast(x)
    assert len(short_calls) == 1 and max_error(expected, got) <= TOLERANCE


@pytest.mark.parametrize("change", ["in_place", "new_parameter", "data", "load_state_dict"])
def test_changed_weights_are_seen(change, short_calls) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin("lstm", 4, 8, num_layers=2)
    x = torch.randn(1, 2, 4)
    with torch.no_grad():
        fast(x), fast(x)
        assert len(short_calls) == 1
        if change == "in_place":
            fast.weight_ih_l1.add_(0.5)
        elif change == "new_parameter":
            fast.weight_ih_l1 = torch.nn.Parameter(fast.weight_ih_l1 + 0.5)
        elif change == "data":
            fast.weight_ih_l1.data = fast.weight_ih_l1.data + 0.5
        else:
            state = {k: v + 0.5 if k == "weight_ih_l1" else v for k, v in fast.state_dict().items()}
            fast.load_state_dict(state)
        reference.load_state_dict(fast.state_dict())
        expected, got = reference(x), fast(x)
    assert max_error(expected, got) <= TOLERANCE


def test_functional_call_weights_are_used() -> None:
    reference, fast = twin("gru", 4, 8)
    x = torch.randn(1, 2, 4)
    other = {k: torch.randn_like(v) for k, v in fast.state_dict().items()}
    with torch.no_grad():
        fast(x), fast(x)
        expected = torch.func.functional_call(reference, other, (x,))
        got = torch.func.functional_call(fast, other, (x,))
    assert max_error(expected, got) <= TOLERANCE


def test_grad_enabled_takes_the_operator(short_calls) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin("lstm", 4, 8)
    x = torch.randn(1, 2, 4)
    with torch.no_grad():
        fast(x)
    out, _ = fast(x)  # grad enabled, parameters require grad: the operator with its autograd
    assert out.requires_grad and not short_calls
    out.sum().backward()
    assert fast.weight_hh_l0.grad is not None


def test_other_threads_shape_or_dtype_take_the_full_path(short_calls) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin("gru", 4, 8, threads=None)
    x = torch.randn(1, 2, 4)
    with torch.no_grad():
        fast(x)
        torch.set_num_threads(2)
        got2 = fast(x)
        torch.set_num_threads(1)
        got3 = fast(x.double())
        strided = torch.randn(1, 2, 8)[:, :, ::2]
        got4 = fast(strided)
        expected4 = reference(strided)
        expected = reference(x)
    assert not short_calls
    assert max_error(expected, got2) <= TOLERANCE
    assert got3[0].dtype == torch.float64 and max_error(expected[0].double(), got3[0]) <= TOLERANCE
    assert max_error(expected4, got4) <= TOLERANCE


def test_bad_states_still_get_the_full_path_error(short_calls) -> None:  # type: ignore[no-untyped-def]
    _, gru = twin("gru", 4, 8)
    _, lstm = twin("lstm", 4, 8)
    x = torch.randn(1, 2, 4)
    with torch.no_grad():
        gru(x), lstm(x)
        with pytest.raises(InvalidParameterError, match="hx"):
            gru(x, (torch.zeros(1, 2, 8),))
        with pytest.raises(InvalidParameterError, match=r"hx\[0\]"):
            lstm(x, (torch.zeros(1, 3, 8), torch.zeros(1, 2, 8)))
        with pytest.raises(InvalidParameterError, match="hx"):
            lstm(x, torch.zeros(1, 2, 8))
    assert not short_calls


def test_training_with_dropout_runs_torch(short_calls) -> None:  # type: ignore[no-untyped-def]
    _, fast = twin("lstm", 4, 8, num_layers=2, dropout=0.5)
    x = torch.randn(1, 2, 4)
    with torch.no_grad():
        fast.eval()
        fast(x), fast(x)
        taken = len(short_calls)
        fast.train()
        torch.manual_seed(1)
        a = fast(x)[0]
        torch.manual_seed(2)
        b = fast(x)[0]
    assert taken == 1 and len(short_calls) == 1
    assert not torch.equal(a, b)  # torch's dropout ran
