#!/usr/bin/python3
"""Regenerates the synthetic plotter fixture in fixtures/ (deterministic; committed output).

Two configurations, four SLO steps of 1 s each (slo_factor 1, 1.5, 2.25, 3.375; SLO = 2.9 ms x factor),
60 requests per step, with a known number of deadline_met per step:
  N12_R600/   6, 30, 54, 60 met of 60  -> 10%, 50%, 90%, 100%
  clockwork_request_log_N48_R2400.tsv (flat file form): 0, 15, 45, 60 -> 0%, 25%, 75%, 100%
"""
import os

HEADER = ("t request_id result user_id model_id slo_factor latency deadline deadline_met "
          "arrival_count departure_count is_coldstart").split()
T0 = 1795300000000000000
STEPS = ("1", "1.5", "2.25", "3.375")
CONFIGS = {"N12_R600/clockwork_request_log.tsv": (12, (6, 30, 54, 60)),
           "clockwork_request_log_N48_R2400.tsv": (48, (0, 15, 45, 60))}


def rows(models, met_per_step):
    out, rid = [], 0
    for k, (slo, met) in enumerate(zip(STEPS, met_per_step)):
        deadline = int(round(2900000 * float(slo)))
        for i in range(60):
            t = T0 + k * 10**9 + i * (10**9 // 60)
            ok = 1 if (i * 7) % 60 < met else 0      # met rows spread over the step
            result = 0 if ok or i % 2 else 4
            latency = deadline // 2 if ok else deadline + 1000000
            out.append([t, rid, result, 0, rid % models, slo, latency, deadline, ok, rid + 1, rid + 1, 0])
            rid += 1
    out.reverse()  # the plotter must not rely on the file order
    return out


here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
for rel, (models, met) in CONFIGS.items():
    path = os.path.join(here, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\t".join(HEADER) + "\n")
        for r in rows(models, met):
            f.write("\t".join(str(x) for x in r) + "\n")
