#!/usr/bin/env bash
# `isthmus relay --scheme frost` carrying frost-ed25519 certificates (suite
# integration, TAP; the harness is tests/cli/lib.sh): a fake validator
# serving files (tests/cli/fake_validator.py, which serves DIR/...frost...
# files for ?scheme=frost-ed25519) with real deliveries and hand-overs made
# by mkdelivery and mkhandover with Ed25519 group keys (a FROST signature is
# an Ed25519 signature under the group key), and two real isthmus-devchains
# trusting the same epoch 0 set with its group key: chain 2 with --accept
# frost, chain 3 with the default (multisig only). Checks, with `relay
# --once`: --scheme frost asks for the FROST certificates
# (?scheme=frost-ed25519 on deliveries and hand-overs), brings chain 2 the
# FROST-certified hand-over to epoch 1 and delivers both messages; chain 3
# refuses the FROST delivery with reason "scheme" (the route blocked); a
# validator that answers a frost request with a multisig delivery counts as
# a validator failure; without --scheme no parameter is sent and chain 2
# refuses the multisig delivery ("scheme"); `isthmus verify` follows the
# FROST hand-over offline and names the scheme; a bad --scheme is a usage
# error.
#
# Waiting is polling with a bound (WAIT_S), never a fixed sleep.
TEST_NAME=relay-frost
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DC=${ISTHMUS_DEVCHAIN_BIN:?ISTHMUS_DEVCHAIN_BIN must point to isthmus-devchain}
MKD=${MKDELIVERY_BIN:?MKDELIVERY_BIN must point to tests/devchain/mkdelivery}
MKH=${MKHANDOVER_BIN:?MKHANDOVER_BIN must point to tests/devchain/mkhandover}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=$(python3 -c 'import sys; print(sys.executable)')
WAIT_S=${ISTHMUS_TEST_WAIT_S:-60}
PIDS=()

cleanup_procs() {
	local p
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
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
bail() { echo "Bail out! $1: $(cat "$T/err")"; exit 1; }

keys() {   # keys OPT EPOCH: four validators, secret keys e1..e4 repeated
	local b
	for b in 1 2 3 4; do printf '%s %s ' "$1" "$(printf "$2$b%.0s" $(seq 32))"; done
}
seed() { printf "f$1%.0s" $(seq 32); }   # seed EPOCH: the epoch's FROST group key seed

V="$T/validator"
mkdir -p "$V/epochs" "$V/deliveries"
# delivery NONCE EPOCH DST [mkdelivery options]: message NONCE of route 1->DST, certified by EPOCH's keys
delivery() {
	local nonce=$1 epoch=$2 dst=$3
	shift 3
	# shellcheck disable=SC2046
	"$MKD" $(keys --key "$epoch") --epoch "$epoch" --src 1 --dst "$dst" --nonce "$nonce" "$@" 2>"$T/err" ||
		bail mkdelivery
}
delivery 0 0 2 --frost "$(seed 0)" --valset "$T/vsf0.json" >"$V/deliveries/1-2-0.frost.hex"
delivery 0 0 2 >"$V/deliveries/1-2-0.hex"
delivery 1 1 2 --frost "$(seed 1)" >"$V/deliveries/1-2-1.frost.hex"
delivery 1 1 2 >"$V/deliveries/1-2-1.hex"
delivery 0 0 3 --frost "$(seed 0)" >"$V/deliveries/1-3-0.frost.hex"
# the hand-over to epoch 1, certified by epoch 0's group key; epoch 1's set has its own
# shellcheck disable=SC2046
"$MKH" $(keys --key 0) $(keys --next-key 1) --epoch 0 --height 30 --frost "$(seed 0)" --next-frost "$(seed 1)" \
	>"$V/epochs/1.frost.json" 2>"$T/err" || bail mkhandover
printf '{"routes":[{"src_chain":"1","dst_chain":"2","latest":{"checkpoint":{"tree_size":"2"}}},
 {"src_chain":"1","dst_chain":"3","latest":{"checkpoint":{"tree_size":"1"}}}]}' >"$V/routes.json"
