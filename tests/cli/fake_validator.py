#!/usr/bin/env python3
"""A validator's relayer API served from files, for tests of `isthmus relay`
without a cluster (tests/cli/test_relay_handover.sh): what the relayer reads
of a node (docs/api.md), nothing more.

  GET /v1/routes                     {"routes": [...]} from DIR/routes.json
  GET /v1/events?after=N&wait_ms=W   no events, at once ({"events": [], "last": 0, "boot": "fake"})
  GET /v1/deliveries/S/D/N           {"status": "ready", "delivery": HEX} from DIR/deliveries/S-D-N.hex,
                                     else {"status": "pending", ...}
  GET /v1/epochs/K                   DIR/epochs/K.json, else 404 not_found

With ?scheme=frost-ed25519, deliveries and epochs are read from
DIR/deliveries/S-D-N.frost.hex and DIR/epochs/K.frost.json instead (the
FROST certificates); ?scheme=multisig-secp256k1 is the default; another
value is 400 bad_request, as on a node. Every request line (path and query)
is appended to DIR/requests.log.

Files are read at every request, so a test changes an answer by changing a
file. Errors are the node's: {"error": {"code": ..., "message": ...}}.

usage: fake_validator.py DIR   (listens on 127.0.0.1, a free port, printed
as "listening on http://127.0.0.1:PORT" on stdout)
"""
import http.server
import json
import os
import re
import sys
import urllib.parse

DIR = sys.argv[1]


def read(path):
    try:
        with open(os.path.join(DIR, path)) as f:
            return f.read()
    except FileNotFoundError:
        return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self, what):
        self.reply(404, {"error": {"code": "not_found", "message": what}})

    def do_GET(self):
        try:
            with open(os.path.join(DIR, "requests.log"), "a") as f:
                f.write(self.path + "\n")
        except OSError:
            pass   # no DIR: a stand-in that serves nothing
        path, _, query = self.path.partition("?")
        scheme = urllib.parse.parse_qs(query).get("scheme", ["multisig-secp256k1"])[0]
        if scheme not in ("multisig-secp256k1", "frost-ed25519"):
            self.reply(400, {"error": {"code": "bad_request",
                                       "message": "scheme must be multisig-secp256k1 (the default) or frost-ed25519"}})
            return
        ext = ".frost" if scheme == "frost-ed25519" else ""
        if path == "/v1/routes":
            self.reply(200, read("routes.json") or {"routes": []})
            return
        if path == "/v1/events":
            self.reply(200, {"events": [], "last": "0", "boot": "fake"})
            return
        m = re.fullmatch(r"/v1/deliveries/(\d+)/(\d+)/(\d+)", path)
        if m:
            hexd = read("deliveries/%s-%s-%s%s.hex" % (m.groups() + (ext,)))
            if hexd is None:
                self.reply(200, {"status": "pending", "reason": "awaiting_certificate", "detail": "not in the files"})
            else:
                self.reply(200, {"status": "ready", "delivery": hexd.strip()})
            return
        m = re.fullmatch(r"/v1/epochs/(\d+)", path)
        if m:
            doc = read("epochs/%s%s.json" % (m.group(1), ext))
            if doc is None:
                self.not_found("epoch %s has not started" % m.group(1))
            else:
                self.reply(200, doc)
            return
        self.not_found("no such endpoint")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
server.serve_forever()
