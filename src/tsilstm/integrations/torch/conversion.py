"""``convert``: every ``torch.nn.LSTM`` / ``torch.nn.GRU`` inside a model replaced by tsilstm's
``LSTM`` / ``GRU``, with the same parameters (shared), so the model's ``state_dict`` keys and
values do not change. Recurrent modules it cannot take are left alone and listed in a report."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any

import torch

from tsilstm.cell_spec import TORCH_MODES
from tsilstm.errors import InvalidParameterError
from tsilstm.integrations.torch.modules import GRU, LSTM, KernelRecurrent
from tsilstm.runtime.kernel_options import KernelOptions

logger = logging.getLogger("tsilstm.convert")

_HOOK_DICTS = ("_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
               "_forward_pre_hooks_with_kwargs", "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
               "_state_dict_pre_hooks", "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks")
"""The hook tables of a torch module, carried over to its replacement."""


@dataclass(frozen=True)
class ConversionReport:
    """What ``convert`` replaces (qualified module names; "" is the model itself) and the recurrent
    modules it leaves alone, each with the reason."""

    converted: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        """A few lines: the converted modules, then each skipped one and why."""
        lines = [f"tsilstm.convert: {len(self.converted)} module(s) converted"
                 + (": " + ", ".join(name or "(the model)" for name in self.converted) if self.converted else "")]
        lines += [f"  left alone: {name or '(the model)'}: {reason}" for name, reason in self.skipped]
        return "\n".join(lines)


def _reason_to_skip(module: torch.nn.Module) -> str | None:
    """None when ``module`` is a ``torch.nn.LSTM`` / ``GRU`` convert takes; else why it is left
    alone ("" for modules that are not recurrent at all)."""
    kind = type(module)
    if isinstance(module, KernelRecurrent):
        return "already a tsilstm module"
    if kind in (torch.nn.LSTM, torch.nn.GRU):
        devices = {p.device.type for p in module.parameters()}
        if devices - {"cpu"}:
            return f"parameters on device {', '.join(sorted(devices))}: tsilstm runs on the CPU only"
        return None
    if isinstance(module, (torch.nn.LSTM, torch.nn.GRU)):
        return f"{kind.__qualname__} subclasses torch.nn.{kind.__mro__[1].__name__} (its own code would be lost)"
    if isinstance(module, torch.nn.RNN):
        return "torch.nn.RNN (tanh / relu cell): tsilstm runs LSTM and GRU"
    if isinstance(module, torch.nn.RNNCellBase):
        return f"{kind.__name__} is one step of a cell, called by the model's own loop: tsilstm runs whole sequences"
    if kind.__module__.startswith("torch.ao.nn.quantized") and any(c in kind.__name__ for c in ("LSTM", "GRU", "RNN")):
        return f"{kind.__module__}.{kind.__name__} holds quantized weights: tsilstm takes float LSTM / GRU weights"
    return ""


def explain_conversion(module: Any) -> ConversionReport:
    """What ``convert(module)`` would replace and what it would leave alone (nothing is changed)."""
    _check_module(module)
    converted, skipped = [], []
    for name, sub in module.named_modules(remove_duplicate=True):
        reason = _reason_to_skip(sub)
        if reason is None:
            converted.append(name)
        elif reason:
            skipped.append((name, reason))
    return ConversionReport(tuple(converted), tuple(skipped))


def convert(module: Any, *, schedule: str = "auto", weight_dtype: str | None = None, threads: int | None = None,
            inplace: bool = False, grad_mode: str = "recompute", tuning: str | None = None) -> torch.nn.Module:
    """``module`` with every ``torch.nn.LSTM`` and ``torch.nn.GRU`` inside it (recursively, the
    module itself included) replaced by ``tsilstm.nn.LSTM`` / ``GRU`` sharing its parameters, so
    ``state_dict()`` keys and values are unchanged and load into the original classes and back.

    A deep copy is converted unless ``inplace=True``. ``schedule``, ``weight_dtype``, ``threads``,
    ``grad_mode`` and ``tuning`` are those of ``tsilstm.nn.LSTM``. Recurrent modules it cannot take
    (LSTMCell, GRUCell, RNN, quantized or subclassed LSTMs, modules on another device) are left
    alone; ``explain_conversion`` lists them and this function logs them (logger "tsilstm.convert",
    a warning each)."""
    _check_module(module)
    if not isinstance(inplace, bool):
        raise InvalidParameterError("inplace", inplace, "must be True or False")
    options = dict(schedule=schedule, threads=threads, weight_dtype=weight_dtype, grad_mode=grad_mode, tuning=tuning)
    KernelOptions(schedule, threads, weight_dtype, tuning=tuning)  # bad options fail before anything is copied
    report = explain_conversion(module)
    if not inplace:
        module = copy.deepcopy(module)
    replaced: dict[int, torch.nn.Module] = {}

    def replacement(old: torch.nn.Module) -> torch.nn.Module:
        if id(old) not in replaced:
            replaced[id(old)] = _kernel_module(old, options)
        return replaced[id(old)]

    if _reason_to_skip(module) is None:
        module = replacement(module)
    else:
        for parent in list(module.modules()):
            for child_name, child in list(parent._modules.items()):  # every name, also of a shared child
                if child is not None and _reason_to_skip(child) is None:
                    setattr(parent, child_name, replacement(child))
    for name, reason in report.skipped:
        logger.warning("tsilstm.convert left %s alone: %s", name or "the model", reason)
    logger.info(report.describe())
    return module


_KERNEL_MODULES: dict[str, type[KernelRecurrent]] = {module._cell: module for module in (LSTM, GRU)}
"""The kernel-run torch module of each cell."""


def _kernel_module(old: torch.nn.Module, options: dict[str, Any]) -> torch.nn.Module:
    """The tsilstm module for ``old`` (a torch.nn.LSTM / GRU): same configuration, ``old``'s
    Parameter objects, training flag and hooks."""
    spec = TORCH_MODES[old.mode]
    config: dict[str, Any] = dict(num_layers=old.num_layers, bias=old.bias, batch_first=old.batch_first,
                                  dropout=old.dropout, bidirectional=old.bidirectional, device="meta")
    if spec.supports_projection:
        config["proj_size"] = old.proj_size
    new = _KERNEL_MODULES[spec.name](old.input_size, old.hidden_size, **config, **options)
    for name in old._flat_weights_names:
        setattr(new, name, getattr(old, name))
    new.train(old.training)
    for table in _HOOK_DICTS:
        if table in old.__dict__:
            new.__dict__[table] = copy.copy(old.__dict__[table])
    return new


def _check_module(module: Any) -> None:
    if not isinstance(module, torch.nn.Module):
        raise InvalidParameterError("module", type(module).__name__, "must be a torch.nn.Module (a model or an nn.LSTM / nn.GRU)")
