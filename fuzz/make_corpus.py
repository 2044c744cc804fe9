#!/usr/bin/env python3
"""Writes the seed inputs for the fuzz targets into fuzz/corpus/: valid action sequences for
fuzz_worker_actions (model ids 0-1 and GPUs 0-1 exist there), valid client requests for
fuzz_client_requests (models 0-1 from /fuzz/resnet50_v2/model exist there), and the frames
captured from the original Clockwork (tests/wire-golden/, one seed per direction, as much as
fits the fuzzers' 4 KiB inputs) for every frame target; and, in their own formats, HTTP requests
for fuzz_http_requests, event sequences for fuzz_scheduler, model files for fuzz_model_files and
LZ4 blocks for fuzz_lz4.
A frame input is frames cut into reads: each read is one length byte (1 + b % 64) and then
that many bytes (fuzz/fuzz_input.h). Protobuf is encoded by hand (no protobuf module needed).
  usage: fuzz/make_corpus.py [OUT_DIR]"""
import json
import os
import struct
import sys

U64_MAX = (1 << 64) - 1


def varint(v):
    v &= U64_MAX
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field(num, value):
    """int -> varint, ('f64', int) -> fixed64, bytes/str -> length-delimited."""
    if isinstance(value, tuple):
        return varint(num << 3 | 1) + struct.pack("<Q", value[1] & U64_MAX)
    if isinstance(value, (bytes, str)):
        data = value.encode() if isinstance(value, str) else value
        return varint(num << 3 | 2) + varint(len(data)) + data
    return varint(num << 3) + varint(value)


def message(*fields):
    return b"".join(field(n, v) for n, v in fields)


def frame(msg_type, header, body=b"", msg_id=0):
    pre = struct.pack("<QQQQQq", len(header), len(body), msg_type, msg_id, 1600000000000000000, 0)
    return pre + header + body


def chunked(stream):
    out, pos = bytearray(), 0
    while pos < len(stream):
        n = min(64, len(stream) - pos)
        out.append(n - 1)
        out += stream[pos:pos + n]
        pos += n
    return bytes(out)


def worker_actions():
    f64 = lambda v: ("f64", v)
    load_weights = message((1, 1), (2, 0), (3, 0), (4, f64(0)), (5, f64(U64_MAX)), (6, 20000))
    infer = message((1, 2), (2, 1), (3, 1), (4, f64(0)), (5, f64(U64_MAX)), (6, 10000), (7, 2),
                    (8, 3), (8, 2))
    evict = message((1, 3), (2, 0), (3, 0), (4, f64(0)), (5, f64(U64_MAX)))
    load_model = message((1, 4), (2, 5), (3, "/nonexistent/model"), (4, f64(0)), (5, f64(U64_MAX)), (6, 1),
                         (7, 16), (8, 25000000))
    return {
        "worker_actions": frame(2, load_weights) + frame(3, infer, b"abcde") + frame(4, evict) +
        frame(1, load_model) + frame(5, message((1, 5))) + frame(6, message((1, 6))),
    }


def client_requests():
    hdr = lambda urid: message((1, 7), (2, urid))
    ls = message((1, hdr(1)))
    load = message((1, hdr(2)), (2, "/fuzz/resnet50_v2/model"), (3, 2))
    infer = message((1, hdr(3)), (2, 1), (3, 1)) + varint(4 << 3 | 5) + struct.pack("<f", 1.5)
    infer_default = message((1, hdr(6)), (2, 0), (3, 1)) + varint(4 << 3 | 5) + struct.pack("<f", 0.0)
    evict = message((1, hdr(4)), (2, 0))
    upload = message((1, hdr(5)), (3, 1), (4, 0), (5, 0), (6, 0))
    return {
        "client_requests": frame(5, ls) + frame(3, load) + frame(2, infer, b"\x40lz4 input") + frame(4, evict) +
        frame(1, upload) + frame(2, infer, lz4_block(602112)) + frame(2, infer_default),
    }


