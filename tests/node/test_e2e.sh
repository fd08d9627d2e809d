#!/usr/bin/env bash
# The whole loop as real processes on 127.0.0.1 (suite integration, TAP): 4
# isthmusd validators, 2 isthmus-devchain chains (with test hooks) and
# `isthmus relay`.
#
# Messages are sent both ways (1->2 and 2->1, $MSGS each, in two halves)
# while reorgs are injected on the source chains (POST /v1/test/reorg
# {"depth":1}); the relayer is SIGKILLed once some of the first half is
# delivered, and restarted on the same state file for the second half.
# Every message must then be in its destination's inbox exactly once: each
# nonce delivered with the id the source gave it, nothing beyond, and the
# inbox's count of accepted deliveries equal to the number sent (replays the
# restarted relayer causes are refused by the inbox, and counted as done).
# Deliveries from a node pass `isthmus verify` against the testnet's
# validator-set file and against the node's GET /v1/validators, and fail it
# with a byte flipped or another chain. With the validator the relayer uses
# SIGKILLed, new messages (sent with `isthmus send`) are still certified by
# the other three and delivered, the relayer having failed over. SIGTERM
# stops the relayer with status 0 and its state file (0600) says where every
# route is; `isthmus relay --once` on it then finds nothing to do. Last, with
# --once: a destination that trusts another validator set refuses a
# delivery, which is tried from a second validator before its route is
# blocked, and a destination that is down keeps its route waiting; the
# other route is served in both cases.
#
# Waiting is polling with a bound, never a fixed sleep as synchronisation;
# nothing asserts on timing. Every process is killed on exit (the harness:
# tests/node/harness.sh; the relayer's and the chains' logs are printed
# with the nodes' after a failure).
# One epoch for the whole run (--epoch-length 100000): this test checks
# deliveries against the genesis set file; epoch changes and the hand-overs
# destinations follow are tests/node/test_node_staking.sh's.
TEST_NAME=e2e
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
DC=${ISTHMUS_DEVCHAIN_BIN:?ISTHMUS_DEVCHAIN_BIN must point to isthmus-devchain}
N=4
MSGS=${ISTHMUS_E2E_MSGS:-200}
HALF=$((MSGS / 2))
EXTRA=10
# delivering hundreds of messages waits on many blocks of the cluster
DELIVER_S=${ISTHMUS_E2E_WAIT_S:-240}
# PIDS indices (lib.sh kills them all on exit): nodes 0..3, chains 8 and 9,
# the relayer 10, a chain 2 that trusts another validator set 11
RELAY=10

pick_base_port $N 2 || bail "no free base port found"
if "$BIN" testnet --validators $N --chains 2 --epoch-length 100000 --output "$T/net" --base-port "$BASE" --kdf-fast >"$T/testnet.out" 2>&1 </dev/null; then
	ok "isthmus testnet makes $N homes and 2 chains (base port $BASE)"
else
	bail "isthmus testnet failed: $(head -3 "$T/testnet.out")"
fi
chain() { echo "http://127.0.0.1:$((BASE + 199 + $1))"; }

# ---- chains and validators ----------------------------------------------------------

for k in 1 2; do
	"$DC" --data "$T/chain$k" --chain-id $k --listen "$(chain $k)" --block-ms 200 --finality-depth 2 \
		--trust "$T/net/validator-set.json" --test-hooks >>"$T/chain$k.log" 2>&1 </dev/null &
	PIDS[$((7 + k))]=$!
done
for i in $(seq 0 $((N - 1))); do start "$i"; done

