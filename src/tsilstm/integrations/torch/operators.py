"""The recurrence as registered torch operators: ``torch.ops.tsilstm.lstm_forward`` and
``torch.ops.tsilstm.gru_forward``.

Each takes the float32 input (T, N, X), the initial states and the module's weights as tensors,
and returns the outputs and final states computed by the native kernel. A fake (meta)
implementation gives the output shapes, so ``torch.compile``, ``torch.export`` and
``torch.jit.trace`` record a call of the operator instead of baking its result into the graph.
The weights are packed once per module and kept (``pack_cache``); the operator repacks when the
tensors it receives are not the ones packed.

Gradients: the backward operators (``lstm_backward`` / ``gru_backward``) recompute the layer stack
with torch's own implementation (``torch._VF.lstm`` / ``gru``) from the saved inputs and
differentiate that, so gradients are torch's; the forward pass stays the kernel's.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

import torch

from tsilstm.cell_spec import cell_spec
from tsilstm.integrations.torch.pack_cache import KernelLayout, packed_runtime
from tsilstm.runtime.inplace_choice import KERNEL
from tsilstm.runtime.inplace_records import record_new_decision, trial_for_call
from tsilstm.runtime.kernel_options import MAX_THREADS, KernelOptions
from tsilstm.runtime.schedule_tuning import batch_bucket, tuning_mode

MAX_STEPS_BUCKET = 4096
"""Calls of more steps than this share one in-place decision."""

Tensor = torch.Tensor


def _run_kernel(layout: KernelLayout, settings: KernelOptions, key: str, input: Tensor, hx: Tensor,
                cx: Tensor | None, weights: list[Tensor],
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
    """The layer stack on ``input``: tsilstm's kernel, or (``auto``, when measured faster in place)
    torch's own implementation. Unset threads are torch's intra-op threads (``torch.get_num_threads``).
    With ``lengths`` (a packed batch) the kernel runs every sequence for its own length in one call."""
    settings = host_settings(settings)
    runtime = packed_runtime(key, layout, settings, weights)
    if settings.schedule != "auto" or lengths is not None or _take_kernel_chosen(key):
        return _kernel_call(runtime, input, hx, cx, lengths)
    hidden = weights[1].shape[0] // cell_spec(layout.cell).gates
    call_key, trial, tuning = inplace_trial(key, layout, settings, tuple(input.shape), hidden)
    if trial is None or trial.next_candidate() == KERNEL:
        result = _kernel_call(runtime, input, hx, cx)
    else:
        result = _host_call(layout, input, hx, cx, weights)
    if trial is not None and trial.new_decision:
        record_new_decision(trial, call_key, tuning)
    return result



def host_settings(settings: KernelOptions) -> KernelOptions:
    """``settings`` with unset threads made torch's intra-op threads."""
    if settings.threads is not None:
        return settings
    return settings.with_threads(min(torch.get_num_threads(), MAX_THREADS))


def op_arguments(options: KernelOptions) -> tuple[str, int, str, str]:
    """``options`` as the operators' arguments (schedule, threads, weight_dtype, tuning): an operator
    schema has no None, so unset threads travel as 0 and unset tuning as ''."""
    return options.schedule, options.threads or 0, options.dtype, options.tuning or ""


@lru_cache(maxsize=64)
def op_options(schedule: str, threads: int, weight_dtype: str, tuning: str) -> KernelOptions:
    """The options an operator call carries (``op_arguments`` undone), checked (once per distinct
    argument set: a call then costs a lookup)."""
    return KernelOptions(schedule, threads or None, weight_dtype, tuning=tuning or None)


def inplace_trial(key: str, layout: KernelLayout, settings: KernelOptions, shape: tuple[int, ...],
                  hidden: int) -> tuple[str, Any, str]:
    """(configuration key, in-place trial or None, tuning mode) of module ``key`` for calls of
    ``shape`` (T, N, X) with ``settings`` (threads resolved by ``host_settings``)."""
    tuning = settings.tuning or tuning_mode()
    call_key, trial = trial_for_call(key, (shape, settings, tuning),
                                     lambda: _call_key(layout, settings, shape, hidden), tuning)
    return call_key, trial, tuning


