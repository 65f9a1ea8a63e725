"""``tsilstm bench``: tsilstm's schedules against torch, ONNX Runtime, their int8 forms and OpenVINO,
side by side in one process (one shape, a named workload, or the DeepBench suite written to
benchmarks/RESULTS.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table

from tsilstm.bench.baseline_catalog import BASELINES, DEFAULT_BASELINES, FLOAT32_BASELINES, INT8_BASELINES, missing_package
from tsilstm.bench.comparison import CompareSettings, compare_shape
from tsilstm.bench.runners_tsilstm import FLOAT32, tsilstm_weight_dtypes
from tsilstm.bench.shapes import BenchShape
from tsilstm.bench.suite_run import AUTO_FLOOR
from tsilstm.bench.suites import GRU_STEPS_DIVISOR, SUITES, suite_entries
from tsilstm.bench.suites import workload as workload_entry
from tsilstm.cli.size_checks import check_bench_size
from tsilstm.cli.param_types import FEEDS, CELL, CONTEXT_SETTINGS, NON_NEGATIVE_INT, POSITIVE_INT, WORKLOAD_NAME, CommaListType
from tsilstm.hardware import usable_cores

DEFAULT_RESULTS_PATH = Path("benchmarks") / "RESULTS.md"
SUITE_BUDGET_S = 3.0  # timed seconds per implementation and workload in the suite (keeps it < 20 min on 2 cores)
SUITE_MAX_REPEATS = 15  # cheap workloads get many rounds (their medians suffer most from other processes)
STREAM_CALLS = 200  # calls of one step each in a --stream run (per timed sample)
SUITE_BASELINES = FLOAT32_BASELINES + INT8_BASELINES  # the suite's --against when not given
WEIGHT_DTYPES = tsilstm_weight_dtypes()  # the kernel's weight types (float32, bfloat16, int8, ...)


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--workload", type=WORKLOAD_NAME, default=None,
              help="A named workload (tsilstm workloads), e.g. deepbench-lstm-2048-b1, speech-2048.")
@click.option("--suite", type=click.Choice(SUITES), default=None, help="Run a whole suite and write RESULTS.md.")
@click.option("--hidden", type=POSITIVE_INT, default=None, help="Hidden units H [default: 2048].")
@click.option("--input", "input_size", type=POSITIVE_INT, default=None, help="Input features X [default: hidden].")
@click.option("--batch", type=POSITIVE_INT, default=None, help="Sequences per batch [default: 1].")
@click.option("--steps", type=POSITIVE_INT, default=None, help="Time steps T [default: 50].")
@click.option("--cell", type=CELL, default=None, help="lstm or gru [default: lstm].")
@click.option("--layers", type=POSITIVE_INT, default=1, show_default=True, help="Stacked layers.")
@click.option("--proj-size", type=NON_NEGATIVE_INT, default=0, show_default=True, help="LSTM projection size (0: none).")
@click.option("--bidirectional", is_flag=True, help="Two directions per layer.")
@click.option("--against", type=CommaListType(click.Choice(BASELINES)), default=",".join(DEFAULT_BASELINES), show_default=True,
              help="Comma-separated baselines: " + ", ".join(BASELINES) + " (empty: none; the suite's default adds "
              + ", ".join(INT8_BASELINES) + ").")
@click.option("--weight-dtype", type=click.Choice(WEIGHT_DTYPES), default=FLOAT32, show_default=True,
              help="Element type of tsilstm's recurrent weights (one shape or workload).")
@click.option("--weight-dtypes", type=CommaListType(click.Choice(WEIGHT_DTYPES)), default=None,
              help="Suite: weight types tsi also runs at, besides float32 [default: " + ",".join(WEIGHT_DTYPES) + "].")
@click.option("--threads", type=POSITIVE_INT, default=None, help="Threads of every implementation [default: all usable cores].")
@click.option("--repeats", type=POSITIVE_INT, default=None, help="Timed interleaved rounds [default: 10; suite: at most 15, fewer for big shapes].")
@click.option("--auto/--no-auto", "with_auto", default=None, help="Also run schedule='auto' [default: only in a suite].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random weights and inputs.")
@click.option("--gru-steps-divisor", type=POSITIVE_INT, default=GRU_STEPS_DIVISOR, show_default=True,
              help="Suite: divide the DeepBench GRU sequence lengths by this (1: full length).")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_RESULTS_PATH,
              show_default=True, help="Suite: where to write the markdown results.")
@click.option("--stream", is_flag=True,
              help="Streaming: one time step per call, state carried, --steps calls [default: 200]; reports ms per call.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--onnx", "onnx_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Time this whole ONNX model in onnxruntime vs tsilstm.onnx.InferenceSession (--batch, --steps size its dynamic axes).")
@click.option("--feeds", type=FEEDS, default="auto", show_default=True, help="With --onnx: 'auto' (random float inputs) or a .npz file of inputs.")
def bench(
    workload: str | None, suite: str | None, hidden: int | None, input_size: int | None, batch: int | None,
    steps: int | None, cell: str | None, layers: int, proj_size: int, bidirectional: bool, against: tuple[str, ...], threads: int | None,
    repeats: int | None, with_auto: bool | None, seed: int, gru_steps_divisor: int, output_path: Path, stream: bool,
    as_json: bool, onnx_path: Path | None = None, feeds: str = "auto", weight_dtype: str = FLOAT32,
    weight_dtypes: tuple[str, ...] | None = None,
) -> None:
    """Time tsilstm (tsi and conventional schedules, weights of --weight-dtype) against torch, ONNX
    Runtime, their dynamically quantized int8 forms and OpenVINO in one process, on the same data and
    thread count; report ms per step, spread, speedups, errors vs torch fp32, the measured read
    bandwidth and the roofline of each schedule."""
    explicit = {"--hidden": hidden, "--input": input_size, "--batch": batch, "--steps": steps, "--cell": cell}
    given = [name for name, value in explicit.items() if value is not None]
    given += [name for name, changed in (("--layers", layers != 1), ("--proj-size", proj_size != 0), ("--bidirectional", bidirectional)) if changed]
    if (workload or suite) and given:
        raise click.UsageError(f"{'--workload' if workload else '--suite'} cannot be combined with {', '.join(given)}")
    if workload and suite:
        raise click.UsageError("--workload and --suite are exclusive")
    if stream and suite:
        raise click.UsageError("--stream runs one shape or workload; the suite has its own streaming rows")
    if suite and weight_dtype != FLOAT32:
        raise click.UsageError("--weight-dtype sets one run's weight type; the suite takes --weight-dtypes")
    if weight_dtypes is not None and not suite:
        raise click.UsageError("--weight-dtypes is for --suite; one shape or workload takes --weight-dtype")
    threads = threads or usable_cores()
    against_given = click.get_current_context().get_parameter_source("against") != click.core.ParameterSource.DEFAULT
    if suite and not against_given:
        against = SUITE_BASELINES
    against = tuple(dict.fromkeys(against))
    if against_given:
        _require_baseline_packages(against)
    if onnx_path is not None:
        from tsilstm.cli.bench_onnx_report import run_onnx_bench

        if workload or suite or stream:
            raise click.UsageError("--onnx cannot be combined with --workload, --suite or --stream")
        run_onnx_bench(onnx_path, feeds, threads=threads, repeats=repeats or 10, batch=batch or 1, steps=steps or 50,
                       seed=seed, as_json=as_json)
        return
    if suite:
        settings = CompareSettings(
            against=against, threads=threads, repeats=repeats or SUITE_MAX_REPEATS,
            schedules=("tsi", "conventional") + (("auto",) if with_auto is not False else ()),
            budget_s=SUITE_BUDGET_S, seed=seed,
            extra_tsi_weight_dtypes=tuple(d for d in (WEIGHT_DTYPES if weight_dtypes is None else weight_dtypes) if d != FLOAT32),
        )
        _run_suite(suite, settings, gru_steps_divisor, output_path, as_json)
        return
    if workload:
        shape = workload_entry(workload).shape
    else:
        shape = BenchShape(
            cell or "lstm", hidden or 2048, input_size or hidden or 2048, batch or 1,
            steps or (STREAM_CALLS if stream else 50), layers, proj_size, bidirectional,
        )
    settings = CompareSettings(
        against=against, threads=threads, repeats=repeats or 10,
        schedules=("tsi", "conventional") + (("auto",) if with_auto or stream else ()), seed=seed, stream=stream,
        weight_dtype=weight_dtype,
    )
    check_bench_size(shape, len(settings.schedules) + len(against) + 1)
    _run_one(shape, settings, as_json)


def _require_baseline_packages(against: tuple[str, ...]) -> None:
    """Fail (exit 2, naming --against and the extra to install) when a baseline asked for explicitly
    lacks its package; a default baseline whose package is missing is only reported as not run."""
    for name in against:
        missing = missing_package(name)
        if missing is not None:
            raise click.BadParameter(f"{name}: {missing}", param_hint="'--against'")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    )


def _run_one(shape: BenchShape, settings: CompareSettings, as_json: bool) -> None:
    from tsilstm.bench.suite_run import measurement_context

    err = Console(stderr=True)
    context = measurement_context(settings.threads)
    with _progress() as progress:
        task = progress.add_task("timing rounds", total=settings.repeats)
        result = compare_shape(
            shape, settings, bandwidth_bytes_per_s=context["bandwidth_gbs"] * 1e9,
            llc_bytes=context["machine"]["llc_bytes"],
            on_round=lambda done, total: progress.update(task, completed=done, total=total),
        )
    report = {**context, **result}
    for skipped in result["skipped"]:
        err.print(f"[yellow]not run[/yellow] {escape(skipped['impl'])}: {escape(skipped['reason'])}")
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        _print_table(report)
    _exit_on_error_mismatch(result["results"])


def _exit_on_error_mismatch(rows: list[dict[str, Any]]) -> None:
    bad = [row for row in rows if row.get("error_within_tolerance") is False]
    if bad:
        names = ", ".join(f"{row.get('label', row['impl'])} ({row['max_abs_error']:.2e} > {row.get('error_tolerance', 1e-4):.0e})" for row in bad)
        click.echo(f"error: outputs differ from the reference by more than the tolerance: {names}", err=True)
        sys.exit(1)


def _wide_console() -> Console:
    """A stdout console at least 150 columns wide, so the result tables never truncate the figures."""
    console = Console()
    return console if console.width >= 150 else Console(width=150)


def _print_table(report: dict[str, Any]) -> None:
    console = _wide_console()
    shape, machine = report["shape"], report["machine"]
    console.print(
        f"{shape['cell'].upper()} hidden={shape['hidden']} input={shape['input']} batch={shape['batch']} "
        f"steps={shape['steps']} layers={shape['num_layers']}"
        + (f" proj={shape['proj_size']}" if shape["proj_size"] else "") + (" bidirectional" if shape["bidirectional"] else "")
        + f" | threads={report['threads']} repeats={report['repeats']} | "
        f"{machine['cpu_model']}, read bandwidth {report['bandwidth_gbs']:.1f} GB/s (measured now)"
    )
    table = Table(title="streaming: one step per call, state carried (ms/step = ms per call)" if report.get("mode") == "stream" else None)
    with_int8 = any(row.get("speedup_vs_fastest_int8_baseline") is not None for row in report["results"])
    columns = ["impl", "weights", "ms/step (median)", "min..max", "IQR", "vs faster fp32 baseline"]
    columns += ["vs faster int8 peer"] if with_int8 else []
    columns += ["vs conventional", "max abs error", "roofline ms/step", "% of roofline"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("impl", "weights") else "right", no_wrap=column == "impl")
    fmt_x = lambda value: "-" if value is None else f"{value:.2f}x"  # noqa: E731
    for row in report["results"]:
        fraction = row.get("roofline_fraction")
        ran = row.get("schedule_ran")
        cells = [
            row.get("label", row["impl"]) + (f" ({ran})" if ran and row["impl"] != f"tsilstm-{ran}" else ""),
            row.get("weight_dtype") or row.get("precision", ""),
            f"{row['ms_per_step']:.4f}",
            f"{row['ms_per_step_min']:.4f}..{row['ms_per_step_max']:.4f}",
            f"{row['ms_per_step_iqr']:.4f}",
            fmt_x(row.get("speedup_vs_fastest_baseline")),
        ]
        cells += [fmt_x(row.get("speedup_vs_fastest_int8_baseline"))] if with_int8 else []
        cells += [
            fmt_x(row.get("speedup_vs_tsilstm_conventional")),
            f"{row['max_abs_error']:.2e}",
            "-" if "roofline_ms_per_step" not in row else f"{row['roofline_ms_per_step']:.4f}",
            "-" if fraction is None else f"{fraction:.0%}",
        ]
        table.add_row(*(escape(cell) for cell in cells))
    console.print(table)
    for row in report["results"]:
        if row.get("speedup_vs_best_tsilstm_schedule") is not None:
            console.print(f"{row['label']}: {row['speedup_vs_best_tsilstm_schedule']:.2f}x the faster fixed schedule (tsi, conventional)")
        if row.get("note"):
            console.print(f"{escape(row['label'])}: {escape(row['note'])}")
    for name, bound in report["roofline"].items():
        note = " (W_h fits in the LLC: the DRAM roofline does not bind)" if bound["weights_fit_in_llc"] else ""
        console.print(f"roofline {name}: {bound['roofline_bytes_per_step'] / 2**20:.1f} MiB/step -> "
                      f"{bound['roofline_ms_per_step']:.4f} ms/step{note}")


def _run_suite(suite: str, settings: CompareSettings, gru_steps_divisor: int, output_path: Path, as_json: bool) -> None:
    from tsilstm.bench.results_markdown import render_results_markdown
    from tsilstm.bench.suite_run import run_suite

    entries = suite_entries(suite, gru_steps_divisor)
    err = Console(stderr=True)
    shortened = sum(1 for entry in entries if entry.shortened)
    if shortened:
        err.print(f"{shortened} GRU workloads run with sequences shortened {gru_steps_divisor}x (--gru-steps-divisor)")
    with _progress() as progress:
        overall = progress.add_task(f"{suite} suite", total=len(entries))
        current = progress.add_task("", total=1)

        def on_entry(index: int, total: int, name: str) -> None:
            progress.update(overall, completed=index)
            progress.update(current, description=name, completed=0)
            if not err.is_terminal:  # no live bar in a log file: one line per workload instead
                err.print(f"[{index + 1}/{total}] {name}")

        result = run_suite(
            suite, entries, settings, on_entry=on_entry,
            on_round=lambda done, total: progress.update(current, completed=done, total=total),
        )
        progress.update(overall, completed=len(entries))
    command = "tsilstm bench --suite " + suite + ("" if gru_steps_divisor == GRU_STEPS_DIVISOR else f" --gru-steps-divisor {gru_steps_divisor}")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(render_results_markdown(result, command))
    err.print(f"results written to {output_path}")
    if as_json:
        click.echo(json.dumps(result, indent=2, default=str))
    else:
        _print_suite_summary(result)
    _exit_on_error_mismatch([row for entry in result["entries"] for row in entry["results"]])


def _print_suite_summary(result: dict[str, Any]) -> None:
    console = _wide_console()
    fmt = lambda v: "-" if v is None else f"{v:.2f}x"  # noqa: E731
    for title, summary in ((f"{result['suite']}: speedup against the faster of torch and ONNX Runtime", result["summary"]),
                           ("streaming rows (one step per call)", result.get("summary_stream") or {})):
        if not summary:
            continue
        table = Table(title=title)
        for column in ("tsilstm", "geomean, hidden >= 1536", "geomean, all", "slowest shape", f"below {AUTO_FLOOR}x",
                       "vs int8 peers, hidden >= 1536", "auto / best schedule (worst)", "max abs error"):
            table.add_column(column, no_wrap=column == "tsilstm")
        for label, s in summary.items():
            worst = s.get("min_vs_best_tsilstm_schedule")
            table.add_row(
                label, fmt(s["geomean_speedup_hidden_ge_1536"]), fmt(s["geomean_speedup_all"]),
                f"{fmt(s['min_speedup'])} {s['min_speedup_shape'] or ''}", str(len(s["shapes_below_floor"])),
                fmt(s.get("geomean_speedup_vs_int8_baselines_hidden_ge_1536")),
                "-" if worst is None else f"{fmt(s['geomean_vs_best_tsilstm_schedule'])} ({fmt(worst)} "
                f"{s['min_vs_best_tsilstm_schedule_shape']})",
                f"{s['max_abs_error']:.2e}",
            )
        console.print(table)
