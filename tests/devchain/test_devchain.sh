#!/usr/bin/env bash
# isthmus-devchain as real processes on 127.0.0.1 (suite integration, TAP;
# the harness is tests/cli/lib.sh). Checks: option errors are one line;
# blocks advance and finality lags by the depth; the same chain is served
# on two --listen URLs; sends get increasing nonces per route and their
# messages appear in blocks and range queries with the id recomputed here
# (python3 hashlib, from the canonical bytes of src/wire/canonical.h); the
# range and block errors; the reorg hook changes non-final block hashes and
# keeps the messages in order, and refuses final blocks; the
# rewrite-finalized hook changes a final block; the hooks are off without
# --test-hooks; the inbox takes a real delivery of chain A's message (built
# by mkdelivery) once, answers 409 to a replay (and says whether it is the
# same message), refuses every forgery class with its reason and counts it
# in /metrics (checked by promtool); SIGKILL and restart keep blocks,
# nonces and the inbox; a second process on a data directory and another
# chain id are refused; SIGTERM exits 0.
#
# Waiting is polling with a bound (WAIT_S), never a fixed sleep; nothing
# asserts on timing. Every process is killed on exit.
TEST_NAME=devchain
PROG=isthmus-devchain
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

MK=${MKDELIVERY_BIN:?MKDELIVERY_BIN must point to tests/devchain/mkdelivery}
# the interpreter itself, not a wrapper script in front of it (pyenv's
# shims take 100 ms a call, and the checks below call it often)
PY=$(python3 -c 'import sys; print(sys.executable)')
WAIT_S=${ISTHMUS_TEST_WAIT_S:-60}
declare -A PID=() URL=() URL2=()

