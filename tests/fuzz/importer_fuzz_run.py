"""Runs the importer fuzz: writes ``count`` mutants of the seed files, loads them in a worker
process (restarted after a crash or a hang) and tallies the outcomes.

usage: python -m tests.fuzz.importer_fuzz_run [COUNT] [--no-fixtures] [--keep DIR]
(the full run of docs/ROBUSTNESS.md: ``python -m tests.fuzz.importer_fuzz_run 600``)
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.fuzz.importer_mutants import fixture_seeds, synthetic_seeds, write_mutants

ROOT = Path(__file__).resolve().parents[2]
BATCH_TIMEOUT_S = 3600.0
"""Upper bound on one worker process (each file is bounded by importer_worker.FILE_TIMEOUT_S)."""
THIRD_PARTY = ("site-packages/h5py", "site-packages/onnx", "site-packages/google", "site-packages/torch",
               "site-packages/numpy")
"""Where a crash or hang is in a parser we do not own (reported, not ours to fix)."""


def load_in_workers(paths: list[Path]) -> dict[str, dict[str, str]]:
    """Outcome per path; a worker that dies on a file gets ``crash`` or ``hang`` (faulthandler's
    timeout) for it, with ``where`` = ``third-party`` or ``tsilstm`` from the innermost Python
    frame, and a new worker continues with the next file."""
    results: dict[str, dict[str, str]] = {}
    pending = [str(p) for p in paths]
    while pending:
        done = subprocess.run([sys.executable, "-m", "tests.fuzz.importer_worker", *pending], cwd=ROOT,
                              capture_output=True, text=True, timeout=BATCH_TIMEOUT_S)
        current = None
        for line in done.stdout.splitlines():
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if "start" in record:
                current = record["start"]
            elif "file" in record:
                results[record["file"]] = record
                current = None
        if current is not None:
            kind = "hang" if "Timeout (" in done.stderr else "crash"
            results[current] = {"file": current, "outcome": kind, "where": _where(done.stderr),
                                "detail": f"worker exit {done.returncode}: {done.stderr.strip()[-1500:]}"}
        elif len(results) < len(paths) and not any(p in results for p in pending):
            raise RuntimeError(f"importer worker failed before loading anything: {done.stderr[-2000:]}")
        pending = [p for p in pending if p not in results]
    return results


def _where(stderr: str) -> str:
    """``third-party`` when the innermost frame of faulthandler's stack is in a parser we do not own."""
    frames = [line for line in stderr.splitlines() if line.strip().startswith("File ")]
    return "third-party" if frames and any(part in frames[0] for part in THIRD_PARTY) else "tsilstm"


def run(count: int, work_dir: Path, use_fixtures: bool = True, seed: int = 0) -> tuple[list[tuple[Path, str]], dict]:
    """Write and load ``count`` mutants; returns (mutants with descriptions, outcome per file)."""
    seeds = synthetic_seeds(work_dir / "seeds")
    if use_fixtures:
        seeds += fixture_seeds()
    mutants = write_mutants(seeds, work_dir / "mutants", count, seed=seed)
    return mutants, load_in_workers([path for path, _ in mutants])


def summarize(mutants: list[tuple[Path, str]], results: dict) -> str:
    """Counts per outcome and per seed file, and every outcome other than loaded / clear_error."""
    outcomes = collections.Counter(results[str(p)]["outcome"] for p, _ in mutants)
    by_seed: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    lines = [f"{len(mutants)} mutated files: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))]
    for path, what in mutants:
        by_seed[what.split(":")[0]][results[str(path)]["outcome"]] += 1
    for seed_name, counter in sorted(by_seed.items()):
        lines.append(f"  {seed_name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counter.items())))
    for path, what in mutants:
        record = results[str(path)]
        if record["outcome"] not in ("loaded", "clear_error"):
            where = f" in {record['where']} code" if "where" in record else ""
            lines.append(f"  BAD {path.name} ({what}): {record['outcome']}{where}: {record['detail']}")
    return "\n".join(lines)


def ours(results: dict) -> dict:
    """The outcomes that are tsilstm's fault: another exception type, or a crash / hang whose
    innermost frame is not in a third-party parser."""
    return {path: r for path, r in results.items()
            if r["outcome"] not in ("loaded", "clear_error") and r.get("where") != "third-party"}


def main(argv: list[str] | None = None) -> int:
    """Run and print the summary; 0 when every file loaded or gave a TsilstmError."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int, nargs="?", default=600)
    parser.add_argument("--no-fixtures", action="store_true", help="synthetic seeds only")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tsilstm-importer-fuzz-") as tmp:
        mutants, results = run(args.count, args.keep or Path(tmp), not args.no_fixtures, args.seed)
        print(summarize(mutants, results))
    return 1 if ours(results) else 0


if __name__ == "__main__":
    sys.exit(main())
