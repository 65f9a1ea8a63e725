"""tsilstm.nn.LSTM / GRU against torch.nn.LSTM / GRU: outputs and states for every configuration,
dtypes, state_dict round-trips both ways, weight changes after packing, and the gradient modes."""

from __future__ import annotations

import copy
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.integrations.torch.twins import TOLERANCE, max_error, twin
from tsilstm.errors import InvalidParameterError
from tsilstm.integrations.torch import GRU, LSTM
from tsilstm.integrations.torch.pack_cache import kept_runtime

torch = pytest.importorskip("torch")


def run_both(reference, fast, *args):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        return reference(*args), fast(*args)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers,bidirectional,batch_first", [(1, False, False), (2, True, False), (3, False, True),
                                                             (2, True, True)])
def test_matches_torch(cell, layers, bidirectional, batch_first) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin(cell, 12, 20, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    x = torch.randn((3, 7, 12) if batch_first else (7, 3, 12))
    expected, got = run_both(reference, fast, x)
    assert max_error(expected, got) <= TOLERANCE


@pytest.mark.parametrize("bidirectional", [False, True])
def test_projection_and_given_states(bidirectional) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin("lstm", 6, 16, num_layers=2, proj_size=5, bidirectional=bidirectional)
    dirs = 2 if bidirectional else 1
    hx = (torch.randn(2 * dirs, 4, 5), torch.randn(2 * dirs, 4, 16))
    expected, got = run_both(reference, fast, torch.randn(9, 4, 6), hx)
    assert max_error(expected, got) <= TOLERANCE


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_unbatched_input_and_state(cell) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin(cell, 5, 8, num_layers=2, bidirectional=True)
    h = torch.randn(4, 8)
    hx = (h, torch.randn(4, 8)) if cell == "lstm" else h
    expected, got = run_both(reference, fast, torch.randn(6, 5), hx)
    assert max_error(expected, got) <= TOLERANCE


@given(layers=st.integers(1, 3), bidirectional=st.booleans(), proj=st.integers(0, 3), batch=st.integers(1, 5),
       steps=st.integers(1, 9), batch_first=st.booleans(), hidden=st.integers(4, 24))
@settings(max_examples=15)
def test_random_lstm_configurations_match_torch(layers, bidirectional, proj, batch, steps, batch_first, hidden) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(steps * 31 + hidden)
    reference, fast = twin("lstm", 7, hidden, num_layers=layers, bidirectional=bidirectional, proj_size=proj,
                           batch_first=batch_first)
    x = torch.randn((batch, steps, 7) if batch_first else (steps, batch, 7))
    expected, got = run_both(reference, fast, x)
    assert max_error(expected, got) <= TOLERANCE


@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-5), (torch.float16, 2e-3), (torch.bfloat16, 2e-2)])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_input_dtype_is_kept(cell, dtype, tolerance) -> None:  # type: ignore[no-untyped-def]
    """float64 / float16 / bfloat16 input: computed in float32, outputs in the input's dtype, close to
    torch's float32 result (the input and output roundings only)."""
    reference, fast = twin(cell, 6, 10, num_layers=2)
    x = torch.randn(5, 2, 6).to(dtype)
    with torch.no_grad():
        got = fast(x)
        expected = reference(x.float())
    flat_got = [got[0], *(got[1] if cell == "lstm" else (got[1],))]
    flat_expected = [expected[0], *(expected[1] if cell == "lstm" else (expected[1],))]
    for g, e in zip(flat_got, flat_expected):
        assert g.dtype == dtype
        assert float((g.double() - e.double()).abs().max()) <= tolerance


def test_bfloat16_parameters_and_input() -> None:
    """A model moved to bfloat16 keeps running: weights and input widened to float32."""
    reference, fast = twin("gru", 6, 10)
    fast.to(torch.bfloat16)
    reference.load_state_dict({k: v.float() for k, v in fast.state_dict().items()})
    x = torch.randn(5, 2, 6).to(torch.bfloat16)
    with torch.no_grad():
        got, expected = fast(x), reference(x.float())
    assert got[0].dtype == torch.bfloat16
    assert float((got[0].float() - expected[0]).abs().max()) <= 2e-2


