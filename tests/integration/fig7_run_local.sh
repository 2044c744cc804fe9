#!/usr/bin/env bash
# experiments/sec63_fig7/run.sh --local with very short periods: two configurations, 1 s per SLO
# step, slo 1 -> 3.375 (4 steps). Checks that every expected file appears, that the telemetry
# covers all four steps, that run.log ends with "Exiting", that no started process survives,
# that Ctrl-C and TERM stop a run cleanly (exit status 130), that --sim says clearly when
# clockwork-sim is absent, and that the plotter reads the result.
set -euo pipefail
BUILD="${1:?usage: fig7_run_local.sh BUILD_DIR SOURCE_DIR}"
SRC="${2:?usage: fig7_run_local.sh BUILD_DIR SOURCE_DIR}"
EXP="$SRC/experiments/sec63_fig7"
for b in worker_dummy controller client; do
  [ -x "$BUILD/$b" ] || { echo "SKIP: $BUILD/$b not built"; exit 77; }
done
TMP="$(mktemp -d /tmp/cw-fig7r.XXXXXX)"
trap 'if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi' EXIT
fail() { echo "FAIL: $*"; [ -f "$TMP/log/run.log" ] && tail -n 30 "$TMP/log/run.log"; exit 1; }
BASE_PORT=$(( 40000 + ($$ % 2000) * 8 ))

set +e
CLOCKWORK_BUILD="$BUILD" timeout -k 10 120 bash "$EXP/run.sh" --local --logdir "$TMP/log" --base-port "$BASE_PORT" \
  --period 1 --slo-end 3.375 --configs "12:200 48:400" > "$TMP/run.out" 2>&1
rc=$?
set -e
[ "$rc" = 0 ] || { cat "$TMP/run.out"; fail "run.sh --local exited with $rc"; }
[ "$(tail -n 1 "$TMP/log/run.log" | awk '{print $NF}')" = Exiting ] || fail "run.log does not end with Exiting"
for run in N12_R200 N48_R400; do
  for f in clockwork_request_log.tsv clockwork_action_log.tsv controller.log client.log; do
    [ -s "$TMP/log/$run/$f" ] || fail "$run/$f missing or empty"
  done
  n=$(ls "$TMP/log/$run"/worker_127.0.0.1_*.log | wc -l)
  [ "$n" = 6 ] || fail "$run: expected 6 worker logs, found $n"
  grep -q "slo-exp-1" "$TMP/log/run.log" || fail "run.log does not show the client command"
  grep -q "Summary: sent=" "$TMP/log/$run/client.log" || fail "$run: client did not finish its schedule"
  /usr/bin/python3 "$(dirname "$0")/fig7_telemetry.py" "$TMP/log/$run/clockwork_request_log.tsv" 200 1 1.5 2.25 3.375 || fail "$run: telemetry"
done
# Every process run.sh started is gone (ports free again).
for p in $(seq "$BASE_PORT" $((BASE_PORT + 6))); do
  if ss -ltnH "sport = :$p" 2>/dev/null | grep -q .; then fail "port $p still in use after run.sh"; fi
done

