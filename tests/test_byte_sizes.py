import pytest

from tsilstm.byte_sizes import format_bytes, parse_bytes
from tsilstm.errors import InvalidParameterError


@pytest.mark.parametrize("text, value", [("4096", 4096), ("512KiB", 524288), ("2MiB", 2097152), ("2MB", 2000000), ("1.5KiB", 1536), (" 64 kB ", 64000), (7, 7)])
def test_parse(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "abc", "-1", "0", "2XB", "1.3B", "0KiB"])
def test_bad_sizes_name_the_parameter(text):
    with pytest.raises(InvalidParameterError, match="buffer"):
        parse_bytes(text, "buffer")


def test_format():
    assert format_bytes(64 * 1024 * 1024) == "64.0 MiB"
    assert format_bytes(100) == "100 B"
