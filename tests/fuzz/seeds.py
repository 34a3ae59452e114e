#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# seeds.py - write the seed inputs of tests/fuzz/corpus/<target>/, made
# from the cases of the unit tests (tests/unit/test_*.c), in the input
# formats the targets document at their tops. Run from anywhere:
#   python3 tests/fuzz/seeds.py
# Existing files of the same name are overwritten; others are left alone.
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
REQ = b"GET /app HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8.5.0\r\n"
# A token of tests/fuzz/head_input.h's key id 9 for HEAD_TAG, valid at HEAD_NOW
# (written by fuzz_token's seeds, checked in the smoke by diff_bpf).
TOKEN_RAW = None


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def head_seed(name, payload, cookie=1, n_headers=2, require_all=False, v6=False, splits=()):
    b0 = cookie | (n_headers << 2) | (0x40 if require_all else 0) | (0x80 if v6 else 0)
    b1 = len(splits)
    data = bytes([b0, b1]) + b"".join(struct.pack(">H", s) for s in splits) + payload
    put("head", name, data)


def heads():
    head_seed("analytics", REQ + b"Cookie: _ga=GA1.2.1234567890.1700000000; "
              b"_gid=GA1.2.98765.1700000000; limpet=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA; "
              b"__cf_bm=Xk3.pQ_9aB-123.1-1.0.1.1-abc\r\n\r\n", splits=(30, 90))
    head_seed("quoted", REQ + b'Cookie: a=1; limpet="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"\r\n\r\n',
              v6=True)
    head_seed("lower", REQ + b"cookie:limpet=x\r\nCOOKIE: limpet=y;\r\n\r\n", splits=(5, 6, 7))
    head_seed("decoys", REQ + b"Cookie: limpetx=1; xlimpet=2; LIMPET=3\r\n\r\n")
    head_seed("five", REQ + b"Cookie: limpet=a; limpet=b; limpet=c; limpet=d; limpet=e\r\n\r\n")
    head_seed("lf-only", b"GET / HTTP/1.1\nCookie: limpet=abc\n\n")
    head_seed("headers", REQ + b"X-Session-Id:  s-42 \t\r\nx-tenant: acme\r\n\r\n",
              require_all=True, splits=(70, 71))
    head_seed("repeated", REQ + b"X-Tenant: a\r\nCookie: limpet=q\r\nX-TENANT: b\r\n\r\n",
              n_headers=8)
    head_seed("obs-fold", REQ + b"X-Session-Id: a\r\n b\r\nX-Tenant : c\r\n\r\n", n_headers=8)
    head_seed("empty-lines", b"\r\n\r\nGET / HTTP/1.1\r\n\r\n", cookie=0)
    head_seed("incomplete", REQ + b"Cookie: limpet=AAAA", cookie=2)
    head_seed("long-name", REQ + b"Cookie: Abcdefghijklmnopqrstuvwxyz0123456789_ABCDEFGHIJKLMNOPQRSTUVWXYZ=v\r\n\r\n",
              cookie=3)


