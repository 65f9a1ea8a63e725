"""The block diagram of a generated design, drawn from its parameters (a matplotlib figure; the
caller saves it)."""

from __future__ import annotations

from typing import Any

from tsilstm.rtl.params import DesignParams, sram_banks

_BLOCKS = {  # name -> (x, y, width, height) in axes units
    "dram": (0.02, 0.40, 0.14, 0.22), "program_memory": (0.22, 0.80, 0.18, 0.12), "sequencer": (0.22, 0.55, 0.18, 0.16),
    "load_engine": (0.22, 0.30, 0.18, 0.14), "weight_buffer": (0.46, 0.72, 0.20, 0.18), "input_buffer": (0.46, 0.48, 0.20, 0.12),
    "h_buffer": (0.46, 0.28, 0.20, 0.12), "mac_array": (0.72, 0.60, 0.18, 0.22), "acc_buffer": (0.72, 0.34, 0.18, 0.14),
    "cell_unit": (0.72, 0.08, 0.18, 0.18), "c_and_bias": (0.46, 0.06, 0.20, 0.14),
}
_ARROWS = (
    ("dram", "load_engine"), ("load_engine", "weight_buffer"), ("dram", "input_buffer"), ("program_memory", "sequencer"),
    ("sequencer", "mac_array"), ("weight_buffer", "mac_array"), ("input_buffer", "mac_array"), ("h_buffer", "mac_array"),
    ("mac_array", "acc_buffer"), ("acc_buffer", "cell_unit"), ("c_and_bias", "cell_unit"), ("cell_unit", "h_buffer"),
    ("cell_unit", "dram"),
)


def block_diagram(design: DesignParams) -> Any:
    """A figure of the blocks of ``design`` with their sizes and the data paths between them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    banks = sram_banks(design)
    labels = {
        "dram": f"DRAM model\n{design.dram_port_bytes * 8}-bit port\nvalid/ready",
        "program_memory": f"program memory\n{design.program_words} x 128 bit",
        "sequencer": "sequencer\nuse / evict / finish\nfetch / config",
        "load_engine": "load engine\nruns ahead: load",
        "mac_array": f"MAC array\n{design.lanes} x {design.lanes}\n{design.weight_bits}b x {design.activation_bits}b",
        "cell_unit": f"cell unit\n{design.lanes} PWL sigmoid/tanh\nLSTM / GRU",
        "c_and_bias": "c buffer, bias buffer",
    }
    for name in ("weight_buffer", "input_buffer", "h_buffer", "acc_buffer"):
        b = banks[name]
        labels[name] = f"{name.replace('_', ' ')}\n{b.capacity_bytes // 1024} KiB, {b.banks} x {b.width_bits}b banks"
    fig, ax = plt.subplots(figsize=(10, 6))
    ax.set_axis_off()
    for name, (x, y, w, h) in _BLOCKS.items():
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.005", facecolor="#e8eef7", edgecolor="#34495e"))
        ax.text(x + w / 2, y + h / 2, labels[name], ha="center", va="center", fontsize=8)
    for src, dst in _ARROWS:
        (x0, y0, w0, h0), (x1, y1, w1, h1) = _BLOCKS[src], _BLOCKS[dst]
        ax.annotate("", xy=(x1 + w1 / 2, y1 + h1 / 2), xytext=(x0 + w0 / 2, y0 + h0 / 2),
                    arrowprops={"arrowstyle": "->", "color": "#7f8c8d", "shrinkA": 28, "shrinkB": 28})
    ax.set_title("Generated LSTM/GRU accelerator (tsilstm rtl generate)")
    return fig
