"""torch baselines: ``torch.nn.LSTM`` / ``torch.nn.GRU`` holding a model's weights, and the same
module dynamically quantized to int8 (``torch-int8``), run on ``threads`` intra-op threads under
``torch.inference_mode``. torch is imported lazily."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tsilstm.cell_spec import TORCH_MODES
from tsilstm.errors import InternalError, UnsupportedModelError
from tsilstm.model import RecurrentModel


def torch_module_from_model(model: RecurrentModel) -> Any:
    """A ``torch.nn.LSTM`` or ``torch.nn.GRU`` (sequence-first, float32) with the weights of ``model``."""
    import torch

    first = model.layers[0]
    if first.variant != first.spec.default_variant:
        raise UnsupportedModelError(f"torch.nn.{first.spec.torch_class_name} computes only the {first.spec.default_variant} form")
    for layer in model.layers[1:]:
        if layer.hidden_size != first.hidden_size or layer.proj_size != first.proj_size:
            raise UnsupportedModelError("a torch.nn.LSTM/GRU stack has one hidden_size and proj_size for all layers")
    kwargs: dict[str, Any] = {
        "num_layers": len(model.layers),
        "bidirectional": first.bidirectional,
    }
    if first.spec.supports_projection:
        kwargs["proj_size"] = first.proj_size
    module = getattr(torch.nn, first.spec.torch_class_name)(first.input_size, first.hidden_size, **kwargs)
    with torch.no_grad():
        for li, layer in enumerate(model.layers):
            for d, weights in enumerate(layer.directions):
                suffix = f"_l{li}" + ("_reverse" if d == 1 else "")
                for name in ("w_ih", "w_hh", "b_ih", "b_hh", "w_hr"):
                    array = getattr(weights, name)
                    if array is None:
                        continue
                    torch_name = name.replace("w_", "weight_").replace("b_", "bias_") + suffix
                    getattr(module, torch_name).copy_(torch.from_numpy(np.asarray(array, dtype=np.float32)))
    return module.eval()


def quantized_torch_module(module: Any) -> Any:
    """``module`` (a float ``torch.nn.LSTM``/``GRU``) after
    ``torch.ao.quantization.quantize_dynamic(..., {nn.LSTM, nn.GRU}, dtype=torch.qint8)``: int8
    weights (per tensor), activations quantized per call. quantize_dynamic swaps child modules only,
    so the module is quantized inside a one-child container; the deprecation warning of the eager
    quantization API is silenced (it is still the API users reach for)."""
    import torch

    if getattr(module, "proj_size", 0):
        raise UnsupportedModelError(
            f"proj_size={module.proj_size}: torch's dynamically quantized LSTM has no projection"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        holder = torch.ao.quantization.quantize_dynamic(
            torch.nn.Sequential(module), {torch.nn.LSTM, torch.nn.GRU}, dtype=torch.qint8
        )
    quantized = holder[0]
    if isinstance(quantized, (torch.nn.LSTM, torch.nn.GRU)):
        raise InternalError(f"torch.ao.quantization.quantize_dynamic left the {type(module).__name__} in float32")
    return quantized.eval()


class TorchRunner:
    """A torch module (float or dynamically quantized LSTM/GRU) run on ``threads`` threads; call with
    numpy ``(x, h0, c0)`` (torch layout) and get numpy ``(output, h_n, c_n)`` (c_n None for GRU).
    ``precision`` says what the module computes with."""

    def __init__(self, module: Any, threads: int, precision: str = "float32") -> None:
        import torch

        self.torch = torch
        self.module = module
        self.threads = threads
        self.precision = precision
        self.has_cell_state = TORCH_MODES[module.mode].has_cell_state  # float and quantized RNN modules name their cell in .mode
        self.version = torch.__version__
        torch.set_num_threads(threads)

    def __call__(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Run the sequence ``x`` (T, N, X) from states ``h0``/``c0`` (L*D, N, H)."""
        torch = self.torch
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        with torch.inference_mode():
            xt, ht = torch.from_numpy(x), torch.from_numpy(h0)
            if self.has_cell_state:
                y, (h_n, c_n) = self.module(xt, (ht, torch.from_numpy(c0)))
                return y.numpy(), h_n.numpy(), c_n.numpy()
            y, h_n = self.module(xt, ht)
            return y.numpy(), h_n.numpy(), None


def torch_version() -> str | None:
    """The installed torch version, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return str(torch.__version__)
