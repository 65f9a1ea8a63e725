#!/usr/bin/env bash
# Run the DeepBench suite on all usable cores: writes benchmarks/RESULTS.md (the table) and
# benchmarks/results-deepbench.json (every figure, including min/max/quartiles per implementation).
# Extra arguments go to `tsilstm bench`, e.g. --threads 2 or --gru-steps-divisor 1.
set -euo pipefail
cd "$(dirname "$0")/.."
uptime >&2
tsilstm bench --suite deepbench --output benchmarks/RESULTS.md --json "$@" > benchmarks/results-deepbench.json
uptime >&2
