"""The package's error types: every bad input surfaces as a ``TsilstmError``, never as a deep numpy
error; a broken internal rule (a bug in tsilstm, not in the input) is an ``InternalError``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class TsilstmError(ValueError):
    """Base class of every error tsilstm raises for bad input (a ``ValueError``)."""


class InvalidParameterError(TsilstmError):
    """A parameter is out of range, of the wrong type or inconsistent with another one.

    The message names the parameter and what is allowed.
    """

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{name}={value!r} is invalid: {allowed}")


class PlanError(TsilstmError):
    """A plan breaks the dependency rule, the coverage rule or the buffer limit."""


class UnsupportedModelError(TsilstmError):
    """A model uses a feature tsilstm does not support (the message says which and why)."""


class ResourceError(TsilstmError):
    """A request needs more memory (or another resource) than the machine has; the message gives
    the bytes needed and available."""


class ModelFileError(TsilstmError):
    """A model file (or in-memory object) cannot be imported.

    The message names the ``source`` (file path or object), ``where`` in it the problem is (a node,
    key or layer; may be empty) and what was ``expected``.
    """

    def __init__(self, source: object, where: str, problem: str, expected: str = "") -> None:
        self.source = str(source)
        self.where = where
        self.problem = problem
        self.expected = expected
        location = f"{self.source}: {where}: " if where else f"{self.source}: "
        text = location + problem
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class ArchitectureNeededError(ModelFileError):
    """A weights-only model file (Keras ``save_weights`` output) was given without the architecture
    that says how to read its weights; ``tsilstm inspect FILE`` shows what the file holds."""


class MissingPackageError(TsilstmError):
    """An optional package a feature needs is not installed; the message names the package, what it
    is needed for and the tsilstm extra that installs it."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"the Python package '{package}' is needed to {purpose} but is not installed: "
            f"pip install 'tsilstm[{extra}]'"
        )


class InternalError(Exception):
    """tsilstm broke one of its own rules (e.g. the plan generator made a plan the checker refuses):
    a bug to report, not a problem with the input. Deliberately not a ``TsilstmError``."""


@contextmanager
def internal_check(what: str) -> Iterator[None]:
    """Run a check of something tsilstm made itself (``what``, e.g. "the generated tsi plan"): a
    ``PlanError`` raised inside is a broken internal rule and leaves as an ``InternalError``."""
    try:
        yield
    except PlanError as error:
        raise InternalError(f"{what} breaks a rule: {error}") from error


class ImplausibleValueWarning(UserWarning):
    """A bare number (read in its key's base unit) lies outside the range plausible for that key,
    e.g. ``clock_hz = 800`` (800 Hz, most likely 800 MHz was meant)."""
