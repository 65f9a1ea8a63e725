"""Named workloads: the DeepBench inference server set and common speech / language models, as layer
shapes with a sequence length and a batch size. Weights are not needed
by the accelerator model; ``workload_from_model`` turns a loaded ``RecurrentModel`` into one."""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.errors import InvalidParameterError
from tsilstm.model import LayerShape, RecurrentModel
from tsilstm.validation import require_int

DEEPBENCH_SOURCE = "DeepBench inference server set (Baidu, 2017): input size = hidden"
DEEPBENCH_LSTM = tuple(
    (hidden, batch, steps)
    for hidden, steps in ((512, 25), (1024, 25), (2048, 25), (1536, 50), (256, 150))
    for batch in (1, 2, 4)
)
"""(hidden, batch, steps) of the LSTM problems of DeepBench's ``inference_server_set``
(baidu-research/DeepBench, code/kernels/rnn_problems.h), one unidirectional layer, input = hidden."""
DEEPBENCH_GRU = tuple(
    (hidden, batch, steps)
    for hidden in (2816, 2048, 1536, 2560)
    for batch in (1, 2, 4)
    for steps in (1500, 750, 375, 187)
) + tuple((512, batch, 1) for batch in (1, 2, 4)) + tuple((1024, batch, 1500) for batch in (1, 2, 4))
"""(hidden, batch, steps) of the GRU problems of the same set, in its order."""


@dataclass(frozen=True)
class Workload:
    """A stack of layers run layer by layer over ``steps`` time steps for ``batch`` sequences."""

    name: str
    layers: tuple[LayerShape, ...]
    steps: int
    batch: int
    family: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if not self.layers:
            raise InvalidParameterError("layers", 0, "a workload needs at least one layer")
        require_int("steps", self.steps)
        require_int("batch", self.batch)

    def describe(self) -> str:
        """The layers in short form, repeated layers collapsed (``3 x lstm 2048->2048``)."""
        parts: list[list] = []
        for layer in self.layers:
            text = layer.describe()
            if parts and parts[-1][1] == text:
                parts[-1][0] += 1
            else:
                parts.append([1, text])
        return ", ".join(text if count == 1 else f"{count} x {text}" for count, text in parts)


def stack(cell: str, input_size: int, hidden_sizes: list[int], *, proj_size: int = 0, bidirectional_first: bool = False) -> tuple[LayerShape, ...]:
    """Layers of the given hidden sizes, each fed by the previous layer's output."""
    layers = []
    features = input_size
    for index, hidden in enumerate(hidden_sizes):
        layer = LayerShape(cell, features, hidden, proj_size, bidirectional_first and index == 0)
        layers.append(layer)
        features = layer.output_features
    return tuple(layers)


def _deepbench() -> list[Workload]:
    out = [
        Workload(f"deepbench-lstm-{hidden}-b{batch}", stack("lstm", hidden, [hidden]), steps, batch, "deepbench", DEEPBENCH_SOURCE)
        for hidden, batch, steps in DEEPBENCH_LSTM
    ]
    out += [
        Workload(f"deepbench-gru-{hidden}-b{batch}-t{steps}", stack("gru", hidden, [hidden]), steps, batch, "deepbench", DEEPBENCH_SOURCE)
        for hidden, batch, steps in DEEPBENCH_GRU
    ]
    return out


def _models() -> list[Workload]:
    mos = 'Yang et al., "Breaking the Softmax Bottleneck" (ICLR 2018): 3-layer LSTM LM, BPTT 70'
    return [
        Workload("mos-ptb", stack("lstm", 280, [960, 960, 620]), 70, 1, "language model", mos + ", PTB"),
        Workload("mos-wt2", stack("lstm", 300, [1150, 1150, 650]), 70, 1, "language model", mos + ", WikiText-2"),
        Workload(
            "awd-lstm-ptb", stack("lstm", 400, [1150, 1150, 400]), 70, 1, "language model",
            'Merity et al., "Regularizing and Optimizing LSTM Language Models" (ICLR 2018), PTB, BPTT 70',
        ),
        Workload(
            "lm-2x650", stack("lstm", 650, [650, 650]), 35, 1, "language model",
            'Zaremba et al., "Recurrent Neural Network Regularization" (2014), medium model, 35 steps',
        ),
        Workload(
            "lm-2x1500", stack("lstm", 1500, [1500, 1500]), 35, 1, "language model",
            'Zaremba et al., "Recurrent Neural Network Regularization" (2014), large model, 35 steps',
        ),
        Workload(
            "gnmt-8x1024", stack("lstm", 1024, [1024] * 8, bidirectional_first=True), 50, 1, "translation",
            "Wu et al., GNMT (2016): 8-layer 1024-unit LSTM encoder, first layer bidirectional; 50-token sentence",
        ),
        Workload(
            "speech-2048", stack("lstm", 80, [2048, 2048, 2048]), 100, 1, "speech",
            "a 3-layer 2048-unit acoustic LSTM on 80 log-mel features, 1 s of audio at 10 ms frames (representative)",
        ),
        Workload(
            "speech-lstmp-2048-p512", stack("lstm", 40, [2048, 2048], proj_size=512), 100, 1, "speech",
            "Sak et al., LSTMP (Interspeech 2014): 2048 cells with 512-unit projections; tsi falls back (it does not reorder the projection)",
        ),
    ]


WORKLOADS: dict[str, Workload] = {w.name: w for w in _deepbench() + _models()}
"""Every named workload by name."""


def get_workload(name: str) -> Workload:
    """The workload called ``name``; raises ``InvalidParameterError`` listing the families if unknown."""
    if name not in WORKLOADS:
        examples = "deepbench-lstm-2048-b1, deepbench-gru-2816-b4-t750, " + ", ".join(w.name for w in _models())
        raise InvalidParameterError("workload", name, f"a known workload (see `tsilstm workloads`), e.g. {examples}")
    return WORKLOADS[name]


def single_layer_workload(
    hidden: int, input_size: int | None = None, *, steps: int = 25, batch: int = 1, cell: str = "lstm",
    proj_size: int = 0, layers: int = 1, bidirectional: bool = False,
) -> Workload:
    """A workload built from sizes (``tsilstm simulate --hidden ...``): ``layers`` stacked layers."""
    hidden = require_int("hidden", hidden)
    features = hidden if input_size is None else require_int("input", input_size)
    shapes = stack(cell, features, [hidden] * require_int("layers", layers), proj_size=proj_size)
    if bidirectional:
        shapes = tuple(
            LayerShape(s.cell, s.input_size if i == 0 else shapes[0].output_size * 2, s.hidden_size, s.proj_size, True)
            for i, s in enumerate(shapes)
        )
    label = f"{cell}-{hidden}" + (f"-p{proj_size}" if proj_size else "") + f"-b{batch}-t{steps}"
    return Workload(label, shapes, steps, batch, "custom")


def workload_from_model(model: RecurrentModel, *, steps: int, batch: int = 1, name: str | None = None) -> Workload:
    """The workload of a loaded model (importers' ``RecurrentModel``) over ``steps`` x ``batch``."""
    return workload_from_models((model,), steps=steps, batch=batch, name=name or model.name, source=model.source)


def workload_from_models(models: tuple[RecurrentModel, ...], *, steps: int, batch: int = 1, name: str = "model",
                         source: str = "") -> Workload:
    """Every layer of ``models`` (e.g. each recurrent node of one file), each its own recurrence, as
    one workload over ``steps`` x ``batch``."""
    shapes = tuple(layer.shape for model in models for layer in model.layers)
    return Workload(name, shapes, require_int("steps", steps), require_int("batch", batch), "model", source)
