#!/usr/bin/python3
"""Checks a Figure 7 run's request log: more than MIN_ROWS requests, and exactly the SLO steps given.

usage: fig7_telemetry.py REQUEST_LOG MIN_ROWS STEP...   (e.g. ... clockwork_request_log.tsv 200 1 1.5 2.25 3.375)
"""
import csv
import sys

path, min_rows, want = sys.argv[1], int(sys.argv[2]), sorted(float(s) for s in sys.argv[3:])
with open(path, newline="") as f:
    rows = list(csv.DictReader(f, delimiter="\t"))
if len(rows) <= min_rows:
    sys.exit("%s: %d requests, expected more than %d" % (path, len(rows), min_rows))
steps = sorted({float(r["slo_factor"]) for r in rows})
if steps != want:
    sys.exit("%s: SLO steps %s, expected %s" % (path, steps, want))
