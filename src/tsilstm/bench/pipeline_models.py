"""Realistic pipelines with LSTM/GRU layers between other layers, built from code (torch), for the
whole-model benchmark (the integrations' ``pipeline_bench``) and its tests.

Each pipeline is a torch module and the inputs of one call, with its state carried from call to call
where it streams; ``step(module, state)`` runs one call and returns the outputs and the next state.
The same module is exported to ONNX (``export_onnx``) with the states as graph inputs and outputs,
so ONNX Runtime and ``tsilstm.onnx.InferenceSession`` run exactly the same computation.

Shapes follow common models: a Conv1d front end over spectrogram frames (speech, music), a
streaming speech enhancer (257 frequency bins in and a mask out, one 10-20 ms frame per call), a
bidirectional OCR encoder (CRNN-style: a column of image features per step), an encoder-decoder
whose decoder runs one step per call (greedy decoding), and a beat tracker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from tsilstm.cell_spec import cell_spec
from tsilstm.errors import InvalidParameterError


class ConvRecurrentHead(torch.nn.Module):
    """Conv1d(features -> width, kernel 3) -> ``layers`` x LSTM or GRU(width, hidden) -> Linear(hidden,
    classes); input (batch, features, T), states in and out (streaming when T = 1)."""

    def __init__(self, features: int, width: int, hidden: int, layers: int, classes: int, cell: str = "lstm") -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(features, width, 3, padding=1)
        rnn = getattr(torch.nn, cell_spec(cell).torch_class_name)
        self.rnn = rnn(width, hidden, num_layers=layers)
        self.head = torch.nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        y, new_state = self.rnn(self.conv(x).permute(2, 0, 1), tuple(state) if len(state) == 2 else state[0])
        states = new_state if isinstance(new_state, tuple) else (new_state,)
        return (self.head(y), *states)


class StreamingEnhancer(torch.nn.Module):
    """One spectrogram frame (batch, bins) in, a mask out: Linear(bins, hidden) -> ``layers`` x
    GRU(hidden) -> Linear(hidden, bins) -> sigmoid, the GRU state carried between calls."""

    def __init__(self, bins: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.inp = torch.nn.Linear(bins, hidden)
        self.rnn = torch.nn.GRU(hidden, hidden, num_layers=layers)
        self.out = torch.nn.Linear(hidden, bins)

    def forward(self, frame: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, h = self.rnn(torch.relu(self.inp(frame))[None], h)
        return torch.sigmoid(self.out(y[0])), h


class TwoLstmStream(torch.nn.Module):
    """One frame (1, 1, bins) in: LSTM(bins, hidden) -> LSTM(hidden, hidden) -> Linear(hidden, bins),
    both LSTMs' states as inputs and outputs (a streaming speech-enhancement graph of two LSTM nodes)."""

    def __init__(self, bins: int, hidden: int) -> None:
        super().__init__()
        self.first = torch.nn.LSTM(bins, hidden)
        self.second = torch.nn.LSTM(hidden, hidden)
        self.out = torch.nn.Linear(hidden, bins)

    def forward(self, frame: torch.Tensor, h1: torch.Tensor, c1: torch.Tensor, h2: torch.Tensor,
                c2: torch.Tensor) -> tuple[torch.Tensor, ...]:
        y, (h1, c1) = self.first(frame, (h1, c1))
        y, (h2, c2) = self.second(y, (h2, c2))
        return torch.sigmoid(self.out(y)), h1, c1, h2, c2


class OcrEncoder(torch.nn.Module):
    """Image columns (batch, height, width) -> Conv1d over columns -> 2 x BiLSTM(hidden) -> Linear to
    ``classes`` per column (CRNN-style text recognition without the CTC decoding)."""

    def __init__(self, height: int, hidden: int, classes: int) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(height, hidden, 3, padding=1)
        self.rnn = torch.nn.LSTM(hidden, hidden, num_layers=2, bidirectional=True)
        self.head = torch.nn.Linear(2 * hidden, classes)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        y, _ = self.rnn(torch.relu(self.conv(image)).permute(2, 0, 1))
        return self.head(y)


class EncoderDecoder(torch.nn.Module):
    """A source sequence encoded by LSTM(hidden), then ``decode_steps`` greedy decoder steps, each a
    one-step call of LSTM(hidden) fed the embedding of the previous output token."""

    def __init__(self, vocabulary: int, hidden: int, decode_steps: int) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(vocabulary, hidden)
        self.encoder = torch.nn.LSTM(hidden, hidden)
        self.decoder = torch.nn.LSTM(hidden, hidden)
        self.head = torch.nn.Linear(hidden, vocabulary)
        self.decode_steps = decode_steps

    def forward(self, source: torch.Tensor) -> torch.Tensor:
        _, state = self.encoder(self.embed(source))
        token = source[-1:]
        outputs = []
        for _ in range(self.decode_steps):
            y, state = self.decoder(self.embed(token), state)
            logits = self.head(y)
            token = logits.argmax(-1)
            outputs.append(logits)
        return torch.cat(outputs)


@dataclass
class Pipeline:
    """A named pipeline: its module, the inputs of one call and how the state (if any) carries."""

    name: str
    description: str
    module: torch.nn.Module
    inputs: tuple[torch.Tensor, ...]
    """The first call's inputs: the data inputs, then the initial states (streaming pipelines)."""
    data_inputs: int
    """How many of ``inputs`` are data; the rest are states, replaced by the outputs after them."""
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    recurrent_hidden: int
    """The largest LSTM/GRU hidden size in it (>= 1024: the recurrence dominates)."""
    exportable: bool = True
    """False where the ONNX export cannot express the loop (the greedy decoder's data-dependent tokens)."""
    streaming: bool = field(init=False)

    def __post_init__(self) -> None:
        self.streaming = len(self.inputs) > self.data_inputs

    def caller(self, run: Callable[[tuple[Any, ...]], tuple[Any, ...]],
               inputs: tuple[Any, ...] | None = None) -> Callable[[], tuple[Any, ...]]:
        """A call of the pipeline through ``run`` (inputs -> outputs) from ``inputs`` (default: the
        pipeline's tensors), carrying its state: each call feeds the states the previous one returned."""
        current = list(self.inputs if inputs is None else inputs)
        data = self.data_inputs

        def call() -> tuple[Any, ...]:
            outputs = run(tuple(current))
            if self.streaming:
                current[data:] = outputs[len(outputs) - (len(current) - data):]
            return outputs

        return call


