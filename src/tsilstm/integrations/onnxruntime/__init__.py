"""ONNX Runtime integration: a whole ONNX model runs in ONNX Runtime, every LSTM/GRU node tsilstm can
run executes in tsilstm's kernel as an ``ai.tsilstm`` custom operator (onnxruntime-extensions
Python custom ops; docs/design.md section 10).

Modules: ``graph_rewrite`` (which nodes move; the file form and the runtime form of the graph),
``node_runner`` (one node with the ONNX operator's semantics over a packed tsilstm module),
``custom_ops`` (the operators and their hook), ``session`` (``InferenceSession``), ``conversion``
(``convert_model``, what ``tsilstm convert-onnx`` runs), ``model_bench`` (the whole model timed in
both sessions, what ``tsilstm bench --onnx`` runs)."""

from tsilstm.integrations.onnxruntime.conversion import ConversionResult, convert_model
from tsilstm.integrations.onnxruntime.graph_rewrite import DOMAIN, NodeDecision
from tsilstm.integrations.onnxruntime.session import InferenceSession

__all__ = ["InferenceSession", "convert_model", "ConversionResult", "NodeDecision", "DOMAIN"]
