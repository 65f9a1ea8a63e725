"""Importers: PyTorch modules / checkpoints, ONNX graphs and Keras HDF5 files -> ``tsilstm.model.RecurrentModel``.

Each importer converts its framework's gate order and bias convention to the canonical layout of
``tsilstm.model`` and produces nothing else. torch, onnx and h5py are imported only when needed.
"""

from tsilstm.importers.keras_architecture import KerasArchitecture, KerasLayerSpec, load_architecture
from tsilstm.importers.load import FORMATS, detect_format, load_model, load_models
from tsilstm.errors import ArchitectureNeededError, ModelFileError

__all__ = ["FORMATS", "ArchitectureNeededError", "KerasArchitecture", "KerasLayerSpec", "ModelFileError",
           "detect_format", "load_architecture", "load_model", "load_models"]
