"""The figures Park et al. report for time-step interleaved weight reuse ("Time-step interleaved
weight reuse for LSTM neural network computing", ISLPED 2020), against their conventional baseline."""

from __future__ import annotations

PAPER_ENERGY_BAND = (-57.3, -28.4)
"""Energy change of tsi against conventional over the paper's workloads, in %: from -57.3 to -28.4."""
PAPER_THROUGHPUT_GAIN = 110.8
"""Throughput gain of tsi against conventional reported by the paper, in %."""
