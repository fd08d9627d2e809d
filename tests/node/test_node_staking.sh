#!/usr/bin/env bash
# Staking with real processes (issue 6, item 6; suite integration, TAP).
#
# Four genesis validators with short epochs. A fifth node, made with
# `isthmus init` and not in the genesis, gets funds from validator 0
# (`isthmus tx transfer`), registers and bonds (`isthmus stake register`,
# `stake bond`), enters the set at the next epoch boundary and votes (its bit
# is in the blocks' quorum certificates). Validator 0 then unbonds all its
# stake and leaves the set at the following boundary while the network keeps
# committing; its stake is released after the unbonding epochs and comes
# back with `stake withdraw`. Every hand-over certificate verifies against
# the set before it (the relayer path: /v1/epochs/{n}).
#
# Two devchains and `isthmus relay` run throughout: after each of three set
# changes (the fifth joins, its stake grows, validator 0 leaves) a message
# from chain 1 is delivered on chain 2, whose inbox has followed every
# hand-over (GET /v1/inbox/epochs); a third devchain that still trusts only
# epoch 0 refuses a current delivery (unknown-epoch).
#
# Waiting is bounded polling; nothing asserts on timing.
TEST_NAME=staking
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
N=4
EPOCH=15

DC=${ISTHMUS_DEVCHAIN_BIN:?ISTHMUS_DEVCHAIN_BIN must point to isthmus-devchain}
pick_base_port $((N + 1)) 3 || bail "no free base port found"
"$BIN" testnet --validators $N --chains 2 --output "$T/net" --base-port "$BASE" --epoch-length $EPOCH --kdf-fast \
	>"$T/testnet.out" 2>&1 </dev/null || bail "isthmus testnet failed: $(head -3 "$T/testnet.out")"
chain() { echo "http://127.0.0.1:$((BASE + 199 + $1))"; }
for k in 1 2; do
	"$DC" --data "$T/chain$k" --chain-id $k --listen "$(chain $k)" --block-ms 200 --finality-depth 1 \
		--trust "$T/net/validator-set.json" >>"$T/chain$k.log" 2>&1 </dev/null &
	PIDS[$((7 + k))]=$!
done
for i in $(seq 0 $((N - 1))); do start "$i"; done
wait_heights 3 0 1 2 3 && ok "4 genesis validators commit" || bail "no commits"
# validator 1 first: it stays in the set throughout (validator 0 leaves it)
for i in 1 2 3 4 0; do printf -- '--validator\n%s\n' "$(api "$i")"; done >"$T/relay.args"
mapfile -t RARGS <"$T/relay.args"
"$BIN" relay "${RARGS[@]}" --chain "1=$(chain 1)" --chain "2=$(chain 2)" --state "$T/relay.json" --wait-ms 1000 \
	>"$T/relay.log" 2>&1 </dev/null &
PIDS[10]=$!
R32=3333333333333333333333333333333333333333333333333333333333333333
# delivered_after CHANGE: a message 1->2 reaches chain 2's inbox
delivered_after() {
	local out nonce deadline=$((SECONDS + WAIT_S * 2))
	out=$(curl -s --max-time 10 -X POST -d "{\"dst_chain\":2,\"recipient\":\"$R32\",\"value\":1,\"payload\":\"00\"}" \
		"$(chain 1)/v1/messages")
	nonce=$(printf '%s' "$out" | sed -n 's/.*"nonce":\([0-9]*\).*/\1/p')
	[ -n "$nonce" ] || { not_ok "a message after $1 is delivered" "send: $out"; return; }
	LAST_NONCE=$nonce
	while [ $SECONDS -lt $deadline ]; do
		if curl -s --max-time 5 "$(chain 2)/v1/inbox/1/$nonce" | grep -q '"delivered":true'; then
			local te
			te=$(curl -s --max-time 5 "$(chain 2)/v1/inbox/epochs" | sed -n 's/.*"current":\([0-9]*\).*/\1/p')
			ok "after $1, message $nonce is delivered on chain 2, which trusts epoch $te"
			return
		fi
		sleep 0.3
	done
	not_ok "a message after $1 is delivered" "relay: $(tail -2 "$T/relay.log")"
}
delivered_after "genesis"

# json URL EXPR: a python expression over the JSON document `d`
json() {
	curl -s --max-time 5 "$1" 2>/dev/null | python3 -c "import json,sys
try:
    d=json.load(sys.stdin); print($2)
except Exception:
    print('')" 2>/dev/null
}
epoch_now() { json "$(api 0)/v1/epochs" 'd["current"]'; }
in_set() { # in_set KEY [NODE]: 1 when KEY is in the current set
	json "$(api "${2:-0}")/v1/validators" "int(any(v['node_key']=='$1' for v in d['validators']))"
}
is_in() { [ "$(in_set "$@")" = 1 ]; }
is_out() { [ "$(in_set "$@")" = 0 ]; }
wait_for() { # wait_for DESCRIPTION COMMAND...: poll until the command succeeds
	local deadline=$((SECONDS + WAIT_S * 2))
	while [ $SECONDS -lt $deadline ]; do
		"${@:2}" && return 0
		sleep 0.3
	done
	return 1
}

