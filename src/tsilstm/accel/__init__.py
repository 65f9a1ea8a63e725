"""Accelerator model (docs/design.md section 5): architecture config and presets, energy tables with
sources, closed-form traffic counts, an event model of DRAM channel / MAC array / cell unit, energy
with a breakdown, and named workloads.

One-liners::

    from tsilstm.accel import load_arch, evaluate_workload, evaluate_model, get_workload
    results = evaluate_workload(get_workload("deepbench-lstm-2048-b1"), load_arch("edge"))
    results = evaluate_model(model, load_arch("server"), steps=100)   # a tsilstm.model.RecurrentModel
"""

from tsilstm.accel.arch_config import ArchConfig

from tsilstm.accel.arch_file import PRESETS, arch_from_dict, load_arch
from tsilstm.accel.evaluate import (
    LayerResult,
    ScheduleResult,
    evaluate_layer,
    evaluate_model,
    evaluate_workload,
)
from tsilstm.accel.workloads import (
    WORKLOADS,
    LayerShape,
    Workload,
    get_workload,
    single_layer_workload,
    workload_from_model,
)

__all__ = [
    "PRESETS", "ArchConfig", "arch_from_dict", "load_arch", "LayerResult", "ScheduleResult", "evaluate_layer",
    "evaluate_model", "evaluate_workload", "WORKLOADS", "LayerShape", "Workload", "get_workload",
    "single_layer_workload", "workload_from_model",
]
