#!/usr/bin/env bash
# The test suite: installs what is missing, checks the formatting (scripts/format.sh --check),
# builds, and runs every unit and integration test
# through ctest (plain build), runs every libFuzzer target (fuzz/fuzz_*.c: frames, the worker's
# action handler, the controller's client-request and HTTP request handlers, scheduler event
# sequences, model files, LZ4 inputs) for a few seconds each (bench/fuzz_all.sh runs them longer),
# then runs the whole ctest suite again under ASan/UBSan/LeakSanitizer.
#   env: SKIP_SANITIZERS=1, SKIP_FUZZ=1, SKIP_ORT=1, FUZZ_SECONDS per target (default 10)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bash "$ROOT/scripts/install-deps.sh"
# ONNX Runtime (npm) is the numerical reference for whole-model comparisons; without it those
# tests are skipped, so a failed download does not fail the suite.
if [ "${SKIP_ORT:-0}" != 1 ] && command -v npm >/dev/null &&
   [ ! -d "$ROOT/tools/ort/node_modules/onnxruntime-node" ]; then
  echo "== Installing onnxruntime-node into tools/ort (reference outputs) =="
  (cd "$ROOT/tools/ort" && timeout 300 npm install --ignore-scripts --no-audit --no-fund > /dev/null 2>&1) ||
    echo "onnxruntime-node could not be installed: the ONNX Runtime comparison will be skipped"
fi
bash "$ROOT/scripts/format.sh" --check
bash "$ROOT/scripts/build.sh" "$ROOT/build"
(cd "$ROOT/build" && ctest --output-on-failure -j 2)

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  # only the fuzz targets (and the libraries they need): the rest of that build is never run
  targets="$(cd "$ROOT/fuzz" && ls fuzz_*.c | sed 's/\.c$//')"
  CC=clang cmake -S "$ROOT" -B "$ROOT/build-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLOCKWORK_FUZZ=ON > /dev/null
  # shellcheck disable=SC2086 # one --target per word
  cmake --build "$ROOT/build-fuzz" -j "$(nproc)" $(printf -- '--target %s ' $targets)
  for target in $targets; do
    echo "== Fuzzing $target (libFuzzer, ${FUZZ_SECONDS:-10} s) =="
    work="$(mktemp -d)"
    cp "$ROOT"/fuzz/corpus/* "$work"/
    # UBSan findings do not stop the fuzzer: a "runtime error" in the log fails too.
    if ! (cd "$work" && "$ROOT/build-fuzz/fuzz/$target" -max_total_time="${FUZZ_SECONDS:-10}" -max_len=4096 \
          . > fuzz.log 2>&1) || grep -q "runtime error:" "$work/fuzz.log"; then
      grep -m 5 -B 2 -A 10 "runtime error:\|ERROR:" "$work/fuzz.log" || tail -n 40 "$work/fuzz.log"
      echo "FAIL: the fuzzer found a bug in $target (input and log in $work)"
      exit 1
    fi
    grep -E "^Done" "$work/fuzz.log"
    rm -rf "$work"
  done
fi

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== ASan/UBSan build =="
  CC=clang bash "$ROOT/scripts/build.sh" "$ROOT/build-asan" -DCLOCKWORK_SANITIZE=ON
  (cd "$ROOT/build-asan" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j 2)
fi
