"""``convert_model``: write the file form of an ONNX model (its LSTM/GRU nodes tsilstm can run moved
to the ``ai.tsilstm`` domain, weights kept as initializers; docs/design.md section 10)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tsilstm.errors import ModelFileError
from tsilstm.integrations.onnxruntime.graph_rewrite import (
    NodeDecision,
    converted_model,
    inline_external_data,
    load_model_proto,
    plan_rewrite,
)

EXTERNAL_DATA_BYTES = 2**31 - 2**24
"""Models whose serialized size would pass this (protobuf's 2 GiB limit, less headroom) are written
with their tensors in a side file ``OUT.onnx.data``."""


@dataclass(frozen=True)
class ConversionResult:
    """What ``convert_model`` wrote: the output path and the decision for every LSTM/GRU node."""

    path: Path
    decisions: list[NodeDecision]

    @property
    def moved(self) -> list[NodeDecision]:
        """The nodes now in the ``ai.tsilstm`` domain."""
        return [d for d in self.decisions if d.taken]


def convert_model(source: str | Path, destination: str | Path) -> ConversionResult:
    """Read the ONNX file ``source``, move the LSTM/GRU nodes tsilstm can run to ``ai.tsilstm`` and
    write the result to ``destination`` (runs with ``tsilstm.onnx.InferenceSession``)."""
    import onnx

    source, destination = Path(source), Path(destination)
    if destination.resolve() == source.resolve():
        raise ModelFileError(destination, "", "is the input file", "a different output path")
    plan = plan_rewrite(load_model_proto(source), source)
    model = inline_external_data(converted_model(plan), source)  # the output must not point into source's folder
    large = model.ByteSize() > EXTERNAL_DATA_BYTES
    onnx.save_model(model, str(destination), save_as_external_data=large,
                    location=destination.name + ".data" if large else None)
    return ConversionResult(destination, plan.decisions)
