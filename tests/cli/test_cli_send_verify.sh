#!/usr/bin/env bash
# `isthmus send`, `isthmus verify` and the option errors of `isthmus relay`
# end to end (suite integration, TAP; the harness is tests/cli/lib.sh).
#
# send: against a real isthmus-devchain (started here on a free port): the
# line it prints, its id being the chain's own for the message (read back
# from the chain's blocks with every field sent), --json, --payload-hex,
# the chain's refusal as one line with its reason, an unreachable chain.
# verify: real deliveries built by tests/devchain/mkdelivery (signed with
# four attestation keys; the validator-set file it writes), given as
# --delivery, --file, stdin, and inside a node's JSON answer; a byte flipped
# anywhere, another destination, another validator set, too few signers,
# not hex, FROST with and without --accept frost, a pending answer, a
# missing validator-set file (status 3). relay: every option error.
# The whole loop with a real cluster is tests/node/test_e2e.sh.
#
# Waiting is polling with a bound (WAIT_S), never a fixed sleep; nothing
# asserts on timing. Every process is killed on exit.
TEST_NAME=cli-send-verify
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DC=${ISTHMUS_DEVCHAIN_BIN:?ISTHMUS_DEVCHAIN_BIN must point to isthmus-devchain}
MK=${MKDELIVERY_BIN:?MKDELIVERY_BIN must point to tests/devchain/mkdelivery}
WAIT_S=${ISTHMUS_TEST_WAIT_S:-60}
DC_PID=
cleanup() {
	[ -n "$DC_PID" ] && kill -KILL "$DC_PID" 2>/dev/null && wait "$DC_PID" 2>/dev/null
	if [ "$failed" -ne 0 ] && [ -f "$T/dc.log" ]; then tail -n 8 "$T/dc.log" | sed 's/^/# dc.log: /'; fi
	rm -rf "$T"
}
trap cleanup EXIT
: >"$T/err"

R32=2222222222222222222222222222222222222222222222222222222222222222
S32=1111111111111111111111111111111111111111111111111111111111111111
# a port nobody listens on (bound, then closed)
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# ---- help and usage errors ----------------------------------------------------------

expect_help send verify relay

expect_err "send: no --rpc" 2 "--rpc URL is required" send --to 2
expect_err "send: no --to" 2 "--to CHAIN is required" send --rpc http://127.0.0.1:1
expect_err "send: --to 0" 2 "--to must be an integer from 1" send --rpc http://127.0.0.1:1 --to 0
expect_err "send: --value x" 2 "--value must be an integer" send --rpc http://127.0.0.1:1 --to 2 --value x
expect_err "send: both payloads" 2 "exclude each other" send --rpc http://127.0.0.1:1 --to 2 --payload a --payload-hex 00
expect_err "send: odd --payload-hex" 2 "--payload-hex must be an even number of hex digits" send --rpc http://127.0.0.1:1 --to 2 --payload-hex 0
expect_err "send: short --recipient" 2 "--recipient must be 64 hex digits" send --rpc http://127.0.0.1:1 --to 2 --recipient 22
expect_err "send: bad --sender" 2 "--sender must be 64 hex digits" send --rpc http://127.0.0.1:1 --to 2 --sender "${S32%1}x"
expect_err "send: a URL that is not http" 2 "must be http://HOST:PORT" send --rpc ftp://127.0.0.1:1 --to 2
expect_err "send: an extra argument" 2 "unexpected argument 'x'" send --rpc http://127.0.0.1:1 --to 2 x
expect_err "send: a payload over 64 KiB" 2 "over the limit of 65536" send --rpc http://127.0.0.1:1 --to 2 --payload "$(head -c 65537 /dev/zero | tr '\0' a)"

expect_err "verify: no --validators" 2 "--validators FILE is required" verify --chain 2 --delivery 00
expect_err "verify: no --chain" 2 "--chain CHAIN is required" verify --validators x --delivery 00
expect_err "verify: no delivery" 2 "give the delivery once" verify --validators x --chain 2
expect_err "verify: two deliveries" 2 "give the delivery once" verify --validators x --chain 2 --delivery 00 -
expect_err "verify: --chain 0" 2 "--chain must be an integer from 1" verify --validators x --chain 0 -
expect_err "verify: --accept bogus" 2 "--accept must be multisig, frost or multisig,frost" verify --validators x --chain 2 --accept bogus -
expect_err "verify: an extra argument" 2 "unexpected argument 'y'" verify --validators x --chain 2 - y

