#!/usr/bin/env bash
# Benchmark (prints figures, never pass/fail on them): runs every libFuzzer target in turn for
# MINUTES each from a fresh copy of fuzz/corpus/ and prints, per target, the executions, the
# rate and the coverage libFuzzer reached (cov = instrumented edges, ft = features). A crash,
# leak or UBSan finding is reported (input and log kept) and makes the exit status 1.
#   usage: bench/fuzz_all.sh [MINUTES] [BUILD_DIR]    (defaults: 1, build-fuzz; built if missing
#          with CC=clang -DCLOCKWORK_FUZZ=ON)      env: TARGETS (default: every fuzz/fuzz_*.c),
#          CORPUS (default fuzz/corpus)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MINUTES="${1:-1}"
BUILD="${2:-$ROOT/build-fuzz}"
TARGETS="${TARGETS:-$(cd "$ROOT/fuzz" && ls fuzz_*.c | sed 's/\.c$//' | tr '\n' ' ')}"
CORPUS="${CORPUS:-$ROOT/fuzz/corpus}"
if [ ! -x "$BUILD/fuzz/fuzz_frames" ]; then
  CC=clang bash "$ROOT/scripts/build.sh" "$BUILD" -DCLOCKWORK_FUZZ=ON > /dev/null
fi
seconds=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')
printf "%-22s %12s %10s %8s %8s  %s\n" target execs exec/s cov ft result
failed=0
for target in $TARGETS; do
  work="$(mktemp -d /tmp/cw-fuzz.XXXXXX)"
  cp "$CORPUS"/* "$work"/
  rc=0
  (cd "$work" && "$BUILD/fuzz/$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 . \
    > fuzz.log 2>&1) || rc=$?
  stats=$(grep -E "^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)" "$work/fuzz.log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$stats")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$stats")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log")
  result=ok
  if [ "$rc" -ne 0 ] || grep -q "runtime error:" "$work/fuzz.log"; then
    result="FAILED (input and log in $work)"
    failed=1
  fi
  printf "%-22s %12s %10s %8s %8s  %s\n" "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
  [ "$result" = ok ] && rm -rf "$work"
done
exit $failed
