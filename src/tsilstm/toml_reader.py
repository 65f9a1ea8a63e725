"""TOML parsing on every supported Python: the standard library's ``tomllib`` from 3.11, the ``tomli``
package (its origin, same API; a dependency on 3.10) before."""

from __future__ import annotations

import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised by the Python 3.10 import test
    import tomli as tomllib

TOMLDecodeError = tomllib.TOMLDecodeError
"""The error ``loads_toml`` raises for text that is not valid TOML."""


def loads_toml(text: str) -> dict[str, Any]:
    """The table that the TOML document ``text`` describes; raises ``TOMLDecodeError``."""
    return tomllib.loads(text)
