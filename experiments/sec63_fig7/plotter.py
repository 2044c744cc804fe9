#!/usr/bin/python3
"""Figure 7 ("How Low Can Clockwork Go?"): workload satisfaction over time while the SLO grows.

Reads the controller's clockwork_request_log.tsv of every run under LOGDIR -- per-run
subdirectories N{N}_R{R}/ (as run.sh writes them) or files clockwork_request_log_N{N}_R{R}.tsv
directly in LOGDIR -- and writes, into OUTDIR (default ./graphs). Given several LOGDIRs (-l A -l B,
e.g. one run.sh run per controller type), it draws and tabulates them all, each run labelled with
its scheduler (INFER5, INFER6: from LOGDIR/run.log or a controller.log, else the directory name):

  fig7_dist=poisson.pdf / .png  satisfaction (fraction of requests with deadline_met, per time
                                bucket, by arrival time) vs time, one line per (N, R), the SLO
                                steps marked; above it, the SLO (ms) over time
  fig7_series.tsv               the plotted series
  fig7_by_slo.tsv               per configuration and SLO step: requests, met, satisfaction, bound
  fig7_table.txt                the tables printed on stdout: satisfaction per SLO step per
                                configuration, and the best achievable satisfaction (upper bound)

The SLO step of a request is its slo_factor column; its SLO in ms is the deadline column.
The upper bound is computed from a model profile (exec time per batch size) and the number of GPUs:
a request with SLO s can only be served by a batch b with exec(b) <= s, so at most
GPUS * max{b / exec(b) : exec(b) <= s} requests/s can meet it (capacity bound, vs the offered rate R);
where s leaves no slack beyond exec(b1) a request must find an idle GPU on arrival, which caps
satisfaction at 1 - ErlangB(GPUS, R * exec(b1)) (Poisson arrivals). Standard library + matplotlib.
"""
import argparse
import csv
import math
import os
import re
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROFILE = os.path.normpath(os.path.join(HERE, "..", "..", "modelzoo", "resnet50_v2", "model.measurements"))
RUN_DIR_RE = re.compile(r"^N(\d+)_R(\d+(?:\.\d+)?)$")
RUN_FILE_RE = re.compile(r"^clockwork_request_log_N(\d+)_R(\d+(?:\.\d+)?)\.tsv$")
NEEDED = ("t", "result", "slo_factor", "deadline", "deadline_met")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="plotter.py")
    p.add_argument("-l", "--logdir", required=True, action="append",
                   help="Path to the log files (repeat to compare runs, e.g. INFER5 and INFER6)")
    p.add_argument("-o", "--outdir", default="graphs", help="output directory (default ./graphs)")
    p.add_argument("-b", "--bucket", type=float, default=1.0, help="time bucket in seconds (default 1)")
    p.add_argument("--gpus", type=int, default=6, help="GPUs for the upper bound (default 6)")
    p.add_argument("--profile", default=DEFAULT_PROFILE,
                   help="model.measurements with exec time per batch size, for the upper bound "
                        "(default: the repository's resnet50_v2 profile)")
    p.add_argument("--no-plot", action="store_true", help="compute the tables and TSVs only")
    return p.parse_args(argv)


def fkey(x):
    """A canonical text form of an slo_factor, so 3.375 and 3.3750 are the same step."""
    return "%.6g" % float(x)


def discover(logdir):
    runs = []
    for name in sorted(os.listdir(logdir)):
        path = os.path.join(logdir, name)
        m = RUN_DIR_RE.match(name)
        if m and os.path.isfile(os.path.join(path, "clockwork_request_log.tsv")):
            runs.append((int(m.group(1)), float(m.group(2)), os.path.join(path, "clockwork_request_log.tsv")))
            continue
        m = RUN_FILE_RE.match(name)
        if m and os.path.isfile(path):
            runs.append((int(m.group(1)), float(m.group(2)), path))
    if not runs and os.path.isfile(os.path.join(logdir, "clockwork_request_log.tsv")):
        runs.append((0, 0.0, os.path.join(logdir, "clockwork_request_log.tsv")))
    runs.sort(key=lambda r: (r[0], r[1]))
    return runs


