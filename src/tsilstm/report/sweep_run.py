"""Run sweep points on several processes with a progress bar, and write the rows as CSV."""

from __future__ import annotations

import csv
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")


def run_parallel(
    function: Callable[[T], list[dict[str, Any]]], items: Iterable[T], *, jobs: int = 2, label: str = "points",
    show_progress: bool = True,
) -> list[dict[str, Any]]:
    """``function`` over ``items`` on ``jobs`` processes (in order), with a progress bar; returns
    the concatenated rows."""
    items = list(items)
    results: list[list[dict[str, Any]] | None] = [None] * len(items)
    columns = (TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        task = progress.add_task(label, total=len(items))
        if jobs <= 1 or len(items) <= 1:
            for index, item in enumerate(items):
                results[index] = function(item)
                progress.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(function, item): index for index, item in enumerate(items)}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    progress.advance(task)
    return [row for rows in results for row in (rows or [])]


def bind(function: Callable[..., list[dict[str, Any]]], *args: Any, **kwargs: Any) -> Callable[[Any], list[dict[str, Any]]]:
    """``function`` with trailing arguments fixed, picklable for the process pool."""
    return partial(_call_last_first, function, args, kwargs)


def _call_last_first(function: Callable[..., Any], args: tuple, kwargs: dict, item: Any) -> Any:
    return function(item, *args, **kwargs)


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Write ``rows`` (dicts with the same keys) to ``path`` as CSV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
