"""``PackedSequence`` input: checked, and run so that every sequence stops at its own length.

The padded batch runs in one kernel call with each sequence's length: beyond its length a
sequence's state is carried, so its final states are those of its last real step and padding never
enters any state (the reverse direction of a bidirectional layer starts at each sequence's own
last step).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from tsilstm.errors import InvalidParameterError
from tsilstm.integrations.torch.tensor_checks import check_cpu_float

States = tuple[torch.Tensor, ...]
SequenceRunner = Callable[[torch.Tensor, States, torch.Tensor], tuple[torch.Tensor, States]]
"""Runs (T, N, X) input from states (each (L*D, N, *)) with (N,) lengths and returns (T, N, Y) output
(zero beyond each length) and final states."""


def check_packed(packed: PackedSequence, input_size: int) -> None:
    """Raise naming ``input`` when ``packed`` is not a well-formed CPU, floating-point packed batch
    of ``input_size`` features (batch sizes positive and non-increasing, summing to the data rows)."""
    data, batch_sizes = packed.data, packed.batch_sizes
    check_cpu_float(data, "input.data")
    if data.dim() != 2 or data.shape[1] != input_size:
        raise InvalidParameterError("input.data", tuple(data.shape), f"must have shape (total steps, input_size={input_size})")
    if batch_sizes.dim() != 1 or batch_sizes.numel() == 0 or batch_sizes.device.type != "cpu" or batch_sizes.dtype != torch.int64:
        raise InvalidParameterError("input.batch_sizes", batch_sizes, "must be a non-empty 1-D int64 CPU tensor")
    if bool((batch_sizes <= 0).any()) or bool((batch_sizes[1:] > batch_sizes[:-1]).any()):
        raise InvalidParameterError("input.batch_sizes", batch_sizes.tolist(),
                                    "must be positive and non-increasing (sequences sorted by decreasing length)")
    if int(batch_sizes.sum()) != data.shape[0]:
        raise InvalidParameterError("input.batch_sizes", batch_sizes.tolist(), f"must sum to the {data.shape[0]} rows of input.data")
    batch = int(batch_sizes[0])
    if (packed.sorted_indices is None) != (packed.unsorted_indices is None):
        raise InvalidParameterError("input.sorted_indices", packed.sorted_indices, "must be given with unsorted_indices, or neither")
    if packed.sorted_indices is not None:
        expected = torch.arange(batch)
        if packed.sorted_indices.numel() != batch or not torch.equal(packed.sorted_indices.sort().values.cpu(), expected):
            raise InvalidParameterError("input.sorted_indices", packed.sorted_indices.tolist(), f"must be a permutation of 0..{batch - 1}")


def run_packed(run: SequenceRunner, packed: PackedSequence, states: States) -> tuple[PackedSequence, States]:
    """Run ``packed`` (checked) from ``states`` (in the caller's batch order, like torch) with
    ``run`` in one call over the padded batch and its per-sequence lengths; returns the packed
    output (same batch sizes and indices as the input) and the final states at each sequence's last
    real step."""
    padded, lengths = pad_packed_sequence(packed)  # (T, N, X) and lengths, in the caller's order
    output, finals = run(padded, states, lengths)
    if packed.sorted_indices is not None:
        output, lengths = output.index_select(1, packed.sorted_indices), lengths[packed.sorted_indices.cpu()]
    data = pack_padded_sequence(output, lengths, enforce_sorted=True).data
    return PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), tuple(finals)


def run_packed_by_length(run: SequenceRunner, packed: PackedSequence, states: States) -> tuple[PackedSequence, States]:
    """As ``run_packed``, one call per distinct length, each over the sequences of that length cut
    to it (no lengths given to ``run``): for calls whose gradients are recomputed from the call's
    inputs, which then hold no padding."""

    def grouped(padded: torch.Tensor, given: States, lengths: torch.Tensor) -> tuple[torch.Tensor, States]:
        output: torch.Tensor | None = None
        finals = [state.new_zeros(state.shape, dtype=padded.dtype) for state in given]
        for length in sorted(set(lengths.tolist()), reverse=True):
            index = (lengths == length).nonzero().flatten()
            group_out, group_finals = run(padded[:length].index_select(1, index),
                                          tuple(state.index_select(1, index) for state in given), None)
            if output is None:
                output = padded.new_zeros((padded.shape[0], padded.shape[1], group_out.shape[2]))
            output[:length].index_copy_(1, index, group_out)
            for final, group_final in zip(finals, group_finals):
                final.index_copy_(1, index, group_final)
        assert output is not None
        return output, tuple(finals)

    return run_packed(grouped, packed, states)
