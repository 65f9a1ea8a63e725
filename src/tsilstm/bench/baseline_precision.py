"""How the baselines' arithmetic is named in results (their ``precision``)."""

INT8_DYNAMIC = "int8 dynamic"
"""The ``precision`` of the quantized peers: int8 weights, activations quantized to int8 per call."""
