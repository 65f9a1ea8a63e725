"""ONNX importer: gate orders, directions, variants, layouts, constants, subgraphs, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsilstm.importers import ModelFileError, load_model, load_models
from tsilstm.verification.model_file import verify_model

from .onnx_builders import build_recurrent_model, recurrent_node_arrays, save, wrap_in_if

pytest.importorskip("onnxruntime")


def _reference_error(model) -> float:  # type: ignore[no-untyped-def]
    (check,) = verify_model(model, schedules=(), runtime=False)
    assert check.engine == "reference" and check.against == "onnxruntime"
    return check.max_abs_error


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
@pytest.mark.parametrize("direction", ["forward", "reverse", "bidirectional"])
def test_reference_equals_onnxruntime_for_every_direction(tmp_path, op, direction):
    path = save(build_recurrent_model(op, direction=direction, attributes={"linear_before_reset": 1} if op == "GRU" else {}), tmp_path / "m.onnx")
    model = load_model(path)
    layer = model.layers[0]
    assert (layer.cell, layer.input_size, layer.hidden_size) == (op.lower(), 3, 5)
    assert len(layer.directions) == (2 if direction == "bidirectional" else 1)
    assert layer.direction == direction
    assert "time_reversed" not in model.metadata and "direction" not in model.metadata
    assert _reference_error(model) < 1e-5


@pytest.mark.parametrize("linear_before_reset, variant", [(1, "reset_after"), (0, "reset_before")])
def test_gru_linear_before_reset_maps_to_variant(tmp_path, linear_before_reset, variant):
    path = save(build_recurrent_model("GRU", attributes={"linear_before_reset": linear_before_reset}), tmp_path / "g.onnx")
    model = load_model(path)
    assert model.layers[0].variant == variant
    assert _reference_error(model) < 1e-5


def test_gru_without_linear_before_reset_attribute_is_the_original_form(tmp_path):
    model = load_model(save(build_recurrent_model("GRU"), tmp_path / "g.onnx"))
    assert model.layers[0].variant == "reset_before"
    assert _reference_error(model) < 1e-5


def test_layout_1_batch_first_tensors(tmp_path):
    model = load_model(save(build_recurrent_model("LSTM", direction="bidirectional", attributes={"layout": 1}), tmp_path / "m.onnx"))
    assert model.metadata["layout"] == 1
    assert _reference_error(model) < 1e-5


def test_sequence_lens_input_is_recorded_and_fed_full_length(tmp_path):
    model = load_model(save(build_recurrent_model("GRU", sequence_lens=True, attributes={"linear_before_reset": 1}), tmp_path / "m.onnx"))
    assert model.metadata["sequence_lens"] is True
    assert _reference_error(model) < 1e-5


@pytest.mark.parametrize("weights_as", ["constant", "identity"])
def test_weights_from_constant_nodes_and_identity(tmp_path, weights_as):
    model = load_model(save(build_recurrent_model("LSTM", weights_as=weights_as), tmp_path / "m.onnx"))
    assert _reference_error(model) < 1e-5


def test_no_bias_input_means_zero_biases(tmp_path):
    arrays = recurrent_node_arrays("LSTM", 3, 5, 1, seed=3)
    del arrays["B"]
    model = load_model(save(build_recurrent_model("LSTM", arrays=arrays), tmp_path / "m.onnx"))
    assert not np.any(model.layers[0].directions[0].b_ih) and not np.any(model.layers[0].directions[0].b_hh)
    assert _reference_error(model) < 1e-5


def test_all_zero_peepholes_are_accepted(tmp_path):
    arrays = recurrent_node_arrays("LSTM", 3, 5, 1, seed=1)
    arrays["P"] = np.zeros((1, 15), np.float32)
    model = load_model(save(build_recurrent_model("LSTM", arrays=arrays), tmp_path / "m.onnx"))
    assert _reference_error(model) < 1e-5


def test_every_node_found_also_in_subgraphs_and_several_per_file(tmp_path):
    lstm = build_recurrent_model("LSTM", name="enc")
    path = save(wrap_in_if(lstm), tmp_path / "if.onnx")
    (model,) = load_models(path)
    assert model.name == "enc"
    assert _reference_error(model) < 1e-5
    two = build_recurrent_model("GRU", name="first", attributes={"linear_before_reset": 1})
    second = build_recurrent_model("LSTM", name="second", seed=4)
    two.graph.node.extend(n for n in second.graph.node if n.op_type == "LSTM")
    two.graph.initializer.extend(second.graph.initializer)
    two.graph.input.append(second.graph.input[-1])  # c0
    models = load_models(save(two, tmp_path / "two.onnx"))
    assert [m.name for m in models] == ["first", "second"]
    assert load_model(tmp_path / "two.onnx", name="second").cell == "lstm"
    with pytest.raises(ModelFileError, match="holds 2 recurrent models"):
        load_model(tmp_path / "two.onnx")


def test_wrong_gate_order_would_be_caught(tmp_path):
    """The comparison with onnxruntime is sensitive: with the f and o gates swapped it fails."""
    from dataclasses import replace

    from tsilstm.importers.gate_order import reorder_gates

    model = load_model(save(build_recurrent_model("LSTM", seed=7), tmp_path / "m.onnx"))
    layer = model.layers[0]
    swap = (0, 3, 2, 1)  # canonical i, f, g, o -> i, o, g, f
    weights = layer.directions[0]
    swapped = replace(weights, w_ih=reorder_gates(weights.w_ih, swap), w_hh=reorder_gates(weights.w_hh, swap),
                      b_ih=reorder_gates(weights.b_ih, swap), b_hh=reorder_gates(weights.b_hh, swap))
    assert _reference_error(model) < 1e-5
    assert _reference_error(replace(model, layers=(replace(layer, directions=(swapped,)),))) > 1e-3


@pytest.mark.parametrize(
    "attributes, message",
    [
        ({"clip": -3.0}, "clip=-3.0"),
        ({"input_forget": 2}, "input_forget=2"),
        ({"activations": ["Sigmoid", "Gelu", "Tanh"]}, "'Gelu'"),
        ({"activations": ["Sigmoid", "Tanh"]}, "2 activations"),
        ({"activations": ["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Tanh", "Tanh"], "direction": "bidirectional"},
         "different activations"),
    ],
)
def test_bad_cell_attributes_are_rejected_naming_the_node(tmp_path, attributes, message):
    direction = attributes.pop("direction", "forward")
    path = save(build_recurrent_model("LSTM", name="bad_node", direction=direction, attributes=attributes), tmp_path / "m.onnx")
    with pytest.raises(ModelFileError, match="bad_node") as caught:
        load_models(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_default_activations_spelled_out_are_accepted(tmp_path):
    attrs = {"activations": ["Sigmoid", "Tanh", "Tanh"] * 2}
    model = load_model(save(build_recurrent_model("LSTM", direction="bidirectional", attributes=attrs), tmp_path / "m.onnx"))
    assert model.layers[0].standard_cell
    assert _reference_error(model) < 1e-5


def test_peepholes_are_read_in_canonical_order(tmp_path):
    arrays = recurrent_node_arrays("LSTM", 3, 5, 1, seed=1, peephole=True)
    model = load_model(save(build_recurrent_model("LSTM", arrays=arrays), tmp_path / "m.onnx"))
    p = arrays["P"][0]  # ONNX: i, o, f
    assert np.array_equal(model.layers[0].directions[0].peepholes, np.stack([p[0:5], p[10:15], p[5:10]]))
    assert _reference_error(model) < 1e-5


def test_weights_computed_at_run_time_are_rejected(tmp_path):
    path = save(build_recurrent_model("GRU", name="dyn", weights_as="input"), tmp_path / "m.onnx")
    with pytest.raises(ModelFileError, match="input W .* is computed at run time"):
        load_models(path)


def test_graph_without_recurrent_nodes(tmp_path):
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["X"], ["Y"])], "g",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)])
    path = save(helper.make_model(graph), tmp_path / "relu.onnx")
    with pytest.raises(ModelFileError, match=r"has no LSTM or GRU node \(its graph has Relu\)"):
        load_models(path)


def test_not_a_model_and_truncated_files(tmp_path):
    text = tmp_path / "notes.onnx"
    text.write_text("this is not a model\n" * 20)
    with pytest.raises(ModelFileError, match="notes.onnx"):
        load_models(text)
    whole = save(build_recurrent_model("LSTM", hidden=32, input_size=16), tmp_path / "whole.onnx").read_bytes()
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ModelFileError, match="cut.onnx"):
        load_models(cut)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="is empty"):
        load_models(empty)
    with pytest.raises(ModelFileError, match="no such file"):
        load_models(tmp_path / "missing.onnx")


def test_mis_shaped_weights_are_rejected(tmp_path):
    arrays = recurrent_node_arrays("LSTM", 3, 5, 1, seed=0)
    arrays["B"] = arrays["B"][:, :-2]
    with pytest.raises(ModelFileError, match=r"B has shape \(1, 38\)"):
        load_models(save(build_recurrent_model("LSTM", arrays=arrays), tmp_path / "m.onnx"))


def test_original_gru_form_replays_every_schedule_against_onnxruntime(tmp_path):
    from tsilstm.plan import SCHEDULES

    path = save(build_recurrent_model("GRU", hidden=16, input_size=4, direction="bidirectional"), tmp_path / "g0.onnx")
    model = load_model(path)
    assert model.layers[0].variant == "reset_before"
    checks = verify_model(model, steps=7)
    replays = [c for c in checks if c.engine == "replay"]
    assert {c.schedule for c in replays} == set(SCHEDULES)
    assert all(c.ok and c.max_abs_error < 1e-5 for c in checks if not c.skipped), checks
    assert {c.executed_schedule for c in replays if c.schedule.startswith("tsi")} == {"snake", "pinned"}
    for check in (c for c in checks if c.engine == "runtime"):  # the native kernel runs reset_after only
        assert check.skipped or check.ok


@settings(max_examples=15)
@given(
    op=st.sampled_from(["LSTM", "GRU"]),
    input_size=st.integers(1, 6),
    hidden=st.integers(1, 9),
    direction=st.sampled_from(["forward", "reverse", "bidirectional"]),
    linear_before_reset=st.sampled_from([0, 1]),
    layout=st.sampled_from([0, 1]),
    seed=st.integers(0, 1000),
)
def test_random_nodes_match_onnxruntime_in_reference_and_replay(op, input_size, hidden, direction, linear_before_reset, layout, seed):
    import tempfile
    from pathlib import Path

    attrs = {"layout": layout, **({"linear_before_reset": linear_before_reset} if op == "GRU" else {})}
    proto = build_recurrent_model(op, input_size=input_size, hidden=hidden, direction=direction, attributes=attrs, seed=seed)
    with tempfile.TemporaryDirectory() as folder:
        model = load_model(save(proto, Path(folder) / "m.onnx"))
        checks = verify_model(model, steps=4, batch=2, seed=seed, schedules=("conventional", "tsi"), runtime=False)
    assert all(c.ok and c.max_abs_error < 1e-5 for c in checks), checks
