"""The error every importer raises for a file or object it cannot load."""

from __future__ import annotations

from tsilstm.errors import TsilstmError


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


def missing_package(package: str, extra: str, purpose: str) -> ModelFileError:
    """The error for an optional dependency that is not installed (install hint included)."""
    return ModelFileError(
        package, "", f"the Python package '{package}' is needed to {purpose} but is not installed",
        f"`pip install {package}` or `pip install tsilstm[{extra}]`",
    )
