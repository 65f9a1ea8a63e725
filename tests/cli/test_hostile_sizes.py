"""Sizes and numbers that would make a command run out of memory or divide by ~0 are refused up
front with an error naming the option and the limit, within seconds and bounded memory."""

import pytest

from tests.security.limited_run import run_cli_limited

MAX_SECONDS = 10.0
MAX_RSS_BYTES = 2**30


@pytest.mark.parametrize("args, names", [
    (["plan", "--hidden", "1000000"], "--hidden/--tile/--steps"),
    (["plan", "--hidden", "2048", "--tile", "1"], "--hidden/--tile/--steps"),
    (["plan", "--hidden", "64", "--steps", "100000000"], "--hidden/--tile/--steps"),
    (["simulate", "--hidden", "256", "--bandwidth", "1e-300"], "dram_bandwidth_bytes_per_s"),
    (["simulate", "--hidden", "256", "--bandwidth", "1e300"], "dram_bandwidth_bytes_per_s"),
])
def test_refused_quickly_with_the_option_named(args, names):
    run = run_cli_limited(args, timeout_s=60)
    error_line = run.stderr.strip().splitlines()[-1]
    assert run.returncode == 2 and error_line.startswith("error: ") and names in error_line, run.stderr[-1500:]
    assert "limit" in error_line or "must be in" in error_line
    assert run.seconds < MAX_SECONDS and run.peak_rss_bytes < MAX_RSS_BYTES, (run.seconds, run.peak_rss_bytes)


def test_plan_ops_estimate_is_exact_for_conventional():
    from tsilstm.cli.plan_command import estimated_plan_ops
    from tsilstm.plan import generate_plan, make_tiling

    for hidden, input_size, tile, proj in ((96, 40, 16, 0), (80, 24, 16, 30)):
        tiling = make_tiling(hidden, input_size, tile=tile, proj_size=proj)
        plan = generate_plan("conventional", hidden, input_size, steps=7, tile=tile, proj_size=proj)
        assert estimated_plan_ops("conventional", tiling, 7) >= len(plan.ops)
        for schedule in ("naive", "snake", "pinned", "tsi"):
            built = generate_plan(schedule, hidden, input_size, steps=7, tile=tile, proj_size=proj)
            assert len(built.ops) <= estimated_plan_ops(schedule, tiling, 7) * 1.05


def test_simulate_refuses_a_layer_with_too_many_tiles_quickly():
    import time

    from click.testing import CliRunner

    from tsilstm.cli.main import cli

    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["simulate", "--hidden", "1000000", "--arch", "edge"])
    assert result.exit_code == 2 and "hidden_size" in result.output and "tiles" in result.output
    assert time.perf_counter() - start < 10
