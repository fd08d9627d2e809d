#!/usr/bin/env bash
# isthmus-devchain's inbox following epoch hand-overs, as a real process on
# 127.0.0.1 (suite integration, TAP; the harness is tests/cli/lib.sh).
# Hand-over documents (what a node answers on GET /v1/epochs/{n}) are built
# by mkhandover, deliveries by mkdelivery, both from real keys of four
# validator sets (epochs 0 to 3). Checks: GET /v1/inbox/epochs; a delivery
# certified by epoch 1 is refused (unknown-epoch) before the hand-over to 1
# and accepted after it; a hand-over that skips an epoch, one whose leaf is
# of another set (a tampered stake), one certified by an untrusted set, one
# whose leaf is not the last of the batch tree and one without a
# certificate are refused with their reasons; posting the same hand-over
# again is 200 "already"; a certificate of the previous epoch is accepted
# within the grace and refused (epoch-expired) after it, blocks being made
# by the produce hook (no sleeps); hand-overs and the grace survive a
# restart (with the same --trust and without it), another --trust set is
# refused at start; two more hand-overs in a row; /metrics counts it all
# (promtool checks the text).
#
# Waiting is polling with a bound (WAIT_S), never a fixed sleep.
TEST_NAME=devchain-handover
PROG=isthmus-devchain
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

MKD=${MKDELIVERY_BIN:?MKDELIVERY_BIN must point to tests/devchain/mkdelivery}
MKH=${MKHANDOVER_BIN:?MKHANDOVER_BIN must point to tests/devchain/mkhandover}
PY=$(python3 -c 'import sys; print(sys.executable)')
WAIT_S=${ISTHMUS_TEST_WAIT_S:-60}
PID=
URL=

