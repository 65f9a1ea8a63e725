"""The package's error types: every bad input surfaces as one of these, never as a deep numpy error."""

from __future__ import annotations


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
