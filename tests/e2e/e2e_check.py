#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""e2e_check.py - assertions of the end-to-end tests over sweep output and status JSON.

A sweep file holds lab_sweep's lines "ADDRESS RC HTTP_CODE BODY [ERROR]" (BODY
with newlines written as \\n), maybe ending in "ABORT". A map file holds
"ADDRESS BACKEND" lines. Each subcommand exits 0 when the check holds
(printing a short summary), or 1 with the reason on the last line of stdout.
"""

import argparse
import json
import re
import sys
from collections import Counter, defaultdict

BODY_RE = re.compile(r"^(b[0-9]+)\\n$")


def die(msg):
    print(msg)
    sys.exit(1)


def read_sweep(path, backends):
    """Return {address: [backend, ...]} after checking every request succeeded."""
    per_addr = defaultdict(list)
    failed, total, aborted = [], 0, False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line == "ABORT":
                aborted = True
                continue
            total += 1
            addr, rc, code, body, *err = line.split(" ", 4)
            if rc != "0" or code != "200":
                why = f": {err[0]}" if err and err[0] else ""
                failed.append(f"{addr} (curl exit {rc}, HTTP {code}{why})")
                continue
            m = BODY_RE.match(body)
            if not m or (backends and m.group(1) not in backends):
                die(f"{addr}: response body {body!r} is not exactly a backend name plus newline")
            per_addr[addr].append(m.group(1))
    if failed or aborted:
        more = " (sweep aborted)" if aborted else ""
        die(f"{len(failed)} of {total} requests through the VIP failed{more}, first: {failed[0]}"
            if failed else "sweep aborted")
    if not per_addr:
        die("no requests in sweep output")
    return per_addr


def consistent_map(per_addr):
    out = {}
    for addr, seen in per_addr.items():
        kinds = sorted(set(seen))
        if len(kinds) != 1:
            die(f"client {addr} reached several backends over {len(seen)} connections: "
                + ",".join(seen))
        out[addr] = kinds[0]
    return out


def read_map(path):
    with open(path) as f:
        return dict(line.split() for line in f if line.strip())


def tally(mapping, backends):
    c = Counter(mapping.values())
    return " ".join(f"{b}={c.get(b, 0)}" for b in backends)


def cmd_affinity(a):
    backends = a.backends.split(",")
    per_addr = read_sweep(a.sweep, backends)
    mapping = consistent_map(per_addr)
    n = len(mapping)
    reqs = sum(len(v) for v in per_addr.values())
    c = Counter(mapping.values())
    print(f"{n} addresses, {reqs} requests, per backend: {tally(mapping, backends)}")
    if a.map_out:
        with open(a.map_out, "w") as f:
            for addr, b in mapping.items():
                f.write(f"{addr} {b}\n")
    if a.expect and n != a.expect:
        die(f"expected {a.expect} client addresses in the sweep, saw {n}")
    if a.need_all:
        for b in backends:
            if c.get(b, 0) == 0:
                die(f"backend {b} received no clients ({tally(mapping, backends)})")
    if a.max_share < 1:
        for b, k in c.items():
            if k > a.max_share * n:
                die(f"backend {b} got {k} of {n} addresses (> {a.max_share:.0%}; "
                    f"{tally(mapping, backends)})")
    if a.avoid and c.get(a.avoid, 0):
        bad = sorted(x for x, b in mapping.items() if b == a.avoid)
        die(f"{c[a.avoid]} new clients reached {a.avoid}, e.g. {bad[0]}")
    if a.reach and not c.get(a.reach, 0):
        die(f"no client reached {a.reach} ({tally(mapping, backends)})")


def cmd_scale_add(a):
    before, after = read_map(a.before), read_map(a.after)
    if set(before) != set(after):
        die("the two sweeps cover different addresses")
    moved = {x: (before[x], after[x]) for x in before if before[x] != after[x]}
    frac = len(moved) / len(before)
    print(f"add {a.new}: {len(moved)} of {len(before)} addresses moved ({frac:.3f}, "
          f"ideal {a.expect:.3f})")
    elsewhere = {x: m for x, m in moved.items() if m[1] != a.new}
    if elsewhere:
        x, (o, n) = sorted(elsewhere.items())[0]
        die(f"{len(elsewhere)} addresses moved between old backends, e.g. {x} {o}->{n}")
    if not 0.5 * a.expect <= frac <= 1.5 * a.expect:
        die(f"moved fraction {frac:.3f} outside [{0.5 * a.expect:.3f}, {1.5 * a.expect:.3f}]")


def cmd_scale_remove(a):
    before, after = read_map(a.before), read_map(a.after)
    if set(before) != set(after):
        die("the two sweeps cover different addresses")
    wrong = [x for x in before if before[x] != a.removed and before[x] != after[x]]
    if wrong:
        x = sorted(wrong)[0]
        die(f"{len(wrong)} addresses not on {a.removed} moved, e.g. {x} {before[x]}->{after[x]}")
    orphans = [x for x in before if before[x] == a.removed]
    still = [x for x in orphans if after[x] == a.removed]
    if still:
        die(f"{len(still)} addresses still reach removed backend {a.removed}, e.g. {still[0]}")
    dest = Counter(after[x] for x in orphans)
    print(f"remove {a.removed}: its {len(orphans)} addresses went to "
          + " ".join(f"{b}={k}" for b, k in sorted(dest.items())))
    if not orphans:
        die(f"no address was on {a.removed} before the removal")
    if len(dest) < a.min_spread:
        die(f"{a.removed}'s addresses went to {len(dest)} backend(s), expected >= {a.min_spread}")


def find_backend(status, service, backend):
    for s in status.get("services", []):
        if s.get("name") == service:
            for b in s.get("backends", []):
                if b.get("name") == backend:
                    return b
            return None
    die(f"service {service} not in status")


def cmd_field(a):
    with open(a.status) as f:
        b = find_backend(json.load(f), a.service, a.backend)
    if b is None:
        print("absent")
        return
    v = b.get(a.key)
    print(json.dumps(v) if not isinstance(v, str) else v)


VOLATILE = {"flows", "sessions"}


def strip(o):
    if isinstance(o, dict):
        return {k: strip(v) for k, v in o.items() if k not in VOLATILE}
    if isinstance(o, list):
        return [strip(v) for v in o]
    return o


def cmd_same_status(a):
    with open(a.a) as f:
        x = strip(json.load(f))
    with open(a.b) as f:
        y = strip(json.load(f))
    if x != y:
        die(f"limpet status --json changed (counters aside): {json.dumps(x, sort_keys=True)[:300]}"
            f" -> {json.dumps(y, sort_keys=True)[:300]}")


def endpoint(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def cmd_status_text(a):
    """`limpet status` shows each service and backend of `status --json`, in order."""
    with open(a.json) as f:
        status = json.load(f)
    with open(a.text) as f:
        lines = [ln.rstrip("\n") for ln in f]
    want = []
    for s in status["services"]:
        want.append(f"{s['name']}  {endpoint(s['vip'], s['port'])}/{s['protocol']}  "
                    f"{s['mode']} {s['forwarding']} {s['affinity']}")
        if s["backends"]:
            want.append(["BACKEND", "ADDRESS", "WEIGHT", "STATE", "FLOWS", "SESSIONS"])
        for b in s["backends"]:
            want.append([b["name"], endpoint(b["address"], b["port"]), str(b["weight"]),
                         b["state"], None, None])
    got = [ln for ln in lines if ln.strip() and ln != "  (no backends)"]
    if len(got) != len(want):
        die(f"limpet status printed {len(got)} lines, expected {len(want)}: {got[:4]}")
    for g, w in zip(got, want):
        if isinstance(w, str):
            if g != w:
                die(f"limpet status service line {g!r}, expected {w!r}")
            continue
        cells = g.split()
        ok = len(cells) == 6 and all(x is None or x == c for x, c in zip(w, cells))
        # flows and sessions move between the two calls: numbers, that is all
        if not ok or not all(c.isdigit() for c in cells[4:]) and w[0] != "BACKEND":
            die(f"limpet status backend line {g!r}, expected {w[:4]} and two counts")
    print(f"limpet status: {len(got)} lines match status --json")


def cmd_access_logs(a):
    """Every request logged by the backends came from a client address to <vip>."""
    seen = 0
    for path in a.logs:
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) < 4:
                    continue
                remote, server = fields[0], fields[2]
                if not (remote.startswith("10.10.1.") or remote.startswith("fd00:10::1:")):
                    die(f"{path}: request from {remote}, not a client address: {line.strip()}")
                want = a.vip6 if ":" in remote else a.vip4
                if server != want:
                    die(f"{path}: request to {server}, not the VIP {want} (not DSR?): "
                        f"{line.strip()}")
                seen += 1
    if seen < a.min:
        die(f"only {seen} requests in the backends' access logs, expected >= {a.min}")
    print(f"{seen} logged requests, all from client addresses to the VIP")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("affinity", help="sweep: all OK, each address on one backend, spread")
    s.add_argument("sweep")
    s.add_argument("--backends", required=True, help="comma-separated allowed backends")
    s.add_argument("--max-share", type=float, default=1.0)
    s.add_argument("--need-all", action="store_true", help="every backend gets a client")
    s.add_argument("--expect", type=int, default=0, help="number of addresses")
    s.add_argument("--avoid", help="no address may reach this backend")
    s.add_argument("--reach", help="some address must reach this backend")
    s.add_argument("--map-out", help="write ADDRESS BACKEND lines here")
    s.set_defaults(fn=cmd_affinity)

    s = sub.add_parser("scale-add")
    s.add_argument("before")
    s.add_argument("after")
    s.add_argument("--new", required=True)
    s.add_argument("--expect", type=float, required=True, help="ideal moved fraction")
    s.set_defaults(fn=cmd_scale_add)

    s = sub.add_parser("scale-remove")
    s.add_argument("before")
    s.add_argument("after")
    s.add_argument("--removed", required=True)
    s.add_argument("--min-spread", type=int, default=2)
    s.set_defaults(fn=cmd_scale_remove)

    s = sub.add_parser("status-text", help="limpet status text against status --json")
    s.add_argument("text")
    s.add_argument("json")
    s.set_defaults(fn=cmd_status_text)

    s = sub.add_parser("field", help="print a backend's field from status JSON")
    s.add_argument("status")
    s.add_argument("service")
    s.add_argument("backend")
    s.add_argument("key")
    s.set_defaults(fn=cmd_field)

    s = sub.add_parser("same-status", help="two status JSON files agree (counters aside)")
    s.add_argument("a")
    s.add_argument("b")
    s.set_defaults(fn=cmd_same_status)

    s = sub.add_parser("access-logs", help="DSR: backends saw client addresses and the VIP")
    s.add_argument("logs", nargs="+")
    s.add_argument("--vip4", required=True)
    s.add_argument("--vip6", required=True)
    s.add_argument("--min", type=int, default=1)
    s.set_defaults(fn=cmd_access_logs)

    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
