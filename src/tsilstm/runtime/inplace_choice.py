"""Choosing between implementations in place: the host framework's own LSTM/GRU or tsilstm's kernel,
timed on the user's real calls with the layers around them running.

A layer inside a torch model or an ONNX graph shares the cores with everything else the framework
runs: a kernel that is faster alone can make the pipeline slower (its threads and the framework's
fight over the cores, a bridge costs more than the layer). So the measure is the *period*: the time
from one call of the layer (or session) to the next, which holds the whole pipeline step. The two
implementations compute the same function (equal within 1e-5), so the trial simply runs the user's
calls on them in alternating blocks, and keeps the one whose median period is lower.

Protocol (``InplaceTrial``): blocks of at least ``MIN_BLOCK_CALLS`` calls and ``MIN_BLOCK_SECONDS``,
alternating between the candidates, ``ROUNDS`` blocks each; the first ``DROPPED_HEAD`` of every
block's periods is dropped (it spans the switch and the other candidate's leftovers). The host wins ties: tsilstm must be faster by ``MIN_GAIN`` of the
host's median, so a choice is never a loss within noise. When the two medians lie within each
other's spread (interquartile range) the trial goes on one round at a time, up to ``MAX_ROUNDS``,
and the decision is flagged noisy; so is one during which other processes took more than
``BUSY_SHARE`` of a core (when the caller gives a way to read that). After the decision the chosen
candidate's periods are still watched: when their median over ``WATCH_CALLS`` calls is
``RETRIAL_SLOWDOWN`` times slower or faster than the one the decision recorded (the machine got
busier, or the decision came from a store filled under other conditions), the trial runs again.

One trial at a time (``TURN``): two layers of one pipeline trialled together switch blocks at
different calls, so each one's blocks mix the other's candidates and neither measures anything
(seen 2026-12-05: two LSTM(128) of a streaming model, 0.36 ms for every block of both, where all
host ran 0.25 ms a call and all kernel 0.29 ms). A trial waiting for its turn runs the host, so
each layer is measured with the layers decided before it in place and the others as the user had
them. A holder not called for ``TURN_IDLE_SECONDS`` (or collected) gives the turn up.
"""

from __future__ import annotations

import statistics
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

HOST = "host"
"""The candidate that runs the framework's own implementation."""
KERNEL = "tsilstm"
"""The candidate that runs tsilstm's kernel."""
CANDIDATES = (KERNEL, HOST)
MIN_BLOCK_CALLS = 4
"""Calls per block at least (the first period of a block is dropped)."""
MIN_BLOCK_SECONDS = 0.02
"""A block lasts at least this long (short calls: more of them per block); longer than the ~30 ms a
framework's thread pool may spin after its last call only in part, which the dropped head covers."""
DROPPED_HEAD = 0.25
"""The first quarter of a block's periods (at least one, which spans the switch) is not counted:
the other candidate's leftovers (spinning pool threads, cold caches) fall there."""
ROUNDS = 3
"""Blocks per candidate in one trial."""
MAX_ROUNDS = 9
"""Blocks per candidate at most, when the first rounds are too noisy to separate them."""
MIN_GAIN = 0.03
"""tsilstm must be this fraction faster than the host (median period) to be chosen."""
WATCH_CALLS = 32
"""Periods of the chosen candidate compared with the recorded one after a decision."""
WATCH_STRIDE = 8
"""One call in this many has its period watched (the others only return the winner: a decided call
then costs ~2 us less with caches cold, measured 2026-12-05); a check every WATCH_CALLS *
WATCH_STRIDE calls."""
RETRIAL_SLOWDOWN = 1.5
"""A decision whose candidate runs this many times slower (or faster) than recorded is measured
again: it was made under other conditions."""
BUSY_SHARE = 0.3
"""Other processes using more than this share of a core during a trial make its decision noisy."""
GAP_FACTOR = 20.0
"""A period longer than this many times the block's shortest is a pause between calls, not a step
of the pipeline: it is not counted."""


TURN_IDLE_SECONDS = 1.0
"""A trial holding the turn whose layer has not been called for this long gives it up (that layer
may never be called again); the next trial then starts."""


