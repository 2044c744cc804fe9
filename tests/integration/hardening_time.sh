#!/usr/bin/env bash
# Issue 11, finding 4: time and connections are bounded per peer. A frame begun must arrive
# within CLOCKWORK_CLIENT_FRAME_TIMEOUT_MS (slowloris connections sending a byte at a time are
# closed), an idle client is closed after CLOCKWORK_CLIENT_IDLE_TIMEOUT_MS, connections beyond
# CLOCKWORK_MAX_CLIENTS are refused, each with a log line; the worker's port bounds frames too.
# Meanwhile and afterwards an ordinary client is served.
set -u
source "$(dirname "$0")/lib.bash"
HOSTILE="/usr/bin/python3 $(dirname "$0")/hostile.py"
export CLOCKWORK_CLIENT_FRAME_TIMEOUT_MS=1000 CLOCKWORK_CLIENT_IDLE_TIMEOUT_MS=2000 CLOCKWORK_MAX_CLIENTS=20

start_worker -n 1
wait_for_line "$TMP/worker.log" "IO service thread listening" 10
start_controller
wait_for_line "$TMP/controller.log" "Awaiting LoadModel" 10

$HOSTILE slowloris "$CONTROLLER_PORT" 10 8 > "$TMP/slowloris.txt" 2>&1 &
SLOW=$!
$HOSTILE slowloris "$WORKER_PORT" 3 8 > "$TMP/slowloris_worker.txt" 2>&1 &
SLOW_WORKER=$!
$HOSTILE idle "$CONTROLLER_PORT" 8 > "$TMP/idle.txt" 2>&1 &
IDLE=$!
wait $SLOW $SLOW_WORKER $IDLE
cat "$TMP/slowloris.txt" "$TMP/slowloris_worker.txt" "$TMP/idle.txt"
grep -q "connections=10 closed=10" "$TMP/slowloris.txt" || fail "slowloris connections were held"
grep -q "connections=3 closed=3" "$TMP/slowloris_worker.txt" || fail "the worker held slowloris connections"
grep -q "idle: closed=True" "$TMP/idle.txt" || fail "an idle client was not closed"
grep -q "frame incomplete after" "$TMP/controller.log" || fail "no log line for the frame timeout"
grep -q "frame incomplete after" "$TMP/worker.log" || fail "the worker logged no frame timeout"
grep -q "idle for" "$TMP/controller.log" || fail "no log line for the idle timeout"

$HOSTILE connections "$CONTROLLER_PORT" 30 0.5 > "$TMP/connections.txt" 2>&1
cat "$TMP/connections.txt"
grep -q "opened=30 open=20" "$TMP/connections.txt" || fail "connections beyond CLOCKWORK_MAX_CLIENTS were kept"
grep -q "refused: 20 connections are open" "$TMP/controller.log" || fail "no log line for refused connections"

run_client 5 client.log simple
grep -q "throughput=" "$TMP/client.log" && grep -q "unanswered=0" "$TMP/client.log" ||
  fail "an ordinary client was not served"
stop_process "$CONTROLLER_PID" controller
echo "PASS hardening_time"
