"""The source cites its design only in docs/design.md, and only sections that exist there.

The package must stand alone: no comment, docstring or output string in src/ points to a document
outside the repository (DESIGN.md) or to a tracker entry ("issue 4"); every "docs/design.md
section N" it cites names a numbered section of docs/design.md.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
DESIGN_DOC = REPO / "docs" / "design.md"
SOURCE_SUFFIXES = (".py", ".c", ".h", ".pyi", ".toml", ".md", ".txt")

OUTSIDE_DOCUMENT = re.compile(r"DESIGN\.md")
TRACKER_ENTRY = re.compile(r"\bissues?\s*#?\d+", re.IGNORECASE)
DESIGN_CITATION = re.compile(r"docs/design\.md\s+sections?\s+(\d+)")
SECTION_HEADING = re.compile(r"^##\s+(\d+)\.\s", re.MULTILINE)


def source_texts() -> dict[str, str]:
    """Every text source file under src/, keyed by its path relative to the repository."""
    return {
        str(path.relative_to(REPO)): path.read_text(encoding="utf-8")
        for path in sorted(SRC.rglob("*"))
        if path.is_file() and path.suffix in SOURCE_SUFFIXES
    }


def matching_lines(pattern: re.Pattern[str], texts: dict[str, str]) -> list[str]:
    """``path:line: text`` of every line of ``texts`` that ``pattern`` matches (whitespace folded)."""
    hits = []
    for name, text in texts.items():
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line):
                hits.append(f"{name}:{number}: {line.strip()}")
    return hits


def design_sections() -> set[int]:
    """Numbers of the ``## N. Title`` sections of docs/design.md."""
    return {int(n) for n in SECTION_HEADING.findall(DESIGN_DOC.read_text(encoding="utf-8"))}


def cited_sections(texts: dict[str, str]) -> dict[int, list[str]]:
    """Section number -> files citing it; citations may wrap across a line break."""
    cited: dict[int, list[str]] = {}
    for name, text in texts.items():
        for number in DESIGN_CITATION.findall(text):
            cited.setdefault(int(number), []).append(name)
    return cited


def test_sources_found() -> None:
    texts = source_texts()
    assert any(name.endswith("tsi_kernel.c") for name in texts)
    assert len(texts) > 50


def test_no_outside_design_document_cited() -> None:
    assert matching_lines(OUTSIDE_DOCUMENT, source_texts()) == []


def test_no_tracker_entry_cited() -> None:
    assert matching_lines(TRACKER_ENTRY, source_texts()) == []


def test_design_doc_has_numbered_sections() -> None:
    sections = design_sections()
    assert sections == set(range(1, max(sections) + 1)), "sections numbered 1..N without gaps"


def test_cited_design_sections_exist() -> None:
    cited = cited_sections(source_texts())
    assert cited, "the source cites docs/design.md"
    missing = {n: names for n, names in cited.items() if n not in design_sections()}
    assert missing == {}


@pytest.mark.parametrize(
    ("line", "pattern", "matches"),
    [
        ("see DESIGN.md section 3", OUTSIDE_DOCUMENT, True),
        ("# issue 4: target", TRACKER_ENTRY, True),
        ("(Issue #12)", TRACKER_ENTRY, True),
        ("issue 5's acceptance figure", TRACKER_ENTRY, True),
        ("uses issue in plan order", TRACKER_ENTRY, False),
        ("issue_window = 4", TRACKER_ENTRY, False),
        ("docs/design.md section 3", OUTSIDE_DOCUMENT, False),
    ],
)
def test_patterns_catch_what_they_must(line: str, pattern: re.Pattern[str], matches: bool) -> None:
    assert bool(pattern.search(line)) is matches


def test_citation_wrapped_across_lines_is_read() -> None:
    assert cited_sections({"x.py": "sets\n(docs/design.md\nsection 7; more)"}) == {7: ["x.py"]}