def test_state_dict_round_trips_both_ways() -> None:
    reference = torch.nn.LSTM(4, 8, num_layers=2, bidirectional=True, proj_size=3)
    fast = LSTM(4, 8, num_layers=2, bidirectional=True, proj_size=3, schedule="tsi")
    assert list(fast.state_dict()) == list(reference.state_dict())
    assert "weight_hr_l0_reverse" in fast.state_dict()
    fast.load_state_dict(reference.state_dict())
    back = torch.nn.LSTM(4, 8, num_layers=2, bidirectional=True, proj_size=3)
    back.load_state_dict(fast.state_dict())
    for key, value in reference.state_dict().items():
        assert torch.equal(back.state_dict()[key], value)
    gru = GRU(4, 8, bias=False)
    assert list(gru.state_dict()) == list(torch.nn.GRU(4, 8, bias=False).state_dict())


def test_torch_attributes_and_parameters() -> None:
    fast = LSTM(4, 8, num_layers=2, batch_first=True, dropout=0.25, proj_size=3)
    reference = torch.nn.LSTM(4, 8, num_layers=2, batch_first=True, dropout=0.25, proj_size=3)
    for name in ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional", "proj_size"):
        assert getattr(fast, name) == getattr(reference, name)
    assert [n for n, _ in fast.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert isinstance(fast, torch.nn.Module) and isinstance(fast, torch.nn.RNNBase)
    assert "schedule='auto'" in repr(fast)


@pytest.mark.parametrize("change", ["optimizer", "load_state_dict", "no_grad_edit", "new_parameter", "double"])
def test_weight_changes_after_packing_are_seen(change) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin("lstm", 5, 8, num_layers=2)
    x = torch.randn(4, 2, 5)
    run_both(reference, fast, x)
    packed = kept_runtime(fast._pack_key)
    assert packed is not None
    if change == "optimizer":
        optimizer = torch.optim.SGD(fast.parameters(), lr=0.5)
        fast(x)[0].sum().backward()
        optimizer.step()
        reference.load_state_dict(fast.state_dict())
    elif change == "load_state_dict":
        reference = torch.nn.LSTM(5, 8, num_layers=2)
        fast.load_state_dict(reference.state_dict())
    elif change == "no_grad_edit":
        with torch.no_grad():
            fast.weight_hh_l1.mul_(-1.5)
            reference.weight_hh_l1.mul_(-1.5)
    elif change == "new_parameter":
        value = torch.randn(32, 8)
        fast.weight_hh_l0 = torch.nn.Parameter(value.clone())
        reference.weight_hh_l0 = torch.nn.Parameter(value.clone())
    else:
        fast.double()
        reference.double()
        x = x.double()
    expected, got = run_both(reference, fast, x)
    assert max_error(expected, got) <= TOLERANCE
    assert kept_runtime(fast._pack_key) is not packed


def test_parametrized_weights_are_recomputed_each_call() -> None:
    from torch.nn.utils import parametrize

    class Halved(torch.nn.Module):
        def forward(self, weight):  # type: ignore[no-untyped-def]
            return weight * 0.5

    reference, fast = twin("lstm", 5, 8)
    for module in (reference, fast):
        parametrize.register_parametrization(module, "weight_hh_l0", Halved())
    x = torch.randn(4, 2, 5)
    expected, got = run_both(reference, fast, x)
    assert max_error(expected, got) <= TOLERANCE
    with torch.no_grad():
        for module in (reference, fast):
            module.parametrizations.weight_hh_l0.original.mul_(3.0)
    expected, got = run_both(reference, fast, x)
    assert max_error(expected, got) <= TOLERANCE


def test_unchanged_weights_are_packed_once() -> None:
    reference, fast = twin("gru", 5, 8)
    x = torch.randn(3, 1, 5)
    run_both(reference, fast, x)
    packed = kept_runtime(fast._pack_key)
    run_both(reference, fast, torch.randn(6, 2, 5))
    assert kept_runtime(fast._pack_key) is packed


def test_flatten_parameters_repacks_after_data_edits() -> None:
    """``.data`` edits bypass torch's version counters: flatten_parameters() makes the next call pack again."""
    reference, fast = twin("lstm", 5, 8)
    x = torch.randn(3, 1, 5)
    run_both(reference, fast, x)
    fast.weight_hh_l0.data.mul_(2.0)
    reference.weight_hh_l0.data.mul_(2.0)
    fast.flatten_parameters()
    expected, got = run_both(reference, fast, x)
    assert max_error(expected, got) <= TOLERANCE


@pytest.mark.parametrize("copier", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))])
def test_copies_pack_their_own_weights(copier) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin("lstm", 5, 8)
    x = torch.randn(3, 2, 5)
    run_both(reference, fast, x)
    clone = copier(fast)
    assert clone._pack_key != fast._pack_key
    with torch.no_grad():
        clone.weight_ih_l0.zero_()
        reference.weight_ih_l0.zero_()
    expected, got = run_both(reference, clone, x)
    assert max_error(expected, got) <= TOLERANCE
    with torch.no_grad():
        assert max_error(fast(x), twin_output(fast, x)) == 0.0


