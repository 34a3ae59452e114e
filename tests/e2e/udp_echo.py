#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""udp_echo.py - the UDP end of the e2e tests.

  udp_echo.py serve NAME [--port P]
      answer every datagram with NAME (one per backend namespace)
  udp_echo.py query VIP PORT ADDRESS... [--repeat R] [--timeout S]
      from each client ADDRESS, R times with a fresh socket (new source
      port), send a datagram to VIP:PORT; print one line per query:
      "ADDRESS REPLY FROM_ADDRESS FROM_PORT", or "ADDRESS - - -" on timeout
"""

import argparse
import socket
import sys


def serve(a):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", a.port))
    reply = a.name.encode()
    while True:
        _, peer = s.recvfrom(2048)
        s.sendto(reply, peer)


def query(a):
    for addr in a.addresses:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        for i in range(a.repeat):
            reply = None
            for _ in range(3):  # UDP: retry a lost datagram
                s = socket.socket(fam, socket.SOCK_DGRAM)
                s.settimeout(a.timeout)
                s.bind((addr, 0))
                try:
                    s.sendto(f"hello {i}".encode(), (a.vip, a.port))
                    data, peer = s.recvfrom(2048)
                    reply = (data.decode(errors="replace") or "-", peer[0], peer[1])
                    break
                except (socket.timeout, OSError):
                    pass
                finally:
                    s.close()
            if reply:
                print(f"{addr} {reply[0]} {reply[1]} {reply[2]}")
            else:
                print(f"{addr} - - -")
            sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("name")
    s.add_argument("--port", type=int, default=5353)
    s.set_defaults(fn=serve)
    s = sub.add_parser("query")
    s.add_argument("vip")
    s.add_argument("port", type=int)
    s.add_argument("addresses", nargs="+")
    s.add_argument("--repeat", type=int, default=3)
    s.add_argument("--timeout", type=float, default=1.0)
    s.set_defaults(fn=query)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
