"""The model description validates shapes and values on construction."""

import numpy as np
import pytest

from tsilstm.errors import InvalidParameterError
from tsilstm.model import DirectionWeights, RecurrentLayer, random_layer


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
