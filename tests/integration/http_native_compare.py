#!/usr/bin/python3
"""Output bytes over HTTP equal the native protocol's for the same input, on a real worker.

usage: http_native_compare.py HTTP_PORT CONTROLLER_PORT MODEL SAVED_DIR

SAVED_DIR holds model_ID.in and model_ID.out: the input the C client sent and the output it
received (CLOCKWORK_SAVE_OUTPUTS). Checks, byte for byte:
 1. that input over HTTP, as JSON (flat and nested), as binary, and mixed (JSON in, binary out;
    binary in, JSON out), gives the client's output;
 2. B distinct rows sent natively one at a time (wire_client.infer; row 0 is the client's input,
    so this native path is itself checked against the C client) and over HTTP as one request of
    B rows (binary and nested JSON), split into B requests and merged: the same bytes, row for
    row. The rows' outputs all differ, so a merge that reorders, shifts or repeats rows fails."""
import glob
import json
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kserve_client import KServeClient  # noqa: E402
import wire_client  # noqa: E402

SLO_FACTOR = 1000.0  # generous: a drop is a 503, not what this test is about
BATCH = 5  # not a batch size of the model: the scheduler runs it as more than one batch


def nest(values, dims):
    if not dims:
        return values[0]
    step = len(values) // dims[0]
    return [nest(values[i * step : (i + 1) * step], dims[1:]) for i in range(dims[0])]


def floats(raw):
    return list(struct.unpack("<%df" % (len(raw) // 4), raw))


def http_output(r, what):
    if r.status != 200 or r.raw_output is None:
        raise AssertionError("%s: HTTP %d %s" % (what, r.status, r.body[:300]))
    return r.raw_output


def check_equal(what, got, want):
    if got != want:
        n = min(len(got), len(want))
        first = next((i for i in range(n) if got[i] != want[i]), n)
        raise AssertionError("%s: %d bytes differ from the native %d bytes (first difference at byte %d)"
                             % (what, len(got), len(want), first))
    print("%s: %d bytes equal the native output" % (what, len(got)))


def rows_for(first, n):
    """n distinct inputs: the client's, then reversed, scaled, and seeded random ones."""
    vals = floats(first)
    rows = [first, struct.pack("<%df" % len(vals), *reversed(vals)),
            struct.pack("<%df" % len(vals), *(v * -1.5 for v in vals))]
    rng = random.Random(7)
    while len(rows) < n:
        rows.append(struct.pack("<%df" % len(vals), *(rng.uniform(-2, 2) for _ in vals)))
    return rows[:n]


def single_input(c, model, version, shape, raw, want):
    vals, dims = floats(raw), [1] + shape[1:]
    p = {"slo_factor": SLO_FACTOR}
    ways = [
        ("JSON flat", dict(data=vals)),
        ("JSON nested", dict(data=nest(vals, dims))),
        ("binary", dict(data=raw, binary_input=True, binary_output=True)),
        ("JSON in, binary out", dict(data=vals, binary_output=True)),
        ("binary in, JSON out", dict(data=raw, binary_input=True)),
    ]
    for what, kw in ways:
        r = c.infer(model, shape=dims, version=version, parameters=p, **kw)
        check_equal("HTTP %s, batch 1" % what, http_output(r, what), want)


def batched(c, sock, model, version, shape, raw, want, model_id):
    rows = rows_for(raw, BATCH)
    native = []
    for i, row in enumerate(rows):
        status, message, out = wire_client.infer(sock, 1000 + i, model_id, row, SLO_FACTOR)
        if status != 0:
            raise AssertionError("native row %d: status %d %s" % (i, status, message))
        native.append(out)
    check_equal("native tool (wire_client.infer), the client's input", native[0], want)
    if len(set(native)) != len(native):
        raise AssertionError("the test's rows do not give distinct outputs")
    dims = [BATCH] + shape[1:]
    every, p = b"".join(rows), {"slo_factor": SLO_FACTOR}
    r = c.infer(model, every, dims, version=version, binary_input=True, binary_output=True, parameters=p)
    check_equal("HTTP binary, batch %d" % BATCH, http_output(r, "binary batch"), b"".join(native))
    r = c.infer(model, nest(floats(every), dims), dims, version=version, parameters=p)
    check_equal("HTTP JSON nested, batch %d" % BATCH, http_output(r, "JSON batch"), b"".join(native))
    shape_out = r.json["outputs"][0]["shape"]
    if shape_out[0] != BATCH:
        raise AssertionError("JSON batch output shape %s: batch is not %d" % (shape_out, BATCH))


def main():
    http_port, ctl_port, model, saved = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ins = glob.glob(os.path.join(saved, "model_*.in"))
    if len(ins) != 1:
        raise AssertionError("expected one saved input in %s, found %s" % (saved, ins))
    model_id = int(os.path.basename(ins[0])[len("model_") : -len(".in")])
    raw, want = open(ins[0], "rb").read(), open(ins[0][:-3] + ".out", "rb").read()
    c = KServeClient("http://127.0.0.1:%d" % http_port)
    meta = c.model_metadata(model)
    if meta.status != 200 or str(model_id) not in meta.json["versions"]:
        raise AssertionError("metadata of %s: %d %s" % (model, meta.status, meta.body[:300]))
    shape = meta.json["inputs"][0]["shape"]
    version = str(model_id)
    single_input(c, model, version, shape, raw, want)
    with socket.create_connection(("127.0.0.1", ctl_port), timeout=30) as sock:
        batched(c, sock, model, version, shape, raw, want, model_id)
    print("HTTP outputs are byte-identical to the native ones")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
