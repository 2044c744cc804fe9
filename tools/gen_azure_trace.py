#!/usr/bin/python3
"""Writes synthetic Azure Functions 2019 day files for the client's azure workloads.

The real AzureFunctionsDataset2019 (https://github.com/Azure/AzurePublicDataset) cannot be
downloaded everywhere; this writes files in exactly its format:

    DIR/invocations_per_function_md.anon.dNN.csv
    HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440
    <64 hex>,<64 hex>,<64 hex>,http,0,3,1,...          (one row per function, 1440 minutes)

Per-function daily totals are heavy-tailed like the real trace (log-normal body, a Pareto tail
of very busy functions); each function's minutes follow a diurnal curve with its own phase,
some functions are bursty (on/off), some timer-driven (every k minutes), and the per-minute
counts are Poisson around that profile. Deterministic for a given --seed. Stdlib only.

Usage: gen_azure_trace.py DIR [--days 1] [--functions 2000] [--seed 1]
                              [--mean-rate R] [--bad-row N]
  --mean-rate R   scale so that the whole day averages R invocations/second in total
  --bad-row N     (for tests) make function row N malformed (a non-numeric count)
"""
import argparse
import hashlib
import math
import os
import random
import sys

MINUTES = 1440
TRIGGERS = ["http", "queue", "event", "timer", "orchestration", "storage", "others"]


def poisson(rng, lam):
    """Poisson sample; normal approximation for large means."""
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def daily_total(rng):
    """Heavy-tailed invocations per day: log-normal body, Pareto tail for 3% of functions."""
    if rng.random() < 0.03:
        return 1440 * 60 * rng.paretovariate(1.1)
    return math.exp(rng.gauss(math.log(200), 2.0))


def profile(rng, kind):
    """Relative weight of each minute (sums to 1)."""
    phase = rng.uniform(0, 2 * math.pi)
    depth = rng.uniform(0.2, 0.8)
    w = [1 + depth * math.sin(2 * math.pi * m / MINUTES + phase) for m in range(MINUTES)]
    if kind == "bursty":
        on, m = False, 0
        while m < MINUTES:
            span = int(rng.expovariate(1 / (20 if on else 60))) + 1
            for i in range(m, min(MINUTES, m + span)):
                w[i] *= 8.0 if on else 0.05
            on, m = not on, m + span
    elif kind == "timer":
        k = rng.choice([1, 5, 10, 15, 30, 60])
        w = [1.0 if m % k == 0 else 0.0 for m in range(MINUTES)]
    s = sum(w)
    return [x / s for x in w]


def function_row(rng, scale):
    kind = rng.choices(["diurnal", "bursty", "timer"], [0.6, 0.25, 0.15])[0]
    total = daily_total(rng) * scale
    w = profile(rng, kind)
    counts = [poisson(rng, total * x) for x in w]
    if sum(counts) == 0:  # the real md files only list functions that ran
        counts[rng.randrange(MINUTES)] = 1
    trig = "timer" if kind == "timer" else rng.choice(TRIGGERS)
    return trig, counts


def hexid(rng):
    return hashlib.sha256(str(rng.random()).encode()).hexdigest()


def write_day(path, day, args):
    rng = random.Random(args.seed * 1000 + day)
    rows = []
    for _ in range(args.functions):
        rows.append(function_row(rng, 1.0))
    if args.mean_rate:
        have = sum(sum(c) for _, c in rows) / (MINUTES * 60.0)
        f = args.mean_rate / have if have > 0 else 1.0
        rows = [(t, [int(round(x * f)) for x in c]) for t, c in rows]
        rows = [(t, c if sum(c) else [1] + c[1:]) for t, c in rows]
    owners = [hexid(rng) for _ in range(max(1, args.functions // 20))]
    with open(path, "w") as f:
        f.write("HashOwner,HashApp,HashFunction,Trigger," + ",".join(str(m + 1) for m in range(MINUTES)) + "\n")
        for i, (trig, counts) in enumerate(rows):
            cells = [str(c) for c in counts]
            if args.bad_row is not None and i + 1 == args.bad_row:
                cells[7] = "x7"
            owner = owners[i % len(owners)]
            f.write(",".join([owner, hexid(rng), hexid(rng), trig] + cells) + "\n")
    total = sum(sum(c) for _, c in rows)
    print("%s: %d functions, %d invocations (%.1f/s on average)" % (path, len(rows), total, total / 86400.0))


def main():
    p = argparse.ArgumentParser(description="Write synthetic AzureFunctionsDataset2019 day files.")
    p.add_argument("dir")
    p.add_argument("--days", type=int, default=1, help="day files d01..dNN to write (1-14)")
    p.add_argument("--functions", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mean-rate", type=float, default=None)
    p.add_argument("--bad-row", type=int, default=None)
    args = p.parse_args()
    if not 1 <= args.days <= 14 or args.functions < 1:
        p.error("--days must be 1..14 and --functions positive")
    os.makedirs(args.dir, exist_ok=True)
    for day in range(1, args.days + 1):
        write_day(os.path.join(args.dir, "invocations_per_function_md.anon.d%02d.csv" % day), day, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
