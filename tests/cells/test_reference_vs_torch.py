"""The numpy reference equals torch.nn.LSTM / nn.GRU (the ground truth of the ground truth)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tsilstm.cells import run_reference  # noqa: E402
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel  # noqa: E402


def model_from_module(module):
    """Test-local conversion of a torch RNN's parameters (independent of the importers)."""
    cell = "lstm" if isinstance(module, torch.nn.LSTM) else "gru"
    layers = []
    for layer in range(module.num_layers):
        dirs = []
        for suffix in ["", "_reverse"][: 2 if module.bidirectional else 1]:
            p = lambda name: getattr(module, f"{name}_l{layer}{suffix}", None)  # noqa: E731
            arr = lambda t: t.detach().double().numpy().copy()  # noqa: E731
            rows = p("weight_ih").shape[0]
            bias = lambda name: arr(p(name)) if module.bias else np.zeros(rows)  # noqa: E731
            w_hr = p("weight_hr")
            dirs.append(DirectionWeights(arr(p("weight_ih")), arr(p("weight_hh")), bias("bias_ih"), bias("bias_hh"),
                                         None if w_hr is None else arr(w_hr)))
        layers.append(RecurrentLayer(cell, dirs[0].w_ih.shape[1], module.hidden_size, tuple(dirs),
                                     getattr(module, "proj_size", 0)))
    return RecurrentModel(tuple(layers))


CASES = [
    dict(cls="LSTM", input_size=5, hidden_size=7),
    dict(cls="LSTM", input_size=5, hidden_size=7, num_layers=3, bidirectional=True),
    dict(cls="LSTM", input_size=6, hidden_size=9, num_layers=2, proj_size=4, bidirectional=True),
    dict(cls="LSTM", input_size=4, hidden_size=6, bias=False, batch_first=True),
    dict(cls="GRU", input_size=5, hidden_size=7),
    dict(cls="GRU", input_size=5, hidden_size=8, num_layers=2, bidirectional=True, batch_first=True),
    dict(cls="GRU", input_size=3, hidden_size=4, bias=False),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("with_state", [False, True])
def test_reference_equals_torch_fp64(case, with_state):
    case = dict(case)
    cls = getattr(torch.nn, case.pop("cls"))
    torch.manual_seed(0)
    module = cls(**case).double()
    batch_first = case.get("batch_first", False)
    shape = (3, 11, case["input_size"]) if batch_first else (11, 3, case["input_size"])
    x = torch.randn(*shape, dtype=torch.float64)
    layers = case.get("num_layers", 1) * (2 if case.get("bidirectional") else 1)
    out_size = case.get("proj_size", 0) or case["hidden_size"]
    states = None
    if with_state:
        h0 = torch.randn(layers, 3, out_size, dtype=torch.float64)
        states = (h0, torch.randn(layers, 3, case["hidden_size"], dtype=torch.float64)) if cls is torch.nn.LSTM else h0
    with torch.no_grad():
        y, hx = module(x, states) if states is not None else module(x)
    h0_np = c0_np = None
    if with_state:
        h0_np = (states[0] if cls is torch.nn.LSTM else states).numpy()
        c0_np = states[1].numpy() if cls is torch.nn.LSTM else None
    out, h_n, c_n = run_reference(model_from_module(module), x.numpy(), h0_np, c0_np, batch_first=batch_first)
    assert np.max(np.abs(out - y.numpy())) <= 1e-12
    want_h = hx[0] if cls is torch.nn.LSTM else hx
    assert np.max(np.abs(h_n - want_h.numpy())) <= 1e-12
    if cls is torch.nn.LSTM:
        assert np.max(np.abs(c_n - hx[1].numpy())) <= 1e-12


def test_reference_fp32_and_unbatched():
    torch.manual_seed(1)
    module = torch.nn.LSTM(4, 6)
    x = torch.randn(9, 4)
    with torch.no_grad():
        y, (h, c) = module(x)
    out, h_n, c_n = run_reference(model_from_module(module), x.numpy())
    assert out.dtype == np.float32 and out.shape == (9, 6) and h_n.shape == (1, 6)
    assert np.max(np.abs(out - y.numpy())) <= 1e-5
    assert np.max(np.abs(c_n - c.numpy())) <= 1e-5


def test_original_gru_form_differs_from_pytorch_form():
    """reset_before is a different cell: same weights, different output (the reference runs both)."""
    torch.manual_seed(2)
    module = torch.nn.GRU(3, 5).double()
    model = model_from_module(module)
    layer = model.layers[0]
    before = RecurrentModel((RecurrentLayer("gru", 3, 5, layer.directions, variant="reset_before"),))
    x = np.random.default_rng(0).standard_normal((6, 2, 3))
    a = run_reference(model, x)[0]
    b = run_reference(before, x)[0]
    assert np.max(np.abs(a - b)) > 1e-3