# poll DESC SECONDS COMMAND...: until COMMAND succeeds (bounded)
poll() {
	local deadline=$(($2 + SECONDS))
	shift 2
	while [ $SECONDS -lt $deadline ]; do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
chain_up() { curl -sf --max-time 2 "$(chain "$1")/v1/head" >/dev/null; }
poll "chains" "$WAIT_S" chain_up 1 && poll "chains" "$WAIT_S" chain_up 2 || bail "the devchains do not start"
# shellcheck disable=SC2046
wait_heights 2 $(seq 0 $((N - 1))) || bail "the cluster does not commit"
ok "2 devchains and $N validators run"

# ---- the relayer ---------------------------------------------------------------------

RUNS=0
METRICS=
relay_args() {
	local i
	for i in $(seq 0 $((N - 1))); do printf -- '--validator\n%s\n' "$(api "$i")"; done
	printf -- '--chain\n1=%s\n--chain\n2=%s\n--state\n%s\n' "$(chain 1)" "$(chain 2)" "$T/relay.json"
}
mapfile -t RARGS < <(relay_args)
# relay_start: a relayer in the background (log $T/relay.N.log); METRICS is
# its /metrics URL once it serves it
relay_start() {
	RUNS=$((RUNS + 1))
	"$BIN" relay "${RARGS[@]}" --metrics-listen http://127.0.0.1:0 --wait-ms 2000 >"$T/relay.$RUNS.log" 2>&1 </dev/null &
	PIDS[$RELAY]=$!
	METRICS=
	local deadline=$((SECONDS + WAIT_S)) u
	while [ $SECONDS -lt $deadline ] && alive $RELAY; do
		u=$(sed -n 's/.*serving \/metrics on \(http:\/\/[0-9.:]*\)$/\1/p' "$T/relay.$RUNS.log")
		[ -n "$u" ] && { METRICS=$u; return 0; }
		sleep 0.05
	done
	return 1
}
# rmetric NAME: a series of the running relayer's /metrics
rmetric() { curl -s --max-time 5 "$METRICS/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
relay_start && ok "isthmus relay starts and serves /metrics" || bail "the relayer does not start: $(tail -3 "$T/relay.$RUNS.log")"

# ---- sending, with reorgs ----------------------------------------------------------

R32=3333333333333333333333333333333333333333333333333333333333333333
: >"$T/ids.1-2"
: >"$T/ids.2-1"
send_errors=0
reorgs=0
# send_one SRC DST I: one message with curl; "NONCE ID" appended to ids.SRC-DST
send_one() {
	local out
	out=$(curl -s --max-time 10 -X POST -d "{\"dst_chain\":$2,\"recipient\":\"$R32\",\"value\":$3,\"payload\":\"$(printf '%04x' "$3")\"}" \
		"$(chain "$1")/v1/messages")
	if ! printf '%s\n' "$out" | sed -n 's/.*"nonce":\([0-9]*\),.*"message_id":"\([0-9a-f]\{64\}\)".*/\1 \2/p' | grep . >>"$T/ids.$1-$2"; then
		send_errors=$((send_errors + 1))
		echo "# send $1->$2: $out"
	fi
}
reorg() {
	if curl -s --max-time 10 -X POST -d '{"depth":1}' "$(chain "$1")/v1/test/reorg" | grep -q '"replaced_from"'; then
		reorgs=$((reorgs + 1))
	fi
}
# send_range FROM TO: messages FROM..TO both ways, a reorg of each source
# every 20 messages
send_range() {
	local i
	for i in $(seq "$1" "$2"); do
		send_one 1 2 "$i"
		send_one 2 1 "$i"
		if [ $((i % 20)) -eq 10 ]; then reorg 1; reorg 2; fi
	done
}
# nonces_ok ROUTE COUNT: the ids file has nonces 0..COUNT-1 in order
nonces_ok() { [ "$(cut -d' ' -f1 "$T/ids.$1" | tr '\n' ' ')" = "$(seq -s ' ' 0 $(($2 - 1))) " ]; }

send_range 1 $HALF
if [ $send_errors -eq 0 ] && nonces_ok 1-2 $HALF && nonces_ok 2-1 $HALF && [ $reorgs -gt 0 ]; then
	ok "sent $HALF messages each way, nonces 0..$((HALF - 1)), with $reorgs reorgs of the sources"
else
	not_ok "sent $HALF messages each way with reorgs" "$send_errors send errors, $reorgs reorgs"
fi

# inbox_has CHAIN SRC NONCE: the inbox of CHAIN holds message NONCE of SRC
inbox_has() { curl -s --max-time 5 "$(chain "$1")/v1/inbox/$2/$3" | grep -q '"delivered":true'; }

# ---- SIGKILL of the relayer mid-way, and a restart --------------------------------------

if poll "deliveries" "$DELIVER_S" inbox_has 2 1 $((HALF / 4)); then
	ok "the relayer delivers (1->2 nonce $((HALF / 4)) is in chain 2's inbox)"
else
	not_ok "the relayer delivers" "$(tail -3 "$T/relay.$RUNS.log")"
fi
kill -KILL "${PIDS[$RELAY]}" 2>/dev/null
{ wait "${PIDS[$RELAY]}"; } 2>/dev/null
PIDS[$RELAY]=
ok "the relayer is SIGKILLed mid-way"
relay_start && ok "the relayer restarts on its state file" || not_ok "the relayer restarts" "$(tail -3 "$T/relay.$RUNS.log")"
if grep -q "relay.json: [0-9]* routes" "$T/relay.$RUNS.log"; then
	ok "the restarted relayer resumes from its state file"
else
	not_ok "the restarted relayer resumes from its state file" "$(head -3 "$T/relay.$RUNS.log")"
fi

send_range $((HALF + 1)) $MSGS
if [ $send_errors -eq 0 ] && nonces_ok 1-2 $MSGS && nonces_ok 2-1 $MSGS; then
	ok "sent $((MSGS - HALF)) more each way ($reorgs reorgs in all)"
else
	not_ok "sent $((MSGS - HALF)) more each way" "$send_errors send errors"
fi

both_done() { inbox_has 2 1 $(($1 - 1)) && inbox_has 1 2 $(($1 - 1)); }
if poll "all" "$DELIVER_S" both_done $MSGS; then
	ok "the last message of each route is delivered"
else
	not_ok "the last message of each route is delivered" "relayer: $(tail -2 "$T/relay.$RUNS.log")"
fi

# check_inbox DST SRC COUNT: every nonce below COUNT delivered once with
# the id its source gave it, none at COUNT; prints what is wrong
check_inbox() {
	python3 - "$(chain "$1")" "$2" "$3" "$T/ids.$2-$1" <<'EOF'
import json, sys, urllib.request
base, src, count, ids = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
want = dict(line.split() for line in open(ids))
bad = []
for n in range(count + 1):
    d = json.load(urllib.request.urlopen(f"{base}/v1/inbox/{src}/{n}", timeout=10))
    if n == count:
        if d["delivered"]:
            bad.append(f"nonce {n} is delivered: nothing was sent with it")
    elif not d["delivered"] or d["message_id"] != want[str(n)]:
        bad.append(f"nonce {n}: {d} (want id {want[str(n)]})")
print("; ".join(bad[:5]))
EOF
}
# accepted CHAIN: the inbox's count of deliveries accepted
accepted() { curl -s --max-time 5 "$(chain "$1")/metrics" | awk '$1 == "isthmus_devchain_deliveries_total" { print $2 }'; }
replays() { curl -s --max-time 5 "$(chain "$1")/metrics" | awk '$1 == "isthmus_devchain_delivery_rejections_total{reason=\"replay\"}" { print $2 }'; }
for r in "2 1" "1 2"; do
	set -- $r
	bad=$(check_inbox "$1" "$2" $MSGS)
	got=$(accepted "$1")
	if [ -z "$bad" ] && [ "$got" = "$MSGS" ]; then
		ok "chain $1's inbox holds messages 0..$((MSGS - 1)) of chain $2 once each, with their ids, and nothing beyond ($(replays "$1") replays refused)"
	else
		not_ok "chain $1's inbox holds every message of chain $2 exactly once" "$bad" "accepted: $got (want $MSGS)"
	fi
done
if [ "$(rmetric 'isthmus_relay_next_nonce{route="1-2"}')" = "$MSGS" ] && [ "$(rmetric 'isthmus_relay_next_nonce{route="2-1"}')" = "$MSGS" ]; then
	ok "the relayer's next_nonce metric is $MSGS on both routes"
else
	not_ok "the relayer's next_nonce metric is $MSGS on both routes" "$(curl -s "$METRICS/metrics" | grep next_nonce)"
fi
if grep -q "delivered 1->2 nonce [0-9]* (id [0-9a-f]\{12\}) at height [0-9]* of chain 2" "$T/relay.$RUNS.log"; then
	ok "the relayer logs each delivery with the route, nonce, short id and height"
else
	not_ok "the relayer logs each delivery" "$(grep -m2 delivered "$T/relay.$RUNS.log")"
fi
if command -v promtool >/dev/null 2>&1; then
	if curl -s "$METRICS/metrics" | promtool check metrics >"$T/promtool.out" 2>&1; then
		ok "the relayer's /metrics passes promtool check metrics"
	else
		not_ok "the relayer's /metrics passes promtool check metrics" "$(head -3 "$T/promtool.out")"
	fi
else
	skip "the relayer's /metrics passes promtool check metrics" "promtool not installed"
fi

# ---- isthmus verify on the node's deliveries ------------------------------------------------

curl -s --max-time 5 "$(api 1)/v1/deliveries/1/2/0" >"$T/d0.json"
curl -s --max-time 5 "$(api 2)/v1/validators" >"$T/validators.json"
V=(verify --chain 2)
out=$("$BIN" "${V[@]}" --validators "$T/net/validator-set.json" - <"$T/d0.json" 2>&1)
rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q "^valid: message 0 of route 1->2 (id $(sed -n '1s/^0 //p' "$T/ids.1-2")) certified at height [0-9]* by [34] validators holding [0-9]* of 4000000 stake$"; then
	ok "isthmus verify: a node's delivery is valid against validator-set.json"
else
	not_ok "isthmus verify: a node's delivery is valid against validator-set.json" "status $rc: $out"
fi
HEX=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["delivery"])' "$T/d0.json")
out=$("$BIN" "${V[@]}" --validators "$T/validators.json" --delivery "$HEX" 2>&1)
rc=$?
[ $rc -eq 0 ] && ok "isthmus verify: valid against the node's GET /v1/validators" ||
	not_ok "isthmus verify: valid against the node's GET /v1/validators" "status $rc: $out"
FORGED=$(python3 -c 'import sys; b = bytearray.fromhex(sys.argv[1]); b[len(b) // 2] ^= 1; print(b.hex())' "$HEX")
out=$("$BIN" "${V[@]}" --validators "$T/validators.json" --delivery "$FORGED" 2>&1)
rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q '^invalid: ' && ok "isthmus verify: a byte flipped: invalid, status 1 ($out)" ||
	not_ok "isthmus verify: a byte flipped: invalid, status 1" "status $rc: $out"
out=$("$BIN" verify --chain 1 --validators "$T/validators.json" --delivery "$HEX" 2>&1)
rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q '^invalid: wrong-destination: ' && ok "isthmus verify --chain 1: wrong-destination" ||
	not_ok "isthmus verify --chain 1: wrong-destination" "status $rc: $out"

# ---- one validator down ------------------------------------------------------------------

# the validator the relayer uses now (its last "using validator" line)
USED=$(grep -o 'using validator http://[0-9.:]*' "$T/relay.$RUNS.log" | tail -n 1 | sed 's/using validator //')
DOWN=0
for i in $(seq 0 $((N - 1))); do [ "$(api "$i")" = "$USED" ] && DOWN=$i; done
NEXT=$(((DOWN + 1) % N))
kill -KILL "${PIDS[$DOWN]}" 2>/dev/null
{ wait "${PIDS[$DOWN]}"; } 2>/dev/null
PIDS[$DOWN]=
sent_ok=1
for i in $(seq 1 $EXTRA); do
	for r in "1 2" "2 1"; do
		set -- $r
		if "$BIN" send --rpc "$(chain "$1")" --to "$2" --recipient "$R32" --payload "after node$DOWN went down $i" >"$T/send.out" 2>&1; then
			sed -n 's/^sent message \([0-9]*\) on route [0-9]*->[0-9]*: id \([0-9a-f]\{64\}\)$/\1 \2/p' "$T/send.out" >>"$T/ids.$1-$2"
		else
			sent_ok=0
			echo "# $(cat "$T/send.out")"
		fi
	done
done
TOTAL=$((MSGS + EXTRA))
if [ $sent_ok -eq 1 ] && nonces_ok 1-2 $TOTAL && nonces_ok 2-1 $TOTAL; then
	ok "node$DOWN (the relayer's validator) SIGKILLed; isthmus send sends $EXTRA more each way"
else
	not_ok "node$DOWN SIGKILLed; isthmus send sends $EXTRA more each way"
fi
if poll "after node0" "$DELIVER_S" both_done $TOTAL; then
	ok "with one validator down, the new messages are certified and delivered"
else
	not_ok "with one validator down, the new messages are certified and delivered" "$(tail -3 "$T/relay.$RUNS.log")"
fi
for r in "2 1" "1 2"; do
	set -- $r
	bad=$(check_inbox "$1" "$2" $TOTAL)
	got=$(accepted "$1")
	[ -z "$bad" ] && [ "$got" = "$TOTAL" ] && ok "chain $1's inbox: all $TOTAL messages of chain $2 exactly once" ||
		not_ok "chain $1's inbox: all $TOTAL messages of chain $2 exactly once" "$bad" "accepted: $got"
done
errs=$(rmetric isthmus_relay_validator_errors_total)
if grep -q "using validator $(api $NEXT) ($((NEXT + 1)) of $N)" "$T/relay.$RUNS.log" && [ "${errs:-0}" -ge 1 ]; then
	ok "the relayer failed over from $USED to $(api $NEXT) ($errs validator errors counted)"
else
	not_ok "the relayer failed over to the next validator" "errors: $errs; $(grep -m3 validator "$T/relay.$RUNS.log")"
fi

# ---- SIGTERM, the state file, --once --------------------------------------------------------

stop $RELAY
if [ "$rc" = 0 ] && grep -q "SIGTERM: finishing the delivery in progress" "$T/relay.$RUNS.log"; then
	ok "SIGTERM stops the relayer with status 0"
else
	not_ok "SIGTERM stops the relayer with status 0" "status $rc"
fi
if [ "$(stat -c %a "$T/relay.json")" = 600 ] && python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
routes = {(r["src_chain"], r["dst_chain"]): r["next_nonce"] for r in s["routes"]}
assert s["format"] == "isthmus-relay-state/v1" and routes == {(1, 2): want, (2, 1): want}, s
assert s["validator"] and s["boot"] and s["after"] >= 1, s' "$T/relay.json" $TOTAL 2>"$T/py.err"; then
	ok "the state file (0600): next nonce $TOTAL on both routes, and the event cursor"
else
	not_ok "the state file: next nonce $TOTAL on both routes, and the event cursor" "$(cat "$T/py.err" | tail -1)"
fi
out=$("$BIN" relay "${RARGS[@]}" --once 2>&1 </dev/null)
rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -q "stopped: 0 delivered, 0 replays"; then
	ok "isthmus relay --once on the state file: nothing left to deliver, status 0"
else
	not_ok "isthmus relay --once on the state file: nothing left to deliver, status 0" "status $rc: $(echo "$out" | tail -2)"
fi

# ---- destinations that refuse, or are down ---------------------------------------------------

# a chain 2 that trusts another validator set (another testnet's) refuses
# every delivery of route 1->2: tried once more from the next validator,
# then the route is blocked at nonce 0, while route 2->1 goes on (to the
# real chain 1, where everything is a replay of a fresh state file)
"$BIN" testnet --validators $N --chains 2 --output "$T/other" --base-port "$BASE" --kdf-fast >/dev/null 2>&1 </dev/null
"$DC" --data "$T/impostor" --chain-id 2 --listen http://127.0.0.1:0 --trust "$T/other/validator-set.json" \
	>>"$T/impostor.log" 2>&1 </dev/null &
PIDS[11]=$!
IMPOSTOR=
poll "impostor" "$WAIT_S" grep -q 'listening on http://' "$T/impostor.log" &&
	IMPOSTOR=$(grep -o 'listening on http://[^ ]*' "$T/impostor.log" | sed -n '1s/listening on //p')
ONCE=(--validator "$(api "$NEXT")" --validator "$(api $(((NEXT + 1) % N)))" --chain "1=$(chain 1)" --once)
"$BIN" relay "${ONCE[@]}" --chain "2=$IMPOSTOR" --state "$T/impostor.json" >"$T/once-impostor.log" 2>&1 </dev/null
rc=$?
if [ $rc -eq 1 ] && grep -q "refused the delivery from .*: bad-signature" "$T/once-impostor.log" &&
	grep -q "trying the delivery of $(api $(((NEXT + 1) % N)))" "$T/once-impostor.log" &&
	grep -q "route 1->2 is blocked at nonce 0" "$T/once-impostor.log" &&
	[ "$(grep -c 'refused the delivery' "$T/once-impostor.log")" -eq 2 ] &&
	grep -q "isthmus: relay: not everything could be delivered" "$T/once-impostor.log" &&
	python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); r = {(x["src_chain"], x["dst_chain"]): x["next_nonce"] for x in s["routes"]}; assert r == {(1, 2): 0, (2, 1): int(sys.argv[2])}, r' "$T/impostor.json" $TOTAL; then
	ok "a destination refusing deliveries: tried from a second validator, route blocked at nonce 0, the other route done, status 1"
else
	not_ok "a destination refusing deliveries: retried once, route blocked, the other route done" "status $rc" "$(grep -m3 -E 'refused|blocked' "$T/once-impostor.log")"
fi
# a destination nobody answers for: its route waits, the other goes on
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" relay "${ONCE[@]}" --chain "2=http://127.0.0.1:$CLOSED" --state "$T/down.json" >"$T/once-down.log" 2>&1 </dev/null
rc=$?
if [ $rc -eq 1 ] && grep -q "chain 2 at http://127.0.0.1:$CLOSED: POST /v1/inbox: connect: " "$T/once-down.log" &&
	python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); r = {(x["src_chain"], x["dst_chain"]): x["next_nonce"] for x in s["routes"]}; assert r == {(1, 2): 0, (2, 1): int(sys.argv[2])}, r' "$T/down.json" $TOTAL; then
	ok "a destination down: logged, its route kept at nonce 0, the other route done, status 1"
else
	not_ok "a destination down: logged, its route kept, the other route done" "status $rc" "$(grep -m2 'chain 2' "$T/once-down.log")"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
