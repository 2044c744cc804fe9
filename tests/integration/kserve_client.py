#!/usr/bin/env python3
"""A KServe v2 / Open Inference Protocol REST client on the Python standard library only
(urllib), as any user of the controller's HTTP API could write it: health, metadata,
inference with JSON or binary tensors (the binary tensor data extension), the model repository
and GET /metrics. Used by the integration tests and docs/http.md.

    c = KServeClient("http://127.0.0.1:8000")
    r = c.infer("resnet50_v2", [0.0] * 150528, [1, 150528], binary_output=True)
    r.status, r.outputs  # 200, a list of floats
"""
import json
import struct
import urllib.error
import urllib.request


class Response:
    """status, headers, body (bytes), json (the JSON part, or None) and, for inference, outputs
    (the output tensor's floats) and error (the "error" message of a failed request)."""

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body
        self.json, self.outputs, self.error = None, None, None
        header_len = headers.get("Inference-Header-Content-Length")
        text = body[: int(header_len)] if header_len is not None else body
        try:
            self.json = json.loads(text) if text else None
        except ValueError:
            self.json = None
        if isinstance(self.json, dict):
            self.error = self.json.get("error")
            outs = self.json.get("outputs") if "model_name" in self.json else None  # not metadata
            if outs:
                out = outs[0]
                size = out.get("parameters", {}).get("binary_data_size")
                if size is not None:
                    raw = body[int(header_len) : int(header_len) + size]
                    self.outputs = list(struct.unpack("<%df" % (size // 4), raw))
                    self.raw_output = raw
                else:
                    self.outputs = out["data"]
                    self.raw_output = struct.pack("<%df" % len(self.outputs), *self.outputs)


class KServeClient:
    def __init__(self, base, timeout=30):
        self.base, self.timeout = base.rstrip("/"), timeout

    def request(self, method, path, body=None, headers=None):
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    # health and metadata
    def live(self):
        return self.request("GET", "/v2/health/live").status == 200

    def ready(self):
        return self.request("GET", "/v2/health/ready").status == 200

    def server_metadata(self):
        return self.request("GET", "/v2")

    def model_metadata(self, name, version=None):
        return self.request("GET", "/v2/models/%s%s" % (name, "/versions/%s" % version if version is not None else ""))

    def model_ready(self, name, version=None):
        v = "/versions/%s" % version if version is not None else ""
        return self.request("GET", "/v2/models/%s%s/ready" % (name, v)).status == 200

    # inference
    def infer(self, name, data, shape, version=None, binary_input=False, binary_output=False, parameters=None,
              request_id=None, input_name="INPUT0", datatype="FP32"):
        """data: floats in row-major order (flat or nested), or bytes (sent as binary data)."""
        tensor = {"name": input_name, "datatype": datatype, "shape": shape}
        params = dict(parameters or {})
        if binary_output:
            params["binary_data_output"] = True
        doc = {"inputs": [tensor]}
        if params:
            doc["parameters"] = params
        if request_id is not None:
            doc["id"] = request_id
        headers = {"Content-Type": "application/json"}
        binary = b""
        if binary_input:
            binary = data if isinstance(data, bytes) else struct.pack("<%df" % len(data), *data)
            tensor["parameters"] = {"binary_data_size": len(binary)}
        else:
            tensor["data"] = data
        head = json.dumps(doc).encode()
        if binary_input:
            headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(head))}
        v = "/versions/%s" % version if version is not None else ""
        return self.request("POST", "/v2/models/%s%s/infer" % (name, v), head + binary, headers)

    # model repository
    def index(self, ready=None):
        return self.request("POST", "/v2/repository/index", {} if ready is None else {"ready": ready})

    def load(self, name, copies=None):
        body = {"parameters": {"copies": copies}} if copies is not None else None
        return self.request("POST", "/v2/repository/models/%s/load" % name, body)

    def unload(self, name):
        return self.request("POST", "/v2/repository/models/%s/unload" % name)


def parse_prometheus(text):
    """Parses the text exposition format strictly enough for tests: returns {(name, labels): value}
    and {name: type}; raises ValueError on a malformed line, a sample of an undeclared metric or a
    histogram whose buckets are not cumulative or whose +Inf bucket differs from its _count."""
    import re

    sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|\+Inf|NaN)$')
    label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
    types, samples = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = sample.match(line)
        if not m:
            raise ValueError("malformed line: %r" % line)
        name, labels = m.group(1), ()
        if m.group(3):
            pos, found = 0, []
            for lm in label.finditer(m.group(3)):
                if lm.start() != pos:
                    raise ValueError("malformed labels: %r" % line)
                found.append((lm.group(1), lm.group(2)))
                pos = lm.end()
            if pos != len(m.group(3)):
                raise ValueError("malformed labels: %r" % line)
            labels = tuple(found)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in types and not (base in types and types[base] == "histogram"):
            raise ValueError("sample of an undeclared metric: %r" % line)
        samples[(name, labels)] = float(m.group(4))
    for (name, labels), value in samples.items():
        if not name.endswith("_count"):
            continue
        base, rest = name[: -len("_count")], labels
        buckets = sorted(
            ((float("inf") if dict(l)["le"] == "+Inf" else float(dict(l)["le"])), v)
            for (n, l), v in samples.items()
            if n == base + "_bucket" and tuple(x for x in l if x[0] != "le") == rest
        )
        counts = [v for _, v in buckets]
        if counts != sorted(counts) or not buckets or buckets[-1][1] != value:
            raise ValueError("histogram %s%s is not cumulative or its +Inf bucket != _count" % (base, rest))
    return samples, types