class _Turn:
    """Which trial runs now (a weak reference; None: no trial) and when its layer was last called
    (``time.monotonic`` s)."""

    def __init__(self) -> None:
        self.holder: weakref.ref[InplaceTrial] | None = None
        self.seen_s = 0.0
        self.lock = threading.Lock()

    def take(self, trial: "InplaceTrial") -> bool:
        """True when ``trial`` holds the turn (taking it when it is free)."""
        now_s = time.monotonic()
        holder = self.holder() if self.holder is not None else None
        if holder is trial:
            self.seen_s = now_s
            return True
        if holder is not None and holder.decision is None and now_s - self.seen_s < TURN_IDLE_SECONDS:
            return False
        with self.lock:  # (two threads may find it free at once: one takes it)
            current = self.holder() if self.holder is not None else None
            if current is not holder:
                return current is trial
            self.holder, self.seen_s = weakref.ref(trial), now_s
        return True

    def give_up(self, trial: "InplaceTrial") -> None:
        """``trial`` is done: the turn is free."""
        if self.holder is not None and self.holder() is trial:
            self.holder = None


TURN = _Turn()
"""The process's one running trial."""


@dataclass(frozen=True)
class InplaceDecision:
    """The outcome of a trial: the winner, the median period (ms per call) of each candidate, the
    calls timed, whether the samples were noisy (medians within each other's spread) and when."""

    winner: str
    ms_per_call: dict[str, float]
    calls: int
    noisy: bool
    measured_at: str

    def describe(self) -> str:
        """Plain words: what runs and why, e.g. ``tsilstm (0.42 ms per call vs host 0.61; 1.45x)``."""
        other = next(name for name in self.ms_per_call if name != self.winner)
        mine, theirs = self.ms_per_call[self.winner], self.ms_per_call[other]
        ratio = theirs / mine if mine > 0 else float("inf")
        why = (f"{ratio:.2f}x faster" if self.winner == KERNEL else
               ("faster" if ratio > 1 + MIN_GAIN else f"tsilstm not {1 + MIN_GAIN:.2f}x faster, so the host keeps it"))
        noise = "; samples noisy" if self.noisy else ""
        return (f"{self.winner} ({mine:.4g} ms per call vs {other} {theirs:.4g}, {why}; {self.calls} calls timed in "
                f"place, {self.measured_at}{noise})")

    def to_record(self) -> dict[str, object]:
        """The JSON record stored for this decision."""
        return {"winner": self.winner, "ms_per_call": dict(self.ms_per_call), "calls": self.calls,
                "noisy": self.noisy, "measured_at": self.measured_at}

    @staticmethod
    def from_record(record: object) -> "InplaceDecision | None":
        """The decision a stored record describes, None when it is not a well-formed one."""
        if not isinstance(record, dict):
            return None
        try:
            times = record["ms_per_call"]
            if not isinstance(times, dict) or set(times) != set(CANDIDATES) or record["winner"] not in CANDIDATES:
                return None
            return InplaceDecision(str(record["winner"]), {str(k): float(v) for k, v in times.items()},
                                   int(record["calls"]), bool(record["noisy"]), str(record["measured_at"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class InplaceTrial:
    """Which candidate runs each call of one layer (or session) at one call shape, measured in place
    (see module doc). Call ``next_candidate()`` at the start of every call and run what it names."""

    decision: InplaceDecision | None = None
    """The decision in force (from the store or a finished trial), None while a trial runs."""
    busy_share: Callable[[], Callable[[], float]] | None = None
    """Makes a stopwatch of other processes' CPU time, as a share of the time since it was made
    (``schedule_tuning``); above ``BUSY_SHARE`` a trial's decision is flagged noisy. None: not read."""
    _busy: Callable[[], float] | None = None
    _periods: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in CANDIDATES})
    _block: list[float] = field(default_factory=list)
    _current: str = KERNEL
    _block_start: float = 0.0
    _last_start: float | None = None
    _blocks_done: int = 0
    _watch: list[float] = field(default_factory=list)
    _has_turn: bool = False
    _watch_skip: int = 1
    _trials: int = 0
    new_decision: bool = False
    """True once a trial finished and its decision was not yet taken by the caller (to record it)."""
    confirmed: int = 0
    """Watches (``WATCH_CALLS`` sampled periods each) that found the decision in force still holding."""

    @property
    def trials(self) -> int:
        """Trials run so far (a retrial after a slowdown counts again)."""
        return self._trials

    def next_candidate(self, now: float | None = None) -> str:
        """The candidate to run this call (KERNEL or HOST); ``now`` the call's start (perf_counter s)."""
        decision = self.decision
        if decision is not None:  # the common case, kept short: it runs on every call
            skip = self._watch_skip
            if skip > 1:
                self._watch_skip = skip - 1
                return decision.winner
            now = time.perf_counter() if now is None else now
            if skip == 1:  # this call's period is watched
                self._watch_skip = 0
                self._last_start = now
                return decision.winner
            if self._last_start is not None:
                self._watch.append(now - self._last_start)
            self._watch_skip = WATCH_STRIDE - 1  # (the call before the next watched one starts it)
            self._last_start = now
            if len(self._watch) >= WATCH_CALLS:
                self._check_watch()
            if self.decision is not None:
                return decision.winner
        now = time.perf_counter() if now is None else now
        period = None if self._last_start is None else now - self._last_start
        self._last_start = now
        if not self._has_turn:
            if not TURN.take(self):
                return HOST  # another layer's trial runs: the host, as the user had it
            self._has_turn = True
            self._begin(now)
            return self._current
        if not TURN.take(self):  # (lost after an idle spell: it begins again on its next turn)
            self._has_turn = False
            return HOST
        if period is not None:
            self._block.append(period)
        if len(self._block) >= MIN_BLOCK_CALLS and now - self._block_start >= MIN_BLOCK_SECONDS:
            self._close_block(now)
            if self.decision is not None:
                return self.decision.winner
        return self._current

    def _close_block(self, now: float) -> None:
        kept = self._block[max(1, int(len(self._block) * DROPPED_HEAD)):]
        if kept:
            shortest = min(kept)
            self._periods[self._current].extend(p for p in kept if p <= GAP_FACTOR * shortest)
        self._block = []
        self._block_start = now
        self._blocks_done += 1
        self._current = HOST if self._current == KERNEL else KERNEL
        rounds = self._blocks_done // len(CANDIDATES)
        if self._blocks_done % len(CANDIDATES) or rounds < ROUNDS:
            return
        kernel, host = self._periods[KERNEL], self._periods[HOST]
        if not kernel or not host:
            return
        noisy = _overlapping(kernel, host)
        if noisy and rounds < MAX_ROUNDS:
            return  # one more round of each
        self._decide(noisy)

    def _decide(self, noisy: bool) -> None:
        if self._busy is not None and self._busy() > BUSY_SHARE:
            noisy = True  # other processes took the cores meanwhile: not a decision to keep for good
        medians = {name: statistics.median(values) * 1e3 for name, values in self._periods.items()}
        winner = KERNEL if medians[KERNEL] < (1 - MIN_GAIN) * medians[HOST] else HOST
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        calls = sum(len(values) for values in self._periods.values())
        self.adopt(InplaceDecision(winner, medians, calls, noisy, stamp))
        self.new_decision = True
        self._trials += 1
        self._has_turn = False
        TURN.give_up(self)

    def adopt(self, decision: InplaceDecision) -> None:
        """Use ``decision`` from now on (a recorded one, or a finished trial's)."""
        self.decision = decision
        self._watch = []
        self._watch_skip = 1

    def _check_watch(self) -> None:
        """The chosen candidate's last ``WATCH_CALLS`` periods against the decision: the trial runs
        again when their median is ``RETRIAL_SLOWDOWN`` times slower or faster than recorded."""
        if self.decision is None:
            return
        median_ms = statistics.median(self._watch) * 1e3
        recorded = self.decision.ms_per_call[self.decision.winner]
        self._watch = []
        if not recorded / RETRIAL_SLOWDOWN <= median_ms <= RETRIAL_SLOWDOWN * recorded:
            self._restart()  # slower than recorded, or much faster: measured under other conditions
        else:
            self.confirmed += 1

    def _restart(self) -> None:
        self.decision = None
        self.confirmed = 0
        self._has_turn = False  # (the next call asks for the turn, then begins)

    def _begin(self, now: float) -> None:
        """Start a trial at the call starting at ``now`` (perf_counter s), the kernel's block first."""
        self._busy = self.busy_share() if self.busy_share is not None else None
        self._periods = {name: [] for name in CANDIDATES}
        self._block = []
        self._blocks_done = 0
        self._current = KERNEL
        self._block_start = now


def _overlapping(a: list[float], b: list[float]) -> bool:
    """True when the medians of ``a`` and ``b`` each lie inside the other's interquartile range (the
    samples cannot tell them apart)."""
    if len(a) < 4 or len(b) < 4:
        return False
    qa, qb = statistics.quantiles(a, n=4), statistics.quantiles(b, n=4)
    ma, mb = statistics.median(a), statistics.median(b)
    return qb[0] <= ma <= qb[2] and qa[0] <= mb <= qa[2]
