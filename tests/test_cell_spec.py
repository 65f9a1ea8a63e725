"""The cell spec: the facts of each cell, the errors naming an unknown one, and the rule that no code
outside ``tsilstm/cell_spec.py`` decides anything by comparing a cell's name."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tsilstm.activations import SIGMOID, TANH
from tsilstm.cell_spec import CELLS, CELLS_BY_GATES, KERAS_LAYERS, ONNX_OPS, TORCH_MODES, cell_spec, cell_with_gates
from tsilstm.errors import InvalidParameterError
from tsilstm.importers.gate_order import reorder_gates
from tsilstm.model import CELLS as MODEL_CELLS
from tsilstm.model import LayerShape, gate_count, random_layer, random_model

SRC = Path(__file__).resolve().parents[1] / "src" / "tsilstm"
CELL_NAME = r"""["'](?:lstm|gru|LSTM|GRU)["']"""
CELL_COMPARISON = re.compile(
    rf"""(?:==|!=)\s*{CELL_NAME}"""  # x == "lstm"
    rf"""|{CELL_NAME}\s*(?:==|!=)"""  # "lstm" == x
    rf"""|\bin\s*[(\[{{]\s*{CELL_NAME}\s*,"""  # x in ("lstm", ...)
    rf"""|{CELL_NAME}\s+if\s"""  # "lstm" if ... else "gru"
)
"""A decision made by a cell's (or its framework class's) name: comparing, testing membership, choosing."""
LOOP_HEAD = re.compile(r"\bfor\s+[\w, ]+\s+in\b")
"""``for cell in ("lstm", "gru")`` goes over cells, deciding nothing: removed before the search."""


def test_lstm_facts() -> None:
    lstm = cell_spec("lstm")
    assert lstm.gate_order == ("i", "f", "g", "o") and lstm.gates == 4
    assert lstm.has_cell_state and lstm.state_names == ("h", "c")
    assert lstm.supports_projection and lstm.supports_peepholes and lstm.supports_input_forget
    assert not lstm.supports_reset_before and lstm.default_variant == "standard"
    assert not lstm.recurrent_part_apart
    assert lstm.default_activations == (SIGMOID, TANH, TANH)
    assert lstm.activation_evaluations == 5 and lstm.cell_multiplies == 3
    assert lstm.peephole_gates == ("i", "f", "o")
    assert (lstm.torch_class_name, lstm.onnx_op_type) == ("LSTM", "LSTM")
    assert lstm.onnx_to_canonical == (0, 2, 3, 1) and lstm.canonical_to_onnx == (0, 3, 1, 2)
    assert lstm.keras_to_canonical == (0, 1, 2, 3)


def test_gru_facts() -> None:
    gru = cell_spec("gru")
    assert gru.gate_order == ("r", "z", "n") and gru.gates == 3
    assert not gru.has_cell_state and gru.state_names == ("h",)
    assert not (gru.supports_projection or gru.supports_peepholes or gru.supports_input_forget)
    assert gru.supports_reset_before and gru.variants == ("reset_after", "reset_before")
    assert gru.default_variant == "reset_after"
    assert gru.recurrent_part_apart
    assert gru.default_activations == (SIGMOID, TANH)
    assert gru.activation_evaluations == 3 and gru.cell_multiplies == 3
    assert gru.peephole_gates == ()
    assert (gru.torch_class_name, gru.onnx_op_type) == ("GRU", "GRU")
    assert gru.onnx_to_canonical == (1, 0, 2) == gru.canonical_to_onnx
    assert gru.keras_to_canonical == (1, 0, 2)


def test_lookups_agree() -> None:
    assert MODEL_CELLS == tuple(CELLS) == ("lstm", "gru")
    for name, spec in CELLS.items():
        assert spec.name == name
        assert gate_count(name) == spec.gates == len(spec.gate_order)
        assert CELLS_BY_GATES[spec.gates] is cell_with_gates(spec.gates) is spec
        assert ONNX_OPS[spec.onnx_op_type] is TORCH_MODES[spec.torch_class_name] is spec
        assert all(KERAS_LAYERS[layer] is spec for layer in spec.keras_layer_names)
        assert sorted(spec.onnx_to_canonical) == sorted(spec.keras_to_canonical) == list(range(spec.gates))
        assert spec.default_variant in spec.variants


@pytest.mark.parametrize("cell", list(CELLS))
def test_onnx_order_round_trips(cell: str) -> None:
    spec = cell_spec(cell)
    blocks = np.arange(spec.gates * 2, dtype=np.float64)
    to_onnx = reorder_gates(blocks, spec.canonical_to_onnx)
    assert np.array_equal(reorder_gates(to_onnx, spec.onnx_to_canonical), blocks)


@pytest.mark.parametrize("cell", list(CELLS))
def test_layers_and_models_carry_the_spec(cell: str) -> None:
    layer = random_layer(cell, 3, 4)
    assert layer.spec is CELLS[cell] is layer.shape.spec is random_model(cell, 3, 4, 2).spec
    assert layer.variant == CELLS[cell].default_variant
    assert layer.activations == CELLS[cell].default_activations


@pytest.mark.parametrize("bad", ["rnn", "LSTM", "", None, 4])
def test_an_unknown_cell_names_the_parameter_and_the_cells(bad: object) -> None:
    with pytest.raises(InvalidParameterError) as error:
        cell_spec(bad)  # type: ignore[arg-type]
    assert error.value.name == "cell"
    assert "lstm" in error.value.allowed and "gru" in error.value.allowed
    with pytest.raises(InvalidParameterError, match="cell"):
        LayerShape(bad, 3, 4)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [2, 5, True, 4.0, "4"])