PIPELINES: dict[str, Callable[[], Pipeline]] = {}


def _pipeline(factory: Callable[[], Pipeline]) -> Callable[[], Pipeline]:
    PIPELINES[factory.__name__.replace("_", "-")] = factory
    return factory


def _conv_pipeline(name: str, description: str, features: int, hidden: int, classes: int, frames: int) -> Pipeline:
    """Conv1d(features -> hidden) -> 2 x LSTM(hidden) -> Linear(hidden -> classes) over ``frames``
    frames per call, batch 1, the LSTM state carried."""
    module = ConvRecurrentHead(features, hidden, hidden, 2, classes).eval()
    h = torch.zeros(2, 1, hidden)
    return Pipeline(name, description, module, (torch.randn(1, features, frames), h, h.clone()), 1, ("x", "h0", "c0"),
                    ("y", "h", "c"), hidden)


@_pipeline
def conv_lstm_head() -> Pipeline:
    """Conv1d(80 -> 256) -> 2 x LSTM(256) -> Linear(256 -> 40) over 100 frames, batch 1."""
    return _conv_pipeline("conv-lstm-head", "Conv1d front end + 2 x LSTM(256) + head, 100 frames per call",
                          80, 256, 40, 100)


@_pipeline
def conv_lstm_head_1024() -> Pipeline:
    """Conv1d(80 -> 1024) -> 2 x LSTM(1024) -> Linear(1024 -> 40) over 100 frames: the recurrence dominates."""
    return _conv_pipeline("conv-lstm-head-1024", "Conv1d front end + 2 x LSTM(1024) + head, 100 frames per call",
                          80, 1024, 40, 100)


@_pipeline
def streaming_gru() -> Pipeline:
    """A streaming enhancer: one 257-bin frame per call, 2 x GRU(256), state carried."""
    return Pipeline("streaming-gru", "speech enhancer: 257 bins -> 2 x GRU(256) -> mask, one frame per call",
                    StreamingEnhancer(257, 256, 2).eval(), (torch.randn(1, 257), torch.zeros(2, 1, 256)), 1,
                    ("frame", "h0"), ("mask", "h"), 256)


@_pipeline
def two_lstm_stream() -> Pipeline:
    """Two LSTM nodes (257 -> 128, 128 -> 128), one frame per call, both states carried."""
    zeros = torch.zeros(1, 1, 128)
    return Pipeline("two-lstm-stream", "speech enhancer: LSTM(257 -> 128) -> LSTM(128) -> mask, one frame per call",
                    TwoLstmStream(257, 128).eval(), (torch.randn(1, 1, 257), zeros, zeros.clone(), zeros.clone(),
                                                      zeros.clone()),
                    1, ("frame", "h1", "c1", "h2", "c2"), ("mask", "h1_out", "c1_out", "h2_out", "c2_out"), 128)


@_pipeline
def beat_tracker() -> Pipeline:
    """Conv1d(81 -> 150) -> 2 x LSTM(150) -> Linear(150 -> 1), one frame per call, state carried."""
    return _conv_pipeline("beat-tracker", "beat tracker: Conv1d -> 2 x LSTM(150) -> Linear, one frame per call",
                          81, 150, 1, 1)


@_pipeline
def bilstm_ocr() -> Pipeline:
    """A CRNN-style encoder: 32-pixel-high images 128 columns wide, batch 8, 2 x BiLSTM(256)."""
    return Pipeline("bilstm-ocr", "OCR encoder: Conv1d over image columns -> 2 x BiLSTM(256) -> 96 classes, batch 8",
                    OcrEncoder(32, 256, 96).eval(), (torch.randn(8, 32, 128),), 1, ("image",), ("logits",), 256)


@_pipeline
def encoder_decoder() -> Pipeline:
    """Encoder LSTM(512) over 40 tokens, then 20 greedy one-step decoder calls of LSTM(512)."""
    return Pipeline("encoder-decoder", "LSTM(512) encoder over 40 tokens + 20 one-step decoder calls, batch 1",
                    EncoderDecoder(1000, 512, 20).eval(), (torch.randint(0, 1000, (40, 1)),), 1, ("source",),
                    ("logits",), 512, exportable=False)


def build(name: str) -> Pipeline:
    """The pipeline ``name`` (one of PIPELINES), with seeded weights and inputs."""
    if name not in PIPELINES:
        raise InvalidParameterError("pipeline", name, f"must be one of {sorted(PIPELINES)}")
    torch.manual_seed(0)
    return PIPELINES[name]()


def export_onnx(pipeline: Pipeline, path: Path) -> Path:
    """``pipeline``'s module exported to ONNX at ``path`` (states as graph inputs and outputs)."""
    if not pipeline.exportable:
        raise InvalidParameterError("pipeline", pipeline.name, "has a data-dependent decoder loop the ONNX export cannot express")
    with torch.inference_mode():
        torch.onnx.export(pipeline.module, pipeline.inputs, str(path), input_names=list(pipeline.input_names),
                          output_names=list(pipeline.output_names), dynamo=False)
    return path

