#!/usr/bin/env python3
"""The checks of tests/integration/http_api.sh against a live worker_dummy + controller, through
the standard-library KServe v2 client (kserve_client.py). One phase per call:
  startup API_PORT           health/ready during start-up, a repository load before serving
  serving API_PORT METRICS   inference (JSON flat/nested, binary, batches, versions, SLOs, a
                             scheduler drop), every error path, limits, the repository, metrics
  final API_PORT METRICS LOGDIR  metrics against the request and action logs
Prints "ok: ..." per check; exits 1 with the first failure."""
import json
import re
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kserve_client import KServeClient, parse_prometheus  # noqa: E402

TINY = 24  # floats of tiny's input [2,3,4]; its output is 10 floats


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)
    print("ok: " + what)


def expect(r, status, text, what):
    check(r.status == status and (text is None or (r.error and text in r.error)),
          "%s -> %d %r (got %d %r)" % (what, status, text, r.status, r.error or r.body[:200]))


def wait_listening(c):
    for _ in range(200):
        try:
            if c.live():
                return
        except OSError:
            pass
        time.sleep(0.05)
    check(False, "the controller's HTTP API listens")


def startup(port):
    c = KServeClient("http://127.0.0.1:%d" % port)
    wait_listening(c)
    check(c.live(), "live during start-up")
    check(not c.ready(), "not ready during start-up")
    md = c.server_metadata()
    check(md.status == 200 and md.json["name"] == "clockwork" and "binary_tensor_data" in md.json["extensions"]
          and "model_repository" in md.json["extensions"], "server metadata")
    expect(c.model_metadata("tiny"), 404, "unknown model 'tiny'", "metadata of a model not loaded yet")
    r = c.load("tiny", 2)
    check(r.status == 200, "repository load during start-up (%d %s)" % (r.status, r.body[:200]))
    expect(c.infer("tiny", [0.0] * TINY, [1, 2, 3, 4]), 503, "Controller initializing", "infer before serving")
    check(not c.model_ready("tiny"), "model not ready before serving")
    idx = {e["name"]: e for e in c.index().json}
    check(idx["tiny"]["state"] == "UNAVAILABLE" and idx["tiny"]["reason"] == "controller initializing",
          "index during start-up")
    for _ in range(400):
        if c.ready():
            break
        time.sleep(0.05)
    check(c.ready(), "ready once start-up is over")
    check(c.model_ready("tiny"), "model ready once serving")
    for v in c.model_metadata("tiny").json["versions"]:
        warm_up(c, "tiny", v)


def warm_up(c, name, version, parameters=None, shape=(1, 2, 3, 4)):
    """The first request of a copy loads its weights; on a busy machine the load can end after
    the inference the scheduler planned behind it (the worker then refuses the inference, as
    it should): retry until the copy has served once."""
    for _ in range(20):
        r = c.infer(name, [0.0] * TINY, list(shape), version=version, parameters=parameters)
        if r.status == 200:
            return r
        time.sleep(0.05)
    check(False, "%s version %s serves after its weights load (%d %s)" % (name, version, r.status, r.error))


