"""The ``tsilstm`` command group; each command lives in its own module and is registered here."""

from __future__ import annotations

import sys

import click

from tsilstm.version import __version__
from tsilstm.cli.param_types import CONTEXT_SETTINGS
from tsilstm.errors import InternalError, TsilstmError


EXIT_BAD_INPUT = 2
"""Exit status for bad input (click's usage errors use it too)."""
EXIT_INTERNAL_ERROR = 3
"""Exit status for a broken internal rule: a bug in tsilstm."""


class _Group(click.Group):
    """A click group that turns the package's input errors into exit status 2 with a clear message,
    and its internal errors into exit status 3 with a request to report them."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except TsilstmError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except InternalError as error:
            click.echo(
                f"internal error: {error}\nThis is a bug in tsilstm, not a problem with the input: please report "
                "it with the command line that caused it and the output of `tsilstm --version`.", err=True,
            )
            sys.exit(EXIT_INTERNAL_ERROR)


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="tsilstm")
def cli() -> None:
    """tsilstm: time-step interleaved weight reuse for memory-bound LSTM/GRU inference."""


def _register() -> None:
    from tsilstm.cli import plan_command, verify_command

    cli.add_command(plan_command.plan)
    cli.add_command(verify_command.verify)
    from tsilstm.cli import inspect_command

    cli.add_command(inspect_command.inspect)
    from tsilstm.cli import bench_command

    cli.add_command(bench_command.bench)
    from tsilstm.cli import report_command, simulate_command, sweep_command, workloads_command

    cli.add_command(simulate_command.simulate)
    cli.add_command(sweep_command.sweep)
    cli.add_command(report_command.report)
    cli.add_command(workloads_command.workloads)
    from tsilstm.cli import calibrate_command

    cli.add_command(calibrate_command.calibrate)
    from tsilstm.cli import convert_onnx_command

    cli.add_command(convert_onnx_command.convert_onnx)
    from tsilstm.cli import explore_command

    cli.add_command(explore_command.explore)
    from tsilstm.cli import rtl_command

    cli.add_command(rtl_command.rtl)


_register()
