"""The tile a layer is packed with when none is given, by weight type."""

from __future__ import annotations

DEFAULT_TILE_UNITS = 64
"""Default tile in hidden units for float weights (a 4 x 64 x 64 fp32 LSTM tile is 64 KiB); chosen
by measurement, see runtime/calibrate.py."""
DEFAULT_TILE_UNITS_BY_DTYPE = {"int8": 128}
"""Weight types whose default tile differs: int8 tiles of 128 units hold as many bytes as float32
ones of 64 and halve the share of the per-row scale and offset (8 bytes per row and tile); measured faster."""


def default_tile_units(weight_dtype: str) -> int:
    """The tile (hidden units) used when none is given, for weights of ``weight_dtype``."""
    return DEFAULT_TILE_UNITS_BY_DTYPE.get(weight_dtype, DEFAULT_TILE_UNITS)
