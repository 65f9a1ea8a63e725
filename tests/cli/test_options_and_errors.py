"""Every command: -h, options checked by click's own types, bad input exit 2, internal errors exit 3,
missing optional packages named with their extra."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tsilstm.cli.main import EXIT_INTERNAL_ERROR, cli
from tsilstm.errors import InternalError, MissingPackageError, PlanError, internal_check
from tsilstm.optional_packages import EXTRA_OF_MODULE, import_optional

COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_dash_h_is_help(command):
    short = CliRunner().invoke(cli, [command, "-h"])
    long = CliRunner().invoke(cli, [command, "--help"])
    assert short.exit_code == 0 and short.output == long.output and "Usage:" in short.output


def test_dash_h_on_the_group():
    assert CliRunner().invoke(cli, ["-h"]).output == CliRunner().invoke(cli, ["--help"]).output


@pytest.mark.parametrize("command", COMMANDS)
def test_no_option_takes_free_text(command):
    for param in cli.commands[command].params:
        if isinstance(param, click.Option) and param.is_flag:
            continue
        assert not isinstance(param.type, click.types.StringParamType), f"{command} {param.name} accepts any string"


@pytest.mark.parametrize(
    "args, option",
    [(["simulate", "--hidden", "64", "--steps", "0"], "--steps"), (["plan", "--hidden", "64", "--steps", "0"], "--steps"),
     (["simulate", "--workload", "deepbench-lstm-256-b1", "--batch", "0"], "--batch"),
     (["simulate", "--hidden", "64", "--weight-bits", "12"], "--weight-bits"),
     (["simulate", "--hidden", "64", "--cell", "rnn"], "--cell"),
     (["sweep", "--batches", "1,x"], "--batches"), (["sweep", "--weight-bits", "8,7"], "--weight-bits"),
     (["sweep", "--jobs", "0"], "--jobs"), (["sweep", "--bandwidths", "1 GHz"], "--bandwidths"),
     (["report", "--jobs", "0"], "--jobs"), (["calibrate", "--hidden", "256,abc"], "--hidden"),
     (["calibrate", "--cell", "rnn"], "--cell"), (["workloads", "--family", "poetry"], "--family"),
     (["verify", "--cell", "rnn"], "--cell"), (["verify", "--buffer", "lots"], "--buffer"),
     (["bench", "--workload", "nope"], "--workload")],
)
def test_bad_option_values_exit_2_naming_the_option(args, option):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert option in result.output and "Traceback" not in result.output


def test_internal_check_turns_plan_errors_into_internal_errors():
    with pytest.raises(InternalError, match="the generated tsi plan breaks a rule: op 3"):
        with internal_check("the generated tsi plan"):
            raise PlanError("op 3: tile is not in the buffer")
    assert not issubclass(InternalError, ValueError)


def test_internal_errors_exit_3_and_ask_for_a_report():
    group = type(cli)(name="demo")

    @group.command()
    def broken() -> None:
        with internal_check("the generated tsi plan"):
            raise PlanError("op 3: tile is not in the buffer")

    result = CliRunner().invoke(group, ["broken"])
    assert result.exit_code == EXIT_INTERNAL_ERROR == 3
    assert "internal error" in result.output and "report" in result.output and "op 3" in result.output


@pytest.mark.parametrize("module", sorted(EXTRA_OF_MODULE))
def test_missing_optional_package_names_its_extra(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # "import module" now raises ImportError
    with pytest.raises(MissingPackageError) as caught:
        import_optional(module, "do something")
    assert f"pip install 'tsilstm[{EXTRA_OF_MODULE[module]}]'" in str(caught.value)


def test_every_named_extra_is_declared():
    from tsilstm.toml_reader import loads_toml

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    extras = loads_toml(pyproject.read_text())["project"]["optional-dependencies"]
    assert set(EXTRA_OF_MODULE.values()) <= set(extras)


def test_yaml_arch_file_without_pyyaml_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "yaml", None)
    path = tmp_path / "mine.yaml"
    path.write_text("base: edge\n")
    result = CliRunner().invoke(cli, ["simulate", "--hidden", "64", "--arch", str(path)])
    assert result.exit_code == 2 and "tsilstm[yaml]" in result.output
