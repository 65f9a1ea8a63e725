"""One grammar for quantities: the units module, the config files and the CLI options give the same
values and the same errors."""

import math

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tsilstm.accel.arch_file import load_arch
from tsilstm.cli.main import cli
from tsilstm.errors import InvalidParameterError
from tsilstm.units import DIMENSIONS, allowed_text, format_bytes, parse_bytes, parse_quantity, parse_whole


@pytest.mark.parametrize(
    "text, value",
    [("4096", 4096), ("512KiB", 524288), ("512k", 524288), ("512 K", 524288), ("2MiB", 2097152), ("2m", 2097152),
     ("2MB", 2000000), ("1.5KiB", 1536), (" 64 kB ", 64000), ("1e3", 1000), ("1 GiB", 1024**3), (7, 7), (7.0, 7)],
)
def test_parse_bytes(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "abc", "-1", "0", "2XB", "1.3B", "0KiB", "12GB/s", "inf", "nan", True, None, [1]])
def test_bad_sizes_name_the_parameter(text):
    with pytest.raises(InvalidParameterError, match="buffer") as caught:
        parse_bytes(text, "buffer")
    assert "4096, 512k" in caught.value.allowed


@pytest.mark.parametrize(
    "dimension, text, value",
    [("bytes_per_s", "12.8GB/s", 12.8e9), ("bytes_per_s", "12.8e9", 12.8e9), ("bytes_per_s", "1 MiB/s", 2**20),
     ("hz", "800MHz", 800e6), ("hz", "1.2 GHz", 1.2e9), ("ns", "1.5us", 1500.0), ("ns", "100", 100.0),
     ("w", "25 mW", 0.025), ("pj", "500fJ", 0.5), ("pj_per_bit", "20 pJ/bit", 20.0), ("count", "64", 64.0)],
)
def test_every_dimension(dimension, text, value):
    assert parse_quantity("x", text, dimension) == pytest.approx(value)


def test_unit_of_another_dimension_is_named():
    with pytest.raises(InvalidParameterError, match="not a unit of bytes_per_s"):
        parse_quantity("bandwidth", "10 GHz", "bytes_per_s")


def test_zero_allowed_only_when_not_positive():
    assert parse_quantity("latency", 0, "ns", positive=False) == 0.0
    with pytest.raises(InvalidParameterError):
        parse_quantity("latency", 0, "ns")
    with pytest.raises(InvalidParameterError):
        parse_quantity("latency", "-1 ns", "ns", positive=False)


def test_whole_numbers():
    assert parse_whole("bits", "16", "count") == 16
    with pytest.raises(InvalidParameterError, match="whole number"):
        parse_whole("bits", 16.5, "count")


@given(st.integers(1, 2**12), st.sampled_from(sorted(u for u in DIMENSIONS["bytes"] if u)))
def test_number_and_unit_round_trip(number, unit):
    assert parse_bytes(f"{number} {unit}") == number * DIMENSIONS["bytes"][unit]


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_is_a_value_or_a_named_error(number):
    try:
        value = parse_quantity("x", number, "hz")
    except InvalidParameterError as error:
        assert error.name == "x"
        assert not (math.isfinite(number) and number > 0)
    else:
        assert value == number > 0


def test_format():
    assert format_bytes(64 * 1024 * 1024) == "64.0 MiB"
    assert format_bytes(100) == "100 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(3 * 1024**4) == "3072.0 GiB"


@pytest.mark.parametrize("good, bad", [("512k", "512 parsecs"), ("2 MiB", "-4")])
def test_config_file_and_cli_take_the_same_grammar_and_give_the_same_error(tmp_path, good, bad):
    expected = parse_bytes(good)
    path = tmp_path / "mine.toml"
    path.write_text(f'base = "edge"\n[memory]\nweight_buffer_bytes = "{good}"\n')
    assert load_arch(str(path)).weight_buffer_bytes == expected
    result = CliRunner().invoke(cli, ["simulate", "--hidden", "64", "--buffer", good, "--json"])
    assert result.exit_code == 0, result.output

    path.write_text(f'base = "edge"\n[memory]\nweight_buffer_bytes = "{bad}"\n')
    with pytest.raises(InvalidParameterError) as from_file:
        load_arch(str(path))
    with pytest.raises(InvalidParameterError) as from_api:
        parse_bytes(bad, "weight_buffer_bytes")
    result = CliRunner().invoke(cli, ["simulate", "--hidden", "64", "--buffer", bad])
    assert result.exit_code == 2
    assert from_file.value.allowed == from_api.value.allowed
    assert "'--buffer'" in result.output
    assert " ".join(from_api.value.allowed.split()) in " ".join(result.output.split())


def test_allowed_text_names_the_examples():
    assert "12.8GB/s" in allowed_text("bytes_per_s")
    assert "non-negative" in allowed_text("ns", positive=False)
