"""PyTorch importers: modules (every option), state_dicts with prefixes, checkpoints with sub-keys,
TorchScript, and bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsilstm.cells import run_reference
from tsilstm.importers import ModelFileError, load_model, load_models
from tsilstm.verification.model_file import verify_model

torch = pytest.importorskip("torch")


def _torch_outputs(module, x, h0, c0):  # type: ignore[no-untyped-def]
    with torch.no_grad():
        tx, th = torch.from_numpy(x), torch.from_numpy(h0)
        if isinstance(module, torch.nn.LSTM):
            out, (h_n, c_n) = module(tx, (th, torch.from_numpy(c0)))
            return out.numpy(), h_n.numpy(), c_n.numpy()
        out, h_n = module(tx, th)
        return out.numpy(), h_n.numpy(), None


@settings(max_examples=12)
@given(
    cell=st.sampled_from(["lstm", "gru"]),
    input_size=st.integers(1, 6),
    hidden=st.integers(2, 7),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    bias=st.booleans(),
    proj=st.integers(0, 3),
)
def test_module_import_equals_torch(cell, input_size, hidden, layers, bidirectional, bias, proj):
    torch.manual_seed(0)
    if cell == "lstm":
        module = torch.nn.LSTM(input_size, hidden, layers, bias=bias, bidirectional=bidirectional, proj_size=min(proj, hidden - 1))
    else:
        module = torch.nn.GRU(input_size, hidden, layers, bias=bias, bidirectional=bidirectional)
    model = load_model(module)
    dirs = 2 if bidirectional else 1
    p = module.proj_size if cell == "lstm" and module.proj_size else hidden
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 2, input_size)).astype(np.float32)
    h0 = rng.standard_normal((layers * dirs, 2, p)).astype(np.float32)
    c0 = rng.standard_normal((layers * dirs, 2, hidden)).astype(np.float32) if cell == "lstm" else None
    want = _torch_outputs(module, x, h0, c0)
    got = run_reference(model, x.astype(np.float64), h0, c0)
    for a, b in zip(got, want):
        if b is not None:
            assert np.max(np.abs(a - b)) < 1e-5
    if not bias:
        assert not np.any(model.layers[0].directions[0].b_ih)


def test_submodules_are_found_by_path():
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Linear(4, 6)
            self.encoder = torch.nn.GRU(6, 8, batch_first=True)
            self.decoder = torch.nn.LSTM(8, 5, 2)

    models = load_models(Net())
    assert [(m.name, m.cell, len(m.layers)) for m in models] == [("encoder", "gru", 1), ("decoder", "lstm", 2)]
    assert models[0].metadata["batch_first"] is True
    assert load_model(Net(), prefix="decoder.").cell == "lstm"


def test_state_dict_with_prefix_and_checkpoint_sub_key(tmp_path):
    torch.manual_seed(3)
    lstm = torch.nn.LSTM(4, 6, 2, bidirectional=True)
    state = {f"rnn.{k}": v for k, v in lstm.state_dict().items()} | {"head.weight": torch.zeros(2, 12)}
    path = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "model_state": state, "optimizer_state": {"state": {}, "param_groups": []}}, path)
    model = load_model(path)
    assert model.metadata["state_key"] == "model_state" and model.metadata["prefix"] == "rnn."
    assert (model.cell, len(model.layers), model.layers[0].bidirectional) == ("lstm", 2, True)
    checks = verify_model(model, schedules=("conventional", "tsi"), runtime=False)
    assert [c.against for c in checks] == ["torch"] * 3
    assert all(c.ok for c in checks), checks
    assert load_model(path, key="model_state").name == "rnn"
    sd = load_model(state)
    assert np.array_equal(sd.layers[1].directions[1].w_hh, lstm.weight_hh_l1_reverse.detach().numpy())


def test_torchscript_archive(tmp_path):
    scripted = torch.jit.script(torch.nn.GRU(3, 4))
    path = tmp_path / "gru_script.pt"
    scripted.save(str(path))
    with pytest.raises(ModelFileError, match="TorchScript archive: loading it runs the code it contains"):
        load_model(path)  # refused by default: a TorchScript archive runs its code on load
    model = load_model(path, allow_code=True)
    assert (model.cell, model.layers[0].hidden_size) == ("gru", 4)


def test_missing_and_mis_shaped_keys_are_named():
    lstm = torch.nn.LSTM(3, 4, 2)
    state = dict(lstm.state_dict())
    del state["weight_hh_l1"]
    with pytest.raises(ModelFileError, match="weight_hh_l1.*missing"):
        load_models(state)
    state = dict(lstm.state_dict())
    state["bias_ih_l0"] = torch.zeros(7)
    with pytest.raises(ModelFileError, match=r"bias_ih_l0: has shape \(7,\) \(expected shape \(16,\)\)"):
        load_models(state)
    state = dict(lstm.state_dict())
    del state["weight_ih_l1"], state["weight_hh_l1"], state["bias_ih_l1"], state["bias_hh_l1"]
    state["weight_ih_l2"] = torch.zeros(16, 4)
    with pytest.raises(ModelFileError, match="layers/directions missing"):
        load_models(state)
    with pytest.raises(ModelFileError, match="no recurrent weights"):
        load_models({"linear.weight": torch.zeros(3, 3)})


def test_pickled_objects_are_not_loaded(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(torch.nn.LSTM(3, 4), path)  # the whole module pickled: needs code to unpickle
    with pytest.raises(ModelFileError, match="weights_only=True"):
        load_models(path)


def test_corrupt_and_foreign_files(tmp_path):
    good = tmp_path / "good.pt"
    torch.save(torch.nn.GRU(3, 4).state_dict(), good)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ModelFileError, match="cut.pt"):
        load_models(cut)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(pickle.dumps({"a": 1})[:5])
    with pytest.raises(ModelFileError, match="junk.pth"):
        load_models(junk)
    with pytest.raises(ModelFileError, match="nn.RNN"):
        load_models(torch.nn.Sequential(torch.nn.RNN(3, 4)))
