"""Integrations of the runtime into other frameworks through their own extension points (above the
runtime and the importers): ``onnxruntime`` runs whole ONNX models in ONNX Runtime with their
LSTM/GRU nodes in tsilstm's kernel; ``torch`` gives torch.nn modules, ``convert`` and the
registered operators. Each imports its framework; nothing below this package imports it."""
