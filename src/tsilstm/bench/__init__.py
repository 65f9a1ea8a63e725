"""The benchmark harness: tsilstm's schedules against torch and ONNX Runtime, side by side in one
process, with the machine's measured read bandwidth and the roofline time per step of each schedule.

Modules: ``shapes`` (what is benchmarked), ``suites`` (the DeepBench sets), ``harness`` (interleaved
timing and statistics), ``baselines_torch`` / ``baselines_onnxruntime`` / ``runners_tsilstm`` (the
implementations), ``bandwidth``, ``roofline``, ``machine``, ``comparison`` (one shape end to end),
``results_markdown`` (the RESULTS.md text). torch and onnxruntime are imported lazily.
"""
