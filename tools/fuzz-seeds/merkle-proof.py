#!/usr/bin/env python3
"""Seed corpus of the 'merkle-proof' fuzz target (tests/crypto/fuzz_merkle_proof.c).

Reads tests/vectors/rfc9162-merkle.json and writes, into
tests/fuzz/corpus/merkle-proof/ (or the directory given as the only argument),
valid inclusion and consistency proofs of the vectors in the target's layout

    u64 index | u64 size | u64 size2 | leaf[32] | root1[32] | root2[32] | proof[32]*

(integers big-endian), and corrupted variants of them. Deterministic: the same
vectors give the same files. Only files named seed-* are written; stale seed-*
files are removed, any other file (an input found by fuzzing) is left alone.
"""
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VECTORS = os.path.join(ROOT, "tests", "vectors", "rfc9162-merkle.json")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus", "merkle-proof")
U64_MAX = (1 << 64) - 1
MAX_CONSISTENCY = 128


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def encode(index, size, size2, leaf, root1, root2, proof):
    return struct.pack(">QQQ", index, size, size2) + leaf + root1 + root2 + b"".join(proof)


def flip(h, bit):
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def seeds(vec):
    leaves = [leaf_hash(bytes.fromhex(x)) for x in vec["leaves"]]
    roots = [bytes.fromhex(x) for x in vec["roots"]]
    out = {}

    for t in vec["inclusion"]:
        i, n = t["leaf_index"], t["tree_size"]
        proof = [bytes.fromhex(x) for x in t["proof"]]
        name = "incl-%d-of-%d" % (i, n)
        args = (i, n, n, leaves[i], roots[n], roots[n])
        out[name + "-valid"] = encode(*args, proof)
        if (i, n) != (5, 8):
            continue
        # corruptions, of one proof with a sibling on each side
        out[name + "-flip-last"] = encode(*args, proof[:-1] + [flip(proof[-1], 255)])
        out[name + "-truncated"] = encode(*args, proof[:-1])
        out[name + "-extended"] = encode(*args, proof + [roots[n]])
        out[name + "-wrong-index"] = encode(i + 1, n, n, leaves[i], roots[n], roots[n], proof)
        out[name + "-wrong-size"] = encode(i, 2 * n, 2 * n, leaves[i], roots[n], roots[n], proof)

    for t in vec["consistency"]:
        m, n = t["size1"], t["size2"]
        proof = [bytes.fromhex(x) for x in t["proof"]]
        name = "cons-%d-to-%d" % (m, n)
        # the inclusion fields hold the first leaf, so both verifiers run
        args = (0, m, n, leaves[0], roots[m], roots[n])
        out[name + "-valid"] = encode(*args, proof)
        if m == n:
            out[name + "-extended"] = encode(*args, proof + [roots[m]])
        if (m, n) != (6, 8):
            continue
        out[name + "-swapped-roots"] = encode(0, m, n, leaves[0], roots[n], roots[m], proof)
        out[name + "-swapped-sizes"] = encode(0, n, m, leaves[0], roots[m], roots[n], proof)
        out[name + "-flip-first"] = encode(*args, [flip(proof[0], 0)] + proof[1:])
        out[name + "-drop-first"] = encode(*args, proof[1:])
        out[name + "-size1-zero"] = encode(0, 0, n, leaves[0], roots[0], roots[n], proof)
        out[name + "-extended"] = encode(*args, proof + [roots[m]])

    # edges: the largest sizes and indices, the longest proof read, an input
    # shorter than the header, a trailing partial hash
    full = [roots[8]] * (MAX_CONSISTENCY + 3)
    out["edge-max-sizes"] = encode(U64_MAX - 1, U64_MAX, U64_MAX, leaves[0], roots[8], roots[8], full[:64])
    out["edge-long-proof"] = encode(0, 1, U64_MAX, leaves[0], roots[1], roots[8], full)
    out["edge-empty-trees"] = encode(0, 0, 0, leaves[0], roots[0], roots[0], [])
    out["edge-short"] = encode(0, 8, 8, leaves[0], roots[8], roots[8], [])[:-1]
    out["edge-partial-hash"] = encode(2, 3, 3, leaves[2], roots[3], roots[3], [roots[2]]) + b"\x01\x02\x03"
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else OUT
    with open(VECTORS) as f:
        vec = json.load(f)
    files = seeds(vec)
    os.makedirs(out_dir, exist_ok=True)
    for old in sorted(os.listdir(out_dir)):
        if old.startswith("seed-") and old[len("seed-"):] not in files:
            os.remove(os.path.join(out_dir, old))
    for name in sorted(files):
        with open(os.path.join(out_dir, "seed-" + name), "wb") as f:
            f.write(files[name])
    print("%d seeds in %s" % (len(files), out_dir))


if __name__ == "__main__":
    main()
