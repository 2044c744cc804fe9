#!/usr/bin/python3
"""A minimal raw Clockwork client for integration tests: hand-encoded protobuf, no libraries.

usage: wire_client.py PORT garbage|unknown-type|infer-unknown-model|ls
Prints what came back (or 'closed'), so a test can check the peer's reaction. infer() is a
native inference request with a raw input, as the C client sends it (http_native_compare.py)."""
import socket
import struct
import sys
import time


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field_varint(num, value):
    return varint(num << 3) + varint(value)


def field_bytes(num, data):
    return varint((num << 3) | 2) + varint(len(data)) + data


def frame(msg_type, msg_id, header, body=b""):
    pre = struct.pack("<QQQQQq", len(header), len(body), msg_type, msg_id, time.time_ns(), 2**63 - 1)
    return pre + header + body


def request_header(user_request_id):
    return field_bytes(1, field_varint(1, 7) + field_varint(2, user_request_id))


def lz4_literals(data):
    """data as one LZ4 block of literals only (valid LZ4, no compression): the controller takes
    LZ4-compressed inputs, and this needs no library."""
    n, ext = len(data), b""
    if n < 15:
        return bytes([n << 4]) + data
    rest = n - 15
    while rest >= 255:
        ext, rest = ext + b"\xff", rest - 255
    return b"\xf0" + ext + bytes([rest]) + data


def fields(buf):
    """{field number: [values]} of a protobuf message (varint and length-delimited fields)."""
    out, pos = {}, 0

    def read_varint():
        nonlocal pos
        shift = value = 0
        while True:
            b = buf[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while pos < len(buf):
        key = read_varint()
        if key & 7 == 0:
            value = read_varint()
        elif key & 7 == 2:
            n = read_varint()
            value, pos = buf[pos : pos + n], pos + n
        elif key & 7 == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % (key & 7))
        out.setdefault(key >> 3, []).append(value)
    return out


def read_frame(sock):
    """(msg_type, msg_id, header, body) of the next frame; raises on a closed socket."""
    def read_exactly(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("controller closed the connection")
            data += chunk
        return data

    hlen, blen, mtype, mid = struct.unpack("<QQQQ", read_exactly(48)[:32])
    header = read_exactly(hlen)
    return mtype, mid, header, read_exactly(blen)


def infer(sock, msg_id, model_id, raw_input, slo_factor):
    """A native InferenceRequest (type 2) of raw_input (bytes) on model_id; returns
    (status, message, output bytes) of its response (type 102)."""
    hdr = request_header(msg_id) + field_varint(2, model_id) + field_varint(3, 1)
    hdr += varint((4 << 3) | 5) + struct.pack("<f", slo_factor)
    sock.sendall(frame(2, msg_id, hdr, lz4_literals(raw_input)))
    mtype, mid, header, body = read_frame(sock)
    if mtype != 102 or mid != msg_id:
        raise ValueError("expected the response to request %d (type 102), got type %d id %d"
                         % (msg_id, mtype, mid))
    h = fields(fields(header)[1][0])
    return h.get(2, [0])[0], h.get(3, [b""])[0].decode(errors="replace"), body


def read_reply(sock):
    data = b""
    sock.settimeout(5)
    try:
        while len(data) < 48:
            chunk = sock.recv(65536)
            if not chunk:
                return "closed"
            data += chunk
        hlen, blen, mtype, mid = struct.unpack("<QQQQ", data[:32])
        while len(data) < 48 + hlen + blen:
            chunk = sock.recv(65536)
            if not chunk:
                return "closed"
            data += chunk
        return "type=%d id=%d header=%s" % (mtype, mid, data[48:48 + hlen].hex())
    except socket.timeout:
        return "timeout"


def main():
    port, what = int(sys.argv[1]), sys.argv[2]
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    if what == "garbage":
        s.sendall(struct.pack("<QQQQQq", 11 * 1024 * 1024, 0, 2, 0, 0, 0))
    elif what == "unknown-type":
        s.sendall(frame(77, 1, b""))
    elif what == "infer-unknown-model":
        hdr = request_header(5) + field_varint(2, 999999) + field_varint(3, 1) + varint((4 << 3) | 5) + struct.pack("<f", 0.0)
        s.sendall(frame(2, 5, hdr))
    elif what == "ls":
        s.sendall(frame(5, 9, request_header(9)))
    print(read_reply(s))


if __name__ == "__main__":
    main()