def inference(c):
    md = c.model_metadata("tiny")
    check(md.status == 200 and md.json["inputs"][0] == {"name": "INPUT0", "datatype": "FP32", "shape": [-1, 2, 3, 4]}
          and md.json["outputs"][0]["shape"] == [-1, 10] and len(md.json["versions"]) == 2, "tiny's metadata")
    versions = md.json["versions"]
    data = [i / 7.0 for i in range(TINY)]
    r = c.infer("tiny", data, [1, 2, 3, 4], request_id="req-1")
    check(r.status == 200 and r.json["model_name"] == "tiny" and r.json["model_version"] in versions
          and r.json["id"] == "req-1" and r.json["outputs"][0]["shape"] == [1, 10] and r.outputs == [0.0] * 10,
          "JSON inference (flat data); the emulated worker's output is zeros")
    check(r.headers.get("Content-Length") == str(len(r.body)) and r.headers.get("Transfer-Encoding") is None,
          "an answer says its Content-Length, not chunked (%s %s)" % (r.headers.get("Content-Length"),
                                                                     r.headers.get("Transfer-Encoding")))
    nested = [[[data[i * 12 + j * 4 + k] for k in range(4)] for j in range(3)] for i in range(2)]
    r = c.infer("tiny", [nested], [1, 2, 3, 4])
    check(r.status == 200 and len(r.outputs) == 10, "JSON inference (nested data)")
    r = c.infer("tiny", data, [1, 2, 3, 4], binary_input=True, binary_output=True)
    check(r.status == 200 and r.headers.get("Inference-Header-Content-Length")
          and r.headers.get("Content-Type") == "application/octet-stream" and r.raw_output == bytes(40)
          and r.json["outputs"][0]["parameters"]["binary_data_size"] == 40, "binary inference (in and out)")
    check(r.headers.get("Content-Length") == str(len(r.body)), "a binary answer says its Content-Length")
    r = c.infer("tiny", data * 3, [3, 2, 3, 4], binary_output=True)
    check(r.status == 200 and r.json["outputs"][0]["shape"] == [3, 10] and len(r.outputs) == 30,
          "a batch of 3 is split into 3 requests and merged (%d %s)" % (r.status, r.error))
    r = c.infer("tiny", data, [1, 2, 3, 4], version=versions[1])
    check(r.status == 200 and r.json["model_version"] == versions[1], "a version is a copy")
    check(c.infer("tiny", data, [1, 2, 3, 4], parameters={"slo_ms": 50}).status == 200, "slo_ms")
    check(c.infer("tiny", data, [1, 2, 3, 4], parameters={"slo_factor": 40, "user_id": 9}).status == 200,
          "slo_factor and user_id")
    # slowload's weights take 400 ms to load: a cold request with the default 100 ms SLO is dropped
    check(c.load("slowload").status == 200, "load slowload")
    r = c.infer("slowload", data, [1, 2, 3, 4])
    expect(r, 503, "dropped by the scheduler: Request timed out while queued", "a request that cannot meet its SLO")
    return versions


def errors(c, versions):
    data = [0.5] * TINY
    expect(c.infer("nosuch", data, [1, 2, 3, 4]), 404, "unknown model 'nosuch'", "unknown model")
    expect(c.infer("tiny", data, [1, 2, 3, 4], version=99999), 404, "has no version '99999'", "unknown version")
    expect(c.request("GET", "/v2/nothing"), 404, "no such endpoint: GET /v2/nothing", "unknown endpoint")
    expect(c.request("GET", "/v2/models/tiny/infer"), 405, "use POST", "wrong method")
    path = "/v2/models/tiny/infer"
    expect(c.request("POST", path, b'{"inputs": [', {}), 400, "malformed JSON at line 1", "malformed JSON")
    expect(c.infer("tiny", data, [1, 2, 3, 4], datatype="INT32"), 400, "datatype 'INT32' is not supported",
           "wrong datatype")
    expect(c.infer("tiny", data, [1, 24]), 400, "'shape' must be a list of 4 dimensions, [-1,2,3,4]", "wrong rank")
    expect(c.infer("tiny", data, [1, 4, 3, 2]), 400, "shape does not match [-1,2,3,4]", "wrong shape")
    expect(c.infer("tiny", data[:-1], [1, 2, 3, 4]), 400, "data has 23 elements, its shape needs 24", "short data")
    expect(c.infer("tiny", data, [1, 2, 3, 4], input_name="x"), 400, "unknown input 'x'", "wrong input name")
    expect(c.infer("tiny", data, [1, 2, 3, 4], parameters={"slo_ms": 0.1}), 400,
           "shorter than model 'tiny''s batch-1 execution time (1.000 ms)", "an SLO shorter than the model")
    expect(c.infer("tiny", data, [1, 2, 3, 4], parameters={"slo_ms": 5, "slo_factor": 2}), 400, "not both",
           "slo_ms and slo_factor")
    head = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 2, 3, 4],
                                   "parameters": {"binary_data_size": 96}}]}).encode()
    hdr = {"Inference-Header-Content-Length": str(len(head))}
    expect(c.request("POST", path, head + bytes(80), hdr), 400, "exceeds the 80 bytes", "binary data too short")
    expect(c.request("POST", path, head + bytes(100), hdr), 400, "4 bytes of binary data after the JSON",
           "binary data left over")
    expect(c.request("POST", path, head + bytes(96), {"Inference-Header-Content-Length": "abc"}), 400,
           "Inference-Header-Content-Length must be a number", "a malformed Inference-Header-Content-Length")
    expect(c.request("POST", path, head + bytes(96), {"Inference-Header-Content-Length": "9999"}), 400,
           "exceeds the body", "an Inference-Header-Content-Length beyond the body")
    check(too_large_status(c, path) == 413, "a body over CLOCKWORK_HTTP_MAX_BODY_MB is refused with 413")
    r = c.infer("tiny", data, [1, 2, 3, 4], parameters={"binary_data_output": "yes"})
    expect(r, 400, "parameter 'binary_data_output' must be true or false", "a malformed parameter")
    r = c.request("POST", path, json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 2, 3, 4],
                                                        "data": data}], "outputs": [{"name": "probs"}]}).encode())
    expect(r, 400, "unknown output 'probs'", "unknown output")


