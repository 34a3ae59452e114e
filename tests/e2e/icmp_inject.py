#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""icmp_inject.py - a router on the backend side reporting a smaller path MTU.

Run in a backend's namespace: sends the client an ICMP "fragmentation
needed" (IPv4) or "packet too big" (IPv6) with MTU, quoting a segment of
the client's connection as limpet forwards it to this backend (client ->
BACKEND:80, seq SEQ), as a router with that MTU toward the backend would.

  icmp_inject.py BACKEND CLIENT CPORT SEQ MTU
"""
import socket
import sys

from scapy.all import ICMP, IP, TCP, ICMPv6PacketTooBig, IPv6, conf, send

conf.verb = 0


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    backend, client = sys.argv[1:3]
    cport, seq, mtu = (int(a) for a in sys.argv[3:6])
    quote = TCP(sport=cport, dport=80, seq=seq, flags="PA", window=502) / (b"x" * 64)
    if ":" in client:
        # Through the kernel's raw ICMPv6 socket, which sums the message
        # with its pseudo-header and routes it (scapy's own IPv6 sending
        # resolves neighbours itself).
        msg = bytes(ICMPv6PacketTooBig(mtu=mtu) /
                    IPv6(src=client, dst=backend, hlim=63, plen=1400) / quote)
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.bind((backend, 0))
        s.sendto(msg, (client, 0))
        return
    else:
        pkt = (IP(src=backend, dst=client) / ICMP(type=3, code=4, nexthopmtu=mtu) /
               IP(src=client, dst=backend, ttl=63, flags="DF", len=1420) / quote)
    send(pkt)


if __name__ == "__main__":
    main()
