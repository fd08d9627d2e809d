#!/usr/bin/env python3
"""Independent recomputation of the golden values of tests/wire/test_wire.c.

Builds every canonical layout of docs/protocol-wire.md from the sample values
of tests/wire/samples.c with nothing but struct and hashlib, and prints the
hex strings that test_wire.c pins. Not run by the build: run it by hand after
a deliberate protocol change and compare.
"""
import hashlib
import struct


def fill(n, start):
    return bytes((start + i) & 0xff for i in range(n))


def be32(v):
    return struct.pack('>I', v)


def be64(v):
    return struct.pack('>Q', v)


def var(b):
    return be32(len(b)) + b


def sha(b):
    return hashlib.sha256(b).hexdigest()


NET = 7

# ---- message (sample_message(m, 5)) ----
payload = bytes((i * 31 + 7) & 0xff for i in range(5))
msg = (be64(1) + be64(2) + be64(9) + fill(32, 0x11) + fill(32, 0x22) + be64(1000) + var(payload))
print('message canonical', msg.hex())
print('message id       ', sha(b'isthmus/msg/v1' + msg))


# ---- checkpoint (sample_checkpoint(cp, 0)) ----
def checkpoint(seed):
    return (b'isthmus/checkpoint/v1' + be64(1) + be64(2) + be64(1000 + seed) + be64(10 + seed)
            + fill(32, 0xa0 + seed))


cp = checkpoint(0)
print('checkpoint bytes ', cp.hex(), len(cp))
print('checkpoint leaf  ', sha(b'\x00' + cp))

# ---- attestation (network 7, epoch 2, height 100, root fill 0x33) ----
att = b'isthmus/attest/v1' + be64(NET) + be64(2) + be64(100) + fill(32, 0x33)
print('attest bytes     ', att.hex(), len(att))
print('attest digest    ', sha(att))

# ---- vote (sample_vote) ----
vote = b'isthmus/vote/v1' + be64(NET) + be64(2) + be64(42) + fill(32, 0)
print('vote bytes       ', vote.hex(), len(vote))

# ---- timeout (sample_timeout: epoch 2, view 43, high_qc.view 41) ----
tmo = b'isthmus/timeout/v1' + be64(NET) + be64(2) + be64(43) + be64(41)
print('timeout bytes    ', tmo.hex(), len(tmo))


# ---- transactions (sample_tx) ----
def tx_head(kind, nonce=3):
    return b'isthmus/tx/v1' + be64(NET) + fill(32, 0x66) + be64(nonce) + be64(10) + bytes([kind])


transfer = tx_head(1) + fill(32, 0x88) + be64(500)
print('tx transfer bytes', transfer.hex(), len(transfer))
print('tx transfer id   ', sha(transfer + fill(64, 0x77)))
addr = b'tcp://10.0.0.1:7000'
register = tx_head(2) + fill(32, 1) + fill(33, 2) + fill(32, 3) + be32(250) + var(addr)
print('tx register bytes', register.hex(), len(register))
print('tx register id   ', sha(register + fill(64, 0x77)))
withdraw = tx_head(5)
print('tx withdraw id   ', sha(withdraw + fill(64, 0x77)))

# ---- block (sample_block(b, 3)): checkpoint(0), transfer tx with nonce 4,
# evidence "evidence" ----
tx1 = tx_head(1, nonce=4) + fill(32, 0x88) + be64(500) + fill(64, 0x77)
payload = (be32(3)
           + bytes([1]) + var(checkpoint(0))
           + bytes([2]) + var(tx1)
           + bytes([3]) + var(b'evidence'))
payload_hash = hashlib.sha256(payload).digest()
print('block payload hash', payload_hash.hex())
header = (b'isthmus/block/v1' + be64(NET) + be64(2) + be64(42) + be64(17) + fill(32, 0x20)
          + be32(3) + be64(1700000000000) + be64(2) + be64(41) + fill(32, 0x20) + payload_hash)
print('block header     ', header.hex(), len(header))
block_id = hashlib.sha256(header).digest()
print('block id         ', block_id.hex())

# batch root of a block with one checkpoint: the leaf hash itself
# ---- proposal (sample_proposal(p, 3, with_tc): tc.view 43) ----
prop = (b'isthmus/proposal/v1' + be64(NET) + be64(2) + be64(42) + be64(17) + block_id
        + b'\x01' + be64(43))
print('proposal bytes   ', prop.hex(), len(prop))