cleanup_procs() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	if [ "$failed" -ne 0 ]; then
		for p in "$T"/*.log; do
			[ -f "$p" ] && tail -n 12 "$p" | sed "s|^|# $(basename "$p"): |"
		done
	fi
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup_procs EXIT
: >"$T/err"

STARTS=0
# start ARGS...: the devchain on a free port; URL set. Returns 1 when it
# does not come up (its log then says why).
start() {
	STARTS=$((STARTS + 1))
	local log="$T/devchain.$STARTS.log"
	"$BIN" --data "$T/chain" --chain-id 2 --listen http://127.0.0.1:0 --block-ms 3600000 --test-hooks "$@" \
		>"$log" 2>&1 </dev/null &
	PID=$!
	local deadline=$((SECONDS + WAIT_S))
	while [ $SECONDS -lt $deadline ]; do
		if grep -q 'listening on http://' "$log"; then
			URL=$(grep -o 'listening on http://[^ ]*' "$log" | sed -n '1s/listening on //p')
			return 0
		fi
		kill -0 "$PID" 2>/dev/null || { PID=; return 1; }
		sleep 0.05
	done
	return 1
}

stop() {
	local deadline=$((SECONDS + 30))
	kill -TERM "$PID" 2>/dev/null
	while kill -0 "$PID" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
	{ wait "$PID"; } 2>/dev/null
	rc=$?
	PID=
}

# req METHOD PATH [BODY-FILE]: body in $T/resp, status in $code
req() {
	if [ $# -ge 3 ]; then
		code=$(curl -s --max-time 10 -o "$T/resp" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
			--data-binary "@$3" "$URL$2")
	else
		code=$(curl -s --max-time 10 -o "$T/resp" -w '%{http_code}' -X "$1" "$URL$2")
	fi
}
j() {
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); v = eval(sys.argv[2]); print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$T/resp" "$1" 2>/dev/null
}
metric() {
	curl -s --max-time 10 "$URL/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}

# check DESC WANT-CODE [PY-EXPR WANT]...: the last answer's status, then
# each expression over it against its wanted value
check() {
	local desc=$1 want=$2
	shift 2
	local bad=""
	[ "$code" = "$want" ] || bad="status $code, want $want"
	while [ $# -ge 2 ] && [ -z "$bad" ]; do
		local got
		got=$(j "$1")
		[ "$got" = "$2" ] || bad="$1 = $got, want $2"
		shift 2
	done
	if [ -z "$bad" ]; then ok "$desc"; else not_ok "$desc" "$bad" "answer: $(head -c 400 "$T/resp")"; fi
}

# keys of epoch e: four validators, secret keys e1..e4 repeated
keys() {   # keys OPT EPOCH
	local b
	for b in 1 2 3 4; do printf '%s %s ' "$1" "$(printf "$2$b%.0s" $(seq 32))"; done
}
# handover FILE OUT-EPOCH [mkhandover options]: the body {"handover": doc}
handover() {
	local f=$1 e=$2
	shift 2
	# shellcheck disable=SC2046
	doc=$("$MKH" $(keys --key "$e") $(keys --next-key $((e + 1))) --epoch "$e" --height $((30 * (e + 1))) "$@" \
		2>"$T/err") || { echo "Bail out! mkhandover: $(cat "$T/err")"; exit 1; }
	printf '{"handover":%s}' "$doc" >"$f"
}
# delivery FILE EPOCH NONCE: the inbox body of message NONCE of route 1->2
# certified by epoch EPOCH's set
delivery() {
	local hex
	# shellcheck disable=SC2046
	hex=$("$MKD" $(keys --key "$2") --epoch "$2" --src 1 --dst 2 --nonce "$3" 2>"$T/err") ||
		{ echo "Bail out! mkdelivery: $(cat "$T/err")"; exit 1; }
	printf '{"delivery":"%s"}' "$hex" >"$1"
}

# the first trusted set: epoch 0
# shellcheck disable=SC2046
"$MKH" $(keys --key 0) $(keys --next-key 1) --valset "$T/vs0.json" --next-valset "$T/vs1.json" >/dev/null 2>"$T/err" ||
	{ echo "Bail out! mkhandover: $(cat "$T/err")"; exit 1; }
"$MKH" $(keys --key 5) $(keys --next-key 6) --valset "$T/other0.json" >/dev/null 2>"$T/err" ||
	{ echo "Bail out! mkhandover: $(cat "$T/err")"; exit 1; }

expect_err "--handover-grace-blocks out of range: one line, status 2" 2 "--handover-grace-blocks must be an integer" \
	--data "$T/x" --chain-id 2 --handover-grace-blocks 1000001

start --trust "$T/vs0.json" --handover-grace-blocks 3 || { echo "Bail out! the devchain does not start"; exit 1; }

req GET /v1/inbox/epochs
check "GET /v1/inbox/epochs: epoch 0 from --trust" 200 'd["current"]' 0 'd["trusted"]' '[0]' 'd["grace_blocks"]' 3 \
	'd["grace_until"]' null

delivery "$T/d1.json" 1 0
req POST /v1/inbox "$T/d1.json"
check "a delivery certified by epoch 1 before the hand-over: unknown-epoch" 400 'd["error"]' unknown-epoch \
	'"POST /v1/inbox/epochs" in d["detail"]' true

handover "$T/skip.json" 1 # epoch 1's set hands over to epoch 2: skips epoch 1 for a chain at 0
req POST /v1/inbox/epochs "$T/skip.json"
check "a hand-over that skips an epoch: handover-epoch" 400 'd["error"]' handover-epoch 'd["epoch"]' 2

handover "$T/tampered.json" 0 --forge tamper-stake
req POST /v1/inbox/epochs "$T/tampered.json"
check "a hand-over to another set (a stake raised): handover-proof" 400 'd["error"]' handover-proof

handover "$T/notlast.json" 0 --checkpoints 3 --leaf-pos 1
req POST /v1/inbox/epochs "$T/notlast.json"
check "a hand-over leaf that is not the last of the batch tree: handover-proof" 400 'd["error"]' handover-proof \
	'"last leaf" in d["detail"]' true

# shellcheck disable=SC2046
doc=$("$MKH" $(keys --key 5) $(keys --next-key 1) --epoch 0)
printf '{"handover":%s}' "$doc" >"$T/untrusted.json"
req POST /v1/inbox/epochs "$T/untrusted.json"
check "a hand-over certified by a set the chain does not trust: bad-signature" 400 'd["error"]' bad-signature

handover "$T/nocert.json" 0 --no-certificate
req POST /v1/inbox/epochs "$T/nocert.json"
check "a hand-over without its certificate yet: handover-uncertified" 400 'd["error"]' handover-uncertified

printf '{"handover":{"epoch":1}}' >"$T/bad.json"
req POST /v1/inbox/epochs "$T/bad.json"
check "a document that does not parse: malformed, naming the field" 400 'd["error"]' malformed \
	'"handover.start_height" in d["detail"]' true

req GET /v1/inbox/epochs
check "still epoch 0 after the refusals" 200 'd["current"]' 0

handover "$T/h1.json" 0
req POST /v1/inbox/epochs "$T/h1.json"
check "the hand-over to epoch 1: 200 trusted" 200 'd["epoch"]' 1 'd["trusted"]' true 'd["already"]' false
since=$(j 'd["since_height"]')
req POST /v1/inbox/epochs "$T/h1.json"
check "the same hand-over again: 200 already" 200 'd["epoch"]' 1 'd["already"]' true "d['since_height']" "$since"

req GET /v1/inbox/epochs
check "GET /v1/inbox/epochs: epoch 1, epoch 0 within the grace" 200 'd["current"]' 1 'd["trusted"]' '[0, 1]' \
	'd["grace_until"]' $((since + 3))

req POST /v1/inbox "$T/d1.json"
check "the delivery certified by epoch 1 after the hand-over: delivered" 200 'd["status"]' delivered

delivery "$T/d0a.json" 0 1
req POST /v1/inbox "$T/d0a.json"
check "a delivery certified by epoch 0 within the grace: delivered" 200 'd["status"]' delivered

# three blocks: the grace (3 blocks) is over
printf '{"blocks":3}' >"$T/b3.json"
req POST /v1/test/produce "$T/b3.json"
check "the produce hook makes 3 blocks" 200 'd["head"]["height"]' $((since + 3))

delivery "$T/d0b.json" 0 2
req POST /v1/inbox "$T/d0b.json"
check "a delivery certified by epoch 0 after the grace: epoch-expired" 400 'd["error"]' epoch-expired \
	'"grace ended at height" in d["detail"]' true
req GET /v1/inbox/epochs
check "GET /v1/inbox/epochs: epoch 0 no longer trusted" 200 'd["current"]' 1 'd["trusted"]' '[1]'

if [ "$(metric isthmus_devchain_handovers_total)" = 1 ] && [ "$(metric isthmus_devchain_trusted_epoch)" = 1 ] &&
	[ "$(metric 'isthmus_devchain_handover_rejections_total{reason="handover-epoch"}')" = 1 ] &&
	[ "$(metric 'isthmus_devchain_handover_rejections_total{reason="handover-proof"}')" = 2 ] &&
	[ "$(metric 'isthmus_devchain_handover_rejections_total{reason="bad-signature"}')" = 1 ] &&
	[ "$(metric 'isthmus_devchain_handover_rejections_total{reason="handover-uncertified"}')" = 1 ] &&
	[ "$(metric 'isthmus_devchain_handover_rejections_total{reason="malformed"}')" = 1 ] &&
	[ "$(metric 'isthmus_devchain_delivery_rejections_total{reason="epoch-expired"}')" = 1 ] &&
	[ "$(metric 'isthmus_devchain_delivery_rejections_total{reason="unknown-epoch"}')" = 1 ]; then
	ok "/metrics counts hand-overs, their refusals by reason and expired certificates"
else
	not_ok "/metrics counts hand-overs, their refusals by reason and expired certificates" \
		"$(curl -s "$URL/metrics" | grep -E 'handover|trusted_epoch|epoch-expired|unknown-epoch' | tr '\n' ' ')"
fi
if command -v promtool >/dev/null; then
	curl -s --max-time 10 "$URL/metrics" >"$T/metrics.txt"
	if promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1; then
		ok "promtool accepts /metrics"
	else
		not_ok "promtool accepts /metrics" "$(head -3 "$T/promtool.out")"
	fi
fi

# ---- restart ---------------------------------------------------------------------

stop
start --trust "$T/vs0.json" --handover-grace-blocks 3 || not_ok "restart with the same --trust"
req GET /v1/inbox/epochs
check "after a restart with the same --trust: epoch 1 is kept, the grace still over" 200 'd["current"]' 1 \
	'd["trusted"]' '[1]' 'd["since_height"]' "$since"
delivery "$T/d1b.json" 1 3
req POST /v1/inbox "$T/d1b.json"
check "after the restart, epoch 1 deliveries are accepted" 200 'd["status"]' delivered
delivery "$T/d0c.json" 0 4
req POST /v1/inbox "$T/d0c.json"
check "after the restart, epoch 0 deliveries are still expired" 400 'd["error"]' epoch-expired
stop

start --handover-grace-blocks 3 || not_ok "restart without --trust"
req GET /v1/inbox/epochs
check "after a restart without --trust: still epoch 1" 200 'd["current"]' 1
stop

# another set for epoch 0 than the recorded one: refused at start
"$BIN" --data "$T/chain" --chain-id 2 --listen http://127.0.0.1:0 --trust "$T/other0.json" >"$T/out" 2>"$T/err" </dev/null &
p=$!
deadline=$((SECONDS + WAIT_S))
while kill -0 $p 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
kill -KILL $p 2>/dev/null
wait $p
rc=$?
if [ "$rc" -eq 1 ] && grep -q "is not the one this chain trusts for that epoch" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then
	ok "another --trust set for a recorded epoch: refused at start, one line, status 1"
else
	not_ok "another --trust set for a recorded epoch: refused at start, one line, status 1" "status $rc"
fi

# ---- two more hand-overs in a row, with no grace -------------------------------------

start --handover-grace-blocks 0 || not_ok "restart with --handover-grace-blocks 0"
handover "$T/h2.json" 1
handover "$T/h3.json" 2
req POST /v1/inbox/epochs "$T/h3.json"
check "the hand-over to 3 before the one to 2: handover-epoch" 400 'd["error"]' handover-epoch
req POST /v1/inbox/epochs "$T/h2.json"
check "the hand-over to epoch 2" 200 'd["epoch"]' 2 'd["trusted"]' true
req POST /v1/inbox/epochs "$T/h3.json"
check "then the hand-over to epoch 3" 200 'd["epoch"]' 3 'd["trusted"]' true
req POST /v1/inbox/epochs "$T/h1.json"
check "the old hand-over to epoch 1 again: 200 already" 200 'd["already"]' true
req GET /v1/inbox/epochs
check "GET /v1/inbox/epochs: epoch 3, and no grace at all" 200 'd["current"]' 3 'd["trusted"]' '[3]' 'd["first"]' 0
delivery "$T/d3.json" 3 5
req POST /v1/inbox "$T/d3.json"
check "a delivery certified by epoch 3" 200 'd["status"]' delivered
delivery "$T/d2.json" 2 6
req POST /v1/inbox "$T/d2.json"
check "a delivery certified by epoch 2 with no grace: epoch-expired" 400 'd["error"]' epoch-expired
stop
if [ "$rc" -eq 0 ]; then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit 0" "status $rc"; fi

finish
