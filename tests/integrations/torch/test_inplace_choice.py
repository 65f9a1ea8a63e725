"""``schedule="auto"`` in a converted model: torch's own implementation is a candidate, measured in
place on the user's calls; the outputs equal the original model's whatever runs; the decision is
recorded, shown in ``plan_summary()`` / ``decisions`` and adopted by a new module; explicit
schedules always run the kernel. Also the framework's habits: ``torch.compile(fullgraph=True)`` on a
freshly converted module and ``torch.onnx.export`` of one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import tsilstm
from tsilstm.runtime.inplace_choice import CANDIDATES, HOST, KERNEL


@pytest.fixture(autouse=True)
def short_blocks(monkeypatch):  # type: ignore[no-untyped-def]
    """Blocks of 0.5 ms instead of 5: the trials finish within the tests' few hundred tiny calls."""
    from tsilstm.runtime import inplace_choice

    monkeypatch.setattr(inplace_choice, "MIN_BLOCK_SECONDS", 0.0005)


class Pipeline(torch.nn.Module):
    """Conv1d front end -> 2 x LSTM -> Linear head, called one frame at a time with its state."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(12, 24, 3, padding=1)
        self.rnn = torch.nn.LSTM(24, 32, num_layers=2)
        self.head = torch.nn.Linear(32, 5)

    def forward(self, x, state=None):  # type: ignore[no-untyped-def]
        y, state = self.rnn(self.conv(x).permute(2, 0, 1), state)
        return self.head(y), state


def stream(model, frames, state=None):  # type: ignore[no-untyped-def]
    outputs = []
    with torch.inference_mode():
        for frame in frames:
            y, state = model(frame, state)
            outputs.append(y)
    return torch.cat(outputs), state


def test_streaming_pipeline_decides_in_place_and_stays_equal():
    model = Pipeline().eval()
    fast = tsilstm.convert(model)
    frames = [torch.randn(1, 12, 1) for _ in range(300)]
    expected, (h, c) = stream(model, frames)
    got, (h2, c2) = stream(fast, frames)
    assert float((expected - got).abs().max()) <= 1e-5
    assert float((h - h2).abs().max()) <= 1e-5 and float((c - c2).abs().max()) <= 1e-5
    decisions = fast.rnn.decisions
    assert len(decisions) == 1
    (key, decision), = decisions.items()
    assert key.startswith("torch/lstm/x24/h32/p0/l2/d1/") and "/s1/" in key
    assert decision.winner in CANDIDATES and set(decision.ms_per_call) == set(CANDIDATES)
    assert "in place" in fast.rnn.plan_summary() and decision.winner in fast.rnn.plan_summary()


def test_a_new_module_adopts_the_recorded_decision(monkeypatch):
    from tsilstm.runtime import inplace_records
    from tsilstm.runtime.inplace_choice import InplaceDecision

    lstm = torch.nn.LSTM(6, 10).eval()
    first = tsilstm.convert(lstm)
    frames = [torch.randn(1, 1, 6) for _ in range(200)]
    stream(first, frames)
    (key, decision), = first.decisions.items()
    recorded = InplaceDecision.from_record(inplace_records.decision_store().get_record(inplace_records.SECTION, key))
    assert recorded == decision
    if decision.noisy:
        pytest.skip("the machine was too noisy to record an adoptable decision")
    second = tsilstm.convert(lstm)
    stream(second, frames[:3])
    assert second.decisions == {key: decision}


def test_host_runs_are_torch_and_kernel_runs_are_tsilstm(monkeypatch):
    from tsilstm.runtime import inplace_choice

    lstm = torch.nn.GRU(5, 7, bidirectional=True).eval()
    fast = tsilstm.convert(lstm)
    calls = []
    original = inplace_choice.InplaceTrial.next_candidate

    def spy(self, now=None):  # type: ignore[no-untyped-def]
        calls.append(original(self, now))
        return calls[-1]

    monkeypatch.setattr(inplace_choice.InplaceTrial, "next_candidate", spy)
    x = torch.randn(4, 3, 5)
    with torch.inference_mode():
        for _ in range(120):
            assert float((fast(x)[0] - lstm(x)[0]).abs().max()) <= 1e-5
    assert KERNEL in calls and HOST in calls


def test_an_explicit_schedule_always_runs_the_kernel():
    fast = tsilstm.convert(torch.nn.LSTM(6, 10).eval(), schedule="tsi")
    stream(fast, [torch.randn(1, 1, 6) for _ in range(100)])
    assert fast.decisions == {} and "runs every call" in fast.plan_summary()


def test_tuning_off_runs_the_kernel_without_trial():
    fast = tsilstm.convert(torch.nn.LSTM(6, 10).eval(), tuning="off")
    stream(fast, [torch.randn(1, 1, 6) for _ in range(60)])
    assert fast.decisions == {}


def test_unset_threads_follow_torch():
    fast = tsilstm.convert(torch.nn.LSTM(256, 256).eval(), schedule="tsi")
    with torch.inference_mode():
        fast(torch.randn(3, 1, 256))
    assert "packed for 1" in fast.plan_summary() or "1 thread(s)" in fast.plan_summary()  # torch has 1 thread here
    torch.set_num_threads(2)
    with torch.inference_mode():
        fast(torch.randn(3, 1, 256))
    assert "2 thread(s)" in fast.plan_summary() or "packed for 2" in fast.plan_summary()


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU])
def test_compile_fullgraph_on_a_freshly_converted_module(cls):
    model = cls(8, 16, num_layers=2).eval()
    compiled = torch.compile(tsilstm.convert(model), fullgraph=True)
    x = torch.randn(5, 2, 8)
    with torch.inference_mode():
        assert float((compiled(x)[0] - model(x)[0]).abs().max()) <= 1e-5


@pytest.mark.parametrize("cls", [torch.nn.LSTM, torch.nn.GRU])
def test_onnx_export_of_a_converted_module_records_standard_nodes(tmp_path, cls):
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")
    model = cls(8, 16, bidirectional=True).eval()
    x = torch.randn(5, 2, 8)
    path = tmp_path / "m.onnx"
    torch.onnx.export(tsilstm.convert(model), (x,), str(path), dynamo=False)
    assert cls.__name__ in [node.op_type for node in onnx.load(str(path)).graph.node]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    with torch.inference_mode():
        assert float(np.abs(got - model(x)[0].numpy()).max()) <= 1e-5


def test_a_host_decision_calls_torch_directly(monkeypatch):
    """Once torch's implementation won, an eager call skips the operator's dispatch altogether."""
    from tsilstm.integrations.torch import operators
    from tsilstm.runtime.inplace_choice import InplaceDecision
    from tsilstm.runtime.inplace_records import trials_of

    reference = torch.nn.LSTM(6, 10, batch_first=True).eval()
    fast = tsilstm.convert(reference)
    x = torch.randn(2, 5, 6)
    with torch.inference_mode():
        fast(x)  # the first call creates the trial of this call shape
        (trial,) = trials_of(fast._pack_key).values()
        trial.adopt(InplaceDecision(HOST, {KERNEL: 2.0, HOST: 1.0}, 10, False, "now"))
        kernel_calls = []
        original = operators._run_kernel
        monkeypatch.setattr(operators, "_run_kernel", lambda *a, **k: kernel_calls.append(1) or original(*a, **k))
        for _ in range(5):
            assert float((fast(x)[0] - reference(x)[0]).abs().max()) == 0.0
    assert kernel_calls == []


def test_new_settings_take_effect_on_the_next_call_and_tuning_mode_on_new_shapes(monkeypatch):
    """The per-call lookup is cached by shape, threads and the settings object: a new settings
    object is seen at once; TSILSTM_TUNING is read when a shape is first seen."""
    from tsilstm.runtime import KernelOptions

    fast = tsilstm.convert(torch.nn.LSTM(6, 10).eval())
    frames = [torch.randn(1, 1, 6) for _ in range(40)]
    stream(fast, frames)
    assert fast._eager_candidate(frames[0]) in CANDIDATES
    monkeypatch.setenv("TSILSTM_TUNING", "off")
    assert fast._eager_candidate(frames[0]) in CANDIDATES  # a shape already seen keeps its trial
    assert fast._eager_candidate(torch.randn(1, 2, 6)) is None  # a new shape reads it
    monkeypatch.delenv("TSILSTM_TUNING")
    fast.kernel_settings = KernelOptions("tsi")
    assert fast._eager_candidate(frames[0]) is None
    fast.kernel_settings = KernelOptions("auto", tuning="off")
    assert fast._eager_candidate(frames[0]) is None


def test_jit_trace_records_the_operator_whatever_the_trial_chose():
    fast = tsilstm.convert(torch.nn.GRU(6, 10).eval())
    x = torch.randn(3, 2, 6)
    with torch.no_grad():
        for _ in range(50):
            fast(x)
        traced = torch.jit.trace(fast, (x,), check_trace=False)
    assert "tsilstm::gru_forward" in str(traced.graph)
    with torch.no_grad():
        assert float((traced(x)[0] - fast(x)[0]).abs().max()) <= 1e-6


def host_decided(cell: str):  # type: ignore[no-untyped-def]
    """A converted module whose (1, 1, 6) float32 calls are decided for torch's own forward, with
    the original to compare with."""
    from tsilstm.runtime.inplace_choice import InplaceDecision

    original = getattr(torch.nn, cell)(6, 10).eval()
    fast = tsilstm.convert(getattr(torch.nn, cell)(6, 10).eval())
    fast.load_state_dict(original.state_dict())
    with torch.no_grad():
        fast(torch.randn(1, 1, 6))
    fast._last_eager[3].adopt(InplaceDecision(HOST, {KERNEL: 2.0, HOST: 1.0}, 10, False, "now"))
    return original, fast


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_a_host_decided_shape_still_takes_what_only_the_kernel_runs(cell):  # type: ignore[no-untyped-def]
    """The repeated call asks its trial without checking the input first: float64 input (which
    torch's forward refuses with float32 weights) of the decided shape runs on the kernel."""
    original, fast = host_decided(cell)
    x = torch.randn(1, 1, 6)
    with torch.no_grad():
        assert float((fast(x)[0] - original(x)[0]).abs().max()) == 0.0  # torch's own: bitwise equal
        out = fast(x.double())[0]
    assert out.dtype == torch.float64
    assert float((out - original(x)[0].double()).abs().max()) <= 1e-5


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_a_host_decided_shape_names_a_bad_state_in_our_words(cell):  # type: ignore[no-untyped-def]
    from tsilstm.errors import InvalidParameterError

    _, fast = host_decided(cell)
    h = torch.zeros(1, 1, 10, device="meta")  # (what torch's forward refuses; a sparse h_0 it computes with)
    hx = (h, torch.zeros(1, 1, 10)) if cell == "LSTM" else h
    with torch.no_grad(), pytest.raises(InvalidParameterError, match=r"^hx"):
        fast(torch.randn(1, 1, 6), hx)
    with torch.no_grad(), pytest.raises(InvalidParameterError, match=r"^input"):
        fast(torch.randn(1, 1, 6).to_sparse())