def tokens():
    put("token", "zeros", b"\x00" + b"A" * 36)
    put("token", "short", b"\x00" + b"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + b"\x23")
    put("token", "junk", b"\x00" + b"AQAA!AAAAAAAAAAAAAAAAAAAA=AAAAAAAAAAA")
    # Made tokens: key 1 or 3, session, backend, issued offset, flip position, new char.
    put("token", "made", b"\x01" + struct.pack(">QIiBB", 0x1005, 5, -10, 255, 0))
    put("token", "made-expired", b"\x03" + struct.pack(">QIiBB", 0x1007, 7, -3600, 255, 0))
    put("token", "made-future", b"\x01" + struct.pack(">QIiBB", 1, 2, 301, 255, 0))
    put("token", "flipped", b"\x01" + struct.pack(">QIiBB", 0x1005, 5, -10, 35, ord("B")))


def tcpopts():
    def hdr(opts):
        th = bytearray(20)
        th[4:8] = struct.pack(">I", 0x12345678)
        th[12] = ((20 + len(opts)) // 4) << 4
        th[13] = 0x02
        return bytes(th) + opts
    syn = bytes([2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0x13, 0x88, 0, 0, 0, 0, 1, 3, 3, 7])
    put("tcpopt", "linux-syn", bytes([5, 0x1f, 0x73]) + hdr(syn))
    put("tcpopt", "mss-only", bytes([1, 0x00, 0x00]) + hdr(bytes([2, 4, 0x23, 0x28])))
    put("tcpopt", "eol", bytes([3, 0x42, 0x02]) + hdr(bytes([1, 1, 0, 2, 4, 5, 0xb4, 0, 0, 0, 0, 0])))
    put("tcpopt", "bad-len", bytes([2, 0x80, 0x21]) + hdr(bytes([3, 2, 2, 4, 5, 0xb4, 8, 9, 0])))
    put("tcpopt", "wscale-15", bytes([1, 0xff, 0xff]) + hdr(bytes([1, 3, 3, 15])))


def splices():
    def sp(seq_d, ack_d, ins_pos, ack_ins_pos, ins_len, ack_ins_len, tsv, tse, wi, wo, fl):
        return struct.pack(">IIIIHHIIBBB", seq_d, ack_d, ins_pos, ack_ins_pos, ins_len,
                           ack_ins_len, tsv, tse, wi, wo, fl)

    def th(seq, ack, flags, win, opts):
        h = struct.pack(">HHIIBBHHH", 40000, 80, seq, ack, ((20 + len(opts)) // 4) << 4,
                        flags, win, 0, 0)
        return bytes([len(opts) // 4]) + h + opts
    ts = bytes([1, 1, 8, 10, 0, 0, 0x13, 0x88, 0, 0, 0x10, 0])
    sack = bytes([1, 1, 5, 18]) + struct.pack(">IIII", 0x70000100, 0x70000200, 0x70000300,
                                               0x70000400)
    put("splice", "plain", sp(0x8fffffc0, 0, 0, 0, 0, 0, 0x1000, 0, 0, 0, 1) +
        th(0x70000001, 0x11223345, 0x18, 100, ts))
    put("splice", "inserted", sp(0x8fffffc0, 0x8fffffc0, 0x70000011, 0x70000011, 40, 40,
                                 0x1000, 0x1000, 9, 7, 3) + th(0x70000001, 0x11223345, 0x10, 100,
                                                                 ts + sack))
    put("splice", "window", sp(1, 2, 3, 4, 0, 0, 0, 0, 0, 14, 2) + th(0, 0, 0x12, 1, b""))


def inserts():
    put("insert", "ok", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    put("insert", "status-only", b"HTTP/1.0 404 Not Found\r\n")
    put("insert", "continue", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
    put("insert", "early-hints", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n")
    put("insert", "bare-lf", b"HTTP/1.1 200 OK\n\n")
    put("insert", "http2", b"HTTP/2 200\r\n\r\n")


CISN_REQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def seg(op, how, flags, seq_off, payload, win=502, extra=b""):
    return bytes([op, how, flags]) + struct.pack(">hHH", seq_off, len(payload), win) + extra + payload


def stream(op, flags, seq_off, n, win=100):
    """A backend segment in stream mode: <n> bytes of its response stream."""
    return bytes([op | 0x40, 0, flags]) + struct.pack(">hHH", seq_off, n, win)


def tick(ms, long=False):
    return bytes([3 | (0x80 if long else 0)]) + struct.pack(">H", ms)


def frame_v4(payload, flags=0x18, seq=0x11223345, ack=0xffffffc1):
    """client 10.0.1.1:40000 -> VIP 10.0.0.100:80; the target fixes the checksum."""
    tcp = struct.pack(">HHIIBBHHH", 40000, 80, seq, ack, 5 << 4, flags, 502, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0x4000, 64, 6, 0,
                     bytes([10, 0, 1, 1]), bytes([10, 0, 0, 100]))
    f = bytes(12) + b"\x08\x00" + ip + tcp + payload
    return bytes([7]) + struct.pack(">H", len(f)) + f


def slowpaths():
    n = len(CISN_REQ)
    synack = seg(2, 0xe0, 0x12, 0, b"", 65160)
    bind = seg(0, 0, 0x18, 0, CISN_REQ) + synack
    put("slowpath", "bind-insert",
        bytes([0x01, 0x57]) + bind + seg(2, 0, 0x18, 1, RESP, 100) + seg(0, 0, 0x10, n, b"") +
        seg(2, 0, 0x18, 1, RESP, 100) + tick(4000, True))
    put("slowpath", "cookie-v6",
        bytes([0x84, 0x57]) + bind + seg(2, 0, 0x18, 1, RESP, 100) + seg(0, 0, 0x11, n, b""))
    put("slowpath", "retry",
        bytes([0x02, 0x07]) + seg(0, 0, 0x18, 0, CISN_REQ) + tick(1100) +
        seg(2 | 8, 0, 0x14, 0, b"") + seg(2 | 16, 0xe0, 0x12, 0, b"", 65160) + tick(100))
    put("slowpath", "503",
        bytes([0x10, 0x3f]) + seg(0, 0, 0x18, 0, CISN_REQ) + seg(2, 0, 0x14, 0, b"") +
        tick(300) + seg(0, 0, 0x11, n, b"") + tick(6000))
    put("slowpath", "head-in-two",
        bytes([0x08, 0x57]) + seg(0, 0, 0x10, 0, CISN_REQ[:10]) + seg(0, 0, 0x18, 10, CISN_REQ[10:]) +
        seg(1, 0, 0x18, 0, CISN_REQ) + synack + seg(2 | 8, 0xe0, 0x12, 0, b"", 65160) + tick(9000))
    put("slowpath", "no-ts-rst",
        bytes([0x00, 0x00]) + seg(0, 8, 0x18, 0, CISN_REQ) + seg(0, 8, 0x14, n, b"") +
        bytes([4]) + seg(0, 8, 0x18, 0, CISN_REQ) + bytes([5]) + tick(2000))
    put("slowpath", "stream-insert",
        bytes([0x05, 0x57]) + bind + stream(2, 0x18, 1, 30) + stream(2, 0x18, 31, 1400) +
        stream(2, 0x18, 1, 1430) + seg(0, 0, 0x10, n, b"") + stream(2, 0x19, 1431, 10))
    put("slowpath", "request-stream",
        bytes([0x08, 0x57]) + stream(0, 0x10, 0, 10) + stream(0, 0x18, 10, len(CISN_REQ) - 10) +
        synack + stream(0, 0x18, len(CISN_REQ), 2000) + stream(0, 0x10, 5, 100) +
        stream(2, 0x18, 1, 500))
    put("slowpath", "stream-v6-retry",
        bytes([0x82, 0xd3]) + seg(0, 0, 0x18, 0, CISN_REQ) + seg(2, 0, 0x14, 0, b"") +
        seg(2 | 8, 0xe0, 0x12, 0, b"", 65160) + stream(2 | 8, 0x18, 1, 3000) + tick(40000, True))
    put("slowpath", "raw-frame",
        bytes([0x00, 0x57]) + frame_v4(CISN_REQ) + synack + tick(100))


CONFIG_FULL = b"""instance: lab
interfaces:
  - name: eth0
    xdp_mode: generic
secret_file: /etc/limpet/secret
metrics:
  listen: 127.0.0.1:9100
flow_table_size: 65536
services:
  - name: web
    vip: 10.100.0.100
    port: 80
    protocol: tcp
    mode: http
    forwarding: nat
    affinity:
      type: cookie
      fallback: none
      policy: rebalance
      cookie: {name: sid, ttl: 1h, path: /, domain: "", secure: true, samesite: lax}
      idle_ttl: 30m
    failover: sticky
    drain_timeout: 5m
    ring_size: 65537
    http:
      connect_timeout: 2s
      backend_header: X-Limpet-Backend
    health:
      type: http
      path: /health
      expect: 200
      interval: 2s
      timeout: 1s
      rise: 2
      fall: 3
    backends:
      - name: b1
        address: 10.20.0.11
        port: 8080
        weight: 3
      - {name: b2, address: 10.20.0.12}
  - name: api
    vip: fd00::80
    port: 80
    mode: http
    affinity: {type: header, headers: [X-Session-Id, X-Tenant], require_all_headers: true}
    backends: [{name: a1, address: "fd00::1"}]
  - name: dns
    vip: 10.100.0.53
    port: 53
    protocol: udp
    backends: [{name: d1, address: 10.20.0.53, weight: 0}]
"""


def configs():
    # The unit tests' fixtures and the examples, as they are.
    top = os.path.dirname(os.path.dirname(HERE))
    for d in ("tests/unit/configs", "examples"):
        for name in sorted(os.listdir(os.path.join(top, d))):
            with open(os.path.join(top, d, name), "rb") as f:
                put("config", d.split("/")[-1] + "-" + name, f.read())
    put("config", "full", CONFIG_FULL)
    put("config", "minimal", b"interfaces: [{name: eth0}]\nservices:\n  - name: web\n"
        b"    vip: 10.0.0.1\n    port: 80\n    backends: [{name: b1, address: 10.0.0.2}]\n")
    put("config", "bad-port", b"interfaces: [{name: eth0}]\nservices:\n  - name: web\n"
        b"    vip: 10.0.0.1\n    port: 80x\n    backends: []\n")
    put("config", "two-docs", b"a: 1\n---\nb: 2\n")
    put("config", "syntax", b"services: [1\n")
    put("config", "empty", b"")
    put("config", "anchors", b"x: &a {name: b}\ninterfaces: [*a, *a]\n")


heads()
tokens()
tcpopts()
splices()
inserts()
slowpaths()
configs()
