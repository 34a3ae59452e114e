#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""http_peers.py - HTTP clients and a backend that behave as real peers do
and curl and nginx do not, for the end-to-end tests of HTTP mode.

  split-client HOST [--cookie C] [--pieces N] [--gap S] [--pad BYTES]
      one GET whose head goes in N writes (TCP_NODELAY) S seconds apart,
      the Cookie header (if any) in the last one; --pad adds BYTES bytes
      of headers (1000 a line) to the first piece. Prints "<seconds from the last write
      to the whole response> <status> <body> <Set-Cookie lines>".
  hold-client HOST SECONDS
      writes the first half of a request head and waits SECONDS before the
      rest; prints the status.
  ws-client HOST [--cookie C]
      a WebSocket upgrade; prints "<status> <Set-Cookie lines>" of the
      response head.
  split-server ADDR PORT NAME
      a backend answering each request with its name; every response head
      is written in two pieces, "HTTP/1.1 " and the rest, with a pause
      (TCP_NODELAY); a WebSocket upgrade is answered
      "101 Switching Protocols" the same way. Runs until killed.

Every wait is bounded; errors end with a message and exit status 1.
"""
import socket
import sys
import threading
import time


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)


def read_head(sock, deadline):
    """The response head (bytes up to its blank line) and what followed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            got = sock.recv(65536)
        except socket.timeout:
            die("no complete response head in time: %r" % buf[:200])
        if not got:
            die("connection closed before the head ended: %r" % buf[:200])
        buf += got
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def read_response(sock, deadline):
    head, body = read_head(sock, deadline)
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            got = sock.recv(65536)
        except socket.timeout:
            die("body incomplete in time")
        if not got:
            break
        body += got
    return head, body[:length]


def set_cookies(head):
    return [l for l in head.split("\r\n") if l.lower().startswith("set-cookie:")]


def connect(host):
    sock = socket.create_connection((host, 80), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def opt(args, name, default):
    if name in args:
        i = args.index(name)
        return args[i + 1]
    return default


def split_client(args):
    host = args[0]
    cookie = opt(args, "--cookie", "")
    pieces = int(opt(args, "--pieces", "3"))
    gap = float(opt(args, "--gap", "0.5"))
    pad = int(opt(args, "--pad", "0"))
    first = "GET / HTTP/1.1\r\nHost: %s\r\n" % host
    for i in range(0, pad, 1000):
        first += "X-Pad-%d: %s\r\n" % (i // 1000, "p" * min(1000, pad - i))
    last = ("Cookie: %s\r\n" % cookie if cookie else "") + "\r\n"
    middle = ["User-Agent: split-client\r\n", "Accept: */*\r\n"]
    parts = [first] + middle[: max(0, pieces - 2)] + [last]
    sock = connect(host)
    for i, part in enumerate(parts):
        if i:
            time.sleep(gap)
        sock.sendall(part.encode())
    sent = time.monotonic()
    head, body = read_response(sock, sent + 15)
    took = time.monotonic() - sent
    status = head.split("\r\n")[0].split(" ")[1]
    print("%.3f %s %s %s" % (took, status, body.decode().strip(),
                             "|".join(set_cookies(head)) or "-"))


def hold_client(args):
    host, wait = args[0], float(args[1])
    sock = connect(host)
    sock.sendall(b"GET / HTTP/1.1\r\n")
    time.sleep(wait)
    sock.sendall(("Host: %s\r\n\r\n" % host).encode())
    head, _ = read_response(sock, time.monotonic() + 15)
    print(head.split("\r\n")[0].split(" ")[1])


def ws_client(args):
    host = args[0]
    cookie = opt(args, "--cookie", "")
    req = ("GET /chat HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n" % host)
    if cookie:
        req += "Cookie: %s\r\n" % cookie
    sock = connect(host)
    sock.sendall((req + "\r\n").encode())
    head, _ = read_head(sock, time.monotonic() + 15)
    status = head.split("\r\n")[0].split(" ")[1]
    print("%s %s" % (status, "|".join(set_cookies(head)) or "-"))


def serve_one(conn, name):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.settimeout(30)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                got = conn.recv(65536)
                if not got:
                    return
                buf += got
            head, buf = buf.split(b"\r\n\r\n", 1)
            lower = head.decode("latin-1").lower()
            if "upgrade: websocket" in lower:
                rest = ("101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
                body = None
            else:
                body = (name + "\n").encode()
                rest = "200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body)
            conn.sendall(b"HTTP/1.1 ")
            time.sleep(0.2)
            conn.sendall(rest.encode() + (body or b""))
            if body is None:
                # The upgraded connection: hold it until the client goes.
                while conn.recv(65536):
                    pass
                return
    except OSError:
        return
    finally:
        conn.close()


def split_server(args):
    addr, port, name = args[0], int(args[1]), args[2]
    srv = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(128)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve_one, args=(conn, name), daemon=True).start()


def main():
    cmds = {"split-client": split_client, "hold-client": hold_client, "ws-client": ws_client,
            "split-server": split_server}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        die(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
