"""Run the chunks of an exploration on a Dask cluster (a local one by default, or an existing one
by address) with a progress bar, storing each chunk as it finishes (``explore_store``) so an
interrupted run resumes where it stopped."""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tsilstm.errors import InvalidParameterError
from tsilstm.optional_packages import import_optional
from tsilstm.report.explore_store import ChunkStore

T = TypeVar("T")
CONNECT_TIMEOUT_S = 10.0
"""How long to wait for an existing scheduler (``--scheduler``) before giving up by default, in seconds."""


def run_chunks(
    evaluate: Callable[[T], list[dict[str, Any]]], chunks: Sequence[T], store: ChunkStore, *, scheduler: str | None = None,
    workers: int = 2, processes: bool = True, show_progress: bool = True, connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> tuple[list[dict[str, Any]], int]:
    """``evaluate`` over every chunk not yet in ``store`` on a Dask cluster; each result is stored as
    soon as it arrives. Returns the rows of all chunks in chunk order and how many chunks were
    resumed from ``store`` (not recomputed). ``scheduler``: address of an existing cluster (an
    unreachable one raises naming ``--scheduler`` after ``connect_timeout_s``); else a local cluster of ``workers`` workers
    (processes, or threads with ``processes=False``), one thread each."""
    done = store.finished()
    resumed = len([index for index in done if index < len(chunks)])
    todo = [index for index in range(len(chunks)) if index not in done]
    columns = (TextColumn("[bold]explore"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        task = progress.add_task("explore", total=len(chunks), completed=resumed)
        if todo:
            distributed = import_optional("distributed", "run design-space exploration on Dask")
            client, cluster = _connect(distributed, scheduler, workers, processes, connect_timeout_s)
            try:
                futures = {client.submit(evaluate, chunks[index], pure=False): index for index in todo}
                for future in distributed.as_completed(list(futures), loop=client.loop):
                    index = futures[future]
                    done[index] = future.result()
                    store.write(index, done[index])
                    progress.advance(task)
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()
    return [row for index in range(len(chunks)) for row in done[index]], resumed


def _connect(distributed: Any, scheduler: str | None, workers: int, processes: bool, timeout_s: float) -> tuple[Any, Any]:
    """A client of the cluster at ``scheduler``, or of a new local cluster (then also returned)."""
    if scheduler is not None:
        try:
            return distributed.Client(scheduler, timeout=f"{timeout_s}s", set_as_default=False), None
        except (OSError, TimeoutError, ValueError) as error:
            raise InvalidParameterError(
                "--scheduler", scheduler,
                f"the address of a running Dask scheduler (e.g. tcp://10.0.0.5:8786); connecting failed: {error}",
            ) from None
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None, silence_logs=logging.ERROR,
    )
    return distributed.Client(cluster, set_as_default=False), cluster
