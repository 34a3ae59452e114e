#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""rst_client.py - spoofed RSTs against a live keep-alive HTTP connection.

Run in the client namespace: opens one keep-alive connection from SRC to
VIP:80, learns the client's next sequence number and the peer's by
sniffing its own segments (scapy), then sends RSTs from the client's
address and port with scapy's raw sockets, as an off-path attacker who
guessed the port would:

  spoofed   RST at snd_nxt + 2^31, RST at snd_nxt + 3000 and RST|ACK at
            snd_nxt + 1; after each the connection must still serve a
            request, on the same socket, from the same backend.
  exact     one RST at snd_nxt; the connection must be gone: the next
            request on the socket gets no answer.
  binding   while limpet holds the first part of the request head (it is
            still choosing the backend): RST at snd_nxt + 3000, RST|ACK at
            snd_nxt + 1, RST at snd_nxt + 2^31 and a SYN; then the rest of
            the head must still be answered (200).
  binding-exact
            the same, with one RST at snd_nxt: the rest of the head must
            get no answer.

Prints one line per step; exits 1 with the reason on the last line.

  rst_client.py spoofed|exact|binding|binding-exact SRC VIP [IFACE]
"""
import http.client
import socket
import sys
import time

from scapy.all import IP, IPv6, TCP, AsyncSniffer, conf, send

conf.verb = 0


def fail(msg):
    print(msg)
    sys.exit(1)


def request(conn):
    conn.request("GET", "/", headers={"Host": "lab"})
    resp = conn.getresponse()
    body = resp.read().decode().strip()
    if resp.status != 200:
        fail(f"status {resp.status}")
    return body


def later(cur, seq):
    """The later of two sequence numbers (modulo 2^32); cur may be None."""
    if cur is None or ((seq - cur) & 0xffffffff) < 0x80000000:
        return seq
    return cur


class Seen:
    """The client's segments of one connection, as sniffed on its interface."""

    def __init__(self, iface, src, lport):
        self.src, self.lport = src, lport
        self.snd_nxt = None
        self.rcv_nxt = None
        self.sniffer = AsyncSniffer(iface=iface, filter="tcp port 80", store=False,
                                    prn=self.packet)
        self.sniffer.start()
        time.sleep(0.5)

    def packet(self, p):
        if TCP not in p:
            return
        t = p[TCP]
        ip = p[IPv6] if IPv6 in p else p[IP] if IP in p else None
        if ip is None:
            return
        end = (t.seq + len(bytes(t.payload)) + (1 if t.flags.F else 0)) & 0xffffffff
        if ip.src == self.src and t.sport == self.lport:
            self.snd_nxt = later(self.snd_nxt, end)
        elif ip.dst == self.src and t.dport == self.lport:
            self.rcv_nxt = later(self.rcv_nxt, end)

    def stop(self):
        self.sniffer.stop()


def spoof(src, vip, lport, flags, seq, ack=0):
    l3 = IPv6(src=src, dst=vip) if ":" in vip else IP(src=src, dst=vip)
    send(l3 / TCP(sport=lport, dport=80, flags=flags, seq=seq, ack=ack, window=0))


def binding(mode, sock, seen, src, vip, lport):
    """Spoofed or exact RSTs while limpet holds a partial request head."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n")
    time.sleep(0.5)
    if seen.snd_nxt is None:
        fail("sniffed none of the client's segments")
    if mode == "binding":
        for name, flags, off in (("RST at snd_nxt + 3000", "R", 3000),
                                 ("RST|ACK at snd_nxt + 1", "RA", 1),
                                 ("RST at snd_nxt + 2^31", "R", 0x80000000),
                                 ("SYN", "S", 0x12345)):
            spoof(src, vip, lport, flags, (seen.snd_nxt + off) & 0xffffffff,
                  seen.rcv_nxt or 0)
            time.sleep(0.2)
            print(f"sent {name} while the head was held")
    else:
        spoof(src, vip, lport, "R", seen.snd_nxt)
        time.sleep(0.3)
        print("sent an RST at snd_nxt while the head was held")
    sock.sendall(b"Accept: */*\r\n\r\n")
    start = time.time()
    resp = http.client.HTTPResponse(sock)
    sock.settimeout(3)
    try:
        resp.begin()
        body = resp.read().decode().strip()
    except (OSError, http.client.HTTPException) as e:
        if mode == "binding":
            fail(f"the rest of the head got no answer: {e!r}")
        print(f"the rest of the head got no answer ({type(e).__name__})")
        return
    if mode != "binding":
        fail(f"after the exact RST: still answered, {resp.status} {body}")
    if resp.status != 200:
        fail(f"status {resp.status}")
    print(f"answered by {body} {time.time() - start:.2f}s after the rest of the head")


def main():
    if len(sys.argv) < 4:
        fail(__doc__)
    mode, src, vip = sys.argv[1:4]
    iface = sys.argv[4] if len(sys.argv) > 4 else "cli0"
    family = socket.AF_INET6 if ":" in vip else socket.AF_INET

    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((src, 0))
    lport = sock.getsockname()[1]
    seen = Seen(iface, src, lport)
    sock.settimeout(5)
    sock.connect((vip, 80))
    if mode.startswith("binding"):
        binding(mode, sock, seen, src, vip, lport)
        seen.stop()
        return
    conn = http.client.HTTPConnection(vip, 80, timeout=5)
    conn.sock = sock
    body = request(conn)
    print(f"port {lport}: first request answered by {body}")

    if mode == "spoofed":
        for name, flags, off in (("RST at snd_nxt + 2^31", "R", 0x80000000),
                                 ("RST at snd_nxt + 3000", "R", 3000),
                                 ("RST|ACK at snd_nxt + 1", "RA", 1)):
            time.sleep(0.3)
            if seen.snd_nxt is None:
                fail("sniffed none of the client's segments")
            spoof(src, vip, lport, flags, (seen.snd_nxt + off) & 0xffffffff,
                  seen.rcv_nxt or 0)
            time.sleep(0.3)
            try:
                again = request(conn)
            except (OSError, http.client.HTTPException) as e:
                fail(f"after {name}: the connection broke: {e!r}")
            if sock.getsockname()[1] != lport or again != body:
                fail(f"after {name}: answered by {again} on port {sock.getsockname()[1]}")
            print(f"after {name}: still served by {again}")
    else:
        time.sleep(0.3)
        if seen.snd_nxt is None:
            fail("sniffed none of the client's segments")
        spoof(src, vip, lport, "R", seen.snd_nxt)
        time.sleep(0.3)
        sock.settimeout(3)
        try:
            again = request(conn)
        except (OSError, http.client.HTTPException) as e:
            print(f"after the exact RST: the connection is gone ({type(e).__name__})")
        else:
            fail(f"after the exact RST: still served by {again}")
    seen.stop()


if __name__ == "__main__":
    main()
