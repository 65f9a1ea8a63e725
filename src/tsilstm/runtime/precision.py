"""What each weight type computes with, in words for plan_summary(): the one description of the
kernel's arithmetic per (weight type, instruction set)."""

from __future__ import annotations

from tsilstm.runtime.kernel_abi import INPUT_TILE_ISAS, INTEGER_DOT_ISAS, input_weight_dtype


def arithmetic_note(weight_dtype: str, isa: str, tile_units: int, variant: str) -> str:
    """A parenthesised note on how a layer with ``weight_dtype`` weights computes on ``isa`` (empty
    for float32). ``tile_units`` is the block over which activations share one scale."""
    if weight_dtype == "float32":
        return ""
    input_dtype = input_weight_dtype(weight_dtype, isa)
    tiles = f", its product on {isa} tiles" if isa in INPUT_TILE_ISAS else ""
    if weight_dtype == "bfloat16":
        if input_dtype == "bfloat16":
            return (f" (W_ih bfloat16 too{tiles}, x split into two bfloat16 halves; recurrent weights widened to "
                    "float32 in registers, products and sums float32)")
        return " (W_ih float32; weights widened to float32 in registers, products and sums float32)"
    head = f" (W_ih {input_dtype} too{tiles}; symmetric int8, one scale per row of each tile"
    if isa in INTEGER_DOT_ISAS:
        if variant == "reset_before":
            return (f"{head}; x_t quantized per step to 8 bits, one scale per {tile_units} units, exact int32 dot "
                    f"products ({isa}); h_{{t-1}} and r_t*h_{{t-1}} stay float32, the recurrent weights widened)")
        return (f"{head}; x_t and h_{{t-1}} quantized per step to 8 bits, one scale per {tile_units} units; "
                f"exact int32 dot products ({isa}), float32 cell)")
    return f"{head}; weights widened to float32 in registers, products and sums float32)"
