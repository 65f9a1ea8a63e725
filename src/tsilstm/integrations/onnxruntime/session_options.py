"""The ONNX Runtime session options of the session that runs tsilstm's nodes: a copy of the user's,
with what tsilstm needs set on the copy (the user's object is never changed).

What a ``SessionOptions`` object exposes is copied: its attributes (threads, execution mode and
order, graph optimization level, logging, memory arena and pattern, profiling, deterministic
compute) and the session config entries ONNX Runtime documents (``KNOWN_CONFIG_KEYS``, read back
one by one: the Python API cannot list them). What it cannot read back is not carried over: free
dimension overrides, initializers added with ``add_initializer``, execution-provider options and
custom-op libraries registered by the user; give those to a session without tsilstm, or set them
again on the options tsilstm's session reports (``get_session_options()``).
"""

from __future__ import annotations

from typing import Any

NO_SPINNING = ("session.intra_op.allow_spinning", "0")
"""Set on the copy: ONNX Runtime's idle pool threads otherwise spin after each of its own operators
while tsilstm's kernel threads run the recurrence, taking the cores from them."""

COPIED_ATTRIBUTES = ("intra_op_num_threads", "inter_op_num_threads", "execution_mode", "execution_order",
                     "graph_optimization_level", "log_severity_level", "log_verbosity_level", "logid",
                     "enable_cpu_mem_arena", "enable_mem_pattern", "enable_mem_reuse", "enable_profiling",
                     "profile_file_prefix", "use_deterministic_compute", "use_per_session_threads")
"""``SessionOptions`` attributes copied from the user's options (``optimized_model_filepath`` is
not: the copy's model is the rewritten one, which must not overwrite the user's file)."""

KNOWN_CONFIG_KEYS = (
    "session.intra_op.allow_spinning", "session.inter_op.allow_spinning", "session.force_spinning_stop",
    "session.set_denormal_as_zero", "session.disable_prepacking", "session.use_env_allocators",
    "session.intra_op_thread_affinities", "session.dynamic_block_base", "session.disable_cpu_ep_fallback",
    "session.disable_quant_qdq", "session.disable_double_qdq_remover", "session.enable_quant_qdq_cleanup",
    "session.qdqisint8allowed", "session.x64quantprecision", "session.disable_aot_function_inlining",
    "session.graph_optimizations_loop_level", "session.strict_shape_type_inference",
    "session.allow_released_opsets_only", "session.use_device_allocator_for_initializers",
    "optimization.enable_gelu_approximation", "optimization.disable_specified_optimizers",
    "optimization.minimal_build_optimizations", "mlas.enable_gemm_fastmath_arm64_bfloat16",
)
"""Session config keys of ONNX Runtime's ``onnxruntime_session_options_config_keys.h`` that are
copied when the user's options set them."""


def options_for_tsilstm(onnxruntime: Any, user_options: Any) -> Any:
    """New ``SessionOptions`` for the session running tsilstm's nodes: ``user_options`` (None: the
    defaults) copied as far as the API allows, then ``NO_SPINNING`` set."""
    options = onnxruntime.SessionOptions()
    if user_options is not None:
        for name in COPIED_ATTRIBUTES:
            if hasattr(user_options, name):
                setattr(options, name, getattr(user_options, name))
        for key in KNOWN_CONFIG_KEYS:
            value = _config_entry(user_options, key)
            if value is not None:
                options.add_session_config_entry(key, value)
    options.add_session_config_entry(*NO_SPINNING)
    return options


def intra_op_threads(user_options: Any) -> int | None:
    """The intra-op threads the user's options ask for, None when unset (0 or no options: ONNX
    Runtime's default, one per core)."""
    threads = getattr(user_options, "intra_op_num_threads", 0) if user_options is not None else 0
    return int(threads) if isinstance(threads, int) and threads > 0 else None


def _config_entry(options: Any, key: str) -> str | None:
    try:
        value = options.get_session_config_entry(key)
    except Exception:  # noqa: BLE001 - onnxruntime raises its own Fail type when the key is absent
        return None
    return value if isinstance(value, str) else None
