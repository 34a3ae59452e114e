#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""icmp_client.py - one keep-alive HTTP connection held open for an ICMP test.

Run in the client namespace: connects from SRC to VIP:80, makes a request,
prints "PORT SND_NXT RCV_NXT BODY" (its local port, its next sequence
number and the next it expects from the VIP, as sniffed on its interface,
the backend that answered), waits until the file
GO exists (at most 30 s), then makes a second request on the same socket and
prints its body. Exits 1 with the reason on the last line.

  icmp_client.py SRC VIP GO [IFACE]
"""
import http.client
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the tree
from rst_client import Seen, fail, request  # noqa: E402


def main():
    if len(sys.argv) < 4:
        fail(__doc__)
    src, vip, go = sys.argv[1:4]
    iface = sys.argv[4] if len(sys.argv) > 4 else "cli0"
    family = socket.AF_INET6 if ":" in vip else socket.AF_INET

    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((src, 0))
    lport = sock.getsockname()[1]
    seen = Seen(iface, src, lport)
    sock.settimeout(5)
    sock.connect((vip, 80))
    conn = http.client.HTTPConnection(vip, 80, timeout=5)
    conn.sock = sock
    body = request(conn)
    time.sleep(0.3)
    seen.stop()
    if seen.snd_nxt is None or seen.rcv_nxt is None:
        fail("sniffed none of the client's segments, or none of the VIP's")
    print(f"{lport} {seen.snd_nxt} {seen.rcv_nxt} {body}", flush=True)
    end = time.time() + 30
    while not os.path.exists(go):
        if time.time() > end:
            fail("never told to go on")
        time.sleep(0.1)
    try:
        again = request(conn)
    except (OSError, http.client.HTTPException) as e:
        fail(f"second request failed: {e!r}")
    print(again)


if __name__ == "__main__":
    main()
