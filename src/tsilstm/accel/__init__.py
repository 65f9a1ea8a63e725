"""Accelerator model: architecture config and presets, energy tables, counts, event timing, energy, workloads."""
