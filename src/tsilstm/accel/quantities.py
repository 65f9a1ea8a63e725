"""Physical quantities in config files: a plain number in the key's base unit, or a string with a unit
(``"512 KiB"``, ``"800 MHz"``, ``"12.8 GB/s"``, ``"100 ns"``, ``"25 mW"``, ``"8 pJ"``); a unit of the
wrong dimension is an error naming the key."""

from __future__ import annotations

import math
import numbers
import re

from tsilstm.errors import InvalidParameterError

_BYTE_UNITS = {
    "b": 1, "byte": 1, "bytes": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}
DIMENSIONS: dict[str, dict[str, float]] = {
    "bytes": _BYTE_UNITS,
    "hz": {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9},
    "bytes_per_s": {
        "b/s": 1.0, "kb/s": 1e3, "mb/s": 1e6, "gb/s": 1e9, "tb/s": 1e12,
        "kib/s": 1024.0, "mib/s": 1024.0**2, "gib/s": 1024.0**3,
    },
    "ns": {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9},
    "w": {"w": 1.0, "mw": 1e-3, "uw": 1e-6},
    "pj": {"pj": 1.0, "fj": 1e-3, "nj": 1e3},
    "pj_per_bit": {"pj/bit": 1.0, "pj/b": 1.0, "fj/bit": 1e-3},
    "count": {"": 1.0},
}
"""Accepted units per dimension, with the factor to the dimension's base unit (the first name)."""

_PATTERN = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z/]*)\s*$")


def parse_quantity(key: str, value: object, dimension: str, *, positive: bool = True) -> float:
    """Return ``value`` in the base unit of ``dimension`` (bytes, Hz, bytes/s, ns, W, pJ, pJ/bit).

    ``value`` is a number (already in the base unit) or a string ``"<number> <unit>"``. Raises
    ``InvalidParameterError`` naming ``key`` for a non-number, a unit of another dimension, a
    negative value, or (with ``positive``) zero.
    """
    units = DIMENSIONS[dimension]
    allowed_units = ", ".join(u for u in units if u) or "no unit"
    if isinstance(value, bool):
        raise InvalidParameterError(key, value, f"must be a number in {dimension} or a string with a unit ({allowed_units})")
    if isinstance(value, numbers.Real):
        number = float(value)
    elif isinstance(value, str):
        match = _PATTERN.match(value)
        if not match:
            raise InvalidParameterError(key, value, f"must be a number with a unit ({allowed_units})")
        unit = match.group(2).lower()
        if unit not in units:
            raise InvalidParameterError(key, value, f"wrong unit {match.group(2)!r}: expected one of {allowed_units}")
        number = float(match.group(1)) * units[unit]
    else:
        raise InvalidParameterError(key, value, f"must be a number in {dimension} or a string with a unit ({allowed_units})")
    if not math.isfinite(number):
        raise InvalidParameterError(key, value, "must be finite")
    if number < 0 or (positive and number == 0):
        raise InvalidParameterError(key, value, "must be > 0" if positive else "must be >= 0")
    return number


def parse_whole(key: str, value: object, dimension: str, *, positive: bool = True) -> int:
    """Like ``parse_quantity`` but the result must be a whole number (bytes, unit counts, bits)."""
    number = parse_quantity(key, value, dimension, positive=positive)
    if not float(number).is_integer():
        raise InvalidParameterError(key, value, f"must be a whole number of {dimension}")
    return int(number)
