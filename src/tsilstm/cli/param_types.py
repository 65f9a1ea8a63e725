"""click parameter types built on ``tsilstm.units`` and ``tsilstm.validation``: options are checked by
click itself (exit 2, "Invalid value for '--buffer': ..."), with the same allowed-values text the
config files and the Python API give."""

from __future__ import annotations

from typing import Any

import click

from tsilstm.accel.arch_config import BIT_WIDTHS
from tsilstm.accel.plausible_ranges import warn_if_implausible
from tsilstm.cell_spec import CELLS
from tsilstm.errors import InvalidParameterError, TsilstmError
from tsilstm.units import parse_quantity, parse_whole


class QuantityType(click.ParamType):
    """A physical quantity of ``dimension`` (see ``tsilstm.units``), converted to its base unit: an
    int with ``whole`` (bytes), else a float (bytes/s, Hz, ...)."""

    def __init__(self, dimension: str, *, whole: bool = False, plausible_field: str | None = None) -> None:
        self.dimension = dimension
        self.whole = whole
        self.name = dimension
        self.plausible_field = plausible_field  # warn when a bare number is implausible for this accelerator field

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The value in the dimension's base unit; a bad value fails with the units' allowed text."""
        if not isinstance(value, str):
            return value
        name = param.name if param is not None and param.name else self.dimension
        try:
            number = parse_whole(name, value, self.dimension) if self.whole else parse_quantity(name, value, self.dimension)
        except InvalidParameterError as error:
            self.fail(f"{value!r}: {error.allowed}", param, ctx)
        if self.plausible_field is not None:
            warn_if_implausible("--" + name.replace("_", "-"), self.plausible_field, value, number)
        return number

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """SIZE for bytes, RATE for bytes/s, QUANTITY otherwise."""
        return {"bytes": "SIZE", "bytes_per_s": "RATE"}.get(self.dimension, "QUANTITY")


class CommaListType(click.ParamType):
    """A comma-separated list whose items are converted by ``item_type`` (each item validated, the
    error names the item); an empty string is the empty tuple."""

    name = "list"

    def __init__(self, item_type: click.ParamType) -> None:
        self.item_type = item_type

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """A tuple of converted items."""
        if isinstance(value, tuple):
            return value
        return tuple(self.item_type.convert(part.strip(), param, ctx) for part in str(value).split(",") if part.strip())

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """A, B, ... for a list."""
        return "A,B,..."


class IntChoiceType(click.ParamType):
    """An integer from a fixed set (e.g. weight widths 8, 16, 32)."""

    name = "integer"

    def __init__(self, choices: tuple[int, ...]) -> None:
        self.choices = choices

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The value as an int if it is one of the choices."""
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = None
        if number not in self.choices:
            self.fail(f"{value!r} is not one of " + ", ".join(map(str, self.choices)), param, ctx)
        return number

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """[8|16|32] style."""
        return "[" + "|".join(map(str, self.choices)) + "]"


BYTES = QuantityType("bytes", whole=True)
"""A byte size: 4096, 512k, 512KiB, 2MiB, 64kB ... (int bytes)."""
BYTES_PER_S = QuantityType("bytes_per_s")
"""A data rate: 12.8e9, 12.8GB/s, 800MiB/s ... (float bytes per second)."""
BUFFER_BYTES = QuantityType("bytes", whole=True, plausible_field="weight_buffer_bytes")
"""An accelerator buffer size (as ``BYTES``, with a warning when a bare number is implausible)."""
DRAM_RATE = QuantityType("bytes_per_s", plausible_field="dram_bandwidth_bytes_per_s")
"""A DRAM bandwidth (as ``BYTES_PER_S``, with a warning when a bare number is implausible)."""
POSITIVE_INT = click.IntRange(min=1)
"""An integer >= 1."""
NON_NEGATIVE_INT = click.IntRange(min=0)
"""An integer >= 0."""
CELL = click.Choice(tuple(CELLS))
"""A recurrent cell type."""
WEIGHT_BITS = IntChoiceType(BIT_WIDTHS)
"""An accelerator weight width in bits."""


class WorkloadNameType(click.ParamType):
    """The name of a workload the accelerator model knows (``tsilstm workloads``)."""

    name = "workload"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The name, if it is known; else fail with examples of known names."""
        from tsilstm.accel.workloads import get_workload

        try:
            return get_workload(value).name
        except InvalidParameterError as error:
            self.fail(f"{value!r}: {error.allowed}", param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """NAME."""
        return "NAME"


class ArchType(click.ParamType):
    """An accelerator: a preset name (edge, server) or a TOML/YAML file, loaded and validated into an
    ``ArchConfig``."""

    name = "arch"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The loaded ``ArchConfig``; a bad spec or file fails with the loader's message."""
        from tsilstm.accel.arch_config import ArchConfig
        from tsilstm.accel.arch_file import load_arch

        if isinstance(value, ArchConfig):
            return value
        try:
            return load_arch(value)
        except TsilstmError as error:
            self.fail(str(error), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """PRESET|FILE."""
        return "PRESET|FILE"


class FeedsType(click.ParamType):
    """``auto`` (random inputs shaped from the model) or the path of an existing ``.npz`` file."""

    name = "auto|FILE.npz"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        """``auto``, or the path of an existing .npz file; otherwise fail naming the option."""
        from pathlib import Path

        text = str(value)
        if text == "auto" or (text.endswith(".npz") and Path(text).is_file()):
            return text
        self.fail(f"{text!r} is neither 'auto' nor an existing .npz file", param, ctx)


class SchedulerAddressType(click.ParamType):
    """The address of a Dask scheduler: ``[tcp://|tls://|inproc://]HOST:PORT`` (checked for form
    here; whether it answers is checked when connecting)."""

    name = "address"
    SCHEMES = ("tcp://", "tls://", "inproc://", "ucx://")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """``value`` if it has the form of a scheduler address."""
        text = str(value).strip()
        rest = next((text[len(scheme):] for scheme in self.SCHEMES if text.startswith(scheme)), text)
        host, _, port = rest.rpartition(":")
        if "://" in rest or not host or not port.isdigit() or not 0 < int(port) < 65536:
            self.fail(f"{value!r} is not a scheduler address: [tcp://]HOST:PORT, e.g. tcp://10.0.0.5:8786", param, ctx)
        return text

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """ADDRESS."""
        return "ADDRESS"


SCHEDULER_ADDRESS = SchedulerAddressType()
"""A Dask scheduler address (``tsilstm explore --scheduler``)."""
FEEDS = FeedsType()
WORKLOAD_NAME = WorkloadNameType()
"""A named workload of ``tsilstm.accel.workloads``."""
ARCH = ArchType()
"""An accelerator preset or config file, loaded."""
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}
"""click context settings of every command: ``-h`` works like ``--help``."""
