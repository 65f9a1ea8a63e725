"""Every case docs/ROBUSTNESS.md lists in a table with a "Test" column names a test that exists:
each backticked ``tests/...py`` file is there and each named test function (``test_x``,
``test_x[param]``, ``file.py::test_x``, ``test_x_*``) is defined in the file the row (or an earlier
row of the table) names, or elsewhere under tests/; a row without a name must say "same test"."""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "ROBUSTNESS.md"
TESTS = REPO / "tests"
BACKTICKED = re.compile(r"`([^`]+)`")
TEST_DEF = re.compile(r"^def (test_\w+)\(", re.MULTILINE)


def table_rows() -> list[tuple[int, list[str]]]:
    """(line number, cells) of every data row of a table whose last header cell is "Test"."""
    rows: list[tuple[int, list[str]]] = []
    in_table = False
    for number, line in enumerate(DOC.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[-1] == "Test":
            in_table = True
        elif in_table and not set(line) <= set("|-: "):
            rows.append((number, cells))
    return rows


def defined_tests(path: Path) -> set[str]:
    """The module-level test functions of the test file ``path``."""
    return set(TEST_DEF.findall(path.read_text(encoding="utf-8")))


def all_defined_tests() -> set[str]:
    """Every module-level test function under tests/."""
    return {name for path in TESTS.rglob("test_*.py") for name in defined_tests(path)}


def missing_references() -> list[str]:
    """``line: reference`` of every test reference in the tables that does not resolve."""
    everywhere = all_defined_tests()
    missing = []
    current: Path | None = None
    for number, cells in table_rows():
        references = [r for r in BACKTICKED.findall(cells[-1]) if r.startswith(("tests/", "test_", "..."))]
        if not references and "same test" not in cells[-1]:
            missing.append(f"{number}: no test named")
        for reference in references:
            file_part, _, name = reference.partition("::")
            if file_part.endswith(".py"):  # tests/x/test_y.py, or test_y.py named alone
                found = [REPO / file_part] if file_part.startswith("tests/") else sorted(TESTS.rglob(file_part))
                if not found or not found[0].is_file():
                    missing.append(f"{number}: {file_part}")
                    continue
                current = found[0]
            else:
                name = file_part
            name = name.split("[", 1)[0].lstrip(".")
            if not name:  # "...[case]": a case of the test named before
                continue
            local = defined_tests(current) if current is not None else set()
            if not (fnmatch.filter(local, name) or fnmatch.filter(everywhere, name)):
                missing.append(f"{number}: {reference}")
    return missing


def test_the_tables_are_found() -> None:
    assert len(table_rows()) >= 20


def test_every_case_names_a_test_that_exists() -> None:
    assert missing_references() == []


def test_a_wrong_name_would_be_caught(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = tmp_path / "ROBUSTNESS.md"
    doc.write_text("| Case | Test |\n|---|---|\n| a | `tests/security/test_robustness_doc.py::test_no_such_thing` |\n"
                   "| b | `test_the_tables_are_found` |\n| c | nothing |\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "DOC", doc)
    assert missing_references() == ["3: tests/security/test_robustness_doc.py::test_no_such_thing", "5: no test named"]
