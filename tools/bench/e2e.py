#!/usr/bin/env python3
"""End-to-end benchmark: source finality -> certificate -> delivery.

For each validator count, starts a fresh local network of real processes on
127.0.0.1 (N isthmusd, 2 isthmus-devchains, one `isthmus relay`), sends
messages from chain 1 to chain 2 at a steady rate for a fixed time, and
measures for every message, with this process's monotonic clock:

  final       the first time chain 1 reports the message's block as final
  certified   the first time validator 0 serves its delivery as ready
              (a certificate over a checkpoint that covers it)
  delivered   the first time chain 2's inbox reports it delivered (by the relayer)

It prints a table (latency p50/p99 from finality to certificate and to
delivery, sustained deliveries per second) and writes JSON. Every process is
stopped at the end; every wait is bounded. A benchmark, not a test: nothing
asserts a speed. Run it through tools/bench/e2e.

usage: e2e.py --bin DIR --isthmusd PATH --devchain PATH --output JSON
              [--n N ...] [--rate MSGS_PER_S] [--seconds S] [--base-port P]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def call(url, body=None, timeout=5):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.load(e)
        except Exception:
            return e.code, {}


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def wait_for(pred, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def run(args, n, base):
    tmp = tempfile.mkdtemp(prefix=f"isthmus-bench-e2e-{n}-")
    procs = []
    logs = []

    def spawn(name, cmd):
        log = open(os.path.join(tmp, name + ".log"), "wb")
        logs.append(log)
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))

    api = lambda i: f"http://127.0.0.1:{base + 100 + i}"
    rpc = lambda k: f"http://127.0.0.1:{base + 199 + k}"
    try:
        net = os.path.join(tmp, "net")
        subprocess.run([os.path.join(args.bin, "isthmus"), "testnet", "--validators", str(n), "--chains", "2",
                        "--output", net, "--base-port", str(base), "--kdf-fast"],
                       check=True, stdout=subprocess.DEVNULL)
        for k in (1, 2):
            spawn(f"chain{k}", [args.devchain, "--data", os.path.join(tmp, f"chain{k}"), "--chain-id", str(k),
                                "--listen", rpc(k), "--block-ms", str(args.block_ms), "--finality-depth", "2",
                                "--trust", os.path.join(net, "validator-set.json")])
        for i in range(n):
            spawn(f"node{i}", [args.isthmusd, "--home", os.path.join(net, f"node{i}")])
        relay = [os.path.join(args.bin, "isthmus"), "relay", "--state", os.path.join(tmp, "relay.json")]
        for i in range(n):
            relay += ["--validator", api(i)]
        for k in (1, 2):
            relay += ["--chain", f"{k}={rpc(k)}"]
        spawn("relayer", relay)
        wait_for(lambda: call(api(0) + "/v1/status")[1].get("height", 0) >= 3, 60, "the validators to commit")

        msgs = []        # (nonce, t_sent)
        final, cert, delivered = {}, {}, {}
        height_of = {}
        stop = threading.Event()

        def watch_final():
            # when chain 1's finalized height passes each message's block
            while not stop.is_set():
                try:
                    _, head = call(rpc(1) + "/v1/head")
                    fin = int(head["finalized_height"])
                    now = time.monotonic()
                    for nonce, h in list(height_of.items()):
                        if h <= fin and nonce not in final:
                            final[nonce] = now
                except Exception:
                    pass
                time.sleep(0.02)

        def watch_heights():
            # the block each message went into
            low = 1
            while not stop.is_set():
                try:
                    _, head = call(rpc(1) + "/v1/head")
                    top = int(head["height"])
                    if top >= low:
                        _, got = call(f"{rpc(1)}/v1/messages?from_height={low}&to_height={top}")
                        for m in got.get("messages", []):
                            height_of.setdefault(int(m["nonce"]), int(m["height"]))
                        low = top + 1
                except Exception:
                    pass
                time.sleep(0.02)

        def watch(kind, table, url_of):
            # messages of a route become ready and are delivered in nonce
            # order: ask about the lowest pending one, and on until one is not
            # there yet (a few requests per tick, not one per message)
            while not stop.is_set():
                pending = sorted(nonce for nonce, _ in msgs if nonce not in table)
                for nonce in pending:
                    try:
                        code, doc = call(url_of(nonce))
                    except Exception:
                        break
                    if (kind == "cert" and doc.get("status") == "ready") or \
                       (kind == "dlv" and doc.get("delivered")):
                        table[nonce] = time.monotonic()
                    else:
                        break
                time.sleep(0.05)

        threads = [threading.Thread(target=watch_final), threading.Thread(target=watch_heights),
                   threading.Thread(target=watch, args=("cert", cert, lambda x: f"{api(0)}/v1/deliveries/1/2/{x}")),
                   threading.Thread(target=watch, args=("dlv", delivered, lambda x: f"{rpc(2)}/v1/inbox/1/{x}"))]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        total = int(args.rate * args.seconds)
        for i in range(total):
            due = t0 + i / args.rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            code, m = call(rpc(1) + "/v1/messages",
                           {"dst_chain": 2, "recipient": "ab" * 32, "payload": f"{i:08x}"})
            if code in (200, 202):
                msgs.append((int(m["nonce"]), time.monotonic()))
        send_end = time.monotonic()
        deadline = send_end + 120
        while time.monotonic() < deadline and len(delivered) < len(msgs):
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        to_cert = [cert[x] - final[x] for x, _ in msgs if x in cert and x in final]
        to_dlv = [delivered[x] - final[x] for x, _ in msgs if x in delivered and x in final]
        send_to_dlv = [delivered[x] - ts for x, ts in msgs if x in delivered]
        last = max(delivered.values()) if delivered else t0
        return {
            "validators": n, "sent": len(msgs), "delivered": len(delivered),
            "rate_offered": args.rate, "seconds": args.seconds,
            "deliveries_per_s": len(delivered) / max(last - t0, 1e-9),
            "final_to_cert_ms": {"p50": ms(pct(to_cert, 50)), "p99": ms(pct(to_cert, 99))},
            "final_to_delivery_ms": {"p50": ms(pct(to_dlv, 50)), "p99": ms(pct(to_dlv, 99))},
            "send_to_delivery_ms": {"p50": ms(pct(send_to_dlv, 50)), "p99": ms(pct(send_to_dlv, 99))},
            "messages": [{"nonce": x, "final_ms": ms(final[x] - ts) if x in final else None,
                          "cert_ms": ms(cert[x] - ts) if x in cert else None,
                          "delivered_ms": ms(delivered[x] - ts) if x in delivered else None}
                         for x, ts in msgs],
        }
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
        if os.environ.get("ISTHMUS_BENCH_KEEP"):
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def free_base(base, n):
    """The first base port from `base` (in steps of 1000) whose ports are all
    free: validators, their APIs, the two chains."""
    import socket
    for b in range(base, 60000, 1000):
        ports = [b + i for i in range(n)] + [b + 100 + i for i in range(n)] + [b + 200, b + 201]
        try:
            for p in ports:
                with socket.socket() as s:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("127.0.0.1", p))
            return b
        except OSError:
            continue
    raise RuntimeError("no free ports")


def ms(x):
    return None if x is None else round(x * 1000.0, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="the build's src/cli directory (isthmus)")
    ap.add_argument("--isthmusd", required=True)
    ap.add_argument("--devchain", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--n", type=int, action="append")
    ap.add_argument("--rate", type=float, default=20.0, help="messages per second offered (default 20)")
    ap.add_argument("--seconds", type=float, default=15.0, help="sending time per run (default 15)")
    ap.add_argument("--block-ms", type=int, default=200, help="devchain block interval (default 200)")
    ap.add_argument("--base-port", type=int, default=41600)
    args = ap.parse_args()
    counts = args.n or [4, 7]
    results = []
    base = args.base_port
    for n in counts:
        base = free_base(base, n)
        results.append(run(args, n, base))
        base += 400
    fmt = "{:>3} {:>6} {:>9} {:>8} {:>14} {:>14} {:>14} {:>14}"
    print(fmt.format("n", "sent", "delivered", "dlv/s", "fin->cert p50", "fin->cert p99",
                     "fin->dlv p50", "fin->dlv p99"))
    for r in results:
        print(fmt.format(r["validators"], r["sent"], r["delivered"], f"{r['deliveries_per_s']:.1f}",
                         str(r["final_to_cert_ms"]["p50"]), str(r["final_to_cert_ms"]["p99"]),
                         str(r["final_to_delivery_ms"]["p50"]), str(r["final_to_delivery_ms"]["p99"])))
    print("(latencies in ms; offered rate %.0f msg/s for %.0f s; devchain blocks every %d ms, final 2 deep)"
          % (args.rate, args.seconds, args.block_ms))
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        json.dump({"benchmark": "e2e", "results": results}, f, indent=2)
        f.write("\n")
    print(f"JSON: {args.output}")


if __name__ == "__main__":
    main()