def test_an_unknown_gate_count_names_the_parameter_and_the_counts(bad: object) -> None:
    with pytest.raises(InvalidParameterError) as error:
        cell_with_gates(bad)  # type: ignore[arg-type]
    assert error.value.name == "gates"
    assert "4 (lstm)" in error.value.allowed and "3 (gru)" in error.value.allowed


def test_options_a_cell_does_not_take_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="proj_size"):
        LayerShape("gru", 3, 4, proj_size=2)
    with pytest.raises(InvalidParameterError, match="peepholes"):
        LayerShape("gru", 3, 4, peepholes=True)
    with pytest.raises(InvalidParameterError, match="variant"):
        LayerShape("lstm", 3, 4, variant="reset_before")


def cell_comparisons(root: Path) -> list[str]:
    """``path:line: text`` of every line under ``root`` (but cell_spec.py) deciding by a cell's name."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "cell_spec.py" and path.parent == SRC:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if CELL_COMPARISON.search(LOOP_HEAD.sub("", line)):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_no_cell_name_comparisons_outside_the_spec() -> None:
    assert cell_comparisons(SRC) == []


@pytest.mark.parametrize("line", [
    'if layer.cell == "lstm":', "x = 1 if 'gru' != cell else 2", 'if op == "LSTM":',
    'if cell in ("lstm", "gru"):', 'kind = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU',
    'base = "LSTM" if gates == 4 else "GRU"',
])
def test_the_comparison_finder_finds_comparisons(tmp_path: Path, line: str) -> None:
    (tmp_path / "module.py").write_text(f"def f(cell, op, layer, gates):\n    {line}\n", encoding="utf-8")
    assert len(cell_comparisons(tmp_path)) == 1


@pytest.mark.parametrize("line", ['cell: str = "lstm",', 'random_model("gru", 3, 4)', 'CELL_CODES = {"lstm": 1, "gru": 2}',
                                  'layer = KernelLayout("lstm", 1, False, 0, True)',
                                  'entries = [name for cell in ("lstm", "gru")]'])
def test_the_comparison_finder_leaves_names_as_values(tmp_path: Path, line: str) -> None:
    (tmp_path / "module.py").write_text(f"{line}\n", encoding="utf-8")
    assert cell_comparisons(tmp_path) == []
