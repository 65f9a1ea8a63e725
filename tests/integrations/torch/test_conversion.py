"""tsilstm.convert: every nn.LSTM / nn.GRU in a model replaced, state_dict unchanged both ways,
what cannot be taken left alone and reported, bad arguments named."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from tests.integrations.torch.twins import TOLERANCE, max_error
from tsilstm.errors import InvalidParameterError
from tsilstm.integrations.torch import GRU, LSTM, convert, explain_conversion

torch = pytest.importorskip("torch")


class Model(torch.nn.Module):
    """The issue's model at test size: Embedding -> 2 x LSTM -> Linear, plus modules convert must leave."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(100, width)
        self.rnn = torch.nn.LSTM(width, width, num_layers=2)
        self.head = torch.nn.Linear(width, 100)

    def forward(self, tokens):  # type: ignore[no-untyped-def]
        return self.head(self.rnn(self.emb(tokens))[0])


class Nested(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = torch.nn.Sequential(torch.nn.GRU(4, 6, batch_first=True), torch.nn.Identity())
        self.encoders = torch.nn.ModuleList([torch.nn.LSTM(4, 5, bidirectional=True)])
        self.cell = torch.nn.LSTMCell(4, 5)
        self.plain = torch.nn.RNN(4, 5)


class MyLSTM(torch.nn.LSTM):
    pass


def test_issue_model_converts() -> None:
    model = Model().eval()
    fast = convert(model, threads=1)
    assert fast is not model and type(model.rnn) is torch.nn.LSTM
    assert isinstance(fast.rnn, LSTM) and isinstance(fast.rnn, torch.nn.Module)
    assert fast.state_dict().keys() == model.state_dict().keys()
    tokens = torch.randint(0, 100, (12, 1))
    with torch.no_grad():
        assert max_error(fast(tokens), model(tokens)) <= TOLERANCE
    back = Model()
    back.load_state_dict(fast.state_dict())
    fast.load_state_dict(Model().state_dict())
    with torch.no_grad():
        assert max_error(back(tokens), model(tokens)) == 0.0


def test_inplace_shares_parameters() -> None:
    model = Model()
    weight = model.rnn.weight_hh_l0
    fast = convert(model, inplace=True, threads=1)
    assert fast is model and isinstance(model.rnn, LSTM)
    assert model.rnn.weight_hh_l0 is weight


def test_nested_modules_and_report(caplog) -> None:  # type: ignore[no-untyped-def]
    model = Nested()
    model.subclassed = MyLSTM(4, 5)
    quantized = pytest.importorskip("torch.ao.nn.quantized.dynamic")
    model.quantized = quantized.LSTM(4, 5)
    report = explain_conversion(model)
    assert report.converted == ("blocks.0", "encoders.0")
    skipped = dict(report.skipped)
    assert set(skipped) == {"cell", "plain", "subclassed", "quantized"}
    assert "whole sequences" in skipped["cell"] and "quantized" in skipped["quantized"]
    with caplog.at_level(logging.INFO, logger="tsilstm.convert"):
        fast = convert(model, threads=1)
    assert "left cell alone" in caplog.text and "2 module(s) converted" in caplog.text
    assert isinstance(fast.blocks[0], GRU) and isinstance(fast.encoders[0], LSTM)
    assert type(fast.cell) is torch.nn.LSTMCell and type(fast.subclassed) is MyLSTM
    x = torch.randn(3, 7, 4)
    with torch.no_grad():
        assert max_error(fast.blocks(x), model.blocks(x)) <= TOLERANCE


def test_a_bare_lstm_and_a_shared_one() -> None:
    lstm = torch.nn.LSTM(3, 4, proj_size=2)
    fast = convert(lstm, schedule="conventional", threads=1)
    assert isinstance(fast, LSTM) and fast.proj_size == 2 and fast.kernel_settings.schedule == "conventional"
    shared = torch.nn.GRU(3, 4)
    pair = torch.nn.ModuleDict({"a": shared, "b": shared})
    converted = convert(pair, threads=1)
    assert converted["a"] is converted["b"] and isinstance(converted["a"], GRU)


def test_training_flag_and_hooks_carry_over() -> None:
    model = Model().train()
    calls = []
    model.rnn.register_forward_hook(lambda module, args, output: calls.append(type(module).__name__))
    fast = convert(model, threads=1)
    assert fast.rnn.training
    with torch.no_grad():
        fast(torch.randint(0, 100, (3, 1)))
    assert calls == ["LSTM"]


def test_bad_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="module"):
        convert("not a module")
    with pytest.raises(InvalidParameterError, match="schedule"):
        convert(Model(), schedule="fastest")
    with pytest.raises(InvalidParameterError, match="threads"):
        convert(Model(), threads=0)
    with pytest.raises(InvalidParameterError, match="weight_dtype"):
        convert(Model(), weight_dtype="int4")
    with pytest.raises(InvalidParameterError, match="grad_mode"):
        convert(Model(), grad_mode="detach")
    with pytest.raises(InvalidParameterError, match="inplace"):
        convert(Model(), inplace="yes")


def test_meta_model_is_left_alone() -> None:
    with torch.device("meta"):
        model = Model()
    assert "device meta" in dict(explain_conversion(model).skipped)["rnn"]


def test_import_tsilstm_does_not_import_torch() -> None:
    code = ("import sys, tsilstm; assert 'torch' not in sys.modules; convert = tsilstm.convert; "
            "assert 'torch' in sys.modules; import tsilstm.nn; assert tsilstm.nn.LSTM is tsilstm.integrations.torch.LSTM")
    subprocess.run([sys.executable, "-c", code], check=True)
