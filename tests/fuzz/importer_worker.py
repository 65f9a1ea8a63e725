"""Loads model files one by one in its own process and prints one JSON line per file:
``{"file", "outcome": "loaded" | "clear_error" | "other_error", "detail"}``; before each file it
prints ``{"start": file}`` so the parent knows which file a crash (signal) happened on.
A loaded model must be usable: the reference runs two steps of it and gives finite numbers.
faulthandler prints the Python stack on a crash, and on a hang (FILE_TIMEOUT_S for one file) it
prints it and ends the process, so the parent can tell where it happened.

usage: python -m tests.fuzz.importer_worker FILE...
"""

from __future__ import annotations

import faulthandler
import json
import sys

import numpy as np


FILE_TIMEOUT_S = 60.0
"""A file whose load (and check) takes longer than this is a hang (the largest fixture takes ~2 s)."""


def check_loaded(models) -> str:  # type: ignore[no-untyped-def]
    """A short description of the loaded models; raises AssertionError if one is unusable."""
    from tsilstm.cells import run_reference
    from tsilstm.model import RecurrentModel

    assert isinstance(models, list) and models, "load_models returned no model"
    for model in models:
        assert isinstance(model, RecurrentModel), type(model)
        layer = model.layers[0]
        x = np.random.default_rng(0).standard_normal((2, 1, layer.input_size))
        out = run_reference(model, x)[0]
        assert np.all(np.isfinite(out)), "the loaded model gives non-finite outputs on finite input"
    return ", ".join(f"{m.cell} x{len(m.layers)}" for m in models)


def load_one(path: str) -> dict[str, str]:
    """The outcome of loading ``path`` with tsilstm.importers.load_models."""
    from tsilstm.errors import TsilstmError
    from tsilstm.importers import load_models

    try:
        models = load_models(path)
    except TsilstmError as error:
        return {"outcome": "clear_error", "detail": f"{type(error).__name__}: {str(error)[:300]}"}
    except BaseException as error:  # noqa: BLE001 - the point is to catch what should not escape
        return {"outcome": "other_error", "detail": f"{type(error).__module__}.{type(error).__name__}: {str(error)[:300]}"}
    try:
        return {"outcome": "loaded", "detail": check_loaded(models)}
    except BaseException as error:  # noqa: BLE001
        return {"outcome": "other_error", "detail": f"loaded but unusable: {type(error).__name__}: {str(error)[:300]}"}


def main(paths: list[str]) -> int:
    """Load every path, one JSON line each."""
    import warnings

    warnings.simplefilter("ignore")
    faulthandler.enable()
    for path in paths:
        print(json.dumps({"start": path}), flush=True)
        faulthandler.dump_traceback_later(FILE_TIMEOUT_S, exit=True)
        outcome = load_one(path)
        faulthandler.cancel_dump_traceback_later()
        print(json.dumps({"file": path, **outcome}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