cleanup_procs() {
	local p
	for p in "${PID[@]}"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	for p in "${PID[@]}"; do
		[ -n "$p" ] && wait "$p" 2>/dev/null
	done
	if [ "$failed" -ne 0 ]; then
		for p in "$T"/*.log; do
			[ -f "$p" ] && tail -n 8 "$p" | sed "s|^|# $(basename "$p"): |"
		done
	fi
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup_procs EXIT
: >"$T/err"

# ---- helpers ------------------------------------------------------------------

# start NAME ARGS...: starts a devchain in the background (log $T/NAME.N.log)
# and waits for its "listening on" lines; URL[NAME] is the first URL,
# URL2[NAME] the second if any. Returns 1 when it does not come up.
declare -A STARTS=()
start() {
	local name=$1
	shift
	local k=$((${STARTS[$name]:-0} + 1))
	STARTS[$name]=$k
	local log="$T/$name.$k.log" want
	want=$(printf '%s\n' "$@" | grep -c -- '^--listen$')
	[ "$want" -eq 0 ] && want=1
	"$BIN" "$@" >"$log" 2>&1 </dev/null &
	PID[$name]=$!
	local deadline=$((SECONDS + WAIT_S))
	while [ $SECONDS -lt $deadline ]; do
		if [ "$(grep -c 'listening on http://' "$log")" -ge "$want" ]; then
			URL[$name]=$(grep -o 'listening on http://[^ ]*' "$log" | sed -n '1s/listening on //p')
			URL2[$name]=$(grep -o 'listening on http://[^ ]*' "$log" | sed -n '2s/listening on //p')
			return 0
		fi
		kill -0 "${PID[$name]}" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# stop NAME SIGNAL: sends the signal, waits (bounded); exit status in $rc
stop() {
	local pid=${PID[$1]} deadline=$((SECONDS + 30))
	kill "-$2" "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=timeout
	else
		# (the braces keep bash's "Killed" notice off stderr)
		{ wait "$pid"; } 2>/dev/null
		rc=$?
	fi
	PID[$1]=
}

# req METHOD URL [BODY]: the response body in $T/resp, the status in $code
req() {
	if [ $# -ge 3 ]; then
		code=$(curl -s --max-time 10 -o "$T/resp" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
			--data-binary "$3" "$2")
	else
		code=$(curl -s --max-time 10 -o "$T/resp" -w '%{http_code}' -X "$1" "$2")
	fi
}
# reqf METHOD URL FILE: as req, the body from a file
reqf() {
	code=$(curl -s --max-time 10 -o "$T/resp" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
		--data-binary "@$3" "$2")
}

# j EXPR: evaluates a python expression over the last response (`d`)
j() {
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); v = eval(sys.argv[2]); print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$T/resp" "$1" 2>/dev/null
}

head_of() { req GET "${URL[$1]}/v1/head"; j 'd["height"]'; }

# wait_height NAME MIN: until the head is at least MIN
wait_height() {
	local deadline=$((SECONDS + WAIT_S)) h
	while [ $SECONDS -lt $deadline ]; do
		h=$(head_of "$1")
		[ -n "$h" ] && [ "$h" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# msg_id JSON: the message id recomputed from a message's JSON fields
msg_id() {
	"$PY" - "$1" <<'EOF'
import hashlib, json, struct, sys
m = json.loads(sys.argv[1])
p = bytes.fromhex(m["payload"])
b = (b"isthmus/msg/v1" + struct.pack(">QQQ", int(m["src_chain"]), int(m["dst_chain"]), int(m["nonce"]))
     + bytes.fromhex(m["sender"]) + bytes.fromhex(m["recipient"]) + struct.pack(">Q", int(m["value"]))
     + struct.pack(">I", len(p)) + p)
print(hashlib.sha256(b).hexdigest())
EOF
}

# find_msg NAME DST NONCE: polls the range query until the message is in a
# block; its JSON in $T/msg. Returns 1 when it never shows.
find_msg() {
	local deadline=$((SECONDS + WAIT_S)) h m
	while [ $SECONDS -lt $deadline ]; do
		h=$(head_of "$1")
		req GET "${URL[$1]}/v1/messages?from_height=$((h > 999 ? h - 999 : 0))&to_height=$h"
		m=$(j "[m for m in d['messages'] if m['dst_chain'] == $2 and m['nonce'] == $3]")
		if [ -n "$m" ] && [ "$m" != "[]" ]; then
			"$PY" -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1])[0]))' "$m" >"$T/msg"
			return 0
		fi
		sleep 0.05
	done
	return 1
}

metric() {
	curl -s --max-time 10 "${URL[$1]}/metrics" | awk -v k="$2" '$1 == k { print $2 }'
}

R32=2222222222222222222222222222222222222222222222222222222222222222
S32=1111111111111111111111111111111111111111111111111111111111111111
KEYS=()
for b in 01 02 03 04; do KEYS+=(--key "$(printf "$b%.0s" $(seq 32))"); done

# ---- options ----------------------------------------------------------------------

expect_err "no --data: one line, status 2" 2 "--data DIR is required" --chain-id 1
expect_err "no --chain-id: one line, status 2" 2 "--chain-id N is required" --data "$T/x"
expect_err "--chain-id 0 refused" 2 "--chain-id must be an integer from 1" --data "$T/x" --chain-id 0
expect_err "--chain-id abc refused" 2 "--chain-id must be an integer" --data "$T/x" --chain-id abc
expect_err "--block-ms 5 refused" 2 "--block-ms must be an integer from 10 to 3600000" --data "$T/x" --chain-id 1 --block-ms 5
expect_err "--finality-depth 5000 refused" 2 "--finality-depth must be an integer from 0 to 1000" --data "$T/x" --chain-id 1 --finality-depth 5000
expect_err "--accept bogus refused" 2 "--accept must be multisig, frost or multisig,frost" --data "$T/x" --chain-id 1 --accept bogus
expect_err "the same --listen twice refused" 2 "given twice" --data "$T/x" --chain-id 1 --listen http://127.0.0.1:0 --listen http://127.0.0.1:0
expect_err "an unknown option refused" 2 "unknown or incomplete option '--bogus'" --data "$T/x" --chain-id 1 --bogus
expect_err "--log-level bogus refused" 2 "--log-level must be a level" --data "$T/x" --chain-id 1 --log-level bogus
expect_err "--trust on a missing file: the file named" 1 "$T/none.json: no such file" --data "$T/x" --chain-id 1 --trust "$T/none.json"
printf '{"format":"isthmus-validator-set/v1","network_id":1,"epoch":0,"validators":[{"attestation_key":"02","stake":1}]}' >"$T/bad-vs.json"
expect_err "--trust on a bad file: file and field named" 1 "$T/bad-vs.json: validators[0].attestation_key: must be" --data "$T/x" --chain-id 1 --trust "$T/bad-vs.json"
expect_err "a listen URL that is not http://HOST:PORT" 2 "must be http://HOST:PORT" --data "$T/x" --chain-id 1 --listen ftp://127.0.0.1:1
run --help
if [ "$rc" -eq 0 ] && grep -q '^usage: isthmus-devchain' "$T/out"; then ok "--help prints the usage"; else not_ok "--help prints the usage"; fi

# ---- chain A: blocks, two URLs, finality --------------------------------------------

# finality depth 20: room for a reorg of the last blocks while new ones come
DEPTH=20
A_ARGS=(--data "$T/a" --chain-id 1 --block-ms 100 --finality-depth $DEPTH --test-hooks
	--listen http://127.0.0.1:0 --listen http://127.0.0.2:0)
if start a "${A_ARGS[@]}"; then ok "chain A starts on two URLs"; else
	echo "Bail out! chain A does not start: $(tail -3 "$T"/a.1.log)"; exit 1; fi
A=${URL[a]}

if wait_height a $((DEPTH + 2)); then ok "blocks advance (height $((DEPTH + 2)) reached)"; else not_ok "blocks advance"; fi
req GET "$A/v1/head"
if [ "$code" = 200 ] && [ "$(j 'd["chain_id"]')" = 1 ] && [ "$(j 'd["finalized_height"] == max(0, d["height"] - '$DEPTH')')" = true ]; then
	ok "GET /v1/head: chain id, and finalized height = head - depth (or 0)"
else
	not_ok "GET /v1/head: chain id, and finalized height = head - depth" "$code $(cat "$T/resp")"
fi
H=$(j 'd["height"]')
HASH=$(j 'd["hash"]')
req GET "${URL2[a]}/v1/blocks/$H"
if [ "$code" = 200 ] && [ "$(j 'd["hash"]')" = "$HASH" ] && [ "$(j 'd["finalized"]')" = false ]; then
	ok "the second URL serves the same chain (block $H, not final)"
else
	not_ok "the second URL serves the same chain" "$code $(cat "$T/resp")"
fi
req GET "$A/v1/blocks/$((H - DEPTH))"
if [ "$(j 'd["finalized"]')" = true ] && [ "$(j 'd["height"]')" = $((H - DEPTH)) ]; then
	ok "block head-depth is final"
else
	not_ok "block head-depth is final" "$(cat "$T/resp")"
fi
req GET "$A/v1/blocks/1"
P1=$(j 'd["parent_hash"]')
req GET "$A/v1/blocks/0"
if [ "$(j 'd["hash"]')" = "$P1" ] && [ "$(j 'd["parent_hash"]')" = "$(printf '0%.0s' $(seq 64))" ]; then
	ok "block 1's parent is the genesis block, whose parent is zero"
else
	not_ok "block 1's parent is the genesis block" "$(cat "$T/resp")"
fi
req GET "$A/v1/blocks/99999999"
if [ "$code" = 404 ] && [ "$(j 'd["error"]')" = not-found ]; then ok "a block above the head: 404 JSON"; else not_ok "a block above the head: 404 JSON" "$code"; fi
req GET "$A/v1/blocks/x1"
if [ "$code" = 400 ]; then ok "a bad height: 400"; else not_ok "a bad height: 400" "$code"; fi
req GET "$A/v1/nothing"
if [ "$code" = 404 ] && [ "$(j 'd["error"]')" = not-found ]; then ok "an unknown path: 404 JSON"; else not_ok "an unknown path: 404 JSON" "$code"; fi
req DELETE "$A/v1/head"
if [ "$code" = 405 ]; then ok "a wrong method: 405"; else not_ok "a wrong method: 405" "$code"; fi
req GET "$A/healthz"
if [ "$code" = 200 ] && [ "$(cat "$T/resp")" = ok ]; then ok "/healthz: ok"; else not_ok "/healthz: ok" "$code"; fi

# ---- sends ----------------------------------------------------------------------------

sends_ok=1
declare -A SENT_ID=()
send() {   # send DST NONCE_WANTED PAYLOAD_HEX [VALUE]
	req POST "$A/v1/messages" "{\"dst_chain\":$1,\"recipient\":\"$R32\",\"sender\":\"$S32\",\"value\":\"${4:-0}\",\"payload\":\"$3\"}"
	local want
	want=$(msg_id "{\"src_chain\":1,\"dst_chain\":$1,\"nonce\":$2,\"sender\":\"$S32\",\"recipient\":\"$R32\",\"value\":\"${4:-0}\",\"payload\":\"$3\"}")
	if [ "$code" != 202 ] || [ "$(j 'd["nonce"]')" != "$2" ] || [ "$(j 'd["leaf_index"]')" != "$2" ] ||
	   [ "$(j 'd["src_chain"]')" != 1 ] || [ "$(j 'd["message_id"]')" != "$want" ]; then
		sends_ok=0
		echo "# send $1/$2: $code $(cat "$T/resp") (want id $want)"
	fi
	SENT_ID[$1/$2]=$want
}
send 2 0 68656c6c6f 7
send 2 1 ""
send 3 0 00ff
send 2 2 "$("$PY" -c 'print("00" * 300)')" 18446744073709551615
if [ $sends_ok -eq 1 ]; then
	ok "sends: 202, nonces 0,1,2 on route 1->2 and 0 on 1->3, ids as recomputed"
else
	not_ok "sends: 202, nonces per route, ids as recomputed"
fi
req POST "$A/v1/messages" "{\"dst_chain\":1,\"recipient\":\"$R32\"}"
if [ "$code" = 400 ] && grep -q 'another chain' "$T/resp"; then ok "a send to the chain itself: 400"; else not_ok "a send to the chain itself: 400" "$code $(cat "$T/resp")"; fi
req POST "$A/v1/messages" "{\"dst_chain\":2,\"recipient\":\"$R32\",\"payload\":\"abc\"}"
if [ "$code" = 400 ] && grep -q 'payload' "$T/resp"; then
	ok "a bad payload: 400 naming the field"
else
	not_ok "a bad payload: 400 naming the field" "$code $(cat "$T/resp")"
fi
req POST "$A/v1/messages" 'not json'
if [ "$code" = 400 ] && grep -q 'invalid JSON' "$T/resp"; then ok "a body that is not JSON: 400"; else not_ok "a body that is not JSON: 400" "$code"; fi

incl_ok=1
for key in 2/0 2/1 3/0 2/2; do
	if ! find_msg a "${key%/*}" "${key#*/}"; then
		incl_ok=0
		echo "# message $key never appeared"
		continue
	fi
	m=$(cat "$T/msg")
	id=$("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$m")
	h=$("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])["height"])' "$m")
	bh=$("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])["block_hash"])' "$m")
	if [ "$id" != "${SENT_ID[$key]}" ] || [ "$(msg_id "$m")" != "$id" ]; then
		incl_ok=0
		echo "# message $key: id $id, sent ${SENT_ID[$key]}, recomputed $(msg_id "$m")"
	fi
	req GET "$A/v1/blocks/$h"
	if [ "$(j 'd["hash"]')" != "$bh" ] || [ "$(j "[m['id'] for m in d['messages']].count('$id')")" != 1 ]; then
		incl_ok=0
		echo "# message $key: not in block $h as the range query says"
	fi
	eval "HEIGHT_${key/\//_}=$h"
done
# nonce order within the route: heights never go down
if [ $incl_ok -eq 1 ] && [ "$HEIGHT_2_0" -le "$HEIGHT_2_1" ] && [ "$HEIGHT_2_1" -le "$HEIGHT_2_2" ]; then
	ok "every message is in a block and the range query, same id, in nonce order"
else
	not_ok "every message is in a block and the range query, same id, in nonce order"
fi
cp "$T/msg" "$T/msg-2-2.json"
find_msg a 2 0 && cp "$T/msg" "$T/msg-2-0.json"

H=$(head_of a)
req GET "$A/v1/messages?from_height=0"
c1=$code
req GET "$A/v1/messages?from_height=0&to_height=1000"
c2=$code
req GET "$A/v1/messages?from_height=5&to_height=4"
c3=$code
req GET "$A/v1/messages?from_height=$((H + 500))&to_height=$((H + 600))"
c4=$code
req GET "$A/v1/messages?from_height=0&to_height=999"
if [ "$c1" = 400 ] && [ "$c2" = 400 ] && [ "$c3" = 400 ] && [ "$c4" = 404 ] && [ "$code" = 200 ] &&
   [ "$(j 'd["to_height"] <= d["head"]')" = true ]; then
	ok "range queries: missing bound, over 1000 blocks and reversed: 400; above the head: 404; clipped to the head"
else
	not_ok "range query errors" "$c1 $c2 $c3 $c4 $code"
fi

# ---- test hooks ----------------------------------------------------------------------------

# reorg: too deep is refused
req POST "$A/v1/test/reorg" '{"depth":'$((DEPTH + 1))'}'
if [ "$code" = 409 ] && [ "$(j 'd["error"]')" = reorg-refused ] && grep -q 'final' "$T/resp"; then
	ok "a reorg reaching a final block is refused (409)"
else
	not_ok "a reorg reaching a final block is refused" "$code $(cat "$T/resp")"
fi
req POST "$A/v1/test/reorg" '{"depth":0}'
if [ "$code" = 400 ]; then ok "a reorg of depth 0: 400"; else not_ok "a reorg of depth 0: 400" "$code"; fi

# reorg of the whole non-final part (new blocks may come in between: the
# reorg is relative to the head it finds, DEPTH blocks of room): a message
# sent just before moves one block later with the same id, its old block
# and the one it lands in get new hashes, a final block keeps its own
req POST "$A/v1/messages" "{\"dst_chain\":2,\"recipient\":\"$R32\",\"payload\":\"72656f7267\"}"
RID=$(j 'd["message_id"]')
find_msg a 2 3
read -r RH RBH < <("$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); print(m["height"], m["block_hash"])' "$T/msg")
req POST "$A/v1/test/reorg" '{"depth":'$DEPTH'}'
if [ "$code" = 200 ]; then
	read -r FROM OLD NEW < <(j '"%d %d %d" % (d["replaced_from"], d["old_head"]["height"], d["new_head"]["height"])')
	find_msg a 2 3
	read -r NH NBH NID < <("$PY" -c 'import json, sys; m = json.load(open(sys.argv[1])); print(m["height"], m["block_hash"], m["id"])' "$T/msg")
	req GET "$A/v1/blocks/$RH"
	if [ "$NEW" = $((OLD + 1)) ] && [ "$FROM" -le "$RH" ] && [ "$NID" = "$RID" ] && [ "$NH" = $((RH + 1)) ] &&
	   [ "$NBH" != "$RBH" ] && [ "$(j 'd["hash"]')" != "$RBH" ]; then
		ok "reorg of depth $DEPTH (blocks $FROM..$OLD): the message moves from block $RH to $NH with its id, both blocks get new hashes"
	else
		not_ok "reorg of depth $DEPTH keeps the message and changes the hashes" \
			"replaced $FROM..$OLD -> $NEW; message at $RH ($RBH) -> $NH ($NBH), id $NID want $RID"
	fi
	req GET "$A/v1/blocks/$((FROM - 1))"
	below=$(j 'd["hash"]')
	req GET "$A/v1/blocks/$FROM"
	if [ "$(j 'd["parent_hash"]')" = "$below" ] && [ "$(j 'len(d["messages"])')" = 0 ]; then
		ok "the first replaced block is empty and hangs from the block below it"
	else
		not_ok "the first replaced block is empty and hangs from the block below it" "$(cat "$T/resp")"
	fi
else
	not_ok "reorg of depth $DEPTH" "$code $(cat "$T/resp")"
	not_ok "the first replaced block is empty and hangs from the block below it"
fi
# the chain still links up from the reorg point
H=$(head_of a)
links=1
for h in $(seq $((H - 5)) "$H"); do
	req GET "$A/v1/blocks/$((h - 1))"
	prev=$(j 'd["hash"]')
	req GET "$A/v1/blocks/$h"
	[ "$(j 'd["parent_hash"]')" = "$prev" ] || links=0
done
if [ $links -eq 1 ]; then ok "after the reorg every block's parent is the block below"; else not_ok "after the reorg the parents link up"; fi

# rewrite-finalized: the block of message 1->2 #0, final by now
MH=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["height"])' "$T/msg-2-0.json")
wait_height a $((MH + DEPTH))
req GET "$A/v1/blocks/$MH"
OLDHASH=$(j 'd["hash"]')
req POST "$A/v1/test/rewrite-finalized" "{\"height\":$MH}"
if [ "$code" = 200 ] && [ "$(j 'd["old_hash"]')" = "$OLDHASH" ] && [ "$(j 'd["new_hash"]')" != "$OLDHASH" ] &&
   [ "$(j 'd["old_message_id"]')" = "${SENT_ID[2/0]}" ]; then
	NEWHASH=$(j 'd["new_hash"]')
	req GET "$A/v1/blocks/$MH"
	m0=$(j "[m for m in d['messages'] if m['dst_chain'] == 2 and m['nonce'] == 0][0]")
	if [ "$(j 'd["hash"]')" = "$NEWHASH" ] && [ "$(j 'd["finalized"]')" = true ] &&
	   [ "$(msg_id "$m0")" != "${SENT_ID[2/0]}" ] &&
	   [ "$("$PY" -c 'import json, sys; m = json.loads(sys.argv[1]); print(m["payload"], m["id"] == sys.argv[2])' "$m0" "$(msg_id "$m0")")" = "69656c6c6f True" ]; then
		ok "rewrite-finalized: final block $MH now has another hash and message 0 another payload and id"
	else
		not_ok "rewrite-finalized: later reads show the rewritten block" "$(cat "$T/resp")"
	fi
else
	not_ok "rewrite-finalized of final block $MH" "$code $(cat "$T/resp")"
fi
H=$(head_of a)
req POST "$A/v1/test/rewrite-finalized" "{\"height\":$H}"
c1=$code
req POST "$A/v1/test/rewrite-finalized" '{"height":0}'
if [ "$c1" = 409 ] && [ "$code" = 409 ] && [ "$(j 'd["error"]')" = rewrite-refused ]; then
	ok "rewrite-finalized refuses a block that is not final, and the genesis"
else
	not_ok "rewrite-finalized refusals" "$c1 $code"
fi

# ---- the inbox ---------------------------------------------------------------------------------

"$MK" "${KEYS[@]}" --valset "$T/vs.json" >/dev/null 2>"$T/err" || { echo "Bail out! mkdelivery: $(cat "$T/err")"; exit 1; }
B_ARGS=(--data "$T/b" --chain-id 2 --block-ms 50 --trust "$T/vs.json" --listen http://127.0.0.1:0)
if start b "${B_ARGS[@]}"; then ok "chain B starts, trusting a 4-validator set"; else
	echo "Bail out! chain B does not start: $(tail -3 "$T"/b.1.log)"; exit 1; fi
B=${URL[b]}

req POST "$B/v1/test/reorg" '{"depth":1}'
if [ "$code" = 403 ] && [ "$(j 'd["error"]')" = test-hooks-disabled ]; then
	ok "without --test-hooks the hooks answer 403"
else
	not_ok "without --test-hooks the hooks answer 403" "$code"
fi

# the real message 1->2 #2 of chain A, certified by the 4 validators
deliver() {   # deliver FILE-OR-ARGS...: builds with mkdelivery ARGS and posts to B
	printf '{"delivery":"%s"}' "$("$MK" "${KEYS[@]}" "$@")" >"$T/delivery.json"
	reqf POST "$B/v1/inbox" "$T/delivery.json"
}
MSG=$(cat "$T/msg-2-2.json")
MSG_ID=$("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$MSG")
deliver --message "$MSG" --tree-size 5
if [ "$code" = 200 ] && [ "$(j 'd["status"]')" = delivered ] && [ "$(j 'd["message_id"]')" = "$MSG_ID" ] &&
   [ "$(j 'd["src_chain"]')" = 1 ] && [ "$(j 'd["nonce"]')" = 2 ]; then
	ok "a valid delivery of chain A's message is accepted (200 delivered)"
else
	not_ok "a valid delivery is accepted" "$code $(cat "$T/resp")"
fi
DH=$(j 'd["height"]')
reqf POST "$B/v1/inbox" "$T/delivery.json"
if [ "$code" = 409 ] && [ "$(j 'd["error"]')" = replay ] && [ "$(j 'd["same_message"]')" = true ] &&
   [ "$(j 'd["message_id"]')" = "$MSG_ID" ] && [ "$(j 'd["height"]')" = "$DH" ]; then
	ok "the same delivery again: 409 replay, same message, its id and delivery height"
else
	not_ok "the same delivery again: 409 replay" "$code $(cat "$T/resp")"
fi
deliver --src 1 --nonce 2 --tree-size 3
if [ "$code" = 409 ] && [ "$(j 'd["error"]')" = replay ] && [ "$(j 'd["same_message"]')" = false ]; then
	ok "another certified message with the same nonce: 409 replay, not the same message"
else
	not_ok "another message with the same nonce: 409 replay" "$code $(cat "$T/resp")"
fi
req GET "$B/v1/inbox/1/2"
if [ "$(j 'd["delivered"]')" = true ] && [ "$(j 'd["message_id"]')" = "$MSG_ID" ]; then ok "GET /v1/inbox/1/2: delivered"; else not_ok "GET /v1/inbox/1/2" "$(cat "$T/resp")"; fi
req GET "$B/v1/inbox/1/3"
if [ "$(j 'd["delivered"]')" = false ]; then ok "GET /v1/inbox/1/3: not delivered"; else not_ok "GET /v1/inbox/1/3" "$(cat "$T/resp")"; fi

# every forgery class, on messages not delivered yet, with its reason
FROST=$(printf '05%.0s' $(seq 32))
forgeries=(
	"bad-signature|--nonce 4 --forge outsider"
	"bad-signature|--nonce 4 --tree-size 6 --forge sig-bit"
	"bad-signature|--nonce 4 --forge dup-signer"
	"signer-range|--nonce 4 --forge extra-signer"
	"quorum|--nonce 4 --signers 0,1"
	"unknown-epoch|--nonce 4 --epoch 1"
	"network|--nonce 4 --network 7"
	"message-proof|--nonce 4 --forge payload-bit"
	"message-proof|--nonce 4 --tree-size 9 --forge proof-bit"
	"message-proof|--nonce 4 --forge cp-root-bit"
	"checkpoint-proof|--nonce 4 --forge batch-root-bit"
	"checkpoint-proof|--nonce 4 --forge cp-proof-bit"
	"wrong-destination|--nonce 4 --dst 3"
	"route-mismatch|--nonce 4 --forge route"
	"scheme|--nonce 4 --frost $FROST"
)
for f in "${forgeries[@]}"; do
	want=${f%%|*}
	# shellcheck disable=SC2086
	deliver ${f#*|}
	if [ "$code" = 400 ] && [ "$(j 'd["error"]')" = "$want" ] && [ -n "$(j 'd["detail"]')" ]; then
		ok "forgery ($f) refused: 400 $want"
	else
		not_ok "forgery ($f) refused: 400 $want" "$code $(cat "$T/resp")"
	fi
done
req POST "$B/v1/inbox" '{"delivery":"0a0b"}'
if [ "$code" = 400 ] && [ "$(j 'd["error"]')" = malformed ] && grep -q 'delivery' "$T/resp"; then
	ok "a delivery that does not decode: 400 malformed, saying what"
else
	not_ok "a malformed delivery" "$code $(cat "$T/resp")"
fi
req POST "$B/v1/inbox" '{"deliver":"00"}'
if [ "$code" = 400 ] && [ "$(j 'd["error"]')" = malformed ] && grep -q 'did you mean' "$T/resp"; then
	ok "a body with a misspelt field: 400 malformed"
else
	not_ok "a body with a misspelt field" "$code $(cat "$T/resp")"
fi
req GET "$B/v1/inbox/1/4"
if [ "$(j 'd["delivered"]')" = false ]; then ok "no forgery was recorded"; else not_ok "no forgery was recorded"; fi

# chain A has no --trust: it refuses every delivery
printf '{"delivery":"%s"}' "$("$MK" "${KEYS[@]}" --src 2 --dst 1)" >"$T/to-a.json"
reqf POST "$A/v1/inbox" "$T/to-a.json"
if [ "$code" = 400 ] && [ "$(j 'd["error"]')" = no-validator-set ]; then
	ok "a chain without --trust refuses deliveries: no-validator-set"
else
	not_ok "a chain without --trust refuses deliveries" "$code $(cat "$T/resp")"
fi

# the counts in /metrics, and promtool
curl -s --max-time 10 "$B/metrics" >"$T/metrics.txt"
counts_ok=1
[ "$(metric b isthmus_devchain_deliveries_total)" = 1 ] || counts_ok=0
for r in replay bad-signature signer-range quorum unknown-epoch network message-proof checkpoint-proof \
	wrong-destination route-mismatch scheme malformed; do
	v=$(awk -v k="isthmus_devchain_delivery_rejections_total{reason=\"$r\"}" '$1 == k { print $2 }' "$T/metrics.txt")
	if [ -z "$v" ] || [ "$v" -lt 1 ]; then counts_ok=0; echo "# reason $r counted ${v:-never}"; fi
done
[ "$(awk '$1 == "isthmus_devchain_delivery_rejections_total{reason=\"bad-signature\"}" { print $2 }' "$T/metrics.txt")" = 3 ] || counts_ok=0
[ "$(awk '$1 == "isthmus_devchain_delivery_rejections_total{reason=\"replay\"}" { print $2 }' "$T/metrics.txt")" = 2 ] || counts_ok=0
if [ $counts_ok -eq 1 ]; then ok "/metrics counts the delivery and every rejection by reason"; else not_ok "/metrics counts rejections by reason"; fi
if command -v promtool >/dev/null 2>&1; then
	curl -s --max-time 10 "$A/metrics" >"$T/metrics-a.txt"
	if promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 &&
	   promtool check metrics <"$T/metrics-a.txt" >>"$T/promtool.out" 2>&1; then
		ok "promtool accepts /metrics"
	else
		not_ok "promtool accepts /metrics" "$(head -5 "$T/promtool.out")"
	fi
else
	ok "promtool accepts /metrics # SKIP promtool not installed"
fi

# ---- restarts ------------------------------------------------------------------------------------

expect_err "a second process on chain A's directory is refused" 1 "in use by another isthmus-devchain" \
	--data "$T/a" --chain-id 1 --listen http://127.0.0.1:0

H=$(head_of a)
req GET "$A/v1/blocks/$H"
cp "$T/resp" "$T/block-before.json"
req GET "$A/v1/messages?from_height=0&to_height=$H"
j 'd["messages"]' >"$T/msgs-before.json"
stop a KILL
if start a "${A_ARGS[@]}"; then
	A=${URL[a]}
	req GET "$A/v1/blocks/$H"
	same_block=$("$PY" -c 'import json, sys; a, b = (json.load(open(p)) for p in sys.argv[1:3]); print(a["hash"] == b["hash"] and a["messages"] == b["messages"])' "$T/block-before.json" "$T/resp")
	req GET "$A/v1/messages?from_height=0&to_height=$H"
	j 'd["messages"]' >"$T/msgs-after.json"
	if [ "$same_block" = True ] && cmp -s "$T/msgs-before.json" "$T/msgs-after.json"; then
		ok "after SIGKILL and restart chain A has the same blocks and messages up to $H"
	else
		not_ok "after SIGKILL and restart the same blocks" "$same_block"
	fi
	req POST "$A/v1/messages" "{\"dst_chain\":2,\"recipient\":\"$R32\"}"
	if [ "$code" = 202 ] && [ "$(j 'd["nonce"]')" = 4 ]; then ok "nonces continue after the restart (4)"; else not_ok "nonces continue after the restart" "$code $(cat "$T/resp")"; fi
	if wait_height a $((H + 2)); then ok "blocks advance after the restart"; else not_ok "blocks advance after the restart"; fi
else
	not_ok "chain A restarts after SIGKILL" "$(tail -3 "$T/a.${STARTS[a]}.log")"
fi
stop a TERM
if [ "$rc" = 0 ] && grep -q 'stopped cleanly' "$T/a.${STARTS[a]}.log"; then ok "SIGTERM: status 0, stopped cleanly"; else not_ok "SIGTERM: status 0" "status $rc"; fi
expect_err "a restart with another chain id is refused" 1 "holds chain 1, not --chain-id 5" \
	--data "$T/a" --chain-id 5 --listen http://127.0.0.1:0

stop b KILL
if start b "${B_ARGS[@]}"; then
	B=${URL[b]}
	req GET "$B/v1/inbox/1/2"
	d1=$(j 'd["delivered"]')
	printf '{"delivery":"%s"}' "$("$MK" "${KEYS[@]}" --message "$MSG" --tree-size 5)" >"$T/delivery.json"
	reqf POST "$B/v1/inbox" "$T/delivery.json"
	if [ "$d1" = true ] && [ "$code" = 409 ] && [ "$(j 'd["same_message"]')" = true ]; then
		ok "after SIGKILL and restart chain B's inbox still has the delivery (replay: 409)"
	else
		not_ok "the inbox survives SIGKILL" "$d1 $code $(cat "$T/resp")"
	fi
else
	not_ok "chain B restarts after SIGKILL"
fi
stop b TERM

finish