def scheduler_of(logdir):
    """The controller TYPE of a run.sh log directory: from its run.log, else a controller.log."""
    candidates = [os.path.join(logdir, "run.log")]
    candidates += sorted(os.path.join(logdir, d, "controller.log") for d in os.listdir(logdir) if RUN_DIR_RE.match(d))
    for path in candidates:
        try:
            with open(path, errors="replace") as f:
                m = re.search(r"\b(INFER\d+)\b", f.read())
        except OSError:
            continue
        if m:
            return m.group(1)
    return ""


def label(n, r, sched=""):
    base = "N=%d R=%g" % (n, r) if n else "run"
    return "%s %s" % (sched, base) if sched else base


def read_requests(path):
    with open(path, newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader, None)
        if header is None:
            raise SystemExit("%s: empty file" % path)
        missing = [c for c in NEEDED if c not in header]
        if missing:
            raise SystemExit("%s: missing columns %s (header %r)" % (path, missing, header))
        ix = {c: header.index(c) for c in NEEDED}
        rows = []
        for lineno, row in enumerate(reader, 2):
            if not row:
                continue
            try:
                rows.append((int(row[ix["t"]]), fkey(row[ix["slo_factor"]]), int(row[ix["deadline"]]),
                             int(row[ix["deadline_met"]])))
            except (ValueError, IndexError):
                raise SystemExit("%s:%d: malformed row %r" % (path, lineno, row))
    rows.sort()
    return rows


def analyse(rows, bucket_s):
    """Per time bucket and per SLO step statistics of one run."""
    if not rows:
        return {"series": [], "steps": {}}
    t0 = rows[0][0]
    bucket_ns = bucket_s * 1e9
    buckets = {}
    steps = {}
    for t, slo, deadline, met in rows:
        b = int((t - t0) // bucket_ns)
        e = buckets.setdefault(b, [0, 0, {}])
        e[0] += 1
        e[1] += met
        e[2][slo] = e[2].get(slo, 0) + 1
        s = steps.setdefault(slo, {"requests": 0, "met": 0, "deadlines": [], "start": t - t0, "end": t - t0})
        s["requests"] += 1
        s["met"] += met
        s["deadlines"].append(deadline)
        s["end"] = t - t0
    series = []
    for b in sorted(buckets):
        n, met, slos = buckets[b]
        slo = max(slos.items(), key=lambda kv: (kv[1], float(kv[0])))[0]
        series.append((b * bucket_s, n, met, met / n, slo))
    for s in steps.values():
        s["slo_ms"] = statistics.median(s["deadlines"]) / 1e6
        s["satisfaction"] = s["met"] / s["requests"]
        del s["deadlines"]
    return {"series": series, "steps": steps}


def read_profile(path):
    """exec time (ms) per batch size from a model.measurements file (b1 = 2900000L; ...)."""
    execs = {}
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r"\s*b(\d+)\s*=\s*(\d+)L?\s*;", line)
                if m:
                    execs[int(m.group(1))] = int(m.group(2)) / 1e6
    except OSError:
        return {}
    return execs


def erlang_b(servers, load):
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def upper_bound(slo_ms, rate, gpus, execs):
    """Best achievable satisfaction for SLO slo_ms at offered rate (r/s) on gpus devices."""
    if not execs or rate <= 0:
        return None
    fits = [b for b, e in execs.items() if e <= slo_ms * (1 + 1e-9)]
    if not fits:
        return 0.0
    capacity = gpus * max(b / (execs[b] / 1e3) for b in fits)   # requests/s
    bound = min(1.0, capacity / rate)
    b1 = execs.get(1, min(execs.values()))
    if slo_ms < b1 * 1.01:  # no slack: the request must find an idle GPU when it arrives
        bound = min(bound, 1.0 - erlang_b(gpus, rate * b1 / 1e3))
    return bound


