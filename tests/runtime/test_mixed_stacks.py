"""Stacks whose layers differ in hidden size, projection or directions run (each layer's states
sized by its own layer) and equal a chain of torch modules; a stack whose layers do not connect is
refused when it is built, naming the layer."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import tsilstm
from tsilstm.cells import run_reference
from tsilstm.errors import InvalidParameterError
from tsilstm.model import RecurrentModel, random_layer
from tsilstm.runtime.torch_interop import model_from_torch


def _torch_chain(torch, sizes: list[tuple[int, int, bool]], input_size: int):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    modules, features = [], input_size
    for hidden, proj, bidirectional in sizes:
        modules.append(torch.nn.LSTM(features, hidden, proj_size=proj, bidirectional=bidirectional))
        features = (proj or hidden) * (2 if bidirectional else 1)
    return modules


@pytest.mark.parametrize("schedule", ["tsi", "conventional"])
def test_three_layer_bidirectional_288_144_96_equals_torch(torch, schedule) -> None:  # type: ignore[no-untyped-def]
    chain = _torch_chain(torch, [(288, 0, True), (144, 0, True), (96, 0, True)], 40)
    layers = tuple(replace(model_from_torch(module).layers[0], name=f"layer{i}") for i, module in enumerate(chain))
    model = RecurrentModel(layers)
    assert not model.uniform_states
    x = torch.randn(30, 2, 40)
    states = [(torch.randn(2, 2, m.hidden_size), torch.randn(2, 2, m.hidden_size)) for m in chain]
    with torch.no_grad():
        y, want_h, want_c = x, [], []
        for module, (h0, c0) in zip(chain, states):
            y, (h, c) = module(y, (h0, c0))
            want_h += list(h)
            want_c += list(c)
    h0 = tuple(part for h, _ in states for part in h)
    c0 = tuple(part for _, c in states for part in c)
    out, (h_n, c_n) = tsilstm.LSTM.from_model(model, schedule=schedule, threads=2)(x, (h0, c0))
    assert float((out - y).abs().max()) <= 1e-4
    assert len(h_n) == 6 and all(float((a - b).abs().max()) <= 1e-4 for a, b in zip(h_n, want_h))
    assert all(float((a - b).abs().max()) <= 1e-4 for a, b in zip(c_n, want_c))
    reference, _, _ = run_reference(model, x.numpy().astype(np.float64), [a.numpy() for a in h0],
                                    [a.numpy() for a in c0])
    assert float(np.max(np.abs(reference - y.numpy()))) <= 1e-4


def test_projection_and_direction_mixes_run_unbatched(torch) -> None:  # type: ignore[no-untyped-def]
    chain = _torch_chain(torch, [(64, 24, True), (32, 0, False)], 10)
    model = RecurrentModel(tuple(model_from_torch(module).layers[0] for module in chain))
    x = torch.randn(12, 10)
    with torch.no_grad():
        y = x
        for module in chain:
            y, _ = module(y)
    out, (h_n, c_n) = tsilstm.LSTM.from_model(model, threads=2)(x)
    assert float((out - y).abs().max()) <= 1e-4
    assert [tuple(h.shape) for h in h_n] == [(24,), (24,), (32,)] and [tuple(c.shape) for c in c_n] == [(64,), (64,), (32,)]


def test_a_stack_that_does_not_connect_is_refused_naming_the_layer() -> None:
    first = random_layer("gru", 8, 32, name="enc")
    second = random_layer("gru", 30, 16, name="dec")
    with pytest.raises(InvalidParameterError) as caught:
        RecurrentModel((first, second))
    assert caught.value.name == "layers[1].input_size" and "enc" in str(caught.value) and "32" in str(caught.value)


def test_states_of_a_mixed_stack_must_be_one_per_layer_direction() -> None:
    model = RecurrentModel((random_layer("gru", 8, 32), random_layer("gru", 32, 16)))
    gru = tsilstm.GRU.from_model(model, threads=1)
    x = np.zeros((3, 2, 8), dtype=np.float32)
    with pytest.raises(InvalidParameterError, match="2 arrays"):
        gru(x, np.zeros((2, 2, 32), dtype=np.float32))
    with pytest.raises(InvalidParameterError) as caught:
        gru(x, (np.zeros((2, 32), np.float32), np.zeros((2, 32), np.float32)))
    assert caught.value.name == "h0[1]"
    out, h_n = gru(x, (np.zeros((2, 32), np.float32), np.ones((2, 16), np.float32)))
    assert out.shape == (3, 2, 16) and [h.shape for h in h_n] == [(2, 32), (2, 16)]
