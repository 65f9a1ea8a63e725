"""Ranges plausible for each accelerator quantity, used to warn when a bare number (read in the
key's base unit: Hz, bytes, bytes/s, ns, W, pJ) lies outside them, e.g. ``clock_hz = 800``."""

from __future__ import annotations

import re
import warnings

from tsilstm.errors import ImplausibleValueWarning

PLAUSIBLE_RANGES: dict[str, tuple[float, float, str]] = {
    "clock_hz": (1e6, 1e10, "1 MHz .. 10 GHz"),
    "dram_bandwidth_bytes_per_s": (1e8, 1e13, "100 MB/s .. 10 TB/s"),
    "dram_latency_ns": (1.0, 1e4, "1 ns .. 10 us"),
    "weight_buffer_bytes": (1024, 2**30, "1 KiB .. 1 GiB"),
    "activation_buffer_bytes": (1024, 2**30, "1 KiB .. 1 GiB"),
    "static_power_w": (0.0, 1e3, "0 .. 1 kW"),
    "dram_pj_per_bit": (0.0, 1e3, "0 .. 1000 pJ/bit"),
    "mac_pj": (0.0, 1e3, "0 .. 1000 pJ"),
    "multiply_pj": (0.0, 1e3, "0 .. 1000 pJ"),
    "activation_pj": (0.0, 1e3, "0 .. 1000 pJ"),
    "vdd_v": (0.5, 1.2, "0.5 .. 1.2 V"),
}
"""Field -> (low, high, the range in words). Values outside are allowed, with a warning."""

_HAS_UNIT = re.compile(r"[A-Za-z]\s*$")


def warn_if_implausible(key: str, field: str, raw: object, value: float) -> None:
    """Warn (``ImplausibleValueWarning``) when ``raw``, given without a unit for ``key``, became
    ``value`` in the field's base unit and that lies outside ``PLAUSIBLE_RANGES[field]``."""
    if field not in PLAUSIBLE_RANGES or (isinstance(raw, str) and _HAS_UNIT.search(raw)):
        return
    low, high, words = PLAUSIBLE_RANGES[field]
    if not low <= value <= high:
        unit = field.rsplit("_", 1)[-1] if not field.endswith("bytes_per_s") else "bytes/s"
        warnings.warn(
            f"{key} = {raw!r} was read as {value:g} {unit} (a bare number is in the key's base unit); "
            f"plausible values are {words}: write the unit if another was meant",
            ImplausibleValueWarning, stacklevel=3,
        )
