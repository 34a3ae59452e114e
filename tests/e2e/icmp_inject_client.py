#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""icmp_inject_client.py - a router on the client side reporting a smaller path MTU.

Run in the client namespace: sends the VIP, from ROUTER, an ICMP
"fragmentation needed" (IPv4) or "packet too big" (IPv6) with MTU, quoting a
segment of the connection as limpet sends it to the client (VIP:80 ->
CLIENT:CPORT, seq SEQ and ack ACK in the client's view), as a router with
that MTU toward the client would.

  icmp_inject_client.py ROUTER VIP CLIENT CPORT SEQ ACK MTU
"""
import socket
import sys

from scapy.all import ICMP, IP, TCP, ICMPv6PacketTooBig, IPv6, conf, send

conf.verb = 0


def main():
    if len(sys.argv) != 8:
        sys.exit(__doc__)
    router, vip, client = sys.argv[1:4]
    cport, seq, ack, mtu = (int(a) for a in sys.argv[4:8])
    quote = TCP(sport=80, dport=cport, seq=seq, ack=ack, flags="PA", window=502) / (b"x" * 64)
    if ":" in vip:
        # The kernel's raw ICMPv6 socket sums the message with its
        # pseudo-header and routes it.
        msg = bytes(ICMPv6PacketTooBig(mtu=mtu) /
                    IPv6(src=vip, dst=client, hlim=63, plen=1400) / quote)
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.bind((router, 0))
        s.sendto(msg, (vip, 0))
        return
    send(IP(src=router, dst=vip) / ICMP(type=3, code=4, nexthopmtu=mtu) /
         IP(src=vip, dst=client, ttl=63, flags="DF", len=1420) / quote)


if __name__ == "__main__":
    main()
