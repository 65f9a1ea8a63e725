"""The activation functions a recurrent cell may use, with their parameters, as ONNX defines them
for its LSTM and GRU operators (and Keras' ``hard_sigmoid`` as a HardSigmoid with its alpha):

    sigmoid           1 / (1 + e^-x)                 tanh               tanh(x)
    relu              max(0, x)                      affine             alpha * x + beta
    leaky_relu        x if x >= 0 else alpha * x     thresholded_relu   x if x >= alpha else 0
    scaled_tanh       alpha * tanh(beta * x)         hard_sigmoid       min(max(alpha * x + beta, 0), 1)
    elu               x if x >= 0 else alpha * (e^x - 1)
    softsign          x / (1 + |x|)                  softplus           log(1 + e^x)

Defaults of alpha and beta (ONNX Runtime's): hard_sigmoid 0.2 / 0.5, leaky_relu 0.01,
thresholded_relu 1, elu 1, scaled_tanh 1 / 1, affine 1 / 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tsilstm.errors import InvalidParameterError
from tsilstm.validation import require_choice

ACTIVATION_DEFAULTS: dict[str, tuple[float | None, float | None]] = {
    "sigmoid": (None, None),
    "tanh": (None, None),
    "relu": (None, None),
    "affine": (1.0, 0.0),
    "leaky_relu": (0.01, None),
    "thresholded_relu": (1.0, None),
    "scaled_tanh": (1.0, 1.0),
    "hard_sigmoid": (0.2, 0.5),
    "elu": (1.0, None),
    "softsign": (None, None),
    "softplus": (None, None),
}
"""Every activation by name, with its default (alpha, beta); None: the function has no such parameter."""
ONNX_ACTIVATION_NAMES: dict[str, str] = {
    "Sigmoid": "sigmoid", "Tanh": "tanh", "Relu": "relu", "Affine": "affine", "LeakyRelu": "leaky_relu",
    "ThresholdedRelu": "thresholded_relu", "ScaledTanh": "scaled_tanh", "HardSigmoid": "hard_sigmoid",
    "Elu": "elu", "Softsign": "softsign", "Softplus": "softplus",
}
"""ONNX's names of the activations (the ``activations`` attribute of LSTM / GRU nodes)."""


@dataclass(frozen=True)
class Activation:
    """One activation function with its parameters (see the module doc); unused parameters are 0."""

    name: str
    alpha: float = 0.0
    beta: float = 0.0

    def __post_init__(self) -> None:
        require_choice("activation", self.name, tuple(ACTIVATION_DEFAULTS))
        for label, value in (("alpha", self.alpha), ("beta", self.beta)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise InvalidParameterError(f"{self.name}.{label}", value, "must be a finite number")

    @classmethod
    def named(cls, name: str, alpha: float | None = None, beta: float | None = None) -> "Activation":
        """``name`` with ``alpha`` / ``beta`` where given, else its defaults (ACTIVATION_DEFAULTS)."""
        default_alpha, default_beta = ACTIVATION_DEFAULTS[require_choice("activation", name, tuple(ACTIVATION_DEFAULTS))]
        return cls(
            name,
            float(default_alpha if alpha is None else alpha) if default_alpha is not None else 0.0,
            float(default_beta if beta is None else beta) if default_beta is not None else 0.0,
        )

    @property
    def uses_alpha(self) -> bool:
        """True when the function takes an alpha."""
        return ACTIVATION_DEFAULTS[self.name][0] is not None

    @property
    def uses_beta(self) -> bool:
        """True when the function takes a beta."""
        return ACTIVATION_DEFAULTS[self.name][1] is not None

    def describe(self) -> str:
        """``hard_sigmoid(alpha=0.2, beta=0.5)``, ``tanh``."""
        params = [f"alpha={self.alpha:g}"] * self.uses_alpha + [f"beta={self.beta:g}"] * self.uses_beta
        return self.name + (f"({', '.join(params)})" if params else "")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The function applied element-wise to ``x`` (in x's dtype)."""
        a, b = self.alpha, self.beta
        name = self.name
        if name == "sigmoid":
            return 0.5 * (np.tanh(0.5 * x) + 1.0)  # never overflows
        if name == "tanh":
            return np.tanh(x)
        if name == "relu":
            return np.maximum(x, 0.0)
        if name == "affine":
            return a * x + b
        if name == "leaky_relu":
            return np.where(x >= 0, x, a * x)
        if name == "thresholded_relu":
            return np.where(x >= a, x, 0.0)
        if name == "scaled_tanh":
            return a * np.tanh(b * x)
        if name == "hard_sigmoid":
            return np.clip(a * x + b, 0.0, 1.0)
        if name == "elu":
            return np.where(x >= 0, x, a * np.expm1(np.minimum(x, 0.0)))
        if name == "softsign":
            return x / (1.0 + np.abs(x))
        return np.logaddexp(0.0, x)  # softplus, without overflow


SIGMOID, TANH = Activation("sigmoid"), Activation("tanh")
