#!/usr/bin/python3
"""Hostile peers for the hardening tests (tests/integration/hardening_*.sh): each command plays
one adversary from issue 11 against a controller's client port or a worker's port and prints
what it saw, so that the shell test can assert on it. Frames are built with wire_client.py.

usage: hostile.py COMMAND PORT [ARGS]
  stranger PORT                 actions on a worker from a connection that is not its controller
  infer PORT MODEL SLO [BATCH [BODY]]   one inference; BODY: none|garbage|bomb|valid (resnet50_v2)|HEX
  load PORT COPIES PATH         one LoadModel with an arbitrary path (\\n allowed via $'...')
  flood PORT MODEL SLO SECONDS  inference requests as fast as possible, never reading
  bigbody PORT MB               an inference announcing MB of body, sending almost all of it
  slowloris PORT N SECONDS      N connections each sending a frame one byte at a time
  idle PORT SECONDS             a connection that sends nothing
  connections PORT N SECONDS    N connections at once: how many the peer keeps open
"""
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire_client as w  # noqa: E402


def fixed64(num, value):
    return w.varint((num << 3) | 1) + struct.pack("<Q", value)


def fixed32_float(num, value):
    return w.varint((num << 3) | 5) + struct.pack("<f", value)


def infer_header(urid, model, batch, slo):
    return w.request_header(urid) + w.field_varint(2, model) + w.field_varint(3, batch) + fixed32_float(4, slo)


def recv_frame(sock, timeout=5.0):
    """(type, header, body) of the next frame, or None if the peer closed or went quiet."""
    sock.settimeout(timeout)
    data = b""
    try:
        while len(data) < 48:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        hlen, blen, mtype = struct.unpack("<QQQ", data[:24])
        while len(data) < 48 + hlen + blen:
            chunk = sock.recv(1 << 20)
            if not chunk:
                return None
            data += chunk
        return mtype, data[48:48 + hlen], data[48 + hlen:48 + hlen + blen]
    except (socket.timeout, ConnectionResetError):
        return None


