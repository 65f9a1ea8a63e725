"""Checks of scalar parameters shared by every public entry point."""

from __future__ import annotations

import math
import numbers

from tsilstm.errors import InvalidParameterError


def require_int(name: str, value: object, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer in [minimum, maximum], else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        else:
            raise InvalidParameterError(name, value, _range_text(minimum, maximum, "an integer"))
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        raise InvalidParameterError(name, value, _range_text(minimum, maximum, "an integer"))
    return value


def require_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming ``name`` and the choices."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidParameterError(name, value, "one of " + ", ".join(choices))
    return value


def _range_text(minimum: int, maximum: int | None, kind: str) -> str:
    if maximum is None:
        return f"must be {kind} >= {minimum}"
    return f"must be {kind} in [{minimum}, {maximum}]"