grep -q '"group_key"' "$T/vsf0.json" || { echo "Bail out! the trusted set has no group_key"; exit 1; }

start_chain() {   # start_chain ID [devchain options]: URL on stdout
	local id=$1
	shift
	"$DC" --data "$T/chain$id" --chain-id "$id" --listen http://127.0.0.1:0 --block-ms 3600000 --trust "$T/vsf0.json" \
		"$@" >"$T/devchain$id.log" 2>&1 </dev/null &
	PIDS+=($!)
}
start_chain 2 --accept frost
start_chain 3
DC2=$(wait_url "$T/devchain2.log") || { echo "Bail out! chain 2 does not start"; exit 1; }
DC3=$(wait_url "$T/devchain3.log") || { echo "Bail out! chain 3 does not start"; exit 1; }
"$PY" "$HERE/fake_validator.py" "$V" >"$T/validator.log" 2>&1 </dev/null &
PIDS+=($!)
FVURL=$(wait_url "$T/validator.log") || { echo "Bail out! the fake validator does not start"; exit 1; }

inbox() {   # inbox URL NONCE: whether the chain has message NONCE of source 1
	curl -s --max-time 10 "$1/v1/inbox/1/$2" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["delivered"])'
}
dc_epoch() {
	curl -s --max-time 10 "$1/v1/inbox/epochs" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["current"])'
}
RUNS=0
relay_once() {   # relay_once CHAIN=URL [relay options]: log $LOG, status $rc; requests seen in $REQ
	RUNS=$((RUNS + 1))
	LOG="$T/relay.$RUNS.log"
	REQ="$T/requests.$RUNS"
	: >"$V/requests.log"
	local chain=$1
	shift
	timeout 120 "$BIN" relay --validator "$FVURL" --chain "$chain" --state "$T/relay.${chain%%=*}.json" --once "$@" \
		>"$LOG" 2>&1 </dev/null
	rc=$?
	cp "$V/requests.log" "$REQ"
}

# ---- --scheme frost: the FROST hand-over, then both deliveries -------------------------------

relay_once "2=$DC2" --scheme frost
if [ "$rc" -eq 0 ] && [ "$(inbox "$DC2" 0)" = True ] && [ "$(inbox "$DC2" 1)" = True ] && [ "$(dc_epoch "$DC2")" = 1 ]; then
	ok "--scheme frost: chain 2 (--accept frost) follows the FROST hand-over and takes both deliveries"
else
	not_ok "--scheme frost: chain 2 (--accept frost) follows the FROST hand-over and takes both deliveries" \
		"status $rc, inbox $(inbox "$DC2" 0) $(inbox "$DC2" 1), epoch $(dc_epoch "$DC2")"
fi
if grep -qx '/v1/deliveries/1/2/0?scheme=frost-ed25519' "$REQ" && grep -qx '/v1/deliveries/1/2/1?scheme=frost-ed25519' "$REQ" &&
	grep -qx '/v1/epochs/1?scheme=frost-ed25519' "$REQ" && ! grep -q '^/v1/deliveries/[0-9/]*$' "$REQ"; then
	ok "--scheme frost: deliveries and hand-overs are asked for with ?scheme=frost-ed25519"
else
	not_ok "--scheme frost: deliveries and hand-overs are asked for with ?scheme=frost-ed25519" "$(tr '\n' ' ' <"$REQ")"
fi
if grep -q 'carrying frost-ed25519 certificates; using validator' "$LOG" &&
	grep -q 'chain 2 follows the hand-over to epoch 1 (4 validators' "$LOG"; then
	ok "--scheme frost: the scheme and the hand-over are logged"
else
	not_ok "--scheme frost: the scheme and the hand-over are logged" "$(head -3 "$LOG")"
fi

# ---- a destination that accepts only multisig refuses it: scheme -------------------------------

relay_once "3=$DC3" --scheme frost
if [ "$rc" -eq 1 ] && [ "$(inbox "$DC3" 0)" = False ] &&
	grep -q "ERROR.*chain 3 refused the delivery from .*: scheme: " "$LOG" && grep -q "route 1->3 is blocked at nonce 0" "$LOG"; then
	ok "a multisig-only chain refuses the FROST delivery (scheme), the route is blocked"
