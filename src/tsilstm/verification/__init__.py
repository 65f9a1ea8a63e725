"""Verification of imported models against the framework they came from (onnxruntime, torch) and
of every schedule's replay on the model's own weights. Imports frameworks lazily."""

from tsilstm.verification.model_file import FileCheck, verify_model, verify_model_file

__all__ = ["FileCheck", "verify_model", "verify_model_file"]