def too_large_status(c, path):
    """The status of a request announcing a 2 MiB body (CLOCKWORK_HTTP_MAX_BODY_MB=1): read before
    the body is sent, as the server answers at once and closes (urllib would hit a broken pipe)."""
    host, port = c.base.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)))
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n[0," % (path.encode(), 2 << 20))
    s.settimeout(5)
    head = s.recv(100)
    s.close()
    m = re.match(rb"HTTP/1\.1 (\d+)", head)
    return int(m.group(1)) if m else None


def limits(c, port):
    socks = []
    for _ in range(8):  # CLOCKWORK_HTTP_MAX_CONNECTIONS=8
        s = socket.create_connection(("127.0.0.1", port))
        socks.append(s)
    time.sleep(0.2)
    r = c.request("GET", "/v2/health/live")
    check(r.status == 503 and b"too many connections" in r.body, "connections over the limit get 503")
    for s in socks:
        s.close()
    time.sleep(0.2)
    check(c.live(), "served again once connections closed")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n")  # the header never ends
    s.settimeout(5)
    t0 = time.time()
    closed = s.recv(100) == b""
    check(closed and time.time() - t0 < 4, "an unfinished header is cut off after CLOCKWORK_HTTP_TIMEOUT_MS")
    s.close()


def repository(c, metrics_port, versions):
    data = [0.25] * TINY
    idx = {e["name"]: e for e in c.index().json}
    check(idx["tiny"]["state"] == "READY" and idx["resnet50_v2"]["state"] == "READY"
          and idx["slow"] == {"name": "slow", "version": "", "state": "UNAVAILABLE", "reason": "not loaded"},
          "repository index: loaded and not loaded models")
    expect(c.request("POST", "/v2/repository/models/%2E%2E%2Fetc/load"), 400, "is not a model name",
           "a path instead of a name")
    expect(c.load("nosuch"), 404, "no model 'nosuch' in the model directory", "a model not in the directory")
    expect(c.load("escape"), 403, "resolves outside the model directory", "a symlink out of the directory")
    expect(c.load("tiny", 0), 400, "'copies' must be an integer", "copies 0")
    expect(c.request("POST", "/v2/repository/models/tiny/load", {"parameters": {"config": "{}"}}), 400,
           "'config' is not supported", "an unsupported load parameter")
    expect(c.unload("nosuch"), 404, "unknown model 'nosuch'", "unload of an unknown model")
    check(c.unload("tiny").status == 200, "unload tiny")
    idx = {e["name"]: e for e in c.index().json}
    check(idx["tiny"]["state"] == "UNAVAILABLE" and idx["tiny"]["reason"] == "unloaded", "index: unloaded")
    check("tiny" not in [e["name"] for e in c.index(ready=True).json], "index of ready models only")
    check(not c.model_ready("tiny"), "an unloaded model is not ready")
    expect(c.infer("tiny", data, [1, 2, 3, 4]), 400, "is unloaded", "inference on an unloaded model")
    check(c.load("tiny").status == 200 and c.model_ready("tiny"), "load serves the unloaded copies again")
    check(c.model_metadata("tiny").json["versions"] == versions, "no new copy when enough copies serve")
    check(c.infer("tiny", data, [1, 2, 3, 4]).status == 200, "inference after reloading")
    check(c.load("tiny", 3).status == 200, "load with copies=3")
    v3 = c.model_metadata("tiny").json["versions"]
    check(len(v3) == 3 and v3[:2] == versions, "a third copy was added (%s)" % v3)
    r = warm_up(c, "tiny", v3[2])
    check(r.json["model_version"] == v3[2], "the new copy serves")
    unload_with_queued_requests(c, metrics_port)


def outstanding(metrics_port, model):
    text = KServeClient("http://127.0.0.1:%d" % metrics_port).request("GET", "/metrics").body.decode()
    samples, _ = parse_prometheus(text)
    return samples.get(("clockwork_requests_outstanding", (("model", model),)), 0)


def unload_with_queued_requests(c, metrics_port):
    """slow runs 40 ms per request, one at a time: with an 800 ms SLO, requests queue up; unloading
    answers the queued ones at once, the one running completes, none is left unanswered."""
    check(c.load("slow").status == 200, "load slow")
    # slow's .info records no shapes: its input is the flat [batch, 24]
    md = c.model_metadata("slow").json
    check(md["inputs"][0]["shape"] == [-1, TINY] and md["outputs"][0]["shape"] == [-1, 10], "flat shapes (%s)" % md)
    warm_up(c, "slow", None, {"slo_factor": 20}, shape=(1, TINY))
    results = []

    def one():
        r = KServeClient(c.base).infer("slow", [0.0] * TINY, [1, TINY], parameters={"slo_factor": 20})
        results.append((r.status, r.error))

    # 6 at once: with the unload, within CLOCKWORK_HTTP_MAX_CONNECTIONS=8
    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for _ in range(200):
        if outstanding(metrics_port, "slow") >= 4:
            break
        time.sleep(0.005)
    check(outstanding(metrics_port, "slow") >= 4, "requests queue up behind a slow model")
    check(c.unload("slow").status == 200, "unload slow with requests queued")
    for t in threads:
        t.join(30)
    unloaded = [e for s, e in results if s == 500 and e and "unloaded while the request was queued" in e]
    check(len(results) == 6 and all(s in (200, 400, 500, 503) for s, _ in results) and len(unloaded) >= 2,
          "every request answered; the queued ones with 'unloaded while queued' (%s)" % results)


def serving(port, metrics_port):
    c = KServeClient("http://127.0.0.1:%d" % port)
    versions = inference(c)
    errors(c, versions)
    limits(c, port)
    repository(c, metrics_port, versions)
    text = KServeClient("http://127.0.0.1:%d" % metrics_port).request("GET", "/metrics")
    check(text.status == 200 and text.headers["Content-Type"].startswith("text/plain; version=0.0.4"), "GET /metrics")
    expect(KServeClient("http://127.0.0.1:%d" % metrics_port).request("GET", "/v2"), 404, "no such endpoint",
           "the metrics port serves /metrics only")


def final(port, metrics_port, logdir):
    c = KServeClient("http://127.0.0.1:%d" % port)
    text = KServeClient("http://127.0.0.1:%d" % metrics_port).request("GET", "/metrics").body.decode()
    samples, types = parse_prometheus(text)
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")
    documented = re.findall(r"^\| `(clockwork_[a-z_]+)` \|", open(os.path.join(docs, "http.md")).read(), re.M)
    dashboard = json.load(open(os.path.join(docs, "grafana-dashboard.json")))
    plotted = {re.sub(r"_(bucket|sum|count)$", "", m) for p in dashboard["panels"] for t in p["targets"]
               for m in re.findall(r"clockwork_[a-z_]+", t["expr"])}
    check(len(documented) >= 17 and plotted <= set(documented), "the dashboard plots documented metrics only")
    check(set(types) == set(documented),
          "metrics parse as Prometheus text; exactly the metrics docs/http.md documents (%d)" % len(documented))
    names = {}
    for e in c.index().json:
        md = c.model_metadata(e["name"])
        if md.status == 200:
            for v in md.json["versions"]:
                names[int(v)] = e["name"]
    rows = [r.split("\t") for r in open(os.path.join(logdir, "clockwork_request_log.tsv")).read().splitlines()[1:]]
    want = {}
    for r in rows:
        key = (names[int(r[4])], r[2])
        want[key] = want.get(key, 0) + 1
    results = {"0": "success", "1": "error", "2": "status_2", "3": "status_3", "4": "timeout", "5": "initializing",
               "6": "invalid_request", "7": "skipped", "8": "could_not_start"}
    got = {}
    for (name, labels), v in samples.items():
        if name == "clockwork_requests_total" and v:
            d = dict(labels)
            got[(d["model"], d["result"])] = int(v)
    want_named = {(m, results[s]): n for (m, s), n in want.items()}
    check(got == want_named, "clockwork_requests_total matches the request log: %s" % sorted(got.items()))
    met = sum(1 for r in rows if r[8] == "1")
    got_met = sum(v for (n, l), v in samples.items() if n == "clockwork_request_deadlines_total" and ("met", "true") in l)
    check(met == got_met and met > 0, "deadlines met match the request log (%d)" % met)
    lat = sum(v for (n, l), v in samples.items() if n == "clockwork_request_latency_seconds_count")
    check(lat == len(rows), "latency histogram counts every logged request (%d)" % len(rows))
    arows = [r.split("\t") for r in open(os.path.join(logdir, "clockwork_action_log.tsv")).read().splitlines()[1:]]
    types_ = {"1": "load_weights", "2": "infer", "3": "evict_weights"}
    want_a = {}
    for r in arows:
        k = (types_[r[2]], r[3])
        want_a[k] = want_a.get(k, 0) + 1
    got_a = {(dict(l)["type"], dict(l)["status"]): int(v) for (n, l), v in samples.items()
             if n == "clockwork_actions_total" and v}
    check(got_a == want_a, "clockwork_actions_total matches the action log: %s" % sorted(got_a.items()))
    http = {dict(l)["code"]: int(v) for (n, l), v in samples.items()
            if n == "clockwork_http_requests_total" and dict(l)["endpoint"] == "infer"}
    check(http.get("200", 0) >= 10 and http.get("400", 0) >= 10 and http.get("404", 0) >= 2,
          "HTTP requests counted by endpoint and code (%s)" % http)
    check(samples[("clockwork_worker_up", (("worker", "0"), ("address", "127.0.0.1:%s" % os.environ["WORKER_PORT"])))]
          == 1, "worker up")
    native = [r for r in rows if names[int(r[4])] == "resnet50_v2"]
    http_rows = [r for r in rows if names[int(r[4])] == "tiny"]
    check(native and http_rows and min(int(r[0]) for r in native) < max(int(r[0]) for r in http_rows)
          and min(int(r[0]) for r in http_rows) < max(int(r[0]) for r in native),
          "native and HTTP requests were served at the same time (%d and %d rows)" % (len(native), len(http_rows)))


if __name__ == "__main__":
    phase = sys.argv[1]
    if phase == "startup":
        startup(int(sys.argv[2]))
    elif phase == "serving":
        serving(int(sys.argv[2]), int(sys.argv[3]))
    else:
        final(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
