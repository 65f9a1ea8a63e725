"""Named workloads and workloads from models."""

from __future__ import annotations

import pytest

from tsilstm.accel.workloads import WORKLOADS, get_workload, single_layer_workload, workload_from_model
from tsilstm.errors import InvalidParameterError
from tsilstm.model import random_model


def test_deepbench_set_is_complete() -> None:
    lstm = [w for w in WORKLOADS if w.startswith("deepbench-lstm-")]
    gru = [w for w in WORKLOADS if w.startswith("deepbench-gru-")]
    assert len(lstm) == 5 * 3  # (512|1024|2048, 25), (1536, 50), (256, 150) x batch 1|2|4
    assert len(gru) == (4 * 4 + 2) * 3
    w = get_workload("deepbench-gru-2816-b4-t750")
    assert (w.layers[0].cell, w.layers[0].hidden_size, w.layers[0].input_size, w.steps, w.batch) == ("gru", 2816, 2816, 750, 4)
    assert get_workload("deepbench-lstm-1536-b2").steps == 50


def test_models_are_multi_layer() -> None:
    mos = get_workload("mos-ptb")
    assert [layer.hidden_size for layer in mos.layers] == [960, 960, 620]
    assert [layer.input_size for layer in mos.layers] == [280, 960, 960]
    gnmt = get_workload("gnmt-8x1024")
    assert len(gnmt.layers) == 8 and gnmt.layers[0].bidirectional and gnmt.layers[1].input_size == 2048
    assert get_workload("speech-lstmp-2048-p512").layers[0].proj_size == 512
    for name in ("awd-lstm-ptb", "speech-2048", "mos-wt2", "lm-2x650", "lm-2x1500"):
        assert get_workload(name).layers


def test_unknown_workload_names_the_parameter() -> None:
    with pytest.raises(InvalidParameterError, match="workload"):
        get_workload("deepbench-lstm-4096-b1")


def test_workload_from_model_and_sizes() -> None:
    model = random_model("lstm", 10, 12, num_layers=2, bidirectional=True)
    w = workload_from_model(model, steps=7, batch=3)
    assert [(s.input_size, s.hidden_size, s.bidirectional) for s in w.layers] == [(10, 12, True), (24, 12, True)]
    assert (w.steps, w.batch) == (7, 3)
    custom = single_layer_workload(64, 32, steps=5, layers=2)
    assert [(s.input_size, s.hidden_size) for s in custom.layers] == [(32, 64), (64, 64)]
    with pytest.raises(InvalidParameterError, match="proj_size"):
        single_layer_workload(64, cell="gru", proj_size=8)