def lz4_block(size):
    """A valid LZ4 block of `size` bytes: a literal, one long match at offset 1, five literals."""
    ml = size - 25
    return bytes([0x1F]) + b"A" + b"\x01\x00" + b"\xff" * (ml // 255) + bytes([ml % 255, 0x50]) + b"AAAAA"


def scheduler_events():
    """fuzz_scheduler: one byte per event (request, step, success, failure, worker, wake-up)."""
    f32 = lambda v: struct.pack("<f", v)
    req = lambda model, slo: bytes([0]) + f32(slo) + bytes([model])
    step = lambda ms: bytes([1]) + struct.pack("<H", ms * 100)
    ok = lambda i: bytes([2, i, 0]) + b"\x10\x00" + b"\x20\x4e\x00" + b"\x01"
    fail = lambda i, status: bytes([3, i, 0, status]) + b"\x10\x00" + b"\x20\x4e\x00" + b"\x00"
    events = (req(0, 0.0) + req(1, 10.0) + req(2, 3.0) + step(5) + ok(0) + ok(1) + step(20) + bytes([5, 0]) +
              ok(2) + fail(3, 45) + req(0, float("inf")) + bytes([4, 1]) + step(50) + bytes([4, 1]) + req(1, 0.0) +
              step(200))
    return {"scheduler_events": events}


def model_files():
    """fuzz_model_files: raw files (mode 0: four 16-bit lengths and bytes), or a plan (mode 1)."""
    zoo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "modelzoo", "resnet50_v2")
    info = open(os.path.join(zoo, "model.info"), "rb").read()
    meas = open(os.path.join(zoo, "model.measurements"), "rb").read()
    raw = bytes([0])
    for part in (info, meas, b"", b""):
        raw += struct.pack("<H", len(part)) + part
    # mode 1: 4 tensors, 1 op, 1 input, 1 output, 96 weight bytes; x[1,2] w[2,3] b[1,3] -> y[1,3] Gemm
    tensor = lambda kind, dims, off: bytes([kind, len(dims)]) + bytes(d + 1 for d in dims) + \
        bytes(6 - len(dims)) + bytes([off // 4])
    plan = bytes([1, 3, 1, 1, 1, 24]) + tensor(0, [1, 2], 0) + tensor(1, [2, 3], 0) + tensor(1, [1, 3], 24) + \
        tensor(0, [1, 3], 0)
    plan += bytes([4, 3, 1, 2, 3, 0, 4]) + bytes(10) + bytes([0, 3, 0, 0]) + bytes([1, 1, 4, 4, 0])
    return {"model_files_raw": raw, "model_files_plan": plan}


def lz4_blocks():
    """fuzz_lz4: three bytes of decoded size, then the block."""
    size = lambda n: struct.pack("<I", n)[:3]
    return {"lz4_long_match": size(602112) + lz4_block(602112),
            "lz4_literals": size(16) + bytes([0xF0, 1]) + bytes(range(16))}


def http_requests():
    """fuzz_http_requests inputs (fuzz/fuzz_http_requests.c): "METHOD PATH\\n", then "#LEN\\n" (the
    Inference-Header-Content-Length) or "!\\n" (the metrics port), then the body; written as is."""
    tensor = {"name": "INPUT0", "datatype": "FP32", "shape": [1, 24], "data": [0.5] * 24}
    nested = dict(tensor, shape=[2, 24], data=[[1.0] * 24, [2.0] * 24])
    head = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 24],
                                   "parameters": {"binary_data_size": 96}}],
                       "parameters": {"binary_data_output": True}}).encode()
    return {
        "http_infer_json": b"POST /v2/models/tiny/infer\n" + json.dumps(
            {"id": "a", "inputs": [tensor], "parameters": {"slo_ms": 5, "user_id": 3},
             "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": False}}]}).encode(),
        "http_infer_nested": b"POST /v2/models/tiny/versions/1/infer\n" + json.dumps({"inputs": [nested]}).encode(),
        "http_infer_binary": b"POST /v2/models/tiny/infer\n#%d\n" % len(head) + head + bytes(96),
        "http_metadata": b"GET /v2/models/tiny/versions/0\n",
        "http_ready": b"GET /v2/models/tiny/ready\n",
        "http_repo_index": b"POST /v2/repository/index\n" + b'{"ready": true}',
        "http_repo_load": b"POST /v2/repository/models/tiny/load\n" + b'{"parameters": {"copies": 2}}',
        "http_repo_unload": b"POST /v2/repository/models/tiny/unload\n",
        "http_metrics": b"GET /metrics\n!\n",
    }


def golden_frames():
    """The original's frames, concatenated per direction, as many as fit the fuzzers' 4 KiB."""
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "wire-golden")
    seeds = {}
    for direction in sorted(os.listdir(root)):
        path = os.path.join(root, direction)
        if not os.path.isdir(path):
            continue
        stream = b""
        for name in sorted(os.listdir(path)):
            frame_bytes = open(os.path.join(path, name), "rb").read()
            if name.endswith(".bin") and len(stream) + len(frame_bytes) <= 4000:
                stream += frame_bytes
        seeds["golden_" + direction] = stream
    return seeds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, stream in {**worker_actions(), **client_requests(), **golden_frames()}.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(chunked(stream))
        print("%s/%s: %d bytes" % (out, name, len(stream)))
    for name, data in {**http_requests(), **scheduler_events(), **model_files(), **lz4_blocks()}.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        print("%s/%s: %d bytes" % (out, name, len(data)))


if __name__ == "__main__":
    main()
