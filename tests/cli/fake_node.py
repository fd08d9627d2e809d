#!/usr/bin/env python3
"""A stand-in for an isthmusd API, for the ledger commands' tests.

usage: fake_node.py DIR

Listens on 127.0.0.1 on a free port and writes the port to DIR/port once it
listens. Answers the routes the ledger commands read (docs/api.md) from fixed
data, and POST /v1/txs by decoding the transaction (proto/ledger.proto),
computing its id as wire/canonical.h does, checking its signature when the
'cryptography' module is there, and writing what it decoded to DIR/last_tx.json.

Behaviour is set by DIR/mode, read on every request (a word; default "ok"):
  ok        a submitted transaction is pending once, then committed, result ok
  fail      ... committed with result failed and a reason
  reject    POST /v1/txs answers 400 bad_request with a reason
  full      POST /v1/txs answers 503 unavailable
  dup       POST /v1/txs answers 409 conflict; the transaction then commits ok
  pending   a submitted transaction stays pending
  wrongid   POST /v1/txs answers another id
  garbage   every GET answers JSON of the wrong shape
  notjson   every GET answers text that is not JSON
The process runs until killed.
"""
import hashlib
import http.server
import json
import os
import struct
import sys

DIR = sys.argv[1]
NETWORK_ID = 1337
KEY_A = "aa" * 32
KEY_B = "bb" * 32
TXS = {}  # id -> number of GETs so far


def mode():
    try:
        with open(os.path.join(DIR, "mode")) as f:
            return f.read().strip() or "ok"
    except OSError:
        return "ok"


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def fields(b):
    out = {}
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
        else:
            raise ValueError("wire type %d" % wt)
        out[num] = v
    return out


KINDS = {10: (1, "transfer"), 11: (2, "register_validator"), 12: (3, "bond"), 13: (4, "unbond"),
         14: (5, "withdraw"), 15: (6, "unjail")}


def decode_tx(raw):
    f = fields(raw)
    tx = {"network_id": f.get(1, 0), "sender": f.get(2, b"").hex(), "nonce": f.get(3, 0), "fee": f.get(4, 0)}
    sig = f.get(5, b"")
    body_num = [k for k in f if k in KINDS]
    if len(body_num) != 1:
        raise ValueError("no body")
    kind, name = KINDS[body_num[0]]
    tx["kind"] = name
    body = fields(f[body_num[0]])
    sb = b"isthmus/tx/v1" + struct.pack(">Q", tx["network_id"]) + f.get(2, b"") + \
        struct.pack(">QQB", tx["nonce"], tx["fee"], kind)
    if name == "transfer":
        tx["to"], tx["amount"] = body.get(1, b"").hex(), body.get(2, 0)
        sb += body.get(1, b"") + struct.pack(">Q", tx["amount"])
    elif name in ("bond", "unbond"):
        tx["validator"], tx["amount"] = body.get(1, b"").hex(), body.get(2, 0)
        sb += body.get(1, b"") + struct.pack(">Q", tx["amount"])
    elif name == "register_validator":
        tx["node_key"], tx["attest_key"], tx["dkg_key"] = (body.get(k, b"").hex() for k in (1, 2, 3))
        tx["address"] = body.get(4, b"").decode()
        tx["commission_bps"] = body.get(5, 0)
        sb += body.get(1, b"") + body.get(2, b"") + body.get(3, b"") + \
            struct.pack(">II", tx["commission_bps"], len(body.get(4, b""))) + body.get(4, b"")
    tx["id"] = hashlib.sha256(sb + sig).hexdigest()
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        try:
            Ed25519PublicKey.from_public_bytes(f.get(2, b"")).verify(sig, sb)
            tx["signature"] = "valid"
        except Exception:
            tx["signature"] = "invalid"
    except ImportError:
        tx["signature"] = "unchecked"
    return tx


def validator_row(key, name, status, bonded):
    return {"node_key": key, "operator": key, "name": name, "attestation_key": "02" + "11" * 32,
            "dkg_key": "22" * 32, "address": "tcp://127.0.0.1:26610", "commission_bps": 500,
            "bonded": str(bonded), "status": status,
            "jailed_epoch": 5 if status == "jailed" else None, "unjail_epoch": 6 if status == "jailed" else None,
            "slashed": "0"}


def valset(epoch):
    return {"format": "isthmus-validator-set/v1", "network_id": str(NETWORK_ID), "epoch": str(epoch),
            "total_stake": "3000000",
            "validators": [{"index": 0, "name": "node0", "node_key": KEY_A, "attestation_key": "02" + "11" * 32,
                            "attestation_address": "0x0000000000000000000000000000000000000000",
                            "stake": "2000000"},
                           {"index": 1, "name": "node1", "node_key": KEY_B, "attestation_key": "03" + "11" * 32,
                            "attestation_address": "0x0000000000000000000000000000000000000000",
                            "stake": "1000000"}]}