def pct(x):
    return "-" if x is None else "%.1f" % (100 * x)


def build_tables(runs, results, gpus, execs):
    slos = sorted({s for res in results for s in res["steps"]}, key=float)
    cols = [label(n, r, sched) for n, r, _, sched in runs]
    width = max([12] + [len(c) + 2 for c in cols])
    lines = []

    def header(title):
        lines.append(title)
        lines.append("%-10s %8s " % ("slo_factor", "SLO(ms)") + "".join("%*s" % (width, c) for c in cols))

    def slo_ms(s):
        for res in results:
            if s in res["steps"]:
                return res["steps"][s]["slo_ms"]
        return 0.0

    header("Workload satisfaction (% of requests with deadline_met) per SLO step")
    for s in slos:
        cells = []
        for res in results:
            st = res["steps"].get(s)
            cells.append("-" if st is None else pct(st["satisfaction"]))
        lines.append("%-10s %8.2f " % (s, slo_ms(s)) + "".join("%*s" % (width, c) for c in cells))
    cells = []
    for res in results:
        n = sum(st["requests"] for st in res["steps"].values())
        m = sum(st["met"] for st in res["steps"].values())
        cells.append(pct(m / n) if n else "-")
    lines.append("%-10s %8s " % ("all", "") + "".join("%*s" % (width, c) for c in cells))
    lines.append("")
    header("Requests per SLO step")
    for s in slos:
        cells = [str(res["steps"][s]["requests"]) if s in res["steps"] else "-" for res in results]
        lines.append("%-10s %8.2f " % (s, slo_ms(s)) + "".join("%*s" % (width, c) for c in cells))
    lines.append("")
    if execs:
        header("Upper bound on satisfaction (%%): %d GPUs, exec ms %s" % (
            gpus, " ".join("b%d=%g" % kv for kv in sorted(execs.items()))))
        for s in slos:
            cells = [pct(upper_bound(slo_ms(s), r, gpus, execs)) if r else "-" for n, r, _, _ in runs]
            lines.append("%-10s %8.2f " % (s, slo_ms(s)) + "".join("%*s" % (width, c) for c in cells))
    else:
        lines.append("Upper bound: no profile readable, skipped")
    return "\n".join(lines) + "\n"


def write_tsvs(outdir, runs, results, gpus, execs):
    with open(os.path.join(outdir, "fig7_series.tsv"), "w") as f:
        f.write("N\tR\ttime_s\trequests\tmet\tsatisfaction\tslo_factor\tscheduler\n")
        for (n, r, _, sched), res in zip(runs, results):
            for t, cnt, met, sat, slo in res["series"]:
                f.write("%d\t%g\t%g\t%d\t%d\t%.6f\t%s\t%s\n" % (n, r, t, cnt, met, sat, slo, sched))
    with open(os.path.join(outdir, "fig7_by_slo.tsv"), "w") as f:
        f.write("N\tR\tslo_factor\tslo_ms\tstart_s\trequests\tmet\tsatisfaction\tupper_bound\tscheduler\n")
        for (n, r, _, sched), res in zip(runs, results):
            for s in sorted(res["steps"], key=float):
                st = res["steps"][s]
                ub = upper_bound(st["slo_ms"], r, gpus, execs) if r else None
                f.write("%d\t%g\t%s\t%.4f\t%.3f\t%d\t%d\t%.6f\t%s\t%s\n" % (
                    n, r, s, st["slo_ms"], st["start"] / 1e9, st["requests"], st["met"], st["satisfaction"],
                    "" if ub is None else "%.6f" % ub, sched))


