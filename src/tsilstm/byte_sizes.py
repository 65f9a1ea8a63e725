"""Parsing of human byte sizes such as ``512KiB``, ``2MiB``, ``1.5GB`` or plain ``4096``."""

from __future__ import annotations

import re

from tsilstm.errors import InvalidParameterError

_UNITS_BYTES = {
    "": 1,
    "b": 1,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
}
_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_bytes(text: str | int, name: str = "buffer") -> int:
    """Return the number of bytes that ``text`` denotes (``KiB``/``MiB``/``GiB`` are powers of 1024,
    ``kB``/``MB``/``GB`` powers of 1000; a bare number is bytes). Raises naming ``name``."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text <= 0:
            raise InvalidParameterError(name, text, "must be a positive number of bytes")
        return text
    match = _PATTERN.match(str(text))
    if not match or match.group(2).lower() not in _UNITS_BYTES:
        raise InvalidParameterError(
            name, text, "must be a byte size such as 4096, 512KiB, 2MiB, 1GiB, 64kB or 2MB"
        )
    value = float(match.group(1)) * _UNITS_BYTES[match.group(2).lower()]
    if value <= 0 or not value.is_integer():
        raise InvalidParameterError(name, text, "must be a positive whole number of bytes")
    return int(value)


def format_bytes(num_bytes: float) -> str:
    """Return ``num_bytes`` as a short human string in binary units (e.g. ``64.0 MiB``)."""
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
