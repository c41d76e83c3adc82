#!/usr/bin/env python3
"""Measures the ways of storing salient positions (formats/pbllm.md) on a converted .pbllm file.

For every `pb` tensor it rebuilds the salient columns from the stored block counts and offsets and
prints, in bits per weight of the PB layers: 16-bit column indices, per-256-block 8-bit offsets with
16-bit block counts (the format's choice), a one-bit-per-weight bitmap, delta-coded gaps as bytes,
and each of those streams compressed with zstd -19 (the zstd command-line tool).
Usage: scripts/measure-salient-positions.py FILE.pbllm
"""
import json, struct, subprocess, sys

path = sys.argv[1]
data = open(path, "rb").read()
dir_off, dir_size = struct.unpack_from("<QQ", data, 32)
tensors = [t for t in json.loads(data[dir_off:dir_off + dir_size])["tensors"] if t["encoding"] == "pb"]

streams = {"u16 columns": bytearray(), "block offsets + counts": bytearray(), "bitmap": bytearray(), "byte gaps": bytearray()}
weights = 0
for t in tensors:
    k, n = t["shape"]
    weights += k * n
    part = lambda name: data[t["parts"][name]["offset"]:t["parts"][name]["offset"] + t["parts"][name]["size"]]
    counts = struct.unpack(f"<{len(part('salient_counts')) // 2}H", part("salient_counts"))
    offsets = part("salient_offsets")
    blocks = (k + 255) // 256
    e = 0
    for i in range(n):
        cols = []
        for b in range(blocks):
            for _ in range(counts[i * blocks + b]):
                cols.append(b * 256 + offsets[e]); e += 1
        streams["u16 columns"] += struct.pack(f"<{len(cols)}H", *cols)
        bits = bytearray((k + 7) // 8)
        for c in cols: bits[c // 8] |= 1 << (c % 8)
        streams["bitmap"] += bits
        prev = -1
        for c in cols:  # gap as bytes; 255 = "skip 255 columns, no entry"
            gap = c - prev - 1
            while gap >= 255: streams["byte gaps"].append(255); gap -= 255
            streams["byte gaps"].append(gap); prev = c
    streams["block offsets + counts"] += part("salient_counts") + offsets

def zstd(b):
    return len(subprocess.run(["zstd", "-19", "-c", "-q"], input=bytes(b), capture_output=True, check=True).stdout)

salient = sum(len(part) for part in [streams["u16 columns"]]) // 2
print(f"{path}: {len(tensors)} PB tensors, {weights} weights, {salient} salient ({100 * salient / weights:.2f}%)")
print("| encoding of salient positions | bits/weight | with zstd -19 |")
print("|---|---:|---:|")
for name, b in streams.items():
    print(f"| {name} | {8 * len(b) / weights:.3f} | {8 * zstd(b) / weights:.3f} |")
