"""The accelerator description: a TOML (or YAML) file validated on load, named presets shipped with
the package, and overrides from the command line.

File layout (every quantity is a number in the unit its key names, or a string with a unit)::

    name = "my-accel"
    base = "edge"                 # optional: start from a preset, override what follows
    [compute]  clock_hz, mac_units, weight_bits, activation_bits, accumulator_bits, arithmetic,
               activation_units, mac_pipeline_cycles, cell_pipeline_cycles, issue_window,
               sequencer_cycles_per_op
    [memory]   weight_buffer_bytes, activation_buffer_bytes, tile_units, prefetch_tiles,
               weight_buffer_banks, activation_buffer_banks, sram_bank_bytes, sram_bank_width_bits,
               sram_ports_per_bank
    [dram]     type (lpddr4, ddr4, gddr5, hbm2: fills every key below), bandwidth_bytes_per_s,
               latency_ns, energy_pj_per_bit, interface_area_mm2, interface_static_power_w,
               port_bytes (the data port's width: every transfer moves whole beats of it)
    [energy]   static_power_w, mac_pj, multiply_pj, activation_pj, sram_pj_per_64bit
    [technology] node_nm (45, 32, 28, 22, 16, 14, 10 or 7), vdd_v, sram_array_efficiency, sram_leakage_pw_per_bit,
               logic_leakage_w_per_mm2
    [sources]  free text per key (documentation only)

Energies left out come from ``energy_table`` (45 and 7 nm tables) at the node (``technology``);
energies given here are taken as they are. ``static_power_w`` left out is the leakage of the
design (``hardware_cost``); given, it replaces it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from tsilstm.accel.energy_table import (
    SRAM_READ_PJ_PER_64BIT,
    activation_energy_pj,
    mac_energy_pj,
    multiply_energy_pj,
)
from tsilstm.accel.dram_types import get_dram_type
from tsilstm.accel.plausible_ranges import warn_if_implausible
from tsilstm.accel.sram_banks import SRAM_BANK_BYTES, SRAM_BANK_WIDTH_BITS, SRAM_PORTS_PER_BANK, bank_layout
from tsilstm.accel.technology import REFERENCE_NODE_NM, SRAM_ARRAY_EFFICIENCY, NodeFigures, node_figures, require_node
from tsilstm.errors import InvalidParameterError
from tsilstm.optional_packages import import_optional
from tsilstm.toml_reader import TOMLDecodeError, loads_toml
from tsilstm.units import parse_quantity, parse_whole

PRESETS = ("edge", "server")

# (section, key) -> (field name, dimension, kind, required)
#   kind: "whole" (int > 0), "whole0" (int >= 0), "real" (> 0), "real0" (>= 0), "choice", "bool", "table"
_SCHEMA: dict[tuple[str, str], tuple[str, str, str, bool]] = {
    ("compute", "clock_hz"): ("clock_hz", "hz", "real", True),
    ("compute", "mac_units"): ("mac_units", "count", "whole", True),
    ("compute", "weight_bits"): ("weight_bits", "count", "bits", True),
    ("compute", "activation_bits"): ("activation_bits", "count", "bits", True),
    ("compute", "accumulator_bits"): ("accumulator_bits", "count", "bits", True),
    ("compute", "arithmetic"): ("arithmetic", "", "choice", False),
    ("compute", "activation_units"): ("activation_units", "count", "whole", True),
    ("compute", "mac_pipeline_cycles"): ("mac_pipeline_cycles", "count", "whole0", False),
    ("compute", "cell_pipeline_cycles"): ("cell_pipeline_cycles", "count", "whole0", False),
    ("compute", "issue_window"): ("issue_window", "count", "whole", False),
    ("compute", "sequencer_cycles_per_op"): ("sequencer_cycles_per_op", "count", "whole0", False),
    ("memory", "weight_buffer_bytes"): ("weight_buffer_bytes", "bytes", "whole", True),
    ("memory", "activation_buffer_bytes"): ("activation_buffer_bytes", "bytes", "whole", True),
    ("memory", "tile_units"): ("tile_units", "count", "whole", False),
    ("memory", "prefetch_tiles"): ("prefetch_tiles", "count", "whole0", False),
    ("memory", "weight_buffer_banks"): ("weight_buffer_banks", "count", "whole", False),
    ("memory", "activation_buffer_banks"): ("activation_buffer_banks", "count", "whole", False),
    ("memory", "sram_bank_bytes"): ("sram_bank_bytes", "bytes", "whole", False),
    ("memory", "sram_bank_width_bits"): ("sram_bank_width_bits", "count", "whole", False),
    ("memory", "sram_ports_per_bank"): ("sram_ports_per_bank", "count", "whole", False),
    ("dram", "type"): ("dram_type", "", "dram_type", False),
    ("dram", "bandwidth_bytes_per_s"): ("dram_bandwidth_bytes_per_s", "bytes_per_s", "real", True),
    ("dram", "latency_ns"): ("dram_latency_ns", "ns", "real0", True),
    ("dram", "port_bytes"): ("dram_port_bytes", "bytes", "whole", False),
    ("dram", "energy_pj_per_bit"): ("dram_pj_per_bit", "pj_per_bit", "real0", True),
    ("dram", "interface_area_mm2"): ("dram_interface_area_mm2", "mm2", "real0", False),
    ("dram", "interface_static_power_w"): ("dram_interface_static_power_w", "w", "real0", False),
    ("energy", "static_power_w"): ("static_power_w", "w", "real0", False),
    ("energy", "mac_pj"): ("mac_pj", "pj", "real0", False),
    ("energy", "multiply_pj"): ("multiply_pj", "pj", "real0", False),
    ("energy", "activation_pj"): ("activation_pj", "pj", "real0", False),
    ("energy", "sram_pj_per_64bit"): ("sram_table", "", "table", False),
    ("technology", "node_nm"): ("node_nm", "nm", "whole", False),
    ("technology", "vdd_v"): ("vdd_v", "v", "real", False),
    ("technology", "sram_array_efficiency"): ("sram_array_efficiency", "fraction", "real", False),
    ("technology", "sram_leakage_pw_per_bit"): ("sram_leakage_pw_per_bit", "pw", "real0", False),
    ("technology", "logic_leakage_w_per_mm2"): ("logic_leakage_w_per_mm2", "w_per_mm2", "real0", False),
}
_KEY_OF_FIELD = {field: f"{section}.{key}" for (section, key), (field, *_rest) in _SCHEMA.items()}
_KEY_OF_FIELD["sram_pj_per_64bit"] = "energy.sram_pj_per_64bit"
_FIELDS_OF_DRAM_TYPE = {
    "dram_bandwidth_bytes_per_s": "bandwidth_bytes_per_s", "dram_latency_ns": "latency_ns", "dram_pj_per_bit": "energy_pj_per_bit",
    "dram_interface_area_mm2": "interface_area_mm2", "dram_interface_static_power_w": "interface_static_power_w",
}
"""Config fields a ``[dram] type`` fills (field -> attribute of ``dram_types.DramType``)."""
_SECTIONS = ("compute", "memory", "dram", "energy", "technology")
_TOP_LEVEL = ("name", "description", "base", "sources", *_SECTIONS)
BIT_WIDTHS = (8, 16, 32)
"""Weight and activation widths the accelerator model supports, in bits."""
PHYSICAL_RANGES: dict[str, tuple[float, float]] = {
    "clock_hz": (1e3, 1e12),
    "dram_bandwidth_bytes_per_s": (1e3, 1e16),
    "dram_latency_ns": (0.0, 1e9),
    "dram_pj_per_bit": (0.0, 1e6),
    "static_power_w": (0.0, 1e6),
    "activation_pj": (0.0, 1e6),
    "mac_pj": (0.0, 1e6),
    "multiply_pj": (0.0, 1e6),
    "mac_units": (1, 2**40),
    "activation_units": (1, 2**40),
    "weight_buffer_bytes": (1, 2**50),
    "activation_buffer_bytes": (1, 2**50),
    "tile_units": (1, 2**20),
    "sram_bank_bytes": (8, 2**30),
    "sram_bank_width_bits": (8, 4096),
    "sram_ports_per_bank": (1, 4),
    "issue_window": (1, 2**20),
    "sequencer_cycles_per_op": (0, 2**10),
    "dram_port_bytes": (1, 2**16),
    "mac_pipeline_cycles": (0, 2**20),
    "cell_pipeline_cycles": (0, 2**20),
    "prefetch_tiles": (0, 2**20),
    "sram_array_efficiency": (0.05, 1.0),
    "sram_leakage_pw_per_bit": (0.0, 1e6),
    "logic_leakage_w_per_mm2": (0.0, 1e3),
    "dram_interface_area_mm2": (0.0, 1e4),
    "dram_interface_static_power_w": (0.0, 1e3),
}
"""Physically plausible bounds of each quantity (1 kHz..1 THz, 1 kB/s..10 PB/s, ...): within them
every cycle, byte and energy figure the model computes stays finite and no divisor is ~0."""
_ACC_WIDTHS = (16, 24, 32, 48, 64)
SEQUENCER_CYCLES_PER_OP = 1
"""Cycles the sequencer (and the load engine walking the same program) spends on each op by
default: one instruction decoded per cycle, the rate of a simple in-order control unit (and of the
generated accelerator's sequencer)."""
MIN_DRAM_PORT_BYTES = 16
"""Narrowest DRAM data port by default, bytes: 128 bits, a common AXI data width and the narrowest
port the generated accelerator builds (every buffer line of it is a whole number of such
beats)."""


def default_dram_port_bytes(bytes_per_cycle: float) -> int:
    """The default DRAM port width for ``bytes_per_cycle`` of bandwidth, bytes: the narrowest power
    of two, at least ``MIN_DRAM_PORT_BYTES``, that moves a cycle's bytes in one beat."""
    return max(MIN_DRAM_PORT_BYTES, 1 << max(0, math.ceil(math.log2(bytes_per_cycle))))


@dataclass(frozen=True)
class ArchConfig:
    """A validated accelerator description; every quantity carries its unit in its name."""

    name: str
    clock_hz: float
    mac_units: int
    weight_bits: int
    activation_bits: int
    accumulator_bits: int
    activation_units: int
    weight_buffer_bytes: int
    activation_buffer_bytes: int
    dram_bandwidth_bytes_per_s: float
    dram_latency_ns: float
    dram_pj_per_bit: float
    static_power_w: float | None = None
    arithmetic: str = "int"
    mac_pipeline_cycles: int = 8
    cell_pipeline_cycles: int = 8
    issue_window: int = 2
    sequencer_cycles_per_op: int = SEQUENCER_CYCLES_PER_OP
    dram_port_bytes: int | None = None
    tile_units: int = 64
    prefetch_tiles: int = 1
    mac_pj: float | None = None
    multiply_pj: float | None = None
    activation_pj: float | None = None
    sram_table: tuple[tuple[float, float], ...] = SRAM_READ_PJ_PER_64BIT
    weight_buffer_banks: int | None = None
    activation_buffer_banks: int | None = None
    dram_type: str | None = None
    dram_interface_area_mm2: float | None = None
    dram_interface_static_power_w: float | None = None
    sram_bank_bytes: int = SRAM_BANK_BYTES
    sram_bank_width_bits: int = SRAM_BANK_WIDTH_BITS
    sram_ports_per_bank: int = SRAM_PORTS_PER_BANK
    node_nm: int = REFERENCE_NODE_NM
    vdd_v: float | None = None
    sram_array_efficiency: float = SRAM_ARRAY_EFFICIENCY
    sram_leakage_pw_per_bit: float | None = None
    logic_leakage_w_per_mm2: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        _check_fields(self)

    @property
    def weight_bytes(self) -> int:
        """Bytes per weight."""
        return self.weight_bits // 8

    @property
    def activation_bytes(self) -> int:
        """Bytes per activation (x, h, c)."""
        return self.activation_bits // 8

    @property
    def accumulator_bytes(self) -> int:
        """Bytes per partial sum / gate pre-activation."""
        return self.accumulator_bits // 8

    @property
    def array_read_bits_per_cycle(self) -> int:
        """Weight bits the MAC array consumes per cycle: one weight per MAC (a one-step pass of one
        batch column uses every weight of a tile once), ``mac_units x weight_bits``."""
        return self.mac_units * self.weight_bits

    @property
    def dram_bytes_per_cycle(self) -> float:
        """DRAM bandwidth in bytes per clock cycle."""
        return self.dram_bandwidth_bytes_per_s / self.clock_hz

    @property
    def dram_beat_bytes(self) -> int:
        """Bytes of one DRAM beat (the data port's width): ``dram_port_bytes``, or by default the
        narrowest power of two >= ``MIN_DRAM_PORT_BYTES`` that carries a cycle's bandwidth."""
        if self.dram_port_bytes is not None:
            return self.dram_port_bytes
        return default_dram_port_bytes(self.dram_bytes_per_cycle)

    @property
    def dram_latency_cycles(self) -> float:
        """DRAM latency in clock cycles."""
        return self.dram_latency_ns * 1e-9 * self.clock_hz

    @property
    def node(self) -> NodeFigures:
        """The technology figures of this config's node and supply."""
        return node_figures(self.node_nm, self.vdd_v)

    @property
    def mac_energy_pj(self) -> float:
        """Energy per MAC in pJ: the config's ``mac_pj`` or the tables at these bit widths and node."""
        if self.mac_pj is not None:
            return self.mac_pj
        return mac_energy_pj(self.weight_bits, self.activation_bits, self.accumulator_bits, self.arithmetic, self.node)

    @property
    def multiply_energy_pj(self) -> float:
        """Energy per element-wise multiply of the cell update in pJ (activation width) at the node."""
        if self.multiply_pj is not None:
            return self.multiply_pj
        return multiply_energy_pj(self.activation_bits, self.arithmetic, self.node)

    @property
    def activation_energy_pj(self) -> float:
        """Energy per sigmoid/tanh evaluation in pJ: ``activation_pj`` or the default at the node."""
        if self.activation_pj is not None:
            return self.activation_pj
        return activation_energy_pj(self.node)

    def with_overrides(self, **changes: Any) -> "ArchConfig":
        """A copy with fields replaced (validated again), e.g. ``weight_buffer_bytes=2**20``."""
        unknown = sorted(set(changes) - set(asdict(self)))
        if unknown:
            raise InvalidParameterError(unknown[0], changes[unknown[0]], "not a field of the accelerator config")
        return replace(self, **changes)

    def with_dram_type(self, name: str) -> "ArchConfig":
        """A copy whose DRAM is the interface ``name`` of ``dram_types`` (bandwidth, latency, energy
        per bit, interface area and static power)."""
        dram = get_dram_type(name)
        return self.with_overrides(dram_type=dram.name, **{field: getattr(dram, attr) for field, attr in _FIELDS_OF_DRAM_TYPE.items()})

    def as_dict(self) -> dict[str, Any]:
        """The config as a JSON-ready dict (field names carry units)."""
        out = asdict(self)
        out["sram_table"] = [list(point) for point in self.sram_table]
        out["mac_energy_pj"] = self.mac_energy_pj
        out["multiply_energy_pj"] = self.multiply_energy_pj
        out["activation_energy_pj"] = self.activation_energy_pj
        return out


def _check_fields(arch: ArchConfig) -> None:
    for key in ("weight_bits", "activation_bits"):
        value = getattr(arch, key)
        if value not in BIT_WIDTHS:
            raise InvalidParameterError(key, value, "one of 8, 16, 32 bits")
    if arch.accumulator_bits not in _ACC_WIDTHS:
        raise InvalidParameterError("accumulator_bits", arch.accumulator_bits, "one of 16, 24, 32, 48, 64 bits")
    if arch.arithmetic not in ("int", "float"):
        raise InvalidParameterError("arithmetic", arch.arithmetic, "one of int, float")
    if arch.arithmetic == "float" and arch.weight_bits == 8:
        raise InvalidParameterError("weight_bits", 8, "float arithmetic needs 16 or 32 bits")
    for key in ("clock_hz", "dram_bandwidth_bytes_per_s"):
        value = getattr(arch, key)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InvalidParameterError(key, value, "must be a finite number > 0")
    for key, (low, high) in PHYSICAL_RANGES.items():
        value = getattr(arch, key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
            raise InvalidParameterError(
                key, value, f"must be in [{low:g}, {high:g}] (values outside make the model's arithmetic overflow or divide by ~0)"
            )
    for key in ("dram_latency_ns", "dram_pj_per_bit"):
        value = getattr(arch, key)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise InvalidParameterError(key, value, "must be a finite number >= 0")
    if arch.dram_type is not None:
        get_dram_type(arch.dram_type, "dram_type")
    for key in (
        "mac_pj", "multiply_pj", "static_power_w", "activation_pj", "sram_leakage_pw_per_bit", "logic_leakage_w_per_mm2",
        "dram_interface_area_mm2", "dram_interface_static_power_w",
    ):
        value = getattr(arch, key)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InvalidParameterError(key, value, "must be a finite number >= 0")
    for key in (
        "mac_units", "activation_units", "weight_buffer_bytes", "activation_buffer_bytes", "tile_units", "issue_window",
        "sram_bank_bytes", "sram_bank_width_bits", "sram_ports_per_bank",
    ):
        value = getattr(arch, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameterError(key, value, "must be an integer >= 1")
    for key in ("weight_buffer_banks", "activation_buffer_banks", "dram_port_bytes"):
        value = getattr(arch, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InvalidParameterError(key, value, "must be an integer >= 1")
    node_figures(require_node(arch.node_nm), arch.vdd_v)  # raises naming technology.node_nm / vdd_v
    for key, capacity in (("weight_buffer_banks", arch.weight_buffer_bytes), ("activation_buffer_banks", arch.activation_buffer_bytes)):
        bank_layout(capacity, width_bits=arch.sram_bank_width_bits, max_bank_bytes=arch.sram_bank_bytes,
                    ports=arch.sram_ports_per_bank, banks=getattr(arch, key), banks_key=key)
    for key in ("mac_pipeline_cycles", "cell_pipeline_cycles", "prefetch_tiles", "sequencer_cycles_per_op"):
        value = getattr(arch, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidParameterError(key, value, "must be an integer >= 0")
    if not arch.sram_table:
        raise InvalidParameterError("sram_pj_per_64bit", [], "needs at least one [bytes, pJ] point")
    _check_sram_table(arch.sram_table)


def _check_sram_table(table: tuple[tuple[float, float], ...]) -> None:
    """Sizes strictly increasing (no duplicate rows) and energies not decreasing with the size."""
    points = sorted(table)
    for (size0, pj0), (size1, pj1) in zip(points, points[1:]):
        if size1 == size0:
            raise InvalidParameterError("sram_pj_per_64bit", [list(p) for p in table], f"has two rows for {size0:g} bytes; one row per size")
        if pj1 < pj0:
            raise InvalidParameterError(
                "sram_pj_per_64bit", [list(p) for p in table],
                f"energy falls from {pj0:g} pJ at {size0:g} B to {pj1:g} pJ at {size1:g} B; a larger SRAM never costs less per access",
            )


def load_arch(spec: str | Path) -> ArchConfig:
    """Load a preset by name (``edge``, ``server``) or a TOML/YAML file by path, validated.

    Raises ``InvalidParameterError`` naming the key for unknown keys, wrong units, missing or
    impossible values, and naming ``arch`` for an unknown preset or unreadable file.
    """
    text = str(spec)
    if text in PRESETS:
        return arch_from_dict(_read_preset(text), source=f"preset {text}")
    path = Path(text)
    if not path.suffix:
        raise InvalidParameterError("arch", text, "a preset (" + ", ".join(PRESETS) + ") or a .toml/.yaml file")
    if not path.is_file():
        raise InvalidParameterError("arch", text, "no such file; use a preset (" + ", ".join(PRESETS) + ") or a .toml/.yaml file")
    return arch_from_dict(_read_file(path), source=str(path))


def preset_text(name: str) -> str:
    """The TOML text of preset ``name`` as shipped (with its source comments)."""
    if name not in PRESETS:
        raise InvalidParameterError("arch", name, "one of " + ", ".join(PRESETS))
    return resources.files("tsilstm.accel").joinpath("presets").joinpath(f"{name}.toml").read_text(encoding="utf-8")


def _read_preset(name: str) -> dict[str, Any]:
    return loads_toml(preset_text(name))


def _read_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        try:
            return loads_toml(text)
        except TOMLDecodeError as error:
            raise InvalidParameterError("arch", str(path), f"not valid TOML: {error}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        yaml = import_optional("yaml", f"read the YAML accelerator file {path} (or write it in TOML)")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise InvalidParameterError("arch", str(path), f"not valid YAML: {error}") from None
        if not isinstance(data, dict):
            raise InvalidParameterError("arch", str(path), "must be a mapping of sections")
        return data
    raise InvalidParameterError("arch", str(path), "a .toml, .yaml or .yml file")


def arch_from_dict(data: dict[str, Any], source: str = "config") -> ArchConfig:
    """Validate a parsed config (see module doc) and return the ``ArchConfig``. With ``base`` the
    named preset is loaded first and this config's keys override it. Errors name ``section.key``."""
    if not isinstance(data, dict):
        raise InvalidParameterError("arch", type(data).__name__, "must be a mapping of sections")
    for key in data:
        if key not in _TOP_LEVEL:
            raise InvalidParameterError(key, data[key], "unknown key; allowed: " + ", ".join(_TOP_LEVEL))
    fields: dict[str, Any] = {}
    if "base" in data:
        base = data["base"]
        if base not in PRESETS:
            raise InvalidParameterError("base", base, "one of " + ", ".join(PRESETS))
        fields = asdict(load_arch(base))
        fields.pop("description", None)
    dram_block = data.get("dram", {})
    if isinstance(dram_block, dict) and "type" in dram_block:  # the type first; the keys beside it override it
        dram = get_dram_type(dram_block["type"], "dram.type")
        fields.update({name: getattr(dram, attribute) for name, attribute in _FIELDS_OF_DRAM_TYPE.items()})
    for section in _SECTIONS:
        block = data.get(section, {})
        if not isinstance(block, dict):
            raise InvalidParameterError(section, block, "must be a table of keys")
        for key, value in block.items():
            if (section, key) not in _SCHEMA:
                allowed = ", ".join(k for s, k in _SCHEMA if s == section)
                raise InvalidParameterError(f"{section}.{key}", value, f"unknown key; allowed in [{section}]: {allowed}")
            name, dimension, kind, _ = _SCHEMA[(section, key)]
            fields[name] = _parse_value(f"{section}.{key}", value, dimension, kind)
            warn_if_implausible(f"{section}.{key}", name, value, fields[name])
    for (section, key), (name, _, _, required) in _SCHEMA.items():
        if required and name not in fields:
            raise InvalidParameterError(f"{section}.{key}", None, f"missing (required in {source})")
    if "sources" in data and not isinstance(data["sources"], dict):
        raise InvalidParameterError("sources", data["sources"], "must be a table of text")
    fields["name"] = str(data.get("name", fields.get("name", Path(source).stem)))
    fields["description"] = str(data.get("description", ""))
    if isinstance(fields.get("sram_table"), list):
        fields["sram_table"] = tuple(tuple(p) for p in fields["sram_table"])
    try:
        return ArchConfig(**fields)
    except InvalidParameterError as error:
        key = _KEY_OF_FIELD.get(error.name, error.name)
        raise InvalidParameterError(key, error.value, error.allowed) from None


def _parse_value(key: str, value: Any, dimension: str, kind: str) -> Any:
    if kind == "dram_type":
        return get_dram_type(value, key).name if isinstance(value, str) else get_dram_type(str(value), key).name
    if kind == "choice":
        if value not in ("int", "float"):
            raise InvalidParameterError(key, value, "one of int, float")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidParameterError(key, value, "true or false")
        return value
    if kind == "table":
        if not isinstance(value, list) or not value:
            raise InvalidParameterError(key, value, "a list of [bytes, pJ per 64-bit access] pairs")
        points = []
        for index, point in enumerate(value):
            if not isinstance(point, (list, tuple)) or len(point) != 2:
                raise InvalidParameterError(f"{key}[{index}]", point, "a pair [bytes, pJ per 64-bit access]")
            points.append(
                (parse_quantity(f"{key}[{index}][0]", point[0], "bytes"), parse_quantity(f"{key}[{index}][1]", point[1], "pj", positive=False))
            )
        return tuple(sorted(points))
    if kind == "bits":
        return parse_whole(key, value, dimension)
    if kind == "whole":
        return parse_whole(key, value, dimension)
    if kind == "whole0":
        return parse_whole(key, value, dimension, positive=False)
    if kind == "real":
        return parse_quantity(key, value, dimension)
    return parse_quantity(key, value, dimension, positive=False)