def twin_output(module, x):  # type: ignore[no-untyped-def]
    """``module``'s output from a fresh packing (its pack dropped first)."""
    module.flatten_parameters()
    return module(x)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recompute_gradients_equal_torchs(cell) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin(cell, 5, 8, num_layers=2, bidirectional=True)
    x1 = torch.randn(6, 3, 5, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    h1 = torch.randn(4, 3, 8, requires_grad=True)
    h2 = h1.detach().clone().requires_grad_(True)
    hx1 = (h1, torch.zeros(4, 3, 8)) if cell == "lstm" else h1
    hx2 = (h2, torch.zeros(4, 3, 8)) if cell == "lstm" else h2
    out1, state1 = fast(x1, hx1)
    out2, state2 = reference(x2, hx2)
    assert out1.grad_fn is not None
    last1 = state1[0] if cell == "lstm" else state1
    last2 = state2[0] if cell == "lstm" else state2
    (out1.pow(2).sum() + last1.sum()).backward()
    (out2.pow(2).sum() + last2.sum()).backward()
    assert max_error(x1.grad, x2.grad) <= TOLERANCE
    assert max_error(h1.grad, h2.grad) <= TOLERANCE
    for (name, p1), (_, p2) in zip(fast.named_parameters(), reference.named_parameters()):
        assert max_error(p1.grad, p2.grad) <= TOLERANCE, name


def test_grad_mode_torch_runs_torchs_forward() -> None:
    reference, fast = twin("lstm", 5, 8, grad_mode="torch")
    x = torch.randn(4, 2, 5)
    out = fast(x)[0]
    assert out.grad_fn is not None and "tsilstm" not in type(out.grad_fn).__name__
    assert max_error(out, reference(x)[0]) == 0.0


def test_grad_mode_error_raises_when_gradients_are_needed() -> None:
    _, fast = twin("gru", 5, 8, grad_mode="error")
    x = torch.randn(4, 2, 5)
    with pytest.raises(InvalidParameterError, match="grad_mode"):
        fast(x)
    with torch.no_grad():
        assert fast(x)[0].shape == (4, 2, 8)


def test_no_output_is_silently_detached() -> None:
    """With grad enabled every mode returns outputs connected to the parameters."""
    for mode in ("recompute", "torch"):
        _, fast = twin("lstm", 3, 4, grad_mode=mode)
        out, (h, c) = fast(torch.randn(2, 1, 3))
        assert out.requires_grad and h.requires_grad and c.requires_grad


def test_dropout_in_training_runs_torchs_implementation() -> None:
    reference, fast = twin("lstm", 5, 8, num_layers=3, dropout=0.5)
    reference.train()
    fast.train()
    x = torch.randn(4, 2, 5)
    torch.manual_seed(7)
    expected = reference(x)
    torch.manual_seed(7)
    got = fast(x)
    assert max_error(expected, got) == 0.0
    fast.eval()
    reference.eval()
    expected, got = run_both(reference, fast, x)
    assert max_error(expected, got) <= TOLERANCE


def test_bfloat16_weights_option() -> None:
    reference, fast = twin("lstm", 16, 64, weight_dtype="bfloat16")
    expected, got = run_both(reference, fast, torch.randn(5, 2, 16))
    assert 0 < max_error(expected, got) <= 5e-2
    assert "bfloat16" in fast.plan_summary()
