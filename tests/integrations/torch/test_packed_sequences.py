"""PackedSequence input against torch: mixed lengths, sorted or not, both directions, given
states, gradients; each sequence runs for its own length."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pack_sequence

from tests.integrations.torch.twins import TOLERANCE, max_error, twin
from tsilstm.errors import InvalidParameterError

torch = pytest.importorskip("torch")

LENGTHS = [5, 2, 7, 2, 1, 7]


def packed_batch(lengths, features, enforce_sorted, dtype=None):  # type: ignore[no-untyped-def]
    sequences = [torch.randn(n, features, dtype=dtype) for n in lengths]
    if enforce_sorted:
        sequences.sort(key=len, reverse=True)
    return pack_sequence(sequences, enforce_sorted=enforce_sorted)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_packed_mixed_lengths_match_torch(cell, bidirectional, enforce_sorted) -> None:  # type: ignore[no-untyped-def]
    reference, fast = twin(cell, 4, 9, num_layers=2, bidirectional=bidirectional)
    packed = packed_batch(LENGTHS, 4, enforce_sorted)
    with torch.no_grad():
        expected, got = reference(packed), fast(packed)
    assert isinstance(got[0], PackedSequence)
    assert got[0].sorted_indices is packed.sorted_indices or torch.equal(got[0].sorted_indices, packed.sorted_indices)
    assert max_error(expected, got) <= TOLERANCE


@given(lengths=st.lists(st.integers(1, 8), min_size=1, max_size=6), cell=st.sampled_from(["lstm", "gru"]),
       bidirectional=st.booleans(), enforce_sorted=st.booleans(), layers=st.integers(1, 2), with_state=st.booleans(), batch_first=st.booleans())
@settings(max_examples=20)
def test_random_packed_batches_match_torch(lengths, cell, bidirectional, enforce_sorted, layers, with_state,  # type: ignore[no-untyped-def]
                                           batch_first) -> None:
    torch.manual_seed(sum(lengths))
    reference, fast = twin(cell, 3, 5, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    packed = packed_batch(lengths, 3, enforce_sorted)
    hx = None
    if with_state:
        h = torch.randn(layers * (2 if bidirectional else 1), len(lengths), 5)
        hx = (h, torch.randn_like(h)) if cell == "lstm" else h
    with torch.no_grad():
        expected, got = reference(packed, hx), fast(packed, hx)
    assert max_error(expected, got) <= TOLERANCE


def test_packed_with_states_and_projection() -> None:
    reference, fast = twin("lstm", 4, 9, proj_size=3, bidirectional=True)
    packed = packed_batch(LENGTHS, 4, enforce_sorted=False)
    hx = (torch.randn(2, len(LENGTHS), 3), torch.randn(2, len(LENGTHS), 9))
    with torch.no_grad():
        expected, got = reference(packed, hx), fast(packed, hx)
    assert max_error(expected, got) <= TOLERANCE


def test_final_states_are_at_each_sequences_last_step() -> None:
    """A sequence's h_n equals that of running it alone, unpadded (padding never leaks in)."""
    _, fast = twin("gru", 3, 6, bidirectional=True)
    sequences = [torch.randn(n, 3) for n in (6, 3, 1)]
    with torch.no_grad():
        _, h_n = fast(pack_sequence(sequences, enforce_sorted=False))
        for index, sequence in enumerate(sequences):
            _, alone = fast(sequence)
            assert max_error(h_n[:, index], alone) <= TOLERANCE


def test_packed_keeps_input_dtype() -> None:
    reference, fast = twin("lstm", 4, 9)
    packed = packed_batch(LENGTHS, 4, enforce_sorted=False, dtype=torch.float64)
    with torch.no_grad():
        got = fast(packed)
        expected = reference(PackedSequence(packed.data.float(), packed.batch_sizes, packed.sorted_indices,
                                            packed.unsorted_indices))
    assert got[0].data.dtype == torch.float64 and got[1][0].dtype == torch.float64
    assert float((got[0].data - expected[0].data.double()).abs().max()) <= TOLERANCE


def test_packed_gradients_equal_torchs() -> None:
    reference, fast = twin("lstm", 4, 9, bidirectional=True)
    sequences = [torch.randn(n, 4) for n in LENGTHS]
    grads = []
    for module in (fast, reference):
        leaves = [s.clone().requires_grad_(True) for s in sequences]
        out, (h, _) = module(pack_sequence(leaves, enforce_sorted=False))
        (out.data.pow(2).sum() + h.sum()).backward()
        grads.append([leaf.grad for leaf in leaves] + [p.grad for p in module.parameters()])
    for a, b in zip(*grads):
        assert max_error(a, b) <= TOLERANCE


def test_packed_bad_input() -> None:
    _, fast = twin("lstm", 4, 9)
    good = packed_batch([3, 2], 4, enforce_sorted=True)
    rising = PackedSequence(good.data, torch.tensor([1, 2, 2]), None, None)
    with pytest.raises(InvalidParameterError, match="input.batch_sizes"):
        fast(rising)
    with pytest.raises(InvalidParameterError, match="input.data"):
        fast(PackedSequence(good.data[:, :3], good.batch_sizes, None, None))
    with pytest.raises(InvalidParameterError, match="input.data"):
        fast(PackedSequence(good.data.long(), good.batch_sizes, None, None))
    with pytest.raises(InvalidParameterError, match="hx"):
        fast(good, (torch.zeros(1, 3, 9), torch.zeros(1, 3, 9)))
    # torch itself names the argument for lengths out of order with enforce_sorted=True
    with pytest.raises(RuntimeError, match="enforce_sorted"):
        pack_padded_sequence(torch.randn(3, 2, 4), [2, 3], enforce_sorted=True)
