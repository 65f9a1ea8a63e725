"""The model description validates shapes and values on construction."""

import numpy as np
import pytest

from tsilstm.errors import InvalidParameterError
from tsilstm.model import DirectionWeights, RecurrentLayer, random_layer, random_model


def weights(rows=8, x=3, h=2):
    return DirectionWeights(np.zeros((rows, x)), np.zeros((rows, h)), np.zeros(rows), np.zeros(rows))


def test_valid_layer():
    layer = RecurrentLayer("lstm", 3, 2, (weights(),))
    assert layer.gates == 4 and layer.recurrent_size == 2 and not layer.bidirectional


def test_wrong_shape_names_the_array():
    with pytest.raises(InvalidParameterError, match=r"layer\.direction0\.w_hh"):
        RecurrentLayer("lstm", 3, 2, (weights(h=3),))


def test_nan_weights_are_rejected():
    w = weights()
    w.w_ih[0, 0] = np.nan
    with pytest.raises(InvalidParameterError, match="finite"):
        RecurrentLayer("lstm", 3, 2, (w,))


def test_unknown_cell_and_variant():
    with pytest.raises(InvalidParameterError, match="cell"):
        RecurrentLayer("rnn", 3, 2, (weights(),))
    with pytest.raises(InvalidParameterError, match="variant"):
        RecurrentLayer("gru", 3, 2, (weights(rows=6),), variant="weird")


def test_gru_defaults_to_pytorch_form():
    assert random_layer("gru", 3, 4).variant == "reset_after"


def test_one_layer_shape_for_model_accel_and_bench():
    from tsilstm.accel.workloads import WORKLOADS, LayerShape as AccelShape, workload_from_model
    from tsilstm.bench.shapes import BenchShape
    from tsilstm.model import LayerShape

    assert AccelShape is LayerShape
    model = random_model("lstm", 12, 40, 2, proj_size=10, bidirectional=True)
    shapes = [layer.shape for layer in model.layers]
    assert shapes == list(workload_from_model(model, steps=3).layers)
    assert shapes == list(BenchShape("lstm", 40, 12, 1, 3, num_layers=2, proj_size=10, bidirectional=True).layers)
    first = shapes[0]
    assert (first.gates, first.recurrent_size, first.output_size, first.output_features) == (4, 10, 10, 20)
    direction = model.layers[0].directions[0]
    assert first.recurrent_weight_bytes(4) == 4 * (direction.w_hh.size + direction.w_hr.size)
    gru = LayerShape("gru", 8, 16)
    assert gru.variant == "reset_after" and gru.recurrent_weight_bytes(2) == 2 * 3 * 16 * 16
    names = [w.name for w in WORKLOADS.values() if w.family == "deepbench"]
    assert len(names) == len(set(names)) == 15 + 54


@pytest.mark.parametrize("kwargs, named", [({"cell": "rnn"}, "cell"), ({"proj_size": 16}, "proj_size"),
                                           ({"hidden_size": 0}, "hidden_size"), ({"variant": "odd"}, "variant")])
def test_layer_shape_names_the_bad_field(kwargs, named):
    from tsilstm.model import LayerShape

    fields = {"cell": "lstm", "input_size": 8, "hidden_size": 16, **kwargs}
    with pytest.raises(InvalidParameterError, match=named):
        LayerShape(**fields)