def mark_kernel_chosen(key: str) -> None:
    """The eager forward of module ``key`` chose the kernel for the call it is about to make: the
    operator runs the kernel without asking the trial again (each call is one period)."""
    _CHOSEN.key = key


def _take_kernel_chosen(key: str) -> bool:
    if getattr(_CHOSEN, "key", None) != key:
        return False
    _CHOSEN.key = None
    return True


_CHOSEN = threading.local()


def _call_key(layout: KernelLayout, settings: KernelOptions, shape: tuple[int, ...], hidden: int) -> str:
    """What an in-place decision is recorded under: the stack's sizes, the call's batch bucket and
    steps (1, else rounded up to a power of two), threads and weight type."""
    steps, batch, features = shape
    steps_bucket = 1 if steps <= 1 else min(1 << (steps - 1).bit_length(), MAX_STEPS_BUCKET)
    return (f"torch/{layout.cell}/x{features}/h{hidden}/p{layout.proj_size}/l{layout.num_layers}/"
            f"d{2 if layout.bidirectional else 1}/bias{int(layout.has_biases)}/b{batch_bucket(batch)}/s{steps_bucket}/"
            f"t{settings.threads}/{settings.weight_dtype}")


def _host_call(layout: KernelLayout, input: Tensor, hx: Tensor, cx: Tensor | None,
               weights: list[Tensor]) -> tuple[Tensor, Tensor, Tensor | None]:
    """torch's own implementation of the stack (float32, no dropout), as the host candidate."""
    flat = [w.detach().to(torch.float32) for w in weights]
    with torch.no_grad():
        if cx is not None:
            out, h_n, c_n = torch._VF.lstm(input, (hx, cx), flat, layout.has_biases, layout.num_layers, 0.0, False,
                                           layout.bidirectional, False)
            return out, h_n, c_n
        out, h_n = torch._VF.gru(input, hx, flat, layout.has_biases, layout.num_layers, 0.0, False,
                                 layout.bidirectional, False)
        return out, h_n, None


