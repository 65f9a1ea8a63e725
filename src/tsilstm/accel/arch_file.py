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

from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

from tsilstm.accel.arch_config import DRAM_TYPE_FIELDS, ArchConfig
from tsilstm.accel.dram_types import get_dram_type
from tsilstm.accel.plausible_ranges import warn_if_implausible
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
_SECTIONS = ("compute", "memory", "dram", "energy", "technology")
_TOP_LEVEL = ("name", "description", "base", "sources", *_SECTIONS)

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
        fields.update({name: getattr(dram, attribute) for name, attribute in DRAM_TYPE_FIELDS.items()})
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
