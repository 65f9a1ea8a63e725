"""``LSTM`` and ``GRU``: torch modules (``torch.nn.RNNBase`` subclasses, like ``torch.nn.LSTM`` /
``torch.nn.GRU``) whose forward pass runs in tsilstm's native kernel through the registered
operators ``tsilstm::lstm_forward`` / ``tsilstm::gru_forward``.

They keep torch's constructor, attributes, parameters and parameter names, so ``state_dict()``
is torch's and loads into ``torch.nn.LSTM`` / ``GRU`` and back; ``forward(input, hx)`` has
torch's contract (batch-first, unbatched, ``PackedSequence``, bidirectional, ``proj_size``).
They derive from ``RNNBase`` rather than ``torch.nn.LSTM`` / ``GRU`` because ``torch.compile``
refuses to trace any instance of those classes; the methods of torch's forward are borrowed
from them for the calls that run torch's own implementation.
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch.nn.utils.rnn import PackedSequence

from tsilstm.cell_spec import cell_spec
from tsilstm.errors import InvalidParameterError
from tsilstm.integrations.torch import fast_call
from tsilstm.integrations.torch.operators import host_settings, inplace_trial, mark_kernel_chosen, op_arguments  # (registers torch.ops.tsilstm.*)
from tsilstm.integrations.torch.pack_cache import KernelLayout, forget, forget_later, kept_runtime, new_pack_key
from tsilstm.integrations.torch.packed_sequences import States, check_packed, run_packed, run_packed_by_length
from tsilstm.integrations.torch.tensor_checks import COMMON_FLOAT_DTYPES, check_cpu_float, check_shape
from tsilstm.runtime.inplace_choice import HOST, KERNEL, InplaceDecision
from tsilstm.runtime.inplace_records import forget_owner, record_new_decision, trials_of
from tsilstm.runtime.kernel_options import KernelOptions
from tsilstm.runtime.memory_budget import MAX_NUM_LAYERS
from tsilstm.validation import require_choice, require_int

GRAD_MODES = ("recompute", "torch", "error")
"""What a forward pass does when gradients are needed (grad enabled and the input, a state or a
parameter requires grad): ``recompute`` runs the kernel forward and, in backward, recomputes the
stack with torch's implementation to get torch's gradients; ``torch`` runs torch's own forward
instead; ``error`` raises."""


class KernelRecurrent:
    """What ``LSTM`` and ``GRU`` share (mixed in before ``torch.nn.RNNBase``)."""

    _cell = ""
    """torch's name of the cell (RNNBase's ``mode``)."""
    kernel_settings: KernelOptions
    """How the kernel runs this module (validated once, at construction)."""
    grad_mode: str
    _pack_key: str

    def __init__(self, *args: Any, schedule: str = "auto", threads: int | None = None, weight_dtype: str | None = None,
                 grad_mode: str = "recompute", tuning: str | None = None, **kwargs: Any) -> None:
        super().__init__(cell_spec(self._cell).torch_class_name, *args, **kwargs)  # type: ignore[call-arg]
        self.kernel_settings = KernelOptions(schedule, threads, weight_dtype, tuning=tuning)
        self.grad_mode = require_choice("grad_mode", grad_mode, GRAD_MODES)
        self._new_key()

    def _new_key(self) -> None:
        self._pack_key = new_pack_key()
        self._eager_trials: dict[tuple[Any, ...], tuple[KernelOptions, str, Any, str]] = {}
        """(settings, configuration key, trial, tuning) of the eager calls by (input shape, torch's
        threads, id of the settings): a decided call then costs one dict lookup. TSILSTM_TUNING is
        read when an entry is made."""
        self._last_eager: tuple[Any, ...] | None = None
        """(input shape, threads, settings, trial, configuration key, tuning) of the last eager call
        that asked a trial: the same again asks that trial without the lookup."""
        self._fast_call: fast_call.FastCall | None = None
        """The plan of the last eager inference kernel call (fast_call): the same again runs it."""
        weakref.finalize(self, forget_later, self._pack_key)
        weakref.finalize(self, forget_owner, self._pack_key)

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle or deep copy carries: torch's state without this process's call caches."""
        state = super().__getstate__()  # type: ignore[misc]
        for name in ("_fast_call", "_eager_trials", "_last_eager"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling or ``copy.deepcopy``: the copy packs its own weights under a new key."""
        super().__setstate__(state)  # type: ignore[misc]
        self._new_key()

    def flatten_parameters(self) -> None:
        """Drop the packed weights, so the next call packs the current ones (needed only after
        changing a parameter through ``.data``, which torch's version counters do not see). torch
        calls it too whenever the parameters are replaced (construction, ``.to()``, assignment)."""
        key = self.__dict__.get("_pack_key")
        if key is not None and not torch.compiler.is_compiling():
            self._fast_call = None
            forget(key)  # (a compiled graph's op compares its tensors with the packed ones anyway)
        super().flatten_parameters()  # type: ignore[misc]

    def plan_summary(self) -> str:
        """What runs for this module: per call shape, torch's own implementation or tsilstm's kernel
        and why (measured in place, see ``decisions``), then the kernel's schedule per layer, threads
        and tile from its last call; before the first call, says so."""
        runtime = kept_runtime(self._pack_key)
        if runtime is None:
            return "not run yet: the first call packs the weights"
        lines = [f"in place ({key}): {trial.decision.describe()}" if trial.decision is not None
                 else f"in place ({key}): being measured ({trial.trials} trial(s) so far)"
                 for key, trial in trials_of(self._pack_key).items()]
        if self.kernel_settings.schedule != "auto":
            lines.append(f"schedule {self.kernel_settings.schedule!r} given: tsilstm's kernel runs every call")
        return "\n".join(lines + [runtime.plan_summary()])

    @property
    def decisions(self) -> dict[str, InplaceDecision]:
        """The in-place decisions of this module (``schedule="auto"``), by call configuration: which
        of torch's own implementation (``host``) and tsilstm's kernel runs, with the measured median
        time per call of each."""
        return {key: trial.decision for key, trial in trials_of(self._pack_key).items() if trial.decision is not None}

    def extra_repr(self) -> str:
        s = self.kernel_settings
        text = super().extra_repr()  # type: ignore[misc]
        return (f"{text}, schedule={s.schedule!r}, threads={s.threads}, weight_dtype={s.weight_dtype!r}, "
                f"grad_mode={self.grad_mode!r}")

    # ------------------------------------------------------------------------------ forward

    def forward(self, input: Any, hx: Any = None) -> Any:
        """torch's forward contract, computed by the kernel in float32: float16, bfloat16 and float64
        input is converted to float32 and the outputs back to the input's dtype. CPU tensors only.

        Runs torch's own implementation instead when dropout is active (training mode, dropout > 0,
        more than one layer), and, with ``grad_mode="torch"``, when gradients are needed; with
        ``grad_mode="error"`` needing gradients raises. With the default ``recompute`` gradients
        come from torch's implementation recomputed in backward."""
        last = self._last_eager
        if (last is not None and type(input) is torch.Tensor and input.is_cpu and last[0] == input.shape  # noqa: E721
                and last[1] == torch.get_num_threads() and last[2] is self.kernel_settings
                and not torch.compiler.is_compiling() and not torch._C._is_tracing()):
            # The common call, repeated: the same shape, threads and settings as the last eager one
            # ask its trial directly. Every statement here costs ~1 us with caches cold after the
            # host's forward (measured 2026-12-05), so the input is not checked before torch's
            # forward gets it: torch refuses what it cannot run, and then the checks below name the
            # problem (or, for what only the kernel takes, such as float64 input, the kernel runs it).
            trial = last[3]
            candidate = trial.next_candidate()
            if trial.new_decision:
                record_new_decision(trial, last[4], last[5])
            if candidate == HOST:
                try:
                    return self._torch_forward(input, hx)  # type: ignore[attr-defined]
                except Exception:  # noqa: BLE001 - said again below, in our words, or run by the kernel
                    candidate = KERNEL
            elif self._fast_call is not None:
                result = fast_call.run(self, self._fast_call, input, hx)
                if result is not None:
                    return result
        else:
            if not isinstance(input, PackedSequence):
                check_cpu_float(input, "input")  # before any turn of torch's forward: our error, not torch's
            candidate = self._eager_candidate(input)
            if candidate == HOST:  # auto chose torch's own for this call (trial or decision): directly
                if hx is not None:
                    self._check_host_states(hx)
                return self._torch_forward(input, hx)  # type: ignore[attr-defined]
            if self._fast_call is not None:
                result = fast_call.run(self, self._fast_call, input, hx)
                if result is not None:
                    return result
        self._update_flat_weights()  # type: ignore[attr-defined]  # parametrized weights, as torch does
        self._check_parameters()
        if isinstance(input, PackedSequence):
            check_packed(input, self.input_size)  # type: ignore[attr-defined]
            batch = int(input.batch_sizes[0])
            states = self._initial_states(hx, batch, batched=True, dtype=input.data.dtype)
            if self._torch_runs(input.data, states):
                return self._torch_forward(input, hx)  # type: ignore[attr-defined]
            needs_grad = torch.is_grad_enabled() and (input.data.requires_grad or any(s.requires_grad for s in states)
                                                      or any(w.requires_grad for w in self._flat_weights))  # type: ignore[attr-defined]
            run = run_packed_by_length if needs_grad else run_packed
            output, finals = run(self._run_sequence_first, input, states)
            return output, self._public_states(finals)
        check_cpu_float(input, "input")
        if input.dim() not in (2, 3):
            raise InvalidParameterError("input", tuple(input.shape),
                                        "must have 2 (T, X) or 3 dimensions ((T, N, X), or (N, T, X) with batch_first)")
        if input.shape[-1] != self.input_size:  # type: ignore[attr-defined]
            raise InvalidParameterError("input", tuple(input.shape), f"last dimension must be input_size={self.input_size}")  # type: ignore[attr-defined]
        batched = input.dim() == 3
        x = input.unsqueeze(1) if not batched else (input.transpose(0, 1) if self.batch_first else input)  # type: ignore[attr-defined]
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise InvalidParameterError("input", tuple(input.shape), "needs at least one step and one sequence")
        states = self._initial_states(hx, x.shape[1], batched=batched, dtype=input.dtype)
        if self._torch_runs(input, states):
            return self._torch_forward(input, hx)  # type: ignore[attr-defined]
        out, finals = self._run_sequence_first(x, states, kernel_chosen=candidate == KERNEL)
        if (x is input and not torch.is_grad_enabled() and input.dtype is torch.float32
                and not torch.compiler.is_compiling() and not torch._C._is_tracing()):
            self._fast_call = fast_call.prepare(self, input)
        if not batched:
            out, finals = out.squeeze(1), tuple(f.squeeze(1) for f in finals)
        elif self.batch_first:  # type: ignore[attr-defined]
            out = out.transpose(0, 1)
        return out, self._public_states(finals)

    def _eager_candidate(self, input: Any) -> str | None:
        """In eager mode with ``auto``, the in-place trial's candidate for this call: HOST (the caller
        runs torch's forward directly, so the host is timed as it really runs) or KERNEL (the
        operator then runs the kernel without asking the trial again); None when the operator
        decides (compiled and exported graphs, packed input) or there is no trial."""
        settings = self.kernel_settings
        if (settings.schedule != "auto" or not isinstance(input, torch.Tensor) or input.layout is not torch.strided
                or not input.is_cpu or torch.compiler.is_compiling() or torch._C._is_tracing()):
            return None  # (other tensors: the checks refuse them; torch.onnx.export traces: the operator decides)
        # Every call of a decided shape costs what is below (~10 us with caches cold after the
        # host's forward, measured 2026-12-05): TSILSTM_TUNING is read only when a trial is made
        # (os.environ.get alone cost ~4 us a call), so a change of it applies to shapes seen after it.
        signature = (input.shape, torch.get_num_threads(), id(settings))
        found = self._eager_trials.get(signature)
        if found is None or found[0] is not settings:
            if (input.dim() not in (2, 3) or torch.onnx.is_in_onnx_export()
                    or input.dtype != self._flat_weights[0].dtype):  # type: ignore[attr-defined]
                return None  # (torch's forward refuses an input dtype other than its weights')
            layout = KernelLayout(self._cell, self.num_layers, self.bidirectional, self.proj_size, self.bias)  # type: ignore[attr-defined]
            found = (settings, *inplace_trial(self._pack_key, layout, host_settings(settings),
                                              self._time_major_shape(input), self.hidden_size))  # type: ignore[attr-defined]
            self._eager_trials[signature] = found
        _, call_key, trial, tuning = found
        if trial is None:
            return None
        self._last_eager = (input.shape, signature[1], settings, trial, call_key, tuning)
        candidate = trial.next_candidate()
        if trial.new_decision:
            record_new_decision(trial, call_key, tuning)
        return candidate

    def _time_major_shape(self, input: torch.Tensor) -> tuple[int, ...]:
        """(T, N, X) of ``input`` as the operator receives it."""
        if input.dim() == 2:
            return (input.shape[0], 1, input.shape[1])
        return (input.shape[1], input.shape[0], input.shape[2]) if self.batch_first else tuple(input.shape)  # type: ignore[attr-defined]

    def _check_parameters(self) -> None:
        for name, weight in zip(self._flat_weights_names, self._flat_weights):  # type: ignore[attr-defined]
            if weight.device.type != "cpu":
                raise InvalidParameterError(f"module parameter {name}", f"a tensor on device {weight.device}",
                                            "must be on the CPU: tsilstm runs on the CPU only (call .cpu() on the module)")

    def _torch_runs(self, input: torch.Tensor, states: States) -> bool:
        """True when this call must run torch's own implementation (dropout active, gradients needed
        with grad_mode='torch', or an ONNX export, which then records standard LSTM / GRU nodes);
        raises when gradients are needed with grad_mode='error'."""
        if self.training and self.dropout > 0 and self.num_layers > 1:  # type: ignore[attr-defined]
            return True
        if torch.onnx.is_in_onnx_export():
            return True
        if not torch.is_grad_enabled():
            return False
        needs_grad = input.requires_grad or any(s.requires_grad for s in states) or any(
            w.requires_grad for w in self._flat_weights)  # type: ignore[attr-defined]
        if needs_grad and self.grad_mode == "error":
            raise InvalidParameterError(
                "grad_mode", "error",
                "gradients are needed here (grad is enabled and the input, hx or a parameter requires grad): run "
                "under torch.no_grad() / torch.inference_mode(), or use grad_mode='recompute' or 'torch'")
        return needs_grad and self.grad_mode == "torch"

    def _state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        raise NotImplementedError

    def _initial_states(self, hx: Any, batch: int, *, batched: bool, dtype: torch.dtype) -> States:
        """The initial states as batched (L*D, N, *) tensors: zeros of ``dtype`` when ``hx`` is None,
        else ``hx`` checked (and given a batch axis for unbatched input)."""
        shapes = self._state_shapes(batch)
        if hx is None:
            return tuple(torch.zeros(shape, dtype=dtype) for shape in shapes)
        given = self._split_hx(hx)
        states = []
        for name, state, shape in zip(("hx[0]", "hx[1]") if len(shapes) == 2 else ("hx",), given, shapes):
            check_cpu_float(state, name)
            if batched:
                states.append(check_shape(state, name, shape))
            else:
                states.append(check_shape(state, name, (shape[0], shape[2])).unsqueeze(1))
        return tuple(states)

    def _check_host_states(self, hx: Any) -> None:
        """The checks of ``_initial_states`` that torch's forward does not make for us: each given
        state a dense floating CPU tensor (our error naming it; shapes torch checks itself)."""
        given = tuple(hx) if isinstance(hx, (tuple, list)) else (hx,)
        for index, state in enumerate(given):
            if not (type(state) is torch.Tensor and state.layout is torch.strided and state.is_cpu  # noqa: E721
                    and state.dtype in COMMON_FLOAT_DTYPES and not state.is_nested):
                names = ("hx[0]", "hx[1]") if len(given) == 2 else ("hx",)
                check_cpu_float(state, names[index] if index < len(names) else "hx")

    def _split_hx(self, hx: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def _public_states(self, finals: States) -> Any:
        raise NotImplementedError

    def _run_sequence_first(self, x: torch.Tensor, states: States, lengths: torch.Tensor | None = None, *,
                            kernel_chosen: bool = False) -> tuple[torch.Tensor, States]:
        """Run (T, N, X) input of any float dtype from batched states (with ``lengths``, each
        sequence for its own length); returns the (T, N, D*P) output and final states in the
        input's dtype."""
        dtype = x.dtype
        x32 = x.to(torch.float32).contiguous()
        states32 = [s.to(torch.float32).contiguous() for s in states]
        s = self.kernel_settings
        weights = list(self._flat_weights)  # type: ignore[attr-defined]
        lengths = _NO_LENGTHS if lengths is None else lengths
        if kernel_chosen:
            mark_kernel_chosen(self._pack_key)
        if cell_spec(self._cell).has_cell_state:
            out, h_n, c_n = torch.ops.tsilstm.lstm_forward(
                x32, states32[0], states32[1], weights, self._pack_key, self.num_layers, self.bidirectional,  # type: ignore[attr-defined]
                self.proj_size, self.bias, *op_arguments(s), lengths)  # type: ignore[attr-defined]
            finals: tuple[torch.Tensor, ...] = (h_n, c_n)
        else:
            out, h_n = torch.ops.tsilstm.gru_forward(
                x32, states32[0], weights, self._pack_key, self.num_layers, self.bidirectional, self.bias,  # type: ignore[attr-defined]
                *op_arguments(s), lengths)
            finals = (h_n,)
        return out.to(dtype), tuple(f.to(dtype) for f in finals)


_NO_LENGTHS = torch.empty(0, dtype=torch.int64)
"""The operators' ``lengths`` when every sequence runs all steps."""


class LSTM(KernelRecurrent, torch.nn.RNNBase):
    """``torch.nn.LSTM`` (same constructor, parameters, state_dict and forward) run by tsilstm's
    kernel. Extra keyword arguments: ``schedule`` ("auto": measured on the first call; or "tsi",
    "conventional", ...), ``threads`` (None: all usable cores), ``weight_dtype`` (None: float32;
    "bfloat16" halves the recurrent weight bytes), ``grad_mode`` (see GRAD_MODES) and ``tuning``.

    ``lstm(input, (h_0, c_0))`` returns ``output, (h_n, c_n)`` like torch; computed in float32
    whatever the input's floating dtype (the outputs come back in the input's dtype)."""

    _cell = "lstm"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None, *, schedule: str = "auto", threads: int | None = None,
                 weight_dtype: str | None = None, grad_mode: str = "recompute", tuning: str | None = None) -> None:
        num_layers = require_int("num_layers", num_layers, maximum=MAX_NUM_LAYERS)  # before torch allocates them
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
                         device, dtype, schedule=schedule, threads=threads, weight_dtype=weight_dtype,
                         grad_mode=grad_mode, tuning=tuning)
    get_expected_cell_size = torch.nn.LSTM.get_expected_cell_size
    check_forward_args = torch.nn.LSTM.check_forward_args
    permute_hidden = torch.nn.LSTM.permute_hidden
    _torch_forward = torch.nn.LSTM.forward

    def _state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        layers = self.num_layers * (2 if self.bidirectional else 1)
        return [(layers, batch, self.proj_size or self.hidden_size), (layers, batch, self.hidden_size)]

    def _split_hx(self, hx: Any) -> tuple[Any, ...]:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise InvalidParameterError("hx", type(hx).__name__, "must be None or a tuple (h_0, c_0) of tensors")
        return tuple(hx)

    def _public_states(self, finals: States) -> Any:
        return finals[0], finals[1]


class GRU(KernelRecurrent, torch.nn.RNNBase):
    """``torch.nn.GRU`` (same constructor, parameters, state_dict and forward) run by tsilstm's
    kernel; ``gru(input, h_0)`` returns ``output, h_n``. See ``LSTM`` for the extra arguments."""

    _cell = "gru"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None, *, schedule: str = "auto", threads: int | None = None,
                 weight_dtype: str | None = None, grad_mode: str = "recompute", tuning: str | None = None) -> None:
        num_layers = require_int("num_layers", num_layers, maximum=MAX_NUM_LAYERS)  # before torch allocates them
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0, device,
                         dtype, schedule=schedule, threads=threads, weight_dtype=weight_dtype, grad_mode=grad_mode,
                         tuning=tuning)
    _torch_forward = torch.nn.GRU.forward

    def _state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        return [(self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)]

    def _split_hx(self, hx: Any) -> tuple[Any, ...]:
        if isinstance(hx, (tuple, list)):
            raise InvalidParameterError("hx", type(hx).__name__, "must be None or one tensor h_0 for a GRU")
        return (hx,)

    def _public_states(self, finals: States) -> Any:
        return finals[0]