# Stopping mid-run: Ctrl-C (SIGINT to run.sh's process group, as a terminal sends it) and TERM to
# run.sh alone (what run_in_background.sh tells the user to send) both end with "Interrupted",
# "Exiting", exit status 130, the logs there and every started process gone.
for sig in INT TERM; do
  set +e -m   # -m: run.sh gets a process group of its own, as a foreground job does in a terminal
  CLOCKWORK_BUILD="$BUILD" bash "$EXP/run.sh" --local --logdir "$TMP/stop$sig" --base-port "$BASE_PORT" \
    --period 1 --slo-end 3.375 --configs "12:200" > "$TMP/stop$sig.out" 2>&1 &
  pid=$!
  set -e +m
  for _ in $(seq 600); do grep -q "Running the client" "$TMP/stop$sig/run.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "Running the client" "$TMP/stop$sig/run.log" || fail "SIG$sig: the client never started"
  if [ "$sig" = INT ]; then kill -INT -- "-$pid"; else kill -TERM "$pid"; fi
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "SIG$sig: run.sh still running 60 s later"
  rc=0; wait "$pid" || rc=$?
  [ "$rc" = 130 ] || { cat "$TMP/stop$sig.out"; fail "SIG$sig: run.sh exited with $rc, expected 130"; }
  grep -q "Interrupted (SIG$sig)" "$TMP/stop$sig/run.log" || fail "SIG$sig: run.log does not say Interrupted"
  [ "$(tail -n 1 "$TMP/stop$sig/run.log" | awk '{print $NF}')" = Exiting ] || fail "SIG$sig: no Exiting at the end"
  [ -s "$TMP/stop$sig/N12_R200/controller.log" ] || fail "SIG$sig: no controller.log"
  [ ! -s "$TMP/stop$sig.out" ] || ! grep -v "^[0-9-]* [0-9:]* " "$TMP/stop$sig.out" \
    || fail "SIG$sig: run.sh printed more than its log lines (above)"
  for p in $(seq "$BASE_PORT" $((BASE_PORT + 6))); do
    if ss -ltnH "sport = :$p" 2>/dev/null | grep -q .; then fail "SIG$sig: port $p still in use after run.sh"; fi
  done
done

# --sim without the simulator: a clear message, a non-zero exit, and still "Exiting".
mkdir -p "$TMP/nosim"
if CLOCKWORK_BUILD="$TMP/nosim" bash "$EXP/run.sh" --sim --logdir "$TMP/sim" --period 1 --slo-end 3.375 \
  --configs "12:200" > "$TMP/sim.out" 2>&1; then fail "--sim succeeded without clockwork-sim"; fi
grep -q "clockwork-sim, which does not exist" "$TMP/sim.out" || { cat "$TMP/sim.out"; fail "--sim gave no clear message"; }
[ "$(tail -n 1 "$TMP/sim/run.log" | awk '{print $NF}')" = Exiting ] || fail "--sim run.log does not end with Exiting"

# --controller-type: the TYPE reaches the controller (here the simulator's) and run.log; a bad one
# is refused.
CLOCKWORK_BUILD="$BUILD" timeout -k 10 120 bash "$EXP/run.sh" --sim --controller-type INFER6 \
  --logdir "$TMP/sim6" --period 1 --slo-end 3.375 --configs "12:200" > "$TMP/sim6.out" 2>&1 ||
  { cat "$TMP/sim6.out"; fail "--sim INFER6 failed"; }
grep -q "controller_type=INFER6 " "$TMP/sim6/run.log" || fail "run.log does not name the controller type"
grep -q "clockwork-sim .* INFER6 0 6 5000000 -- slo-exp-1" "$TMP/sim6/run.log" ||
  fail "the simulator did not run INFER6"
[ -s "$TMP/sim6/N12_R200/clockwork_request_log.tsv" ] || fail "--sim INFER6 wrote no request log"
if bash "$EXP/run.sh" --sim --controller-type 'INFER6;x' --logdir "$TMP/sim7" > "$TMP/sim7.out" 2>&1; then
  fail "run.sh accepted a bad --controller-type"
fi
grep -q "bad --controller-type" "$TMP/sim7.out" || fail "no clear message for a bad --controller-type"

if /usr/bin/python3 -c "import matplotlib" 2>/dev/null; then nop=""; else nop="--no-plot"; fi
(cd "$TMP" && /usr/bin/python3 "$EXP/plotter.py" -l "$TMP/log" $nop) > "$TMP/plot.out" 2>&1 \
  || { cat "$TMP/plot.out"; fail "plotter failed on the run's logs"; }
[ "$(grep -c 'N=12 R=200' "$TMP/graphs/fig7_table.txt")" -ge 1 ] || fail "plot table lacks N=12 R=200"
[ "$(tail -n +2 "$TMP/graphs/fig7_by_slo.tsv" | wc -l)" = 8 ] || fail "expected 8 rows (2 configs x 4 steps) in fig7_by_slo.tsv"
echo "PASS fig7_run_local"