def account(key):
    if key == KEY_A:
        return {"key": key, "balance": "123", "nonce": "4", "validator": KEY_A,
                "bonds": [{"validator": KEY_A, "amount": "2000000"}],
                "unbonding": [{"validator": KEY_A, "amount": "50", "release_epoch": 7}]}
    return {"key": key, "balance": "0", "nonce": "0", "validator": None, "bonds": [], "unbonding": []}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, obj, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message):
        self.send(status, {"error": {"code": code, "message": message}})

    def do_GET(self):
        m = mode()
        if m == "notjson":
            return self.send(200, None, raw=b"<html>hello</html>")
        if m == "garbage":
            return self.send(200, {"id": 5, "status": ["x"], "network_id": -1, "key": None, "epoch": "x",
                                   "validators": "none", "evidence": {}, "current": "x", "format": 1})
        p = self.path
        if p == "/v1/status":
            return self.send(200, {"version": "0.1.0", "chain_id": "isthmus-devnet", "network_id": str(NETWORK_ID),
                                   "node_key": KEY_A, "height": 42, "view": 57, "epoch": 3})
        if p.startswith("/v1/accounts/"):
            return self.send(200, account(p[len("/v1/accounts/"):]))
        if p.startswith("/v1/txs/"):
            tid = p[len("/v1/txs/"):]
            if tid not in TXS:
                return self.error(404, "not_found", "no such transaction")
            TXS[tid] += 1
            if m == "pending" or TXS[tid] < 2:
                return self.send(200, {"id": tid, "status": "pending"})
            out = {"id": tid, "status": "committed", "height": 123, "index": 2, "kind": "bond",
                   "sender": KEY_A, "nonce": "4", "result": "ok"}
            if m == "fail":
                out.update(result="failed", reason="insufficient balance: 10 < 60 (amount + fee)")
            return self.send(200, out)
        if p == "/v1/staking":
            return self.send(200, {"epoch": 3, "epoch_start_height": 61, "epoch_length_blocks": 30,
                                   "params": {"max_validators": 100, "min_stake": "1", "unbonding_epochs": 2,
                                              "slash_fraction_bps": 1000, "jail_missed_bps": 5000,
                                              "jail_cooldown_epochs": 1},
                                   "validators": [validator_row(KEY_A, "node0", "active", 2000000),
                                                  validator_row(KEY_B, None, "jailed", 1000000)]})
        if p == "/v1/validators" or p.startswith("/v1/validators?epoch="):
            return self.send(200, valset(p.split("=")[1] if "=" in p else 3))
        if p == "/v1/epochs":
            return self.send(200, {"current": 3, "start_height": 61, "epoch_length_blocks": 30})
        if p.startswith("/v1/epochs/"):
            n = int(p[len("/v1/epochs/"):])
            if n > 3:
                return self.error(404, "not_found", "no epoch %d yet" % n)
            return self.send(200, {"epoch": n, "start_height": 1 + 30 * n, "end_height": None if n == 3 else 30 * n + 30,
                                   "validator_set": valset(n),
                                   "handover": None if n == 3 else {"height": 30 * n + 30, "certificate": "00" * 70,
                                                                    "leaf": "33" * 32, "proof": {}}})
        if p == "/v1/evidence":
            return self.send(200, {"evidence": [{"id": "44" * 32, "kind": "double-vote", "offender": KEY_B,
                                                 "epoch": 2, "height": 77, "slashed": "100000"}]})
        return self.error(404, "not_found", "no such endpoint")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.path != "/v1/txs":
            return self.error(404, "not_found", "no such endpoint")
        try:
            tx = decode_tx(bytes.fromhex(json.loads(body)["tx"]))
        except Exception as e:  # a bad request, as the node would say
            return self.error(400, "bad_request", "bad transaction: %s" % e)
        with open(os.path.join(DIR, "last_tx.json"), "w") as f:
            json.dump(tx, f)
        m = mode()
        if m == "reject":
            return self.error(400, "bad_request", "nonce 3 already used (next is 5)")
        if m == "full":
            return self.error(503, "unavailable", "the mempool is full")
        TXS[tx["id"]] = 0
        if m == "dup":
            return self.error(409, "conflict", "this transaction is already waiting")
        if m == "wrongid":
            return self.send(202, {"id": "55" * 32})
        return self.send(202, {"id": tx["id"]})


def main():
    srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    tmp = os.path.join(DIR, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, os.path.join(DIR, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
