"""Torch tensors without dense data as a module's input or state (meta, sparse COO and CSR,
mkldnn): every module kind (``tsilstm.LSTM/GRU``, ``tsilstm.nn.LSTM/GRU`` and modules made by
``tsilstm.convert``) refuses them with the package's error naming the argument, before native code
(they used to end in torch's ``NotImplementedError``, ``TypeError`` or ``RuntimeError``)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import tsilstm  # noqa: E402
import tsilstm.nn  # noqa: E402
from tsilstm.errors import InvalidParameterError  # noqa: E402

INPUT_SIZE, HIDDEN = 3, 5
CALLS = 4
"""Calls per case: with ``schedule="auto"`` the in-place trial alternates torch and the kernel."""


def _without_dense_data() -> dict[str, torch.Tensor]:
    x = torch.randn(4, 2, INPUT_SIZE)
    return {"meta": x.to("meta"), "sparse_coo": x.to_sparse(), "sparse_csr": x[:, 0].to_sparse_csr(),
            "mkldnn": x.to_mkldnn()}


def _modules(cell: str) -> dict[str, object]:
    torch_kind = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
    return {
        "runtime": (tsilstm.LSTM if cell == "lstm" else tsilstm.GRU)(INPUT_SIZE, HIDDEN),
        "nn": (tsilstm.nn.LSTM if cell == "lstm" else tsilstm.nn.GRU)(INPUT_SIZE, HIDDEN),
        "converted": tsilstm.convert(torch.nn.Sequential(torch_kind(INPUT_SIZE, HIDDEN)))[0],
    }


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_inputs_without_dense_data_are_refused_naming_the_input(cell):  # type: ignore[no-untyped-def]
    for kind, module in _modules(cell).items():
        for what, value in _without_dense_data().items():
            for _ in range(CALLS):
                with torch.no_grad(), pytest.raises(InvalidParameterError, match=r"^input=") as error:
                    module(value)  # type: ignore[operator]
                assert "dense (strided) tensor" in str(error.value), (kind, what, str(error.value))
        with torch.no_grad():
            output = module(torch.randn(4, 2, INPUT_SIZE))[0]  # type: ignore[operator]
        assert tuple(output.shape) == (4, 2, HIDDEN) and bool(torch.isfinite(output).all())


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_states_without_dense_data_are_refused_naming_the_state(cell):  # type: ignore[no-untyped-def]
    x = torch.randn(4, 2, INPUT_SIZE)
    state = torch.zeros(1, 2, HIDDEN)
    for kind, module in _modules(cell).items():
        for bad in (state.to("meta"), state.to_sparse()):
            hx = (state, bad) if cell == "lstm" else bad
            name = r"hx\[1\]" if cell == "lstm" and kind != "runtime" else r"h.*"
            with torch.no_grad(), pytest.raises(InvalidParameterError, match=name) as error:
                module(x, hx)  # type: ignore[operator]
            assert "dense (strided) tensor" in str(error.value), (kind, str(error.value))


def test_inputs_without_dense_data_are_refused_when_auto_runs_torch(monkeypatch):  # type: ignore[no-untyped-def]
    from tsilstm.runtime.inplace_choice import HOST

    module = tsilstm.nn.LSTM(INPUT_SIZE, HIDDEN)
    monkeypatch.setattr(module, "_eager_candidate", lambda input: HOST)  # the trial's turn to time torch's forward
    with torch.no_grad(), pytest.raises(InvalidParameterError, match=r"^input="):
        module(torch.randn(4, 2, INPUT_SIZE).to_sparse())
