#!/usr/bin/python3
"""Summarises a controller's telemetry (clockwork_request_log.tsv, clockwork_action_log.tsv).

usage: analyze_telemetry.py LOGDIR [--json] [--by-slo]
Prints request counts by result, deadline satisfaction, latency percentiles, action counts by
type and status, and the prediction error |expected_exec_complete - worker_exec_complete| of
successful infer actions next to their exec time (worker_exec_duration) and the count of infers
that failed because the weights were missing (status 20 or 82); --by-slo adds deadline
satisfaction per slo_factor (one line per SLO step of slo-exp-1). Works on the controller's and
on clockwork-sim's logs, and on rotated sets (CLOCKWORK_TELEMETRY_MAX_MB: NAME.N ... NAME.1 then
NAME, oldest first). Standard library only.
"""
import csv
import json
import os
import re
import sys

REQUEST_COLUMNS = ("t request_id result user_id model_id slo_factor latency deadline deadline_met "
                   "arrival_count departure_count is_coldstart").split()
ACTION_COLUMNS = ("t action_id action_type status worker_id gpu_id model_id batch_size expected_exec_duration "
                  "worker_exec_duration expected_exec_complete worker_exec_complete expected_gpu_clock "
                  "worker_gpu_clock_before worker_gpu_clock worker_copy_output_complete worker_action_received "
                  "worker_result_sent controller_result_enqueue controller_action_duration goodput requests_queued "
                  "copies_loaded").split()
ACTION_TYPES = {1: "load", 2: "infer", 3: "evict"}


def percentile(values, p):
    if not values:
        return 0
    values = sorted(values)
    return values[min(len(values) - 1, int(p * (len(values) - 1) + 0.5))]


def read_tsv(path, expected):
    with open(path, newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader, None)
        if header != expected:
            raise SystemExit("%s: unexpected header %r" % (path, header))
        return [row for row in reader if row]


def read_tsv_set(logdir, name, expected):
    """The rows of NAME and of its rotated files NAME.1, NAME.2 ..., oldest (highest number) first."""
    rotated = sorted((int(m.group(1)), f) for f in os.listdir(logdir)
                     for m in [re.fullmatch(re.escape(name) + r"\.(\d+)", f)] if m)
    rows = []
    for _, f in reversed(rotated):
        rows += read_tsv(os.path.join(logdir, f), expected)
    return rows + read_tsv(os.path.join(logdir, name), expected)


def summarise(logdir):
    reqs = read_tsv_set(logdir, "clockwork_request_log.tsv", REQUEST_COLUMNS)
    acts = read_tsv_set(logdir, "clockwork_action_log.tsv", ACTION_COLUMNS)
    out = {"requests": len(reqs), "by_result": {}, "actions": len(acts), "actions_by_type": {}, "by_slo": {}}
    latencies = []
    met = 0
    for r in reqs:
        slo = out["by_slo"].setdefault(r[5], [0, 0])
        slo[0] += 1
        slo[1] += int(r[8])
        res = int(r[2])
        out["by_result"][res] = out["by_result"].get(res, 0) + 1
        met += int(r[8])
        if res == 0:
            latencies.append(int(r[6]))
    out["deadline_met"] = met
    out["deadline_met_fraction"] = met / len(reqs) if reqs else 0.0
    out["success_fraction"] = out["by_result"].get(0, 0) / len(reqs) if reqs else 0.0
    out["latency_ms"] = {p: percentile(latencies, q) / 1e6 for p, q in (("p50", .5), ("p99", .99), ("max", 1.0))}
    errors, execs = [], []
    out["weights_missing"] = 0
    for a in acts:
        kind = "%s/status=%s" % (ACTION_TYPES.get(int(a[2]), a[2]), a[3])
        out["actions_by_type"][kind] = out["actions_by_type"].get(kind, 0) + 1
        if int(a[2]) == 2 and int(a[3]) == 0:
            errors.append(abs(int(a[10]) - int(a[11])))
            execs.append(int(a[9]))
        elif int(a[2]) == 2 and int(a[3]) in (20, 82):
            out["weights_missing"] += 1
    out["prediction_error_us"] = {"p50": percentile(errors, .5) / 1e3, "p99": percentile(errors, .99) / 1e3,
                                  "samples": len(errors)}
    out["infer_exec_us"] = {"p50": percentile(execs, .5) / 1e3, "p99": percentile(execs, .99) / 1e3}
    return out


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) >= 2 else 1
    s = summarise(sys.argv[1])
    if "--json" in sys.argv:
        print(json.dumps(s, sort_keys=True))
        return 0
    print("requests=%d success=%.2f%% deadline_met=%.2f%% by_result=%s" % (
        s["requests"], 100 * s["success_fraction"], 100 * s["deadline_met_fraction"], s["by_result"]))
    print("latency_ms p50=%.2f p99=%.2f max=%.2f" % (s["latency_ms"]["p50"], s["latency_ms"]["p99"],
                                                      s["latency_ms"]["max"]))
    print("actions=%d %s" % (s["actions"], " ".join("%s:%d" % kv for kv in sorted(s["actions_by_type"].items()))))
    pe = s["prediction_error_us"]
    print("prediction_error_us p50=%.1f p99=%.1f (n=%d)" % (pe["p50"], pe["p99"], pe["samples"]))
    ex = s["infer_exec_us"]
    print("infer_exec_us p50=%.1f p99=%.1f weights_missing=%d" % (ex["p50"], ex["p99"], s["weights_missing"]))
    if "--by-slo" in sys.argv:
        for slo, (n, met) in sorted(s["by_slo"].items(), key=lambda kv: float(kv[0])):
            print("slo_factor=%s requests=%d deadline_met=%.2f%%" % (slo, n, 100.0 * met / n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
