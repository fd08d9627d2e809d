#!/usr/bin/env bash
# The staking lifecycle with `isthmus tx`, `stake` and `query` against a real
# 4-validator testnet of isthmusd processes (suites cli and staking, TAP).
#
# `isthmus testnet` writes 4 homes; before the nodes start, every copy of the
# genesis gets short epochs (10 blocks) and, unless `testnet` already gives
# one, a balance for node0's account (its Ed25519 node key). Then:
#   - node0's account (keyset "validator" in node0's keystore, passphrase
#     next to it, as `testnet` writes them) transfers funds with a fee to a
#     new validator keyset val4; both balances and node0's nonce move as
#     they must; a transfer over the balance and a used nonce are refused
#     (status 1, the ledger's reason);
#   - val4 registers as a validator and bonds to itself (a small stake: it
#     runs no node, and the four running validators must keep more than 2/3
#     of the stake); `stake show` has its row and its bond;
#   - once an epoch has passed (bounded polling of `query epoch`), val4 is in
#     the epoch's set (`query validators --epoch N`) and in the registry;
#   - val4 unbonds everything; `stake show` has the unbonding entry and its
#     release epoch; once that epoch has come, withdraw returns the stake to
#     the balance (less the fee);
#   - the network commits on throughout.
#
# Waiting is polling with a bound (WAIT_S per condition, more for epochs),
# never a fixed sleep; nothing asserts on timing. Every process is killed on
# exit. The harnesses are tests/cli/lib.sh (TAP, the binary, the temporary
# home) and tests/node/lib.sh (the processes).
TEST_NAME=cli-stake
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DBIN=${ISTHMUSD_BIN:?ISTHMUSD_BIN must point to the isthmusd binary}
. "$(dirname "${BASH_SOURCE[0]}")/../node/lib.sh"
cleanup() {
	kill_nodes
	if [ "$failed" -ne 0 ]; then
		for p in "$T"/node*.log; do
			[ -f "$p" ] && tail -n 10 "$p" | sed "s|^|# $(basename "$p"): |"
		done
	fi
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
: >"$T/err"

N=4
EPOCH_BLOCKS=10
GENESIS_BALANCE=1000000000000
FEE=10
bail() { echo "Bail out! $*"; sed 's/^/# stderr: /' "$T/err" | head -5; echo "1..$n"; exit 1; }
# js EXPR: evaluates the Python expression EXPR with `o` the JSON of $T/out
js() { python3 -c 'import json, sys; o = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/out" "$1"; }

# ---- a testnet with short epochs and a funded account ----------------------------------------

pick_base_port $N || bail "no free base port found"
expect "isthmus testnet --validators $N (base port $BASE)" 0 \
	testnet --validators $N --output "$T/net" --base-port "$BASE" --kdf-fast
[ "$rc" -eq 0 ] || bail "isthmus testnet failed"
K0=(--keystore "$T/net/node0/keys" --key validator --passphrase-file "$T/net/node0/passphrase")
expect "node0's keyset" 0 keys show validator --json --keystore "$T/net/node0/keys"
NODE0_KEY=$(js 'o["keys"][0]["public"]')

for g in "$T/net/genesis.json" "$T/net"/node*/genesis.json; do
	python3 - "$g" "$NODE0_KEY" "$EPOCH_BLOCKS" "$GENESIS_BALANCE" <<'EOF' || bail "cannot edit $g"
import json, sys
path, key, blocks, balance = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
g = json.load(open(path))
g["consensus"]["epoch_length_blocks"] = blocks
# val4 runs no node: it would be jailed at the end of its first epoch in the
# set (tests/node/test_node_slashing.sh tests jailing); never jail here
g["staking"]["jail_missed_bps"] = 10000
accounts = g.setdefault("accounts", [])
if not any(a["key"] == key for a in accounts):
    accounts.append({"key": key, "balance": balance})
json.dump(g, open(path, "w"), indent=2)
EOF
done
expect "the edited genesis passes 'isthmus config check'" 0 config check --home "$T/net/node0"

for i in $(seq 0 $((N - 1))); do start "$i"; done
# shellcheck disable=SC2046
wait_heights 2 $(seq 0 $((N - 1))) || bail "the testnet does not commit"
ok "the $N validators commit"
# transactions go to the validator with the smallest node key: among equal
# stakes it comes first in every set, so it never leads just before val4,
# which runs no node (a proposal whose next leader is down gets no QC, and a
# transaction is proposed only by the node it was sent to: no gossip yet)
first=0 min=
for i in $(seq 0 $((N - 1))); do
	k=$(curl -s --max-time 5 "$(api "$i")/v1/status" | sed -n 's/.*"node_key":"\([0-9a-f]*\)".*/\1/p')
	if [ -n "$k" ] && { [ -z "$min" ] || [[ "$k" < "$min" ]]; }; then min=$k; first=$i; fi
done
export ISTHMUS_NODE
ISTHMUS_NODE=$(api "$first")

expect "GET /v1/staking answers (the node has the staking API)" 0 query validators --all --json
[ "$rc" -eq 0 ] || bail "the node has no staking API yet (GET /v1/staking)"
MIN_STAKE=$(js 'int(o["params"]["min_stake"])')
UNBONDING_EPOCHS=$(js 'int(o["params"]["unbonding_epochs"])')
GENESIS_STAKE=$(js 'min(int(v["bonded"]) for v in o["validators"])')
# the new validator runs no node: its stake must leave the four running ones
# more than 2/3 of the total
BOND=$(( MIN_STAKE > 100000 ? MIN_STAKE : 100000 ))
[ $((BOND * 2)) -lt $((GENESIS_STAKE * N)) ] || bail "min_stake $MIN_STAKE is too large for a validator without a node"
AMOUNT=$((BOND + 1000))

# ---- transfer ----------------------------------------------------------------------------------------

echo 'val4 passphrase' >"$T/pw"
KS=(--keystore "$T/ks" --passphrase-file "$T/pw")
expect "a new validator keyset val4" 0 keys new val4 "${KS[@]}"
expect "val4's keys" 0 keys show val4 --json --keystore "$T/ks"
V4=$(js 'o["keys"][0]["public"]')

expect "query account --key val4: an unseen account" 0 query account --key val4 --keystore "$T/ks" --json
check "val4 has a balance of 0 and nonce 0" [ "$(js 'o["balance"] + "/" + o["nonce"]')" = "0/0" ]
expect "query account of node0" 0 query account "$NODE0_KEY" --json
B0=$(js 'int(o["balance"])')
NONCE0=$(js 'int(o["nonce"])')
check "node0's account is funded" [ "$B0" -gt "$AMOUNT" ]

expect "tx transfer from node0 to val4 commits" 0 tx transfer "${K0[@]}" --to "$V4" --amount $AMOUNT --fee $FEE
check "transfer: 'committed at height H: ok'" grep -qx 'committed at height [0-9]*: ok' "$T/out"
TXID=$(sed -n 's/^tx \([0-9a-f]\{64\}\)$/\1/p' "$T/out")
expect "query tx of the transfer" 0 query tx "$TXID" --json
check "query tx: committed, a transfer from node0, result ok" \
	[ "$(js 'o["status"] + "/" + o["kind"] + "/" + o["sender"] + "/" + o["result"]')" = "committed/transfer/$NODE0_KEY/ok" ]
expect "query account val4" 0 query account --key val4 --keystore "$T/ks" --json
check "val4's balance is the amount" [ "$(js 'o["balance"]')" = "$AMOUNT" ]
expect "query account node0" 0 query account "$NODE0_KEY" --json
check "node0 paid the amount and the fee" [ "$(js 'o["balance"]')" = "$((B0 - AMOUNT - FEE))" ]
check "node0's next nonce is one more" [ "$(js 'o["nonce"]')" = "$((NONCE0 + 1))" ]
expect "query account (text)" 0 query account --key val4 --keystore "$T/ks"
check "query account (text): the balance line" grep -q "^balance  *$AMOUNT$" "$T/out"

run tx transfer "${K0[@]}" --to "$V4" --amount "$((B0 * 2))"
if [ "$rc" -eq 1 ] && grep -qi "balance" "$T/err"; then
	ok "a transfer over the balance: status 1 with the ledger's reason"
else
	not_ok "a transfer over the balance: status 1 with the ledger's reason" "status $rc"
fi
run tx transfer "${K0[@]}" --to "$V4" --amount 1 --nonce "$NONCE0"
if [ "$rc" -eq 1 ] && grep -qi "nonce" "$T/err"; then
	ok "a used nonce: status 1 with the ledger's reason"
else
	not_ok "a used nonce: status 1 with the ledger's reason" "status $rc"
fi

# ---- register and bond ----------------------------------------------------------------------------

expect "stake register val4 commits" 0 stake register --key val4 "${KS[@]}" \
	--address "tcp://127.0.0.1:$((BASE + N))" --commission-bps 500
expect "stake bond val4 to itself commits" 0 stake bond --key val4 "${KS[@]}" --amount $BOND
expect "stake show --key val4" 0 stake show --key val4 --keystore "$T/ks" --json
check "stake show: val4's registry row, operated by itself" \
	[ "$(js 'o["validator"]["node_key"] + "/" + o["validator"]["operator"]')" = "$V4/$V4" ]
check "stake show: the address and the commission" \
	[ "$(js 'o["validator"]["address"] + "/" + str(o["validator"]["commission_bps"])')" = "tcp://127.0.0.1:$((BASE + N))/500" ]
check "stake show: val4's bond" \
	[ "$(js '",".join(b["validator"] + ":" + b["amount"] for b in o["account"]["bonds"])')" = "$V4:$BOND" ]
check "stake show: the account operates val4" [ "$(js 'o["account"]["validator"]')" = "$V4" ]
check "val4 paid the bond (fees 0)" [ "$(js 'o["account"]["balance"]')" = "$((AMOUNT - BOND))" ]
expect "stake show --validator (text)" 0 stake show --validator "$V4"
check "stake show (text): the validator and its bond" \
	bash -c "grep -q '^validator  *$V4$' '$T/out' && grep -q '^ *$V4  *$BOND$' '$T/out'"

# ---- the next epochs -------------------------------------------------------------------------------

# current_epoch: the node's current epoch, or -1
current_epoch() {
	run query epoch --json
	if [ "$rc" -eq 0 ]; then js 'o["current"]'; else echo -1; fi
}
# wait_epoch E: until the current epoch is at least E (bounded: a few epochs' worth of WAIT_S)
wait_epoch() {
	local deadline=$((SECONDS + WAIT_S * 3))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(current_epoch)" -ge "$1" ] && return 0
		sleep 0.5
	done
	return 1
}
# in_set E: val4 is in the validator set of epoch E
in_set() {
	run query validators --epoch "$1" --json
	[ "$rc" -eq 0 ] && [ "$(js "any(v.get('node_key') == '$V4' for v in o['validators'])")" = True ]
}

E=$(current_epoch)
check "query epoch --json gives the current epoch" [ "$E" -ge 0 ]
joined=
for want in $((E + 1)) $((E + 2)); do
	if ! wait_epoch "$want"; then
		not_ok "epoch $want comes" "current epoch: $(current_epoch)"
		break
	fi
	if in_set "$want"; then joined=$want; break; fi
done
if [ -n "$joined" ]; then
	ok "val4 is in the validator set of epoch $joined (bonded in epoch $E)"
else
	not_ok "val4 joins the validator set within two epochs of its bond (epoch $E)" "$(head -c 600 "$T/out")"
fi
expect "query validators (text) of that epoch" 0 query validators --epoch "${joined:-$((E + 1))}"
check "query validators (text): val4's row with its stake" grep -q " $V4  *$BOND$" "$T/out"
expect "query validators --all" 0 query validators --all --json
check "the registry lists val4 with its bonded stake" \
	[ "$(js "[v['bonded'] for v in o['validators'] if v['node_key'] == '$V4']")" = "['$BOND']" ]
expect "query epoch N (text)" 0 query epoch "${joined:-$((E + 1))}"
check "query epoch N: its heights and set" bash -c "grep -q '^heights ' '$T/out' && grep -q '^epoch ' '$T/out'"

# ---- unbond and withdraw -------------------------------------------------------------------------------

expect "stake unbond val4's whole bond commits" 0 stake unbond --key val4 "${KS[@]}" --amount $BOND
expect "stake show after unbonding" 0 stake show --key val4 --keystore "$T/ks" --json
check "the unbonding entry holds the stake" \
	[ "$(js '",".join(u["validator"] + ":" + u["amount"] for u in o["account"]["unbonding"])')" = "$V4:$BOND" ]
RELEASE=$(js 'o["account"]["unbonding"][0]["release_epoch"] if o["account"]["unbonding"] else -1')
NOW=$(current_epoch)
check "the release epoch is in the future, within the unbonding epochs (now $NOW, release $RELEASE, $UNBONDING_EPOCHS epochs)" \
	test "$RELEASE" -gt "$NOW" -a "$RELEASE" -le $((NOW + UNBONDING_EPOCHS + 1))

if wait_epoch "$RELEASE"; then
	ok "the release epoch $RELEASE comes"
else
	not_ok "the release epoch $RELEASE comes" "current epoch: $(current_epoch)"
fi
expect "query account before withdrawing" 0 query account --key val4 --keystore "$T/ks" --json
BV=$(js 'int(o["balance"])')
expect "stake withdraw commits" 0 stake withdraw --key val4 "${KS[@]}" --fee $FEE
expect "query account after withdrawing" 0 query account --key val4 --keystore "$T/ks" --json
check "the stake is back in the balance, less the fee" [ "$(js 'o["balance"]')" = "$((BV + BOND - FEE))" ]
check "no unbonding entry is left" [ "$(js 'len(o["unbonding"])')" = 0 ]

# ---- and the network commits on -------------------------------------------------------------------------

H=$(height 0)
# shellcheck disable=SC2046
if wait_heights $((H + 2)) $(seq 0 $((N - 1))); then
	ok "every node keeps committing"
else
	not_ok "every node keeps committing" "heights: $(for i in $(seq 0 $((N - 1))); do printf '%s ' "$(height "$i")"; done)"
fi
expect "query evidence: none in an honest network" 0 query evidence --json
check "no evidence" [ "$(js 'len(o["evidence"])')" = 0 ]

finish