def fields(buf):
    """Top-level fields of a protobuf message: {number: value} (varints and bytes only)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            out[num], i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            out[num], i = buf[i:i + n], i + n
        elif wt == 1:
            out[num], i = struct.unpack("<Q", buf[i:i + 8])[0], i + 8
        elif wt == 5:
            out[num], i = struct.unpack("<I", buf[i:i + 4])[0], i + 4
        else:
            break
    return out


def read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def response_status(header):
    """(status, message) of a client response header (field 1 = ResponseHeaderProto)."""
    h = fields(fields(header).get(1, b""))
    return h.get(2, 0), h.get(3, b"").decode("utf-8", "replace")


def closed_by_peer(sock, timeout):
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except socket.timeout:
        return False
    except (ConnectionResetError, OSError):
        return True


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def lz4_bomb(decoded):
    """A valid LZ4 block: one literal, then one long match (offset 1), then 5 literals."""
    ml = decoded - 6 - 4 - 15
    ext = b"\xff" * (ml // 255) + bytes([ml % 255])
    return bytes([0x1F]) + b"A" + b"\x01\x00" + ext + bytes([0x50]) + b"AAAAA"


def cmd_stranger(port):
    """Evicts, clears and asks for the state as a stranger, each on a new connection."""
    refused = executed = closed = challenged = 0
    actions = [(6, w.field_varint(1, 900))]  # GetWorkerState lists every model path
    for model in range(4):
        for gpu in range(2):
            hdr = (w.field_varint(1, 901 + model * 2 + gpu) + w.field_varint(2, model) + w.field_varint(3, gpu) +
                   fixed64(4, 0) + fixed64(5, 2**64 - 1))
            actions.append((4, hdr))  # EvictWeights
    actions.append((5, w.field_varint(1, 999)))  # ClearCache
    for mtype, hdr in actions:
        s = connect(port)
        s.sendall(w.frame(mtype, 0, hdr))
        reply = recv_frame(s)
        if reply is None:
            closed += 1
        elif reply[0] == 100 and b"refused" in fields(reply[1]).get(4, b""):
            refused += 1
        elif reply[0] >> 4 == 0x4357000:  # an authentication challenge (CLOCKWORK_SECRET_FILE)
            challenged += closed_by_peer(s, 5)
        else:
            executed += 1
        s.close()
    print("stranger: refused=%d executed=%d closed_silently=%d challenged_and_closed=%d" %
          (refused, executed, closed, challenged))


def cmd_infer(port, model, slo, batch=1, body="none"):
    payload = {"none": b"", "garbage": b"\x00\x01garbage-not-lz4" * 10, "bomb": lz4_bomb(100 << 20),
               "valid": lz4_bomb(602112)}.get(body)
    if payload is None:
        payload = bytes.fromhex(body)
    s = connect(port)
    s.sendall(w.frame(2, 7, infer_header(7, int(model), int(batch), float(slo)), payload))
    reply = recv_frame(s, 10)
    if reply is None:
        print("infer: closed")
        return
    status, msg = response_status(reply[1])
    print("infer: type=%d status=%d message=%s" % (reply[0], status, msg))


def cmd_load(port, copies, path):
    s = connect(port)
    hdr = w.request_header(3) + w.field_bytes(2, path.encode("utf-8", "surrogateescape")) + w.field_varint(3, int(copies))
    s.sendall(w.frame(3, 3, hdr))
    reply = recv_frame(s, 20)
    if reply is None:
        print("load: closed")
        return
    status, msg = response_status(reply[1])
    print("load: type=%d status=%d message=%s" % (reply[0], status, msg.replace("\n", "\\n")))


def cmd_flood(port, model, slo, seconds):
    """Requests with a small valid input (the model answers with its full output), never read."""
    s = connect(port)
    s.setblocking(False)
    body = lz4_bomb(602112)
    end, sent, pending = time.time() + float(seconds), 0, b""
    while time.time() < end:
        if not pending:
            pending = b"".join(w.frame(2, sent + i, infer_header(sent + i, int(model), 1, float(slo)), body)
                               for i in range(64))
        _, writable, _ = select.select([], [s], [], 0.2)
        if not writable:
            continue
        try:
            n = s.send(pending)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            break
        pending = pending[n:]
        if not pending:
            sent += 64
    print("flood: sent=%d" % sent)
    sys.stdout.flush()
    time.sleep(1)  # keep the connection (unread) a moment longer


def cmd_bigbody(port, mb):
    size = int(mb) << 20
    s = connect(port)
    pre = struct.pack("<QQQQQq", len(infer_header(1, 0, 1, 0.0)), size, 2, 1, time.time_ns(), 2**63 - 1)
    s.sendall(pre + infer_header(1, 0, 1, 0.0))
    sent, chunk = 0, b"\0" * (1 << 20)
    try:
        while sent < size - (1 << 20):
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    print("bigbody: sent=%d closed=%s" % (sent, closed_by_peer(s, 3)))


def cmd_slowloris(port, n, seconds):
    socks = [connect(port) for _ in range(int(n))]
    frame = w.frame(2, 1, infer_header(1, 0, 1, 0.0))
    start, closed, sent = time.time(), set(), 0
    while time.time() - start < float(seconds) and len(closed) < len(socks):
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                if sent < len(frame) - 1:
                    s.send(frame[sent:sent + 1])
                r, _, _ = select.select([s], [], [], 0)
                if r and not s.recv(1):
                    closed.add(i)
            except OSError:
                closed.add(i)
        sent += 1
        time.sleep(0.25)
    print("slowloris: connections=%d closed=%d after=%.1fs" % (len(socks), len(closed), time.time() - start))


def cmd_idle(port, seconds):
    s = connect(port)
    start = time.time()
    print("idle: closed=%s after=%.1fs" % (closed_by_peer(s, float(seconds)), time.time() - start))


def cmd_connections(port, n, seconds):
    socks = [connect(port) for _ in range(int(n))]
    time.sleep(float(seconds))
    open_ = sum(1 for s in socks if not closed_by_peer(s, 0.01))
    print("connections: opened=%d open=%d" % (len(socks), open_))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 1
    cmd, port, args = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    globals()["cmd_" + cmd](port, *args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
