#!/usr/bin/python3
"""A minimal raw Clockwork client for integration tests: hand-encoded protobuf, no libraries.

usage: wire_client.py PORT garbage|unknown-type|infer-unknown-model|ls
Prints what came back (or 'closed'), so a test can check the peer's reaction."""
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
