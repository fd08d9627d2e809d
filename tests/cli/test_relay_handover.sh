#!/usr/bin/env bash
# `isthmus relay` bringing epoch hand-overs to a destination (suite
# integration, TAP; the harness is tests/cli/lib.sh): a real
# isthmus-devchain (chain 2, trusting epoch 0) and a fake validator serving
# files (tests/cli/fake_validator.py: routes, deliveries from mkdelivery,
# GET /v1/epochs/{k} documents from mkhandover, all with real keys). Checks,
# with `relay --once`: deliveries certified by epoch 2 make the relayer post
# the hand-overs to 1 and then 2 before them, logged, and everything is
# delivered; a hand-over without its certificate yet makes the route wait
# (status 1, "no certificate yet" logged, nothing posted), and once the
# certificate is there the next run delivers; a validator that does not
# know the epoch yet (404) also waits; a hand-over the chain refuses (a
# tampered stake) is logged as an error with the reason and the route is
# blocked; a destination without GET /v1/inbox/epochs is warned about once;
# `isthmus verify --handover` follows the same documents offline.
#
# Waiting is polling with a bound (WAIT_S), never a fixed sleep.
TEST_NAME=relay-handover
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DC=${ISTHMUS_DEVCHAIN_BIN:?ISTHMUS_DEVCHAIN_BIN must point to isthmus-devchain}
MKD=${MKDELIVERY_BIN:?MKDELIVERY_BIN must point to tests/devchain/mkdelivery}
MKH=${MKHANDOVER_BIN:?MKHANDOVER_BIN must point to tests/devchain/mkhandover}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$(python3 -c 'import sys; print(sys.executable)')
WAIT_S=${ISTHMUS_TEST_WAIT_S:-60}
DC_PID=
FV_PID=

