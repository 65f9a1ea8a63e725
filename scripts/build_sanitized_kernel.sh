#!/usr/bin/env bash
# Build a sanitized copy of the tsilstm package in OUT_DIR: the pure-Python sources copied from
# src/tsilstm and the native kernel (src/tsilstm/runtime/native/*.c) compiled with
# AddressSanitizer + UndefinedBehaviorSanitizer ("asan") or ThreadSanitizer ("tsan").
# The installed package and the runtime sources are not touched: put OUT_DIR first on PYTHONPATH
# and LD_PRELOAD the sanitizer runtime (tests/sanitizers/sanitized_run.py does all of this).
#
# usage: scripts/build_sanitized_kernel.sh asan|tsan OUT_DIR
set -euo pipefail
mode="${1:?usage: $0 asan|tsan OUT_DIR}"
out="${2:?usage: $0 asan|tsan OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
case "$mode" in
  asan) sanitize="-fsanitize=address,undefined -fno-sanitize-recover=undefined" ;;
  tsan) sanitize="-fsanitize=thread" ;;
  *) echo "mode must be asan or tsan, not $mode" >&2; exit 2 ;;
esac
python="${PYTHON:-python}"
include="$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
suffix="$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')"
# The production flags, read from setup.py so the sanitized build compiles the same code paths.
flags="$("$python" - "$root/setup.py" <<'PY'
import ast, sys
tree = ast.parse(open(sys.argv[1]).read())
for node in ast.walk(tree):
    if isinstance(node, ast.keyword) and node.arg == "extra_compile_args":
        print(" ".join(ast.literal_eval(node.value)))
        break
PY
)"
# -O3 from setup.py is kept; the sanitizer flags follow it. -g and frame pointers for stack traces.
mkdir -p "$out"
rm -rf "$out/tsilstm"
cp -r "$root/src/tsilstm" "$out/tsilstm"
find "$out/tsilstm" -name '*.so' -delete
find "$out/tsilstm" -name '__pycache__' -prune -exec rm -rf {} +
# One compiler per source file, as many at once as there are CPUs (one gcc for all of them took
# ~4 min of the ~5.5 min sanitized run on a 2-vCPU AMD EPYC, 2026-12-06), then one link.
objects="$out/objects"
rm -rf "$objects"
mkdir -p "$objects"
export flags sanitize include objects
# shellcheck disable=SC2016
printf '%s\0' "$root"/src/tsilstm/runtime/native/*.c | xargs -0 -n 1 -P "$(nproc)" sh -c \
    'gcc -c -fPIC $flags $sanitize -fno-omit-frame-pointer -g -I"$include" "$1" -o "$objects/$(basename "$1" .c).o"' sh
# shellcheck disable=SC2086
gcc -shared -fPIC $flags $sanitize -fno-omit-frame-pointer -g "$objects"/*.o \
    -o "$out/tsilstm/runtime/_kernel$suffix" -pthread -lm
echo "$out/tsilstm/runtime/_kernel$suffix"
