#!/usr/bin/env bash
# The test suite: installs what is missing, builds (plain and with ASan/UBSan), and runs every
# unit and integration test through ctest in both builds.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/install-deps.sh"
bash "$ROOT/scripts/build.sh" "$ROOT/build"
(cd "$ROOT/build" && ctest --output-on-failure -j 2)
if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== ASan/UBSan build =="
  CC=clang bash "$ROOT/scripts/build.sh" "$ROOT/build-asan" -DCLOCKWORK_SANITIZE=ON
  (cd "$ROOT/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j 2)
fi
