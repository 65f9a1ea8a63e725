"""States at the edge of float32 (|h0| up to 3e38, +-inf) give torch's answer: the same NaN
pattern and, elsewhere, torch's float32 error (the kernel's sigmoid reaches 0 where torch's does)."""

from __future__ import annotations

import pytest

import tsilstm


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("value", [1e38, -1e38, 3e38, float("inf"), float("-inf")])
def test_extreme_initial_states_match_torch(torch, cell, value) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    net = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(4, 8)
    fast = tsilstm.from_torch(net, threads=1, schedule="tsi")
    x = torch.randn(3, 2, 4)
    h0 = torch.full((1, 2, 8), value)
    hx = (h0, torch.zeros(1, 2, 8)) if cell == "lstm" else h0
    with torch.no_grad():
        want = net(x, hx)[0]
    got = fast(x, hx)[0]
    assert torch.equal(torch.isnan(want), torch.isnan(got))
    finite = ~torch.isnan(want)
    if finite.any():
        assert float((got[finite] - want[finite]).abs().max()) <= 1e-5