cleanup_procs() {
	local p
	for p in $DC_PID $FV_PID; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	if [ "$failed" -ne 0 ]; then
		for p in "$T"/*.log; do
			[ -f "$p" ] && tail -n 15 "$p" | sed "s|^|# $(basename "$p"): |"
		done
	fi
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup_procs EXIT
: >"$T/err"

# wait_url LOG: the URL of the first "listening on" line of LOG
wait_url() {
	local deadline=$((SECONDS + WAIT_S))
	while [ $SECONDS -lt $deadline ]; do
		if grep -q 'listening on http://' "$1"; then
			grep -o 'listening on http://[^ ]*' "$1" | sed -n '1s/listening on //p'
			return 0
		fi
		sleep 0.05
	done
	return 1
}

keys() {   # keys OPT EPOCH: four validators, secret keys e1..e4 repeated
	local b
	for b in 1 2 3 4; do printf '%s %s ' "$1" "$(printf "$2$b%.0s" $(seq 32))"; done
}
# epoch_doc K [mkhandover options]: the fake validator's GET /v1/epochs/K
epoch_doc() {
	local k=$1
	shift
	# shellcheck disable=SC2046
	"$MKH" $(keys --key $((k - 1))) $(keys --next-key "$k") --epoch $((k - 1)) --height $((30 * k)) "$@" \
		>"$V/epochs/$k.json" 2>"$T/err" || { echo "Bail out! mkhandover: $(cat "$T/err")"; exit 1; }
}
# delivery NONCE EPOCH: message NONCE of route 1->2, certified by EPOCH's set
delivery() {
	# shellcheck disable=SC2046
	"$MKD" $(keys --key "$2") --epoch "$2" --src 1 --dst 2 --nonce "$1" >"$V/deliveries/1-2-$1.hex" 2>"$T/err" ||
		{ echo "Bail out! mkdelivery: $(cat "$T/err")"; exit 1; }
}
routes() {   # routes TREE_SIZE
	printf '{"routes":[{"src_chain":"1","dst_chain":"2","latest":{"checkpoint":{"tree_size":"%s"}}}]}' "$1" >"$V/routes.json"
}
inbox() {   # inbox NONCE: whether chain 2 has it
	curl -s --max-time 10 "$DCURL/v1/inbox/1/$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["delivered"])'
}
dc_epoch() {
	curl -s --max-time 10 "$DCURL/v1/inbox/epochs" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["current"])'
}
RUNS=0
relay_once() {   # relay_once: --once against the fake validator and chain 2; log $T/relay.N.log, status $rc
	RUNS=$((RUNS + 1))
	LOG="$T/relay.$RUNS.log"
	timeout 120 "$BIN" relay --validator "$FVURL" --chain "2=$DCURL" --state "$T/relay.json" --once \
		>"$LOG" 2>&1 </dev/null
	rc=$?
}

V="$T/validator"
mkdir -p "$V/epochs" "$V/deliveries"
# shellcheck disable=SC2046
"$MKH" $(keys --key 0) $(keys --next-key 1) --valset "$T/vs0.json" >/dev/null 2>"$T/err" ||
	{ echo "Bail out! mkhandover: $(cat "$T/err")"; exit 1; }

"$DC" --data "$T/chain" --chain-id 2 --listen http://127.0.0.1:0 --block-ms 3600000 --trust "$T/vs0.json" \
	--handover-grace-blocks 5 >"$T/devchain.log" 2>&1 </dev/null &
DC_PID=$!
DCURL=$(wait_url "$T/devchain.log") || { echo "Bail out! the devchain does not start"; exit 1; }
"$PY" "$HERE/fake_validator.py" "$V" >"$T/validator.log" 2>&1 </dev/null &
FV_PID=$!
FVURL=$(wait_url "$T/validator.log") || { echo "Bail out! the fake validator does not start"; exit 1; }

# ---- two hand-overs before a delivery of epoch 2 -------------------------------------

delivery 0 0
delivery 1 2
delivery 2 2
epoch_doc 1
epoch_doc 2
routes 3
relay_once
if [ "$rc" -eq 0 ] && [ "$(inbox 0)" = True ] && [ "$(inbox 1)" = True ] && [ "$(inbox 2)" = True ] &&
	[ "$(dc_epoch)" = 2 ]; then
	ok "deliveries of epoch 2: the relayer brings the hand-overs to 1 and 2 first, all delivered"
else
	not_ok "deliveries of epoch 2: the relayer brings the hand-overs to 1 and 2 first, all delivered" \
		"status $rc, inbox $(inbox 0) $(inbox 1) $(inbox 2), epoch $(dc_epoch)"
fi
if grep -q "chain 2 follows the hand-over to epoch 1 (4 validators" "$LOG" &&
	grep -q "chain 2 follows the hand-over to epoch 2 (4 validators" "$LOG" &&
	[ "$(grep -n 'hand-over to epoch 1' "$LOG" | head -1 | cut -d: -f1)" -lt \
		"$(grep -n 'hand-over to epoch 2' "$LOG" | head -1 | cut -d: -f1)" ] &&
	[ "$(grep -n 'hand-over to epoch 2' "$LOG" | head -1 | cut -d: -f1)" -lt \
		"$(grep -n 'delivered 1->2 nonce 1' "$LOG" | cut -d: -f1)" ]; then
	ok "each hand-over is logged, in order, before the delivery that needs it"
else
	not_ok "each hand-over is logged, in order, before the delivery that needs it" "$(grep -i 'hand-over\|delivered' "$LOG" | head -5)"
fi

# ---- not certified yet: the route waits, then goes on -----------------------------------

delivery 3 3
epoch_doc 3 --no-certificate
routes 4
relay_once
if [ "$rc" -eq 1 ] && [ "$(inbox 3)" = False ] && [ "$(dc_epoch)" = 2 ] &&
	grep -q "the hand-over to epoch 3 (block 90) has no certificate yet" "$LOG"; then
	ok "a hand-over without its certificate yet: the route waits, logged, status 1 with --once"
else
	not_ok "a hand-over without its certificate yet: the route waits, logged, status 1 with --once" \
		"status $rc, inbox $(inbox 3), epoch $(dc_epoch)"
fi
rm "$V/epochs/3.json"
relay_once
if [ "$rc" -eq 1 ] && [ "$(inbox 3)" = False ] && grep -q "does not know epoch 3 yet" "$LOG"; then
	ok "a validator that does not know the epoch yet (404): the route waits"
else
	not_ok "a validator that does not know the epoch yet (404): the route waits" "status $rc, inbox $(inbox 3)"
fi
epoch_doc 3
relay_once
if [ "$rc" -eq 0 ] && [ "$(inbox 3)" = True ] && [ "$(dc_epoch)" = 3 ]; then
	ok "once the certificate is there: the hand-over to 3, then the delivery"
else
	not_ok "once the certificate is there: the hand-over to 3, then the delivery" "status $rc, inbox $(inbox 3)"
fi

# ---- a hand-over the chain refuses ---------------------------------------------------------

delivery 4 4
epoch_doc 4 --forge tamper-stake
routes 5
relay_once
if [ "$rc" -eq 1 ] && [ "$(inbox 4)" = False ] && [ "$(dc_epoch)" = 3 ] &&
	grep -q "ERROR.*chain 2 refused the hand-over to epoch 4 from validator .*: handover-proof" "$LOG" &&
	grep -q "route 1->2 is blocked at nonce 4" "$LOG"; then
	ok "a hand-over the chain refuses: an error with the reason, the route blocked"
else
	not_ok "a hand-over the chain refuses: an error with the reason, the route blocked" \
		"status $rc, inbox $(inbox 4), epoch $(dc_epoch)" "$(grep -E 'ERROR' "$LOG" | head -3)"
fi

# ---- isthmus verify --handover: the same documents, offline ---------------------------------

expect "verify --handover x3: a delivery of epoch 3 from the epoch 0 set" 0 verify --validators "$T/vs0.json" \
	--handover "$V/epochs/1.json" --handover "$V/epochs/2.json" --handover "$V/epochs/3.json" --chain 2 \
	--file "$V/deliveries/1-2-3.hex"
expect "verify without the hand-overs: invalid (unknown-epoch)" 1 verify --validators "$T/vs0.json" --chain 2 \
	--file "$V/deliveries/1-2-3.hex"
if grep -q "^invalid: unknown-epoch" "$T/out"; then ok "  ... says unknown-epoch"; else not_ok "  ... says unknown-epoch" "$(cat "$T/out")"; fi
expect "verify --handover skipping epoch 2: invalid" 1 verify --validators "$T/vs0.json" --handover "$V/epochs/1.json" \
	--handover "$V/epochs/3.json" --chain 2 --file "$V/deliveries/1-2-3.hex"
if grep -q "^invalid: handover-epoch: .*3.json: hand-over to epoch 3" "$T/out"; then
	ok "  ... says handover-epoch and names the document"
else
	not_ok "  ... says handover-epoch and names the document" "$(cat "$T/out")"
fi
expect "verify --handover with the tampered document: invalid" 1 verify --validators "$T/vs0.json" \
	--handover "$V/epochs/1.json" --handover "$V/epochs/2.json" --handover "$V/epochs/3.json" \
	--handover "$V/epochs/4.json" --chain 2 --file "$V/deliveries/1-2-4.hex"

# ---- a destination that does not follow hand-overs -------------------------------------------

"$PY" "$HERE/fake_validator.py" "$T/empty" >"$T/nochain.log" 2>&1 </dev/null &
NC_PID=$!
NCURL=$(wait_url "$T/nochain.log") || { echo "Bail out! the second fake does not start"; exit 1; }
# from nonce 1, certified by epoch 2 (epoch 0 never needs a hand-over: the
# destination is not asked then)
printf '{"format":"isthmus-relay-state/v1","routes":[{"src_chain":1,"dst_chain":2,"next_nonce":1}]}' >"$T/relay2.json"
timeout 120 "$BIN" relay --validator "$FVURL" --chain "2=$NCURL" --state "$T/relay2.json" --once \
	>"$T/relay.nochain.log" 2>&1 </dev/null
if [ "$(grep -c 'does not serve GET /v1/inbox/epochs' "$T/relay.nochain.log")" -eq 1 ]; then
	ok "a destination without GET /v1/inbox/epochs: warned about once, deliveries still tried"
else
	not_ok "a destination without GET /v1/inbox/epochs: warned about once, deliveries still tried" \
		"$(head -5 "$T/relay.nochain.log")"
fi
kill -KILL $NC_PID 2>/dev/null
wait $NC_PID 2>/dev/null

finish
