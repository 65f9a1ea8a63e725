"""Integrations with other frameworks' extension points (above the runtime and the importers):
``onnxruntime`` runs whole ONNX models in ONNX Runtime with their LSTM/GRU nodes in tsilstm's kernel.
Nothing below this package imports it."""
