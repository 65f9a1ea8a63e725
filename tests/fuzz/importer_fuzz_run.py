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
FILE_TIMEOUT_S = 120.0
"""A file whose load takes longer than this counts as a hang (the largest fixture loads in ~2 s)."""
BATCH_TIMEOUT_S = 1800.0
"""Upper bound on one worker process."""


def load_in_workers(paths: list[Path]) -> dict[str, dict[str, str]]:
    """Outcome per path; a worker that dies on a file gets ``crash`` (signal or exit code) for it
    and a new worker continues with the next file; a file exceeding FILE_TIMEOUT_S gets ``hang``."""
    results: dict[str, dict[str, str]] = {}
    pending = [str(p) for p in paths]
    while pending:
        process = subprocess.Popen([sys.executable, "-m", "tests.fuzz.importer_worker", *pending], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        current = None
        try:
            out, err = _communicate(process, len(pending))
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            out += "\n" + json.dumps({"timeout": True})
        timed_out = False
        for line in out.splitlines():
            if not line.startswith("{"):
                continue
            record = json.loads(line)
            if "start" in record:
                current = record["start"]
            elif "file" in record:
                results[record["file"]] = record
                current = None
            elif "timeout" in record:
                timed_out = True
        done = [p for p in pending if p in results]
        if current is not None:
            kind = "hang" if timed_out else "crash"
            results[current] = {"file": current, "outcome": kind,
                                "detail": f"worker exit {process.returncode}: {err.strip()[-500:]}"}
        pending = [p for p in pending if p not in results]
        if pending and not done and current is None:
            raise RuntimeError(f"importer worker failed before loading anything: {err[-2000:]}")
    return results


def _communicate(process: subprocess.Popen, files: int) -> tuple[str, str]:
    """Wait for the worker; time out when it exceeds FILE_TIMEOUT_S per file or BATCH_TIMEOUT_S."""
    return process.communicate(timeout=min(BATCH_TIMEOUT_S, FILE_TIMEOUT_S * files))


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
            lines.append(f"  BAD {path.name} ({what}): {record['outcome']}: {record['detail']}")
    return "\n".join(lines)


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
    bad = [r for r in results.values() if r["outcome"] not in ("loaded", "clear_error")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