def plot(outdir, runs, results, bucket_s):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("matplotlib is not installed (apt-get install python3-matplotlib); skipping the figure",
              file=sys.stderr)
        return False
    fig, (ax_slo, ax) = plt.subplots(2, 1, sharex=True, figsize=(9, 5.5),
                                     gridspec_kw={"height_ratios": [1, 2.2]})
    # Step boundaries: from the run with the most steps (the runs share one schedule).
    ref = max(results, key=lambda res: len(res["steps"]))
    bounds = sorted((st["start"] / 1e9, st["slo_ms"], s) for s, st in ref["steps"].items())
    if bounds:
        xs, ys = [], []
        end = max(st["end"] for st in ref["steps"].values()) / 1e9
        for i, (start, ms, _) in enumerate(bounds):
            stop = bounds[i + 1][0] if i + 1 < len(bounds) else end
            xs += [start, stop]
            ys += [ms, ms]
        ax_slo.plot(xs, ys, color="black", lw=1.2)
        ax_slo.set_yscale("log")
        ax_slo.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%g" % v))
        ax_slo.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax_slo.set_ylabel("SLO (ms)")
        for start, _, _ in bounds[1:]:
            ax_slo.axvline(start, color="grey", lw=0.5, ls=":")
            ax.axvline(start, color="grey", lw=0.5, ls=":")
        for start, ms, s in bounds:
            ax_slo.annotate("%sx" % s, (start, ms), textcoords="offset points", xytext=(2, 3), fontsize=6)
    # one colour per configuration, one line style per scheduler
    configs = sorted({(n, r) for n, r, _, _ in runs})
    scheds = list(dict.fromkeys(sched for _, _, _, sched in runs))
    styles = ["-", "--", ":", "-."]
    for (n, r, _, sched), res in zip(runs, results):
        xs = [p[0] for p in res["series"]]
        ys = [p[3] for p in res["series"]]
        if xs:  # each bucket drawn over its whole interval
            xs.append(xs[-1] + bucket_s)
            ys.append(ys[-1])
        ax.plot(xs, ys, lw=1, drawstyle="steps-post", label=label(n, r, sched),
                color="C%d" % (configs.index((n, r)) % 10), ls=styles[scheds.index(sched) % len(styles)])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Workload satisfaction")
    ax.legend(fontsize=7, ncol=3, loc="lower right")
    ax.grid(alpha=0.3)
    fig.suptitle("How low can Clockwork go? slo-exp-1, resnet50_v2, poisson", fontsize=10)
    fig.tight_layout()
    for ext in ("pdf", "png"):
        fig.savefig(os.path.join(outdir, "fig7_dist=poisson.%s" % ext), dpi=150)
    plt.close(fig)
    return True


def main(argv):
    a = parse_args(argv)
    if not a.bucket > 0:
        raise SystemExit("plotter.py: --bucket must be positive")
    runs = []
    for logdir in a.logdir:
        if not os.path.isdir(logdir):
            raise SystemExit("plotter.py: %s is not a directory" % logdir)
        found = discover(logdir)
        if not found:
            raise SystemExit("plotter.py: no request logs under %s (expected N{N}_R{R}/clockwork_request_log.tsv "
                             "or clockwork_request_log_N{N}_R{R}.tsv)" % logdir)
        # with several directories each run is labelled with its scheduler (or directory name)
        sched = scheduler_of(logdir) or os.path.basename(os.path.normpath(logdir)) if len(a.logdir) > 1 else ""
        runs += [(n, r, path, sched) for n, r, path in found]
    results = [analyse(read_requests(path), a.bucket) for _, _, path, _ in runs]
    execs = read_profile(a.profile)
    os.makedirs(a.outdir, exist_ok=True)
    table = build_tables(runs, results, a.gpus, execs)
    sys.stdout.write(table)
    with open(os.path.join(a.outdir, "fig7_table.txt"), "w") as f:
        f.write(table)
    write_tsvs(a.outdir, runs, results, a.gpus, execs)
    if not a.no_plot and plot(a.outdir, runs, results, a.bucket):
        print("Wrote %s" % os.path.join(a.outdir, "fig7_dist=poisson.pdf"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
