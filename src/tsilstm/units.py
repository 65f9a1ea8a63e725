"""Physical quantities written by people: one grammar for command-line options, config files and the
Python API alike.

A quantity is a number in the dimension's base unit (``4096``, ``12.8e9``) or a string
``"<number>[ ]<unit>"`` (``"512k"``, ``"2 MiB"``, ``"12.8 GB/s"``, ``"800 MHz"``, ``"100 ns"``,
``"25 mW"``, ``"8 pJ"``, ``"1.5 pJ/bit"``); units are case-insensitive and a bare number string is the
base unit. Bytes: ``k``/``m``/``g``/``KiB``/``MiB``/``GiB`` are powers of 1024, ``kB``/``MB``/``GB``
powers of 1000. A unit of another dimension, a non-finite, negative or (by default) zero value is
an ``InvalidParameterError`` naming the parameter; ``allowed_text`` is the text every caller shows.
"""

from __future__ import annotations

import math
import numbers
import re

from tsilstm.errors import InvalidParameterError

_BYTE_UNITS: dict[str, float] = {
    "": 1, "b": 1, "byte": 1, "bytes": 1,
    "k": 1024, "m": 1024**2, "g": 1024**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
}
DIMENSIONS: dict[str, dict[str, float]] = {
    "bytes": _BYTE_UNITS,
    "bytes_per_s": {
        "": 1.0, "b/s": 1.0, "kb/s": 1e3, "mb/s": 1e6, "gb/s": 1e9, "tb/s": 1e12,
        "kib/s": 1024.0, "mib/s": 1024.0**2, "gib/s": 1024.0**3,
    },
    "hz": {"": 1.0, "hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9},
    "ns": {"": 1.0, "ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9},
    "w": {"": 1.0, "w": 1.0, "mw": 1e-3, "uw": 1e-6},
    "pj": {"": 1.0, "pj": 1.0, "fj": 1e-3, "nj": 1e3},
    "pj_per_bit": {"": 1.0, "pj/bit": 1.0, "pj/b": 1.0, "fj/bit": 1e-3},
    "count": {"": 1.0},
    "v": {"": 1.0, "v": 1.0, "mv": 1e-3},
    "nm": {"": 1.0, "nm": 1.0},
    "pw": {"": 1.0, "pw": 1.0, "fw": 1e-3, "nw": 1e3},
    "w_per_mm2": {"": 1.0, "w/mm2": 1.0, "mw/mm2": 1e-3},
    "pj_per_bit_mm": {"": 1.0, "pj/bit/mm": 1.0, "fj/bit/mm": 1e-3},
    "fraction": {"": 1.0},
    "mm2": {"": 1.0, "mm2": 1.0, "um2": 1e-6},
}
"""Accepted units per dimension (lower case), with the factor to the dimension's base unit; the empty
unit is the base unit itself."""

EXAMPLES: dict[str, str] = {
    "bytes": "4096, 512k, 512KiB, 2MiB, 1GiB, 64kB or 2MB",
    "bytes_per_s": "12.8e9, 12.8GB/s, 25.6 GB/s or 800MiB/s",
    "hz": "800e6, 800MHz or 1.2GHz",
    "ns": "100, 100ns, 1.5us or 2ms",
    "w": "0.5, 0.5W, 25mW or 300uW",
    "pj": "8, 8pJ, 500fJ or 1nJ",
    "pj_per_bit": "20, 20pJ/bit or 500fJ/bit",
    "count": "a plain number such as 64",
    "v": "0.9, 0.9V or 750mV",
    "nm": "28 or 28nm",
    "pw": "30, 30pW or 0.03nW",
    "w_per_mm2": "0.01, 0.01W/mm2 or 10mW/mm2",
    "pj_per_bit_mm": "0.12, 0.12pJ/bit/mm or 120fJ/bit/mm",
    "fraction": "a plain number such as 0.7",
    "mm2": "2.0, 2mm2 or 500000um2",
}
"""Example spellings of each dimension, shown in error messages and option help."""

_PATTERN = re.compile(r"^\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*((?:[A-Za-z/][A-Za-z/0-9]*)?)\s*$")


def allowed_text(dimension: str, *, whole: bool = False, positive: bool = True) -> str:
    """What a value of ``dimension`` must look like, in words (the same text from every front end)."""
    sign = "positive" if positive else "non-negative"
    kind = "whole number" if whole else "number"
    return f"must be a {sign} {kind} in {dimension} or a string with a unit, e.g. {EXAMPLES[dimension]}"


def parse_quantity(name: str, value: object, dimension: str, *, positive: bool = True) -> float:
    """Return ``value`` in the base unit of ``dimension`` (bytes, bytes/s, Hz, ns, W, pJ, pJ/bit or a
    count); ``value`` is a number already in that unit or a string with a unit (module doc). Raises
    ``InvalidParameterError`` naming ``name`` for anything else, a unit of another dimension, a
    non-finite or negative value, or (with ``positive``) zero."""
    return _number(name, value, dimension, whole=False, positive=positive)


def parse_whole(name: str, value: object, dimension: str, *, positive: bool = True) -> int:
    """Like ``parse_quantity`` but the result must be a whole number (bytes, unit counts, bits)."""
    number = _number(name, value, dimension, whole=True, positive=positive)
    if not number.is_integer():
        raise InvalidParameterError(name, value, allowed_text(dimension, whole=True, positive=positive))
    return int(number)


def parse_bytes(value: object, name: str = "buffer") -> int:
    """Return the positive whole number of bytes ``value`` denotes (``4096``, ``"512k"``, ``"2 MiB"``,
    ``"64kB"``); raises ``InvalidParameterError`` naming ``name``."""
    return parse_whole(name, value, "bytes")


def _number(name: str, value: object, dimension: str, *, whole: bool, positive: bool) -> float:
    units = DIMENSIONS[dimension]
    allowed = allowed_text(dimension, whole=whole, positive=positive)
    if isinstance(value, bool):
        raise InvalidParameterError(name, value, allowed)
    if isinstance(value, numbers.Real):
        number = float(value)
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if not match:
            raise InvalidParameterError(name, value, allowed)
        unit = match.group(2).lower()
        if unit not in units:
            raise InvalidParameterError(name, value, f"unit {match.group(2)!r} is not a unit of {dimension}; {allowed}")
        number = float(match.group(1)) * units[unit]
    else:
        raise InvalidParameterError(name, value, allowed)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise InvalidParameterError(name, value, allowed)
    return number


def format_bytes(num_bytes: float) -> str:
    """Return ``num_bytes`` as a short human string in binary units (e.g. ``64.0 MiB``)."""
    value = float(num_bytes)
    if abs(value) < 1024:
        return f"{value:.0f} B"
    for unit in ("KiB", "MiB"):
        value /= 1024
        if abs(value) < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} GiB"
