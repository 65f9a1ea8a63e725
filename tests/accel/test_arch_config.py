"""The accelerator config: presets load, bad files fail with the key named."""

from __future__ import annotations

import pytest

from tsilstm.accel.arch_file import PRESETS, arch_from_dict, load_arch, preset_text
from tsilstm.errors import InvalidParameterError, TsilstmError
from tests.accel.conftest import tiny_arch_dict


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_with_units(name: str) -> None:
    arch = load_arch(name)
    assert arch.name == name
    assert arch.weight_buffer_bytes >= 256 * 1024
    assert arch.dram_bandwidth_bytes_per_s > 1e9
    assert arch.mac_energy_pj > 0
    assert "#" in preset_text(name)  # every preset carries its sources as comments


def test_edge_preset_is_an_edge_design() -> None:
    arch = load_arch("edge")
    assert 100 <= arch.mac_units < 1000
    assert arch.weight_bits in (8, 16)
    assert 256 * 1024 <= arch.weight_buffer_bytes <= 1024 * 1024
    assert arch.dram_bandwidth_bytes_per_s == pytest.approx(12.8e9)


def test_units_are_converted() -> None:
    arch = arch_from_dict(tiny_arch_dict())
    assert arch.activation_buffer_bytes == 1024 * 1024
    assert arch.dram_bytes_per_cycle == pytest.approx(16.0)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"memory__weight_buffer_byts": 4096}, "memory.weight_buffer_byts"),
        ({"dram__bandwidth_bytes_per_s": "12 GHz"}, "dram.bandwidth_bytes_per_s"),
        ({"dram__bandwidth_bytes_per_s": 0}, "dram.bandwidth_bytes_per_s"),
        ({"compute__mac_units": -4}, "compute.mac_units"),
        ({"compute__clock_hz": "800 MB"}, "compute.clock_hz"),
        ({"memory__weight_buffer_bytes": "1.5 B"}, "memory.weight_buffer_bytes"),
        ({"compute__weight_bits": 12}, "compute.weight_bits"),
        ({"energy__static_power_w": -1}, "energy.static_power_w"),
        ({"energy__sram_pj_per_64bit": [[1024]]}, "energy.sram_pj_per_64bit[0]"),
        ({"compute__arithmetic": "fixed"}, "compute.arithmetic"),
    ],
)
def test_bad_values_name_the_key(changes: dict, key: str) -> None:
    with pytest.raises(InvalidParameterError) as error:
        arch_from_dict(tiny_arch_dict(**changes))
    assert error.value.name == key
    assert key in str(error.value)


def test_missing_key_is_named() -> None:
    data = tiny_arch_dict()
    del data["dram"]["latency_ns"]
    with pytest.raises(InvalidParameterError, match="dram.latency_ns"):
        arch_from_dict(data)


def test_unknown_section_and_preset() -> None:
    with pytest.raises(InvalidParameterError, match="cache"):
        arch_from_dict({**tiny_arch_dict(), "cache": {}})
    with pytest.raises(TsilstmError, match="edge"):
        load_arch("laptop")
    with pytest.raises(InvalidParameterError, match="no such file"):
        load_arch("/nonexistent/accel.toml")


def test_file_with_base_overrides_a_preset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\nbase = "edge"\n[memory]\nweight_buffer_bytes = "1 MiB"\n[dram]\nbandwidth_bytes_per_s = "25.6 GB/s"\n')
    arch = load_arch(str(path))
    edge = load_arch("edge")
    assert arch.name == "mine"
    assert arch.weight_buffer_bytes == 1024 * 1024
    assert arch.dram_bandwidth_bytes_per_s == pytest.approx(25.6e9)
    assert arch.mac_units == edge.mac_units


def test_yaml_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("yaml")
    path = tmp_path / "mine.yaml"
    path.write_text("base: server\nmemory:\n  weight_buffer_bytes: 4 MiB\n")
    assert load_arch(str(path)).weight_buffer_bytes == 4 * 1024 * 1024


def test_bad_toml_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.toml"
    path.write_text("[compute\nclock_hz = 1")
    with pytest.raises(InvalidParameterError, match="TOML"):
        load_arch(str(path))


def test_overrides_are_validated() -> None:
    edge = load_arch("edge")
    assert edge.with_overrides(weight_buffer_bytes=2048).weight_buffer_bytes == 2048
    with pytest.raises(InvalidParameterError, match="dram_bandwidth_bytes_per_s"):
        edge.with_overrides(dram_bandwidth_bytes_per_s=0.0)
    with pytest.raises(InvalidParameterError, match="buffer_size"):
        edge.with_overrides(buffer_size=1)


def test_an_implausible_bare_number_warns_and_names_the_unit_assumed() -> None:
    import warnings

    from tsilstm.errors import ImplausibleValueWarning

    with pytest.warns(ImplausibleValueWarning, match=r"compute\.clock_hz = 5000 was read as 5000 hz"):
        arch_from_dict({"base": "edge", "compute": {"clock_hz": 5000}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImplausibleValueWarning)
        arch_from_dict({"base": "edge", "compute": {"clock_hz": "800 MHz"}, "dram": {"bandwidth_bytes_per_s": 12.8e9}})


def test_an_implausible_bare_bandwidth_option_warns() -> None:
    from click.testing import CliRunner

    from tsilstm.cli.main import cli

    with pytest.warns(Warning, match="--bandwidth"):
        CliRunner().invoke(cli, ["simulate", "--hidden", "64", "--steps", "2", "--bandwidth", "12.8"])