RV=(--validator http://127.0.0.1:1 --chain 2=http://127.0.0.1:2 --state "$T/st.json")
expect_err "relay: no --validator" 2 "--validator URL is required" relay --chain 2=http://127.0.0.1:2 --state "$T/st.json"
expect_err "relay: no --chain" 2 "--chain ID=URL is required" relay --validator http://127.0.0.1:1 --state "$T/st.json"
expect_err "relay: no --state" 2 "--state FILE is required" relay --validator http://127.0.0.1:1 --chain 2=http://127.0.0.1:2
expect_err "relay: --chain without =" 2 "--chain must be ID=URL" relay "${RV[@]}" --chain 3
expect_err "relay: --chain 0=URL" 2 "the chain id must be an integer from 1" relay "${RV[@]}" --chain 0=http://127.0.0.1:3
expect_err "relay: a chain twice" 2 "--chain 2 is given twice" relay "${RV[@]}" --chain 2=http://127.0.0.1:3
expect_err "relay: a validator twice" 2 "given twice" relay "${RV[@]}" --validator http://127.0.0.1:1
expect_err "relay: --wait-ms 5" 2 "--wait-ms must be an integer from 100 to 60000" relay "${RV[@]}" --wait-ms 5
expect_err "relay: a validator URL that is not http" 2 "must be http://HOST:PORT" relay "${RV[@]}" --validator ftp://127.0.0.1:1
expect_err "relay: a chain URL that is not http" 2 "must be http://HOST:PORT" relay "${RV[@]}" --chain 3=https://127.0.0.1:3
expect_err "relay: --log-level bogus" 2 "--log-level must be a level" relay "${RV[@]}" --log-level bogus
echo '{"format":"isthmus-relay-state/v1","routes":[{"src_chain":1,"dst_chain":2,"next":3}]}' >"$T/st.json"
expect_err "relay: a bad state file names the field" 1 "$T/st.json: routes[0].next: unknown field" relay "${RV[@]}" --once
rm -f "$T/st.json"
expect_err "relay --once with no validator answering: status 1" 1 "no validator answered" relay --validator "http://127.0.0.1:$CLOSED" \
	--chain 2=http://127.0.0.1:2 --state "$T/st.json" --once --log-level error

# ---- send, against a real devchain --------------------------------------------------

"$DC" --data "$T/dc" --chain-id 1 --listen http://127.0.0.1:0 --block-ms 50 --finality-depth 1 >"$T/dc.log" 2>&1 </dev/null &
DC_PID=$!
A=
deadline=$((SECONDS + WAIT_S))
while [ $SECONDS -lt $deadline ] && kill -0 "$DC_PID" 2>/dev/null; do
	A=$(grep -o 'listening on http://[^ ]*' "$T/dc.log" | sed -n '1s/listening on //p')
	[ -n "$A" ] && break
	sleep 0.05
done
[ -n "$A" ] || { echo "Bail out! the devchain does not start: $(tail -3 "$T/dc.log")"; exit 1; }

run send --rpc "$A" --to 2 --payload hello --value 7 --recipient "$R32" --sender "0x$S32"
ID0=$(sed -n 's/^sent message 0 on route 1->2: id \([0-9a-f]\{64\}\)$/\1/p' "$T/out")
if [ "$rc" -eq 0 ] && [ -n "$ID0" ] && [ ! -s "$T/err" ]; then
	ok "send: 'sent message 0 on route 1->2: id ...', status 0"
else
	not_ok "send: 'sent message 0 on route 1->2: id ...', status 0" "status $rc, out: $(cat "$T/out")"
fi
run send --rpc "$A/" --to 2
if [ "$rc" -eq 0 ] && grep -q '^sent message 1 on route 1->2: id ' "$T/out"; then
	ok "send again (URL with a trailing /): nonce 1"
else
	not_ok "send again: nonce 1" "status $rc, out: $(cat "$T/out")"
fi
run send --rpc "$A" --to 2 --payload-hex 00ff --json
if [ "$rc" -eq 0 ] && python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["nonce"] == 2 and d["src_chain"] == 1 and d["dst_chain"] == 2 and len(d["message_id"]) == 64' "$T/out" 2>/dev/null; then
	ok "send --json: the chain's answer as JSON (nonce 2)"
else
	not_ok "send --json: the chain's answer as JSON" "status $rc, out: $(cat "$T/out")"
fi

# the message in a block carries every field sent, under the id printed
deadline=$((SECONDS + WAIT_S))
found=
while [ $SECONDS -lt $deadline ]; do
	found=$(curl -s --max-time 5 "$A/v1/messages?from_height=0&to_height=999" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for m in d["messages"]:
    if m["dst_chain"] == 2 and m["nonce"] == 0:
        print(m["id"], m["payload"], m["value"], m["recipient"], m["sender"])' 2>/dev/null)
	[ -n "$found" ] && break
	sleep 0.05
done
if [ "$found" = "$ID0 68656c6c6f 7 $R32 $S32" ]; then
	ok "send: the chain holds the message with the fields sent, under the id printed"
else
	not_ok "send: the chain holds the message with the fields sent, under the id printed" "found: $found" "want: $ID0 68656c6c6f 7 ..."
fi

expect_err "send to the chain itself: the chain's refusal, one line" 1 "refused the message: 400 bad-request" send --rpc "$A" --to 1
if grep -q "dst_chain" "$T/err"; then ok "the refusal carries the chain's detail"; else not_ok "the refusal carries the chain's detail"; fi
expect_err "send to an unreachable chain: one line, status 1" 1 "cannot reach the chain at http://127.0.0.1:$CLOSED: connect:" send --rpc "http://127.0.0.1:$CLOSED" --to 2
expect_err "send to a path the chain does not serve: its 404" 1 "refused the message: 404 not-found" send --rpc "$A/nothing" --to 2

# ---- verify ------------------------------------------------------------------------------

KEYS=() OTHER=()
for b in 01 02 03 04; do KEYS+=(--key "$(printf "$b%.0s" $(seq 32))"); done
for b in 05 06 07 08; do OTHER+=(--key "$(printf "$b%.0s" $(seq 32))"); done
"$MK" "${KEYS[@]}" --valset "$T/vs.json" >"$T/d.hex" 2>"$T/err" || { echo "Bail out! mkdelivery: $(cat "$T/err")"; exit 1; }
"$MK" "${OTHER[@]}" --valset "$T/other.json" >/dev/null
D=$(cat "$T/d.hex")
V=(verify --validators "$T/vs.json" --chain 2)

# expect_verdict DESC STATUS TEXT ARGS...: the status, stdout starting with
# TEXT, nothing on stderr
expect_verdict() {
	local desc=$1 want=$2 text=$3
	shift 3
	run "$@"
	if [ "$rc" -eq "$want" ] && [ "$(head -c ${#text} "$T/out")" = "$text" ] && [ ! -s "$T/err" ]; then
		ok "$desc"
	else
		not_ok "$desc" "status $rc (want $want), out: $(head -c 300 "$T/out")" "want: $text"
	fi
}

expect_verdict "verify --delivery: valid, with the route, signers and stake" 0 \
	"valid: message 0 of route 1->2 (id " "${V[@]}" --delivery "$D"
if grep -q ') certified at height 7 by 4 validators holding 4000 of 4000 stake$' "$T/out"; then
	ok "verify: the height, the signers and their stake"
else
	not_ok "verify: the height, the signers and their stake" "out: $(cat "$T/out")"
fi
expect_verdict "verify --file" 0 "valid: message 0 of route 1->2" "${V[@]}" --file "$T/d.hex"
timeout 60 "$BIN" "${V[@]}" - <"$T/d.hex" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^valid: ' "$T/out"; then ok "verify - (stdin)"; else not_ok "verify - (stdin)" "status $rc"; fi
printf '{"status":"ready","height":"7","delivery":"%s"}\n' "$D" >"$T/answer.json"
timeout 60 "$BIN" "${V[@]}" - <"$T/answer.json" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q '^valid: ' "$T/out"; then ok "verify: a node's JSON answer on stdin"; else not_ok "verify: a node's JSON answer on stdin" "status $rc"; fi
run "${V[@]}" --delivery "$D" --json
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is True and d["reason"] == "ok" and d["signers"] == [0, 1, 2, 3]
assert d["signed_stake"] == 4000 and d["total_stake"] == 4000 and d["message"]["nonce"] == 0 and d["height"] == 7' "$T/out" 2>/dev/null; then
	ok "verify --json: valid, signers, stake"
else
	not_ok "verify --json: valid, signers, stake" "status $rc, out: $(cat "$T/out")"
fi

# a byte flipped anywhere makes it invalid (what the check names depends on
# where the byte is)
flip() {   # flip HEX POS: the hex with the byte at POS xor 0x01
	python3 -c 'import sys; b = bytearray.fromhex(sys.argv[1]); b[int(sys.argv[2])] ^= 1; print(b.hex())' "$1" "$2"
}
LEN=$((${#D} / 2))
all_invalid=1
for pos in 40 $((LEN / 3)) $((LEN / 2)) $((LEN * 2 / 3)) $((LEN - 2)); do
	run "${V[@]}" --delivery "$(flip "$D" $pos)"
	if [ "$rc" -ne 1 ] || ! grep -q '^invalid: [a-z-]*: ' "$T/out"; then
		all_invalid=0
		echo "# byte $pos: status $rc, out: $(cat "$T/out")"
	fi
done
[ $all_invalid -eq 1 ] && ok "verify: a byte flipped anywhere: 'invalid: REASON: DETAIL', status 1" ||
	not_ok "verify: a byte flipped anywhere: 'invalid: REASON: DETAIL', status 1"
expect_verdict "verify --chain 3: wrong-destination" 1 "invalid: wrong-destination: " verify --validators "$T/vs.json" --chain 3 --delivery "$D"
expect_verdict "verify against another validator set: bad-signature" 1 "invalid: bad-signature: " verify --validators "$T/other.json" --chain 2 --delivery "$D"
expect_verdict "verify with two of four signers: quorum" 1 "invalid: quorum: " "${V[@]}" --delivery "$("$MK" "${KEYS[@]}" --signers 0,1)"
expect_verdict "verify: not hex: malformed" 1 "invalid: malformed: " "${V[@]}" --delivery zz
expect_verdict "verify: not a Delivery: malformed" 1 "invalid: malformed: " "${V[@]}" --delivery 0a0b0c
run "${V[@]}" --delivery zz --json
if [ "$rc" -eq 1 ] && python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["valid"] is False and d["reason"] == "malformed" and d["detail"]' "$T/out" 2>/dev/null; then
	ok "verify --json on an invalid delivery: valid false, the reason, status 1"
else
	not_ok "verify --json on an invalid delivery" "status $rc, out: $(cat "$T/out")"
fi

SEED=$(printf '77%.0s' $(seq 32))
DF=$("$MK" "${KEYS[@]}" --frost "$SEED" --valset "$T/vsf.json")
expect_verdict "verify FROST with --accept frost" 0 "valid: message 0 of route 1->2" verify --validators "$T/vsf.json" --chain 2 --accept multisig,frost --delivery "$DF"
if grep -q 'by the FROST group key of epoch 0$' "$T/out"; then ok "verify FROST: the group key named"; else not_ok "verify FROST: the group key named" "$(cat "$T/out")"; fi
expect_verdict "verify FROST without --accept frost: scheme" 1 "invalid: scheme: " verify --validators "$T/vsf.json" --chain 2 --delivery "$DF"

printf '{"status":"pending","reason":"awaiting_certificate","detail":"x"}' >"$T/pending.json"
expect_err "verify: a pending answer: nothing to check, status 3" 3 "the answer is pending (awaiting_certificate)" "${V[@]}" --file "$T/pending.json"
expect_err "verify: a missing validator set: status 3" 3 "$T/none.json: no such file" verify --validators "$T/none.json" --chain 2 --delivery "$D"
expect_err "verify: a missing delivery file: status 3" 3 "$T/none.hex: no such file" "${V[@]}" --file "$T/none.hex"
printf '{"format":"isthmus-validator-set/v1","network_id":1,"epoch":0,"validators":[]}' >"$T/bad-vs.json"
expect_err "verify: a bad validator set names the field: status 3" 3 "$T/bad-vs.json: validators" verify --validators "$T/bad-vs.json" --chain 2 --delivery "$D"

finish