def _kernel_call(runtime: Any, input: Tensor, hx: Tensor, cx: Tensor | None,
                 lengths: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
    x = input.detach().numpy()
    h0 = hx.detach().numpy()
    steps = None if lengths is None else lengths.detach().numpy()
    if cx is None:
        out, h_n = runtime(x, h0, lengths=steps)
        return torch.from_numpy(out), torch.from_numpy(h_n), None
    out, (h_n, c_n) = runtime(x, (h0, cx.detach().numpy()), lengths=steps)
    return torch.from_numpy(out), torch.from_numpy(h_n), torch.from_numpy(c_n)


def _output_shapes(cell: str, input: Tensor, weights: list[Tensor], num_layers: int, bidirectional: bool,
                   proj_size: int) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
    hidden = weights[1].shape[0] // cell_spec(cell).gates
    recurrent = proj_size or hidden
    dirs = 2 if bidirectional else 1
    steps, batch = input.shape[0], input.shape[1]
    return (steps, batch, dirs * recurrent), (num_layers * dirs, batch, recurrent), (num_layers * dirs, batch, hidden)


# ---------------------------------------------------------------------------------------- LSTM


@torch.library.custom_op("tsilstm::lstm_forward", mutates_args=())
def lstm_forward(input: Tensor, hx: Tensor, cx: Tensor, weights: list[Tensor], key: str, num_layers: int,
                 bidirectional: bool, proj_size: int, has_biases: bool, schedule: str, threads: int,
                 weight_dtype: str, tuning: str, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """An LSTM stack over float32 ``input`` (T, N, X) from ``hx`` (L*D, N, P) and ``cx`` (L*D, N, H),
    weights in torch's flat order; returns output (T, N, D*P), h_n and c_n, float32. ``lengths``
    (N,) int64: each sequence runs for its own length (output zero beyond it); empty: all run T steps."""
    layout = KernelLayout("lstm", num_layers, bidirectional, proj_size, has_biases)
    out, h_n, c_n = _run_kernel(layout, op_options(schedule, threads, weight_dtype, tuning), key, input, hx, cx,
                                weights, lengths if lengths.numel() else None)
    assert c_n is not None
    return out, h_n, c_n


@lstm_forward.register_fake
def _lstm_forward_fake(input, hx, cx, weights, key, num_layers, bidirectional, proj_size, has_biases, schedule,  # type: ignore[no-untyped-def]
                       threads, weight_dtype, tuning, lengths):
    out, h, c = _output_shapes("lstm", input, weights, num_layers, bidirectional, proj_size)
    return input.new_empty(out), input.new_empty(h), input.new_empty(c)


@torch.library.custom_op("tsilstm::lstm_backward", mutates_args=())
def lstm_backward(input: Tensor, hx: Tensor, cx: Tensor, weights: list[Tensor], grad_output: Tensor,
                  grad_hn: Tensor, grad_cn: Tensor, num_layers: int, bidirectional: bool,
                  has_biases: bool) -> list[Tensor]:
    """Gradients of an LSTM stack (torch's implementation, recomputed from the inputs): returns
    [d input, d hx, d cx, d weight for each weight]."""
    return _torch_vjp("lstm", input, hx, cx, weights, (grad_output, grad_hn, grad_cn), num_layers, bidirectional,
                      has_biases)


@lstm_backward.register_fake
def _lstm_backward_fake(input, hx, cx, weights, grad_output, grad_hn, grad_cn, num_layers, bidirectional,  # type: ignore[no-untyped-def]
                        has_biases):
    return [torch.empty_like(input), torch.empty_like(hx), torch.empty_like(cx)] + [torch.empty_like(w) for w in weights]


def _lstm_setup_context(ctx, inputs, output):  # type: ignore[no-untyped-def]
    input, hx, cx, weights, _key, num_layers, bidirectional, _proj, has_biases, *_ = inputs
    ctx.save_for_backward(input, hx, cx, *weights)
    ctx.layout = (num_layers, bidirectional, has_biases)
    ctx.output_shapes = [o.shape for o in output]


def _lstm_autograd_backward(ctx, grad_output, grad_hn, grad_cn):  # type: ignore[no-untyped-def]
    input, hx, cx, *weights = ctx.saved_tensors
    grads = torch.ops.tsilstm.lstm_backward(
        input, hx, cx, weights, *_materialized((grad_output, grad_hn, grad_cn), ctx), *ctx.layout
    )
    return (grads[0], grads[1], grads[2], list(grads[3:])) + (None,) * 10


lstm_forward.register_autograd(_lstm_autograd_backward, setup_context=_lstm_setup_context)


# ----------------------------------------------------------------------------------------- GRU


@torch.library.custom_op("tsilstm::gru_forward", mutates_args=())
def gru_forward(input: Tensor, hx: Tensor, weights: list[Tensor], key: str, num_layers: int, bidirectional: bool,
                has_biases: bool, schedule: str, threads: int, weight_dtype: str, tuning: str,
                lengths: Tensor) -> tuple[Tensor, Tensor]:
    """A GRU stack over float32 ``input`` (T, N, X) from ``hx`` (L*D, N, H), weights in torch's flat
    order; returns output (T, N, D*H) and h_n, float32. ``lengths``: as for ``lstm_forward``."""
    layout = KernelLayout("gru", num_layers, bidirectional, 0, has_biases)
    out, h_n, _ = _run_kernel(layout, op_options(schedule, threads, weight_dtype, tuning), key, input, hx, None,
                              weights, lengths if lengths.numel() else None)
    return out, h_n


@gru_forward.register_fake
def _gru_forward_fake(input, hx, weights, key, num_layers, bidirectional, has_biases, schedule, threads,  # type: ignore[no-untyped-def]
                      weight_dtype, tuning, lengths):
    out, h, _ = _output_shapes("gru", input, weights, num_layers, bidirectional, 0)
    return input.new_empty(out), input.new_empty(h)


@torch.library.custom_op("tsilstm::gru_backward", mutates_args=())
def gru_backward(input: Tensor, hx: Tensor, weights: list[Tensor], grad_output: Tensor, grad_hn: Tensor,
                 num_layers: int, bidirectional: bool, has_biases: bool) -> list[Tensor]:
    """Gradients of a GRU stack (torch's implementation, recomputed from the inputs): returns
    [d input, d hx, d weight for each weight]."""
    return _torch_vjp("gru", input, hx, None, weights, (grad_output, grad_hn), num_layers, bidirectional, has_biases)


@gru_backward.register_fake
def _gru_backward_fake(input, hx, weights, grad_output, grad_hn, num_layers, bidirectional, has_biases):  # type: ignore[no-untyped-def]
    return [torch.empty_like(input), torch.empty_like(hx)] + [torch.empty_like(w) for w in weights]


def _gru_setup_context(ctx, inputs, output):  # type: ignore[no-untyped-def]
    input, hx, weights, _key, num_layers, bidirectional, has_biases, *_ = inputs
    ctx.save_for_backward(input, hx, *weights)
    ctx.layout = (num_layers, bidirectional, has_biases)
    ctx.output_shapes = [o.shape for o in output]


def _gru_autograd_backward(ctx, grad_output, grad_hn):  # type: ignore[no-untyped-def]
    input, hx, *weights = ctx.saved_tensors
    grads = torch.ops.tsilstm.gru_backward(
        input, hx, weights, *_materialized((grad_output, grad_hn), ctx), *ctx.layout
    )
    return (grads[0], grads[1], list(grads[2:])) + (None,) * 9


gru_forward.register_autograd(_gru_autograd_backward, setup_context=_gru_setup_context)


# --------------------------------------------------------------------------------------- shared


def _materialized(grads: tuple[Tensor | None, ...], ctx: Any) -> list[Tensor]:
    """The output gradients, None (an output not used) replaced by zeros of that output's shape."""
    return [torch.zeros(shape, dtype=torch.float32) if grad is None else grad
            for grad, shape in zip(grads, ctx.output_shapes)]


def _autograd_dispatch() -> Any:
    """A context in which torch ops record autograd graphs again: an operator's implementation runs
    with the autograd dispatch keys excluded, which the recomputation in backward needs back."""
    keys = torch._C.DispatchKey
    excluded = torch._C._dispatch_tls_local_exclude_set()
    for key in (keys.AutogradOther, keys.AutogradNestedTensor, keys.AutogradFunctionality):
        excluded = excluded.remove(key)
    return torch._C._ForceDispatchKeyGuard(torch._C._dispatch_tls_local_include_set(), excluded)


def _torch_vjp(cell: str, input: Tensor, hx: Tensor, cx: Tensor | None, weights: list[Tensor],
               grad_outputs: tuple[Tensor, ...], num_layers: int, bidirectional: bool, has_biases: bool) -> list[Tensor]:
    """Recompute the stack with torch's implementation (float32, no dropout) and return the
    gradients of every input, each in its input's dtype."""
    originals = [input, hx] + ([cx] if cx is not None else []) + list(weights)
    with _autograd_dispatch(), torch.enable_grad():
        leaves = [t.detach().to(torch.float32).requires_grad_(True) for t in originals]
        states = leaves[1:3] if cx is not None else leaves[1]
        flat = leaves[3:] if cx is not None else leaves[2:]
        run = getattr(torch._VF, cell_spec(cell).torch_class_name.lower())  # torch._VF.lstm / gru
        outputs = run(leaves[0], states, flat, has_biases, num_layers, 0.0, False, bidirectional, False)
        grads = torch.autograd.grad(outputs, leaves, [g.to(torch.float32) for g in grad_outputs], allow_unused=True)
    return [torch.zeros_like(t) if g is None else g.to(t.dtype) for g, t in zip(grads, originals)]
