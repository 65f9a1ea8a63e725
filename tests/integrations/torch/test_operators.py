"""The registered operators: torch.compile(fullgraph=True), torch.export.export and
torch.jit.trace record a call of tsilstm's operator and give torch's results on new inputs."""

from __future__ import annotations

import pytest

from tests.integrations.torch.twins import TOLERANCE, max_error, twin

torch = pytest.importorskip("torch")


class Tagger(torch.nn.Module):
    """Embedding -> tsilstm LSTM -> Linear, the shape of the models convert is for."""

    def __init__(self, rnn) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.emb = torch.nn.Embedding(50, 8)
        self.rnn = rnn
        self.head = torch.nn.Linear(rnn.hidden_size * (2 if rnn.bidirectional else 1), 5)

    def forward(self, tokens):  # type: ignore[no-untyped-def]
        return self.head(self.rnn(self.emb(tokens))[0])


def test_operators_are_registered() -> None:
    assert hasattr(torch.ops.tsilstm, "lstm_forward") and hasattr(torch.ops.tsilstm, "gru_forward")


def test_compile_fullgraph_whole_model() -> None:
    """The issue's model shape compiled with fullgraph=True (inductor): correct on new inputs and
    after a weight update (the operator receives the weights on every call)."""
    _, rnn = twin("lstm", 8, 12, num_layers=2)
    model = Tagger(rnn).eval()
    reference = Tagger(torch.nn.LSTM(8, 12, num_layers=2)).eval()
    reference.load_state_dict(model.state_dict())
    compiled = torch.compile(model, fullgraph=True)
    with torch.no_grad():
        for steps in (5, 9):
            tokens = torch.randint(0, 50, (steps, 2))
            assert max_error(compiled(tokens), reference(tokens)) <= TOLERANCE
        for module in (model, reference):
            module.rnn.weight_hh_l1.mul_(0.5)
        assert max_error(compiled(tokens), reference(tokens)) <= TOLERANCE


def test_compile_fullgraph_gradients() -> None:
    """With gradients, AOTAutograd's forward graph calls the forward operator and its backward
    graph the backward operator (torch's gradients)."""
    from torch._dynamo.testing import AotEagerAndRecordGraphs

    reference, fast = twin("gru", 4, 6, bidirectional=True)
    backend = AotEagerAndRecordGraphs()
    compiled = torch.compile(fast, fullgraph=True, backend=backend)
    x1 = torch.randn(5, 2, 4, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    compiled(x1)[0].sum().backward()
    reference(x2)[0].sum().backward()
    assert "tsilstm.gru_forward" in str(backend.fw_graphs[0].graph)
    assert "tsilstm.gru_backward" in str(backend.bw_graphs[0].graph)
    assert max_error(x1.grad, x2.grad) <= TOLERANCE
    assert max_error(fast.weight_hh_l0.grad, reference.weight_hh_l0.grad) <= TOLERANCE


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_export_calls_the_operator_on_new_inputs(cell) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin(cell, 8, 12, bidirectional=True, batch_first=True)
    x = torch.randn(2, 5, 8)
    batch, steps = torch.export.Dim("batch"), torch.export.Dim("steps")
    exported = torch.export.export(fast, (x,), dynamic_shapes={"input": {0: batch, 1: steps}})
    targets = [str(node.target) for node in exported.graph.nodes if node.op == "call_function"]
    assert f"tsilstm.{cell}_forward.default" in targets
    with torch.no_grad():
        for shape in ((2, 5, 8), (4, 9, 8)):
            new = torch.randn(shape)
            assert max_error(exported.module()(new), reference(new)) <= TOLERANCE


def test_module_and_its_export_share_one_packing() -> None:
    """export's module holds the module's own Parameters: calling both in turn packs once."""
    from tsilstm.integrations.torch.pack_cache import kept_runtime

    _, fast = twin("lstm", 8, 12)
    x = torch.randn(5, 2, 8)
    exported = torch.export.export(fast, (x,)).module()
    packs = []
    with torch.no_grad():
        for program in (fast, exported, fast, exported):
            program(x)
            packs.append(kept_runtime(fast._pack_key))
    assert all(pack is packs[0] for pack in packs)


def test_export_whole_model() -> None:
    _, rnn = twin("lstm", 8, 12, num_layers=2)
    model = Tagger(rnn).eval()
    tokens = torch.randint(0, 50, (6, 1))
    exported = torch.export.export(model, (tokens,))
    new = torch.randint(0, 50, (6, 1))
    with torch.no_grad():
        assert max_error(exported.module()(new), model(new)) == 0.0


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_jit_trace_runs_the_operator_on_a_new_input(cell) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin(cell, 8, 12, num_layers=2)
    with torch.no_grad(), pytest.warns(torch.jit.TracerWarning):
        traced = torch.jit.trace(fast, (torch.randn(5, 2, 8),))
    assert f"tsilstm::{cell}_forward" in str(traced.graph)
    new = torch.randn(7, 3, 8)
    with torch.no_grad():
        assert max_error(traced(new), reference(new)) <= TOLERANCE


def test_saved_programs_load_in_a_new_process(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """torch.export.save and torch.jit.save files run in a fresh process once tsilstm.nn is imported
    (the pack keys they carry are unknown there: the weights are packed again)."""
    import subprocess
    import sys

    reference, fast = twin("lstm", 8, 12, num_layers=2)
    x = torch.randn(5, 2, 8)
    torch.export.save(torch.export.export(fast, (x,)), tmp_path / "exported.pt2")
    with torch.no_grad(), pytest.warns(torch.jit.TracerWarning):
        torch.jit.trace(fast, (x,)).save(str(tmp_path / "traced.pt"))
    new = torch.randn(5, 2, 8)
    with torch.no_grad():
        torch.save((new, reference(new)[0]), tmp_path / "expected.pt")
    code = f"""
import torch, tsilstm.nn
new, expected = torch.load({str(tmp_path / 'expected.pt')!r})
exported = torch.export.load({str(tmp_path / 'exported.pt2')!r}).module()
traced = torch.jit.load({str(tmp_path / 'traced.pt')!r})
with torch.no_grad():
    for program in (exported, traced):
        assert float((program(new)[0] - expected).abs().max()) <= {TOLERANCE}
"""
    subprocess.run([sys.executable, "-c", code], check=True)
