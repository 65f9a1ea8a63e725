"""``KernelOptions``: how the native kernel runs a module (schedule, threads, weight type, tile,
instruction set, tuning), validated once, on construction. Every entry point (``tsilstm.LSTM`` /
``GRU``, ``RecurrentModule.from_model``, the torch modules and ``convert``, the ONNX session) takes
these as keyword arguments and builds one ``KernelOptions``, which is what travels inward.

Unset is None throughout: ``threads`` None is the caller's budget (all usable cores when called
directly, the host framework's intra-op threads inside torch or ONNX Runtime), ``tile`` None the
weight type's default, ``isa`` None the best the CPU has, ``tuning`` None ``TSILSTM_TUNING`` (or
``on``); ``weight_dtype`` None is float32.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tsilstm.runtime.kernel_abi import MAX_TILE_UNITS, WEIGHT_DTYPES
from tsilstm.runtime.schedule_choice import RUNTIME_SCHEDULES
from tsilstm.runtime.schedule_tuning import TUNING_MODES
from tsilstm.runtime.tile_defaults import default_tile_units
from tsilstm.validation import require_choice, require_int

MAX_THREADS = 256
"""Upper bound accepted for ``threads`` (more threads than row-blocks are never started)."""
FLOAT32 = "float32"
"""The weight type of unset ``weight_dtype``."""


@dataclass(frozen=True)
class KernelOptions:
    """How the kernel runs a module; each field checked on construction (the error names it)."""

    schedule: str = "auto"
    """One of RUNTIME_SCHEDULES; ``auto`` measures (and, inside a framework, also the host's own)."""
    threads: int | None = None
    """1..MAX_THREADS, or None: the caller's budget."""
    weight_dtype: str | None = FLOAT32
    """Recurrent weight element type, one of the kernel's WEIGHT_DTYPES (None: float32)."""
    tile: int | None = None
    """Tile units (rows of W_h per tile), 1..MAX_TILE_UNITS, or None: the weight type's default."""
    isa: str | None = None
    """The tile product's instruction set, one of ``available_isas()``, or None: the best here."""
    tuning: str | None = None
    """How ``auto`` decides (TUNING_MODES), or None: ``TSILSTM_TUNING``, else ``on``."""

    def __post_init__(self) -> None:
        require_choice("schedule", self.schedule, RUNTIME_SCHEDULES)
        if self.threads is not None:
            object.__setattr__(self, "threads", require_int("threads", self.threads, maximum=MAX_THREADS))
        object.__setattr__(self, "weight_dtype",
                           FLOAT32 if self.weight_dtype is None else require_choice("weight_dtype", self.weight_dtype,
                                                                                    WEIGHT_DTYPES))
        if self.tile is not None:
            object.__setattr__(self, "tile", require_int("tile", self.tile, maximum=MAX_TILE_UNITS))
        if self.isa is not None:
            from tsilstm.runtime.execution import available_isas  # (loads the native kernel)

            require_choice("isa", self.isa, available_isas())
        if self.tuning is not None:
            require_choice("tuning", self.tuning, TUNING_MODES)

    @property
    def dtype(self) -> str:
        """The recurrent weight element type (``weight_dtype``, never None after construction)."""
        return self.weight_dtype or FLOAT32

    @property
    def tile_units(self) -> int:
        """Tile units to pack with: ``tile``, else the weight type's default."""
        return default_tile_units(self.dtype) if self.tile is None else self.tile

    def with_threads(self, threads: int | None) -> "KernelOptions":
        """These options with ``threads`` (checked) in place of the current value."""
        return self if threads == self.threads else replace(self, threads=threads)
