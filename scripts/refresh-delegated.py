#!/usr/bin/env python3
"""Builds data/delegated/delegated-ipv4-snapshot.txt.gz, the bundled RIR snapshot
that `ipcrawl::delegated::bundled()` loads and the local RDAP world is built from.

Usage: scripts/refresh-delegated.py [SHARED_DELEGATED_DIR] [OUT.gz]
Defaults: ../shared/data/delegated (relative to the repository) and
data/delegated/delegated-ipv4-snapshot.txt.gz. Deterministic: same inputs, same bytes.

Output: RIR statistics exchange format, ipv4 records only, one per line:
    registry|cc|ipv4|start|value|date|status|holder
`date` and `holder` may be empty. Comment lines start with '#'.

* afrinic, apnic, lacnic: the real files, ipv4 records as they are (all statuses).
  Holder ids kept (AFRINIC hex, LACNIC numbers; APNIC's file has none).
* ripencc: the real truncated file (allocated records up to its last line), holder
  UUIDs shortened to their first 8 hex digits; beyond the truncation point, derived
  blocks (below) with cc from ipverse and no date/holder.
* arin: no file exists here; derived blocks only.

Derived blocks: each ipverse aggregated prefix (allocated+assigned, per country) is
cut by the ipv6calc registry ranges (which RIR administers what); the ARIN pieces, and
the RIPE NCC pieces past the truncated file's end, are decomposed into CIDR blocks
(never crossing a /8) and each block is split further by a deterministic hash-driven
rule (keep a block whole with a probability that grows with its prefix length, else
halve it), which gives record-like sizes: many /22-/24, some large legacy blocks.
"""
import gzip
import hashlib
import ipaddress
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "delegated")
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "data", "delegated", "delegated-ipv4-snapshot.txt.gz")

FILES = {
    "afrinic": "delegated-afrinic-extended-latest.txt",
    "apnic": "delegated-apnic-latest.txt",
    "lacnic": "delegated-lacnic-extended-latest.txt",
    "ripencc": "delegated-ripencc-extended-latest.truncated.txt",
}
IPVERSE = "substitutes/ipverse-rir-ip-country-ipv4-aggregated-20260201.txt"
IPV6CALC = "substitutes/ipv4-registry-ranges.ipv6calc-20250914.txt"


def a2i(s):
    return int(ipaddress.IPv4Address(s))


def i2a(i):
    return str(ipaddress.IPv4Address(i))


def real_records(name, path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            p = line.split("|")
            if len(p) < 7 or p[2] != "ipv4" or p[1] == "*" or p[3] == "*":
                continue
            holder = p[7] if len(p) > 7 else ""
            if name == "ripencc" and len(holder) == 36:
                holder = holder[:8]
            out.append([p[0], p[1], "ipv4", p[3], p[4], p[5], p[6], holder])
    return out


def cidrs(start, end):
    """Exact CIDR decomposition of start..end, never crossing a /8."""
    out = []
    cur = start
    while cur <= end:
        size = cur & -cur if cur else 1 << 32
        size = min(size, 1 << 24)
        while cur + size - 1 > end:
            size >>= 1
        out.append((cur, size))
        cur += size
    return out


def h(x, salt):
    d = hashlib.sha256(f"{salt}:{x}".encode()).digest()
    return int.from_bytes(d[:8], "big") / 2**64


def keep_prob(reg, plen):
    if plen >= 24:
        return 1.0
    if reg == "arin":
        return 0.35 if plen <= 15 else (0.5 if plen == 16 else 0.6)
    return 0.1 if plen <= 12 else (0.3 if plen <= 16 else (0.55 if plen <= 21 else 0.8))


def split(reg, start, size, out):
    plen = 32 - size.bit_length() + 1
    if h(f"{start}/{plen}", reg) < keep_prob(reg, plen):
        out.append((start, size))
        return
    half = size >> 1
    split(reg, start, half, out)
    split(reg, start + half, half, out)


def derived(ripe_cut):
    ranges = []  # (first, last, rir)
    with open(os.path.join(SRC, IPV6CALC), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            a, b, r = line.strip().split("|")
            ranges.append((a2i(a), a2i(b), r.lower()))
    ranges.sort()
    starts = [r[0] for r in ranges]
    import bisect

    out = []
    with open(os.path.join(SRC, IPVERSE), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cc, cidr = line.strip().split("|")
            net = ipaddress.IPv4Network(cidr)
            s, e = int(net.network_address), int(net.broadcast_address)
            i = max(0, bisect.bisect_right(starts, s) - 1)
            while i < len(ranges) and ranges[i][0] <= e:
                a, b, rir = ranges[i]
                lo, hi = max(a, s), min(b, e)
                i += 1
                if lo > hi:
                    continue
                if rir == "ripencc":
                    lo = max(lo, ripe_cut)
                    if lo > hi:
                        continue
                elif rir != "arin":
                    continue
                reg = "arin" if rir == "arin" else "ripencc"
                for cs, size in cidrs(lo, hi):
                    pieces = []
                    split(reg, cs, size, pieces)
                    for ps, psize in pieces:
                        out.append([reg, cc, "ipv4", i2a(ps), str(psize), "", "allocated", ""])
    return out


def main():
    recs = []
    for name, fn in FILES.items():
        recs += real_records(name, os.path.join(SRC, fn))
    ripe = [r for r in recs if r[0] == "ripencc"]
    ripe_cut = max(a2i(r[3]) + int(r[4]) for r in ripe)
    recs += derived(ripe_cut)
    recs.sort(key=lambda r: (a2i(r[3]), r[0]))
    sha = {}
    for fn in list(FILES.values()) + [IPVERSE, IPV6CALC]:
        with open(os.path.join(SRC, fn), "rb") as f:
            sha[fn] = hashlib.sha256(f.read()).hexdigest()
    lines = ["# ipcrawl bundled delegated snapshot (ipv4 only); built by scripts/refresh-delegated.py; see data/SOURCES.md"]
    lines += [f"# input {fn} sha256 {d}" for fn, d in sha.items()]
    lines += [f"# ripencc real records end at {i2a(ripe_cut - 1)}; later ripencc and all arin records are derived"]
    lines += ["|".join(r) for r in recs]
    data = ("\n".join(lines) + "\n").encode()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0, filename="") as g:
            g.write(data)
    counts = {}
    addrs = {}
    for r in recs:
        counts[r[0]] = counts.get(r[0], 0) + 1
        if r[6] in ("allocated", "assigned"):
            addrs[r[0]] = addrs.get(r[0], 0) + int(r[4])
    print(f"{OUT}: {len(recs)} records, {len(data)} bytes raw, {os.path.getsize(OUT)} gzipped")
    for k in sorted(counts):
        print(f"  {k}: {counts[k]} records, {addrs.get(k, 0)} allocated+assigned addresses")


if __name__ == "__main__":
    main()
