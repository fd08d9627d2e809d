#!/usr/bin/env python3
"""A source-chain RPC that lies: a proxy in front of an isthmus-devchain that
changes the payload of every message it reports (and recomputes the message
id, so the lie is self-consistent and only a comparison with the real chain
shows it). Test fixture for tests/node/test_node_attest.sh.

usage: lying_rpc.py LISTEN_PORT UPSTREAM_URL   (listens on 127.0.0.1 only)
"""
import hashlib
import http.server
import json
import struct
import sys
import urllib.error
import urllib.request

PORT = int(sys.argv[1])
UPSTREAM = sys.argv[2].rstrip("/")


def message_id(m):
    p = bytes.fromhex(m["payload"])
    b = (b"isthmus/msg/v1" + struct.pack(">QQQ", int(m["src_chain"]), int(m["dst_chain"]), int(m["nonce"]))
         + bytes.fromhex(m["sender"]) + bytes.fromhex(m["recipient"]) + struct.pack(">Q", int(m["value"]))
         + struct.pack(">I", len(p)) + p)
    return hashlib.sha256(b).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        try:
            with urllib.request.urlopen(UPSTREAM + self.path, timeout=5) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        except Exception:
            self.send_error(502)
            return
        if status == 200 and self.path.startswith("/v1/blocks/"):
            doc = json.loads(body)
            for m in doc.get("messages", []):
                m["payload"] = m["payload"] + "ff"
                m["id"] = message_id(m)
            body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