# ---- a fifth node, not in the genesis ----
P4="$T/pass4"
printf 'staking-test-passphrase\n' >"$P4"
chmod 600 "$P4"
if "$BIN" init --home "$T/net/node4" --moniker node4 --listen "tcp://127.0.0.1:$((BASE + 4))" \
	--api "http://127.0.0.1:$((BASE + 104))" --passphrase-file "$P4" --kdf-fast >"$T/init4.out" 2>&1 </dev/null; then
	cp "$T/net/genesis.json" "$T/net/node4/genesis.json"
	cp "$P4" "$T/net/node4/passphrase"
	python3 - "$T/net/node4/config.json" "$T/net/node0/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c.setdefault("key", {})["passphrase_file"] = "passphrase"
c["chains"] = json.load(open(sys.argv[2]))["chains"]   # the same devchains
json.dump(c, open(p, "w"), indent=2)
PY
	ok "isthmus init makes a fifth home"
else
	bail "isthmus init failed: $(head -3 "$T/init4.out")"
fi
K4=$(sed -n 's/.*"node_key": *"\([0-9a-f]\{64\}\)".*/\1/p' "$T/net/node4/public.json" | head -1)
K0=$(json "$(api 0)/v1/status" 'd["node_key"]')
[ ${#K4} -eq 64 ] && [ ${#K0} -eq 64 ] || bail "cannot read the node keys (node4: '$K4', node0: '$K0')"

# tx KEYSTORE PASSFILE ARGS...: a transaction through the CLI, waiting for commit
tx() { # transactions go to node 1, in the set throughout
	local ks=$1 pf=$2
	shift 2
	"$BIN" "$@" --keystore "$ks" --key validator --passphrase-file "$pf" --node "$(api 1)" --timeout 60 \
		>>"$T/cli.log" 2>&1 </dev/null
}
K0S="$T/net/node0/keys"
K0P="$T/net/node0/passphrase"
K4S="$T/net/node4/keys"

if tx "$K0S" "$K0P" tx transfer --to "$K4" --amount 5000000; then
	bal=$(json "$(api 1)/v1/accounts/$K4" 'd["balance"]')
	[ "$bal" = "5000000" ] && ok "transfer of 5000000 to the fifth node's account (balance on node 1: $bal)" ||
		not_ok "transfer to the fifth node's account" "balance '$bal'"
else
	not_ok "isthmus tx transfer" "$(tail -3 "$T/cli.log")"
fi

tx "$K4S" "$P4" stake register --address "tcp://127.0.0.1:$((BASE + 4))" --commission-bps 500 &&
	tx "$K4S" "$P4" stake bond --amount 2000000 &&
	ok "the fifth node registers and bonds 2000000" ||
	not_ok "stake register and bond" "$(tail -3 "$T/cli.log")"
# a transaction the ledger refuses is refused at submission, with the reason
if tx "$K4S" "$P4" stake bond --amount 999999999999; then
	not_ok "a bond above the balance is refused" "it was accepted"
elif grep -q 'insufficient balance' "$T/cli.log"; then
	ok "a bond above the balance is refused at submission: $(grep -o 'insufficient balance[^"]*' "$T/cli.log" | tail -1)"
else
	not_ok "a bond above the balance is refused with the reason" "$(tail -2 "$T/cli.log")"
fi


start 4
e_bond=$(epoch_now)
if wait_for "node4 in the set" is_in "$K4"; then
	e_in=$(epoch_now)
	ok "the fifth validator is in the set from epoch $e_in (bonded in epoch $e_bond)"
else
	not_ok "the fifth validator enters the set at the next boundary" "$(curl -s "$(api 0)/v1/staking" | head -c 600)"
fi

# it votes: its bit is set in the QC a later block carries
voted() {
	local idx h e
	idx=$(json "$(api 0)/v1/validators" "[v['index'] for v in d['validators'] if v['node_key']=='$K4'][0]")
	e=$(epoch_now)
	h=$(height 0)
	[ -n "$idx" ] && [ "$h" -gt 1 ] || return 1
	json "$(api 0)/v1/blocks/$h" "int(d['justify']['epoch']=='$e' and (bytes.fromhex(d['justify']['signers'])[$idx//8]>>($idx%8))&1)" | grep -qx 1
}
wait_for "node4 votes" voted && ok "the fifth validator's vote is in the quorum certificates" ||
	not_ok "the fifth validator votes" "node4 log: $(tail -3 "$T/node4.log")"
wait_heights "$(height 0)" 4 && ok "the fifth node follows the chain" || not_ok "the fifth node follows the chain" ""
delivered_after "the fifth validator joined"

# ---- a second change: the fifth validator's stake grows ----
grown() { json "$(api 1)/v1/validators" "int(any(v['node_key']=='$K4' and v['stake']=='3000000' for v in d['validators']))" | grep -qx 1; }
tx "$K4S" "$P4" stake bond --amount 1000000 && wait_for "stake 3000000" grown &&
	ok "the fifth validator bonds 1000000 more: its weight is 3000000 from the next epoch" ||
	not_ok "the fifth validator's weight grows" "$(tail -2 "$T/cli.log")"
delivered_after "the fifth validator's stake grew"

# ---- validator 0 unbonds everything and leaves ----
if tx "$K0S" "$K0P" stake unbond --amount 1000000; then
	if wait_for "node0 out of the set" is_out "$K0" 1; then
		e_out=$(json "$(api 1)/v1/epochs" 'd["current"]')
		ok "validator 0 is out of the set from epoch $e_out after unbonding its whole stake"
	else
		not_ok "validator 0 leaves the set" "$(json "$(api 1)/v1/validators" 'len(d["validators"])')"
	fi
	h=$(height 1)
	wait_heights $((h + 5)) 1 2 3 4 && ok "the network keeps committing without validator 0" ||
		not_ok "commits go on without validator 0" ""
	delivered_after "validator 0 left"
else
	not_ok "stake unbond" "$(tail -3 "$T/cli.log")"
fi
rel=$(json "$(api 1)/v1/accounts/$K0" 'd["unbonding"][0]["release_epoch"]')
released() { [ "$(json "$(api 1)/v1/epochs" 'd["current"]')" -ge "$rel" ] 2>/dev/null; }
if [ -n "$rel" ] && wait_for "release" released; then
	before=$(json "$(api 1)/v1/accounts/$K0" 'int(d["balance"])')
	# node 0 is out of the set: it refuses transactions it would never propose
	if "$BIN" stake withdraw --keystore "$K0S" --key validator --passphrase-file "$K0P" --node "$(api 0)" \
		--timeout 10 >"$T/refused.out" 2>&1 </dev/null; then
		not_ok "a node out of the set refuses transactions" "it took one"
	elif grep -q 'not in the current validator set' "$T/refused.out"; then
		ok "a node out of the set refuses a transaction, naming where to send it"
	else
		not_ok "a node out of the set refuses transactions with the reason" "$(cat "$T/refused.out")"
	fi
	if tx "$K0S" "$K0P" stake withdraw; then
		after=$(json "$(api 1)/v1/accounts/$K0" 'int(d["balance"])')
		[ "$after" = "$((before + 1000000))" ] && ok "withdraw after epoch $rel returns the 1000000 unbonded" ||
			not_ok "withdraw returns the unbonded stake" "before $before, after $after"
	else
		not_ok "stake withdraw" "$(tail -3 "$T/cli.log")"
	fi
else
	not_ok "the unbonding entry is released" "release epoch '$rel'"
fi

# ---- every hand-over so far verifies against the set before it ----
last=$(json "$(api 1)/v1/epochs" 'd["current"]')
bad=0
for e in $(seq 1 $((last - 1))); do
	curl -s "$(api 1)/v1/epochs/$e" >"$T/epoch$e.json"
	python3 - "$T/epoch$e.json" "$e" <<'PY' || bad=$((bad + 1))
import json, sys
d = json.load(open(sys.argv[1]))
h = d["handover"]
assert h and h["certificate"], "no certificate yet"
assert int(d["epoch"]) == int(sys.argv[2])
assert int(h["proof"]["leaf_index"]) == int(h["proof"]["tree_size"]) - 1
PY
done
[ $bad -eq 0 ] && ok "epochs 1..$((last - 1)) each have a hand-over certificate on their last batch leaf" ||
	not_ok "hand-over certificates" "$bad epoch(s) without one"

# ---- a destination never handed over the new sets refuses their certificates ----
"$DC" --data "$T/chain2b" --chain-id 2 --listen "$(chain 3)" --block-ms 200 --finality-depth 1 \
	--trust "$T/net/validator-set.json" >>"$T/chain2b.log" 2>&1 </dev/null &
PIDS[11]=$!
up() { curl -sf --max-time 2 "$(chain 3)/v1/head" >/dev/null; }
wait_for "chain 2b" up || not_ok "a second chain 2 starts" "$(tail -2 "$T/chain2b.log")"
del=$(json "$(api 1)/v1/deliveries/1/2/$LAST_NONCE" 'd["delivery"]')
ep=$(json "$(api 1)/v1/epochs" 'd["current"]')
out=$(curl -s --max-time 10 -X POST -d "{\"delivery\":\"$del\"}" "$(chain 3)/v1/inbox")
if printf '%s' "$out" | grep -q 'unknown-epoch'; then
	ok "a chain that trusts only epoch 0 refuses a certificate of a set it was never handed over (epoch now $ep): unknown-epoch"
else
	not_ok "a chain never handed over refuses the certificate" "answer: $out"
fi

echo "1..$n"
exit $failed