else
	not_ok "a multisig-only chain refuses the FROST delivery (scheme), the route is blocked" \
		"status $rc, inbox $(inbox "$DC3" 0)" "$(grep ERROR "$LOG" | head -3)"
fi

# ---- a validator that answers with the other scheme ----------------------------------------------

delivery 2 1 2 >"$V/deliveries/1-2-2.frost.hex"   # multisig, where FROST was asked for
delivery 2 1 2 >"$V/deliveries/1-2-2.hex"
printf '{"routes":[{"src_chain":"1","dst_chain":"2","latest":{"checkpoint":{"tree_size":"3"}}}]}' >"$V/routes.json"
relay_once "2=$DC2" --scheme frost
if [ "$rc" -eq 1 ] && [ "$(inbox "$DC2" 2)" = False ] &&
	grep -q "certified with multisig-secp256k1, not the frost-ed25519 asked for" "$LOG"; then
	ok "a multisig delivery to a frost request: a failure of that validator, nothing posted"
else
	not_ok "a multisig delivery to a frost request: a failure of that validator, nothing posted" \
		"status $rc, inbox $(inbox "$DC2" 2)" "$(grep -i 'warn\|error' "$LOG" | head -3)"
fi

# ---- the default (multisig): no parameter; a frost-only chain refuses -----------------------------

relay_once "2=$DC2"
if [ "$rc" -eq 1 ] && [ "$(inbox "$DC2" 2)" = False ] && grep -qx '/v1/deliveries/1/2/2' "$REQ" &&
	! grep -q 'scheme=' "$REQ" && grep -q "carrying multisig-secp256k1 certificates" "$LOG" &&
	grep -q "ERROR.*chain 2 refused the delivery from .*: scheme: " "$LOG"; then
	ok "without --scheme: no ?scheme= sent, and chain 2 (frost only) refuses the multisig delivery (scheme)"
else
	not_ok "without --scheme: no ?scheme= sent, and chain 2 (frost only) refuses the multisig delivery (scheme)" \
		"status $rc, requests: $(tr '\n' ' ' <"$REQ")" "$(grep ERROR "$LOG" | head -3)"
fi

# ---- isthmus verify: the same documents offline --------------------------------------------------

run verify --validators "$T/vsf0.json" --handover "$V/epochs/1.frost.json" --accept frost --chain 2 --json \
	--file "$V/deliveries/1-2-1.frost.hex"
if [ "$rc" -eq 0 ] && "$PY" -c 'import json,sys; d = json.load(open(sys.argv[1])); assert d["valid"] and d["scheme"] == "frost-ed25519" and int(d["epoch"]) == 1' "$T/out" 2>/dev/null; then
	ok "verify --accept frost --handover: valid, scheme frost-ed25519, epoch 1"
else
	not_ok "verify --accept frost --handover: valid, scheme frost-ed25519, epoch 1" "status $rc, $(tr '\n' ' ' <"$T/out")"
fi
expect "verify the FROST hand-over without --accept frost: invalid" 1 verify --validators "$T/vsf0.json" \
	--handover "$V/epochs/1.frost.json" --chain 2 --file "$V/deliveries/1-2-1.frost.hex"
if grep -q "^invalid: scheme: " "$T/out"; then ok "  ... says scheme"; else not_ok "  ... says scheme" "$(tr '\n' ' ' <"$T/out")"; fi

# ---- usage ----------------------------------------------------------------------------------------

expect_err "relay --scheme bogus: a usage error" 2 "--scheme must be multisig or frost (got 'bogus')" \
	relay --validator "$FVURL" --chain "2=$DC2" --state "$T/x.json" --scheme bogus
run relay --help
if [ "$rc" -eq 0 ] && grep -q -- '--scheme SCHEME' "$T/out"; then ok "relay --help lists --scheme"; else not_ok "relay --help lists --scheme"; fi

finish
