#!/usr/bin/env bash
# `isthmus tx`, `isthmus stake` and `isthmus query` without a validator node
# (suite integration, TAP; the harness is tests/cli/lib.sh).
#
# Help pages; every usage error (status 2, one line); an unreachable node;
# bad, missing and non-validator keysets; a wrong passphrase; and, against
# tests/cli/fake_node.py (a stand-in for the node's API that decodes what it
# is sent and computes the transaction id independently): what each
# transaction carries (kind, fields, sender, nonce and network id from the
# node or the options, a valid signature), --no-wait printing the id, the
# outcomes (committed ok, committed but failed, refused, mempool full,
# already waiting, not committed in time, a wrong id), --json, and the
# queries' tables, JSON and refusal of malformed answers. The lifecycle
# against a real testnet is test_cli_stake.sh.
#
# Waiting is polling with a bound, never a fixed sleep; nothing asserts on
# timing (a timeout case uses --timeout 1 and asserts only the message).
TEST_NAME=cli-stake-usage
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill -KILL "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
: >"$T/err"

H32=cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
A32=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DEAD="http://127.0.0.1:$CLOSED"
KS=(--keystore "$T/ks" --passphrase-file "$T/pw")
echo 'correct horse' >"$T/pw"
echo 'wrong horse' >"$T/badpw"

# field FILE KEY: a top-level value of a JSON file
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# ---- help ------------------------------------------------------------------------------

expect_help tx "tx transfer" stake "stake register" "stake bond" "stake unbond" "stake withdraw" \
	"stake unjail" "stake show" query "query account" "query validators" "query epoch" \
	"query evidence" "query tx"
run --help
check "'isthmus --help' lists tx, stake and query" \
	bash -c "grep -q '^  tx ' '$T/out' && grep -q '^  stake ' '$T/out' && grep -q '^  query ' '$T/out'"
expect "stake without a subcommand: usage error" 2 stake
expect_err "an unknown subcommand" 2 "unknown command 'isthmus stake delegate'" stake delegate
expect_err "an unknown query" 2 "unknown command 'isthmus query block'" query block

# ---- usage errors --------------------------------------------------------------------------

expect_err "transfer: no --key" 2 "--key NAME is required" tx transfer --to $H32 --amount 1
expect_err "transfer: no --to" 2 "--to HEX32 is required" tx transfer --key v1 --amount 1
expect_err "transfer: no --amount" 2 "--amount N is required" tx transfer --key v1 --to $H32
expect_err "transfer: --amount 0" 2 "--amount must be an integer from 1" tx transfer --key v1 --to $H32 --amount 0
expect_err "transfer: --amount -5" 2 "--amount must be an integer from 1" tx transfer --key v1 --to $H32 --amount -5
expect_err "transfer: --amount over 2^64" 2 "--amount must be an integer" tx transfer --key v1 --to $H32 --amount 18446744073709551616
expect_err "transfer: short --to" 2 "--to must be 64 hex digits" tx transfer --key v1 --to abcd --amount 1
expect_err "transfer: --fee x" 2 "--fee must be an integer from 0" tx transfer --key v1 --to $H32 --amount 1 --fee x
expect_err "transfer: --nonce x" 2 "--nonce must be an integer" tx transfer --key v1 --to $H32 --amount 1 --nonce x
expect_err "transfer: --network-id 0" 2 "--network-id must be an integer from 1" tx transfer --key v1 --to $H32 --amount 1 --network-id 0
expect_err "transfer: --timeout 0" 2 "--timeout must be an integer from 1 to 86400" tx transfer --key v1 --to $H32 --amount 1 --timeout 0
expect_err "transfer: an extra argument" 2 "unexpected argument 'x'" tx transfer --key v1 --to $H32 --amount 1 x
expect_err "transfer: an unknown option" 2 "unknown option '--validator'" tx transfer --key v1 --to $H32 --amount 1 --validator $H32
expect_err "transfer: --node not http" 2 "--node" tx transfer --key v1 --to $H32 --amount 1 --node ftp://127.0.0.1:1
expect_err "transfer: a bad keyset name" 2 "invalid keyset name" tx transfer --key ../v1 --to $H32 --amount 1
expect_err "register: no --address" 2 "--address URL is required" stake register --key v1
expect_err "register: an address that is no URL" 2 "--address must be an NNG URL" stake register --key v1 --address 127.0.0.1:1
expect_err "register: --commission-bps 10001" 2 "--commission-bps must be an integer from 0 to 10000" stake register --key v1 --address tcp://127.0.0.1:1 --commission-bps 10001
expect_err "register: --amount is not its option" 2 "unknown option '--amount'" stake register --key v1 --address tcp://127.0.0.1:1 --amount 5
expect_err "bond: no --amount" 2 "--amount N is required" stake bond --key v1
expect_err "bond: a bad --validator" 2 "--validator must be 64 hex digits" stake bond --key v1 --amount 1 --validator xyz
expect_err "unbond: no --key" 2 "--key NAME is required" stake unbond --amount 1
expect_err "withdraw: --validator is not its option" 2 "unknown option '--validator'" stake withdraw --key v1 --validator $H32
expect_err "unjail: --address is not its option" 2 "unknown option '--address'" stake unjail --key v1 --address tcp://x:1
expect_err "unjail: an extra argument" 2 "unexpected argument 'now'" stake unjail --key v1 now
expect_err "show: neither --key nor --validator" 2 "give one of --key NAME and --validator HEX32" stake show
expect_err "show: both" 2 "give one of --key NAME and --validator HEX32" stake show --key v1 --validator $H32
expect_err "query account: no account" 2 "give the account as HEX32 or --key NAME" query account
expect_err "query account: both" 2 "give the account as HEX32 or --key NAME" query account $H32 --key v1
expect_err "query account: bad hex" 2 "the account must be 64 hex digits" query account 12
expect_err "query validators: --all and --epoch" 2 "--all and --epoch exclude each other" query validators --all --epoch 1
expect_err "query validators: --epoch x" 2 "--epoch must be an integer" query validators --epoch x
expect_err "query epoch: not a number" 2 "the epoch must be an integer" query epoch three
expect_err "query epoch: two" 2 "unexpected argument '2'" query epoch 1 2
expect_err "query evidence: an argument" 2 "unexpected argument 'x'" query evidence x
expect_err "query tx: no ID" 2 "missing ID" query tx
expect_err "query tx: a bad ID" 2 "ID must be 64 hex digits" query tx 1234
with ISTHMUS_NODE=https://127.0.0.1:1 expect_err "ISTHMUS_NODE that is not http: usage error naming it" 2 "ISTHMUS_NODE" query epoch

# ---- keysets and an unreachable node ----------------------------------------------------------

expect "a validator keyset v1" 0 keys new v1 "${KS[@]}"
expect "an ed25519-only keyset acct" 0 keys new acct --type ed25519 "${KS[@]}"
expect "a secp256k1-only keyset att" 0 keys new att --type secp256k1 "${KS[@]}"
V1=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["keys"][0]["public"])' "$T/ks/v1.json")
ACCT=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["keys"][0]["public"])' "$T/ks/acct.json")

expect_err "query: an unreachable node" 1 "cannot reach the node at $DEAD" query epoch --node "$DEAD"
expect_err "a transaction: an unreachable node, before any passphrase" 1 "cannot reach the node at $DEAD" \
	stake bond --key v1 --amount 5 --node "$DEAD" --keystore "$T/ks"
expect_err "a missing keyset" 1 "$T/ks/nosuch.json: no such key file" stake bond --key nosuch --amount 5 --node "$DEAD" "${KS[@]}"
expect_err "a keyset without an ed25519 key cannot sign" 1 "has no ed25519 key" stake bond --key att --amount 5 --node "$DEAD" "${KS[@]}"
expect_err "register needs a validator keyset" 1 "not the three keys of a validator" \
	stake register --key acct --address tcp://127.0.0.1:1 --node "$DEAD" "${KS[@]}"
expect_err "a wrong passphrase: one line, status 1" 1 "wrong passphrase or tampered file" \
	stake bond --key v1 --amount 5 --nonce 0 --network-id 1337 --node "$DEAD" --keystore "$T/ks" --passphrase-file "$T/badpw"
expect_err "no passphrase source off a terminal" 1 "no passphrase" \
	stake bond --key v1 --amount 5 --nonce 0 --network-id 1337 --node "$DEAD" --keystore "$T/ks"
expect_err "signed, then an unreachable node" 1 "cannot reach the node at $DEAD" \
	stake bond --key v1 --amount 5 --nonce 0 --network-id 1337 --node "$DEAD" "${KS[@]}"
expect_err "query account --key: a missing keyset" 1 "no such key file" query account --key nosuch --keystore "$T/ks" --node "$DEAD"

# ---- against a stand-in node ------------------------------------------------------------------------

mkdir -m 700 "$T/fake"
python3 "$(dirname "${BASH_SOURCE[0]}")/fake_node.py" "$T/fake" 2>"$T/fake.log" &
FAKE_PID=$!
for _ in $(seq 1 300); do [ -f "$T/fake/port" ] && break; kill -0 $FAKE_PID 2>/dev/null || break; sleep 0.1; done
[ -f "$T/fake/port" ] || { echo "Bail out! the stand-in node did not start: $(cat "$T/fake.log")"; exit 1; }
NODE="http://127.0.0.1:$(cat "$T/fake/port")"
mode() { echo "$1" >"$T/fake/mode"; }
last() { field "$T/fake/last_tx.json" "$1"; }
sig_ok() { case $(last signature) in valid|unchecked) return 0 ;; *) return 1 ;; esac; }

mode ok
expect "--no-wait: status 0" 0 stake bond --key v1 --amount 5 --no-wait --node "$NODE" "${KS[@]}"
check "--no-wait prints the transaction id alone, the node's own id for it" \
	[ "$(cat "$T/out")" = "$(last id)" ]
check "bond: the keyset's account sends, to its own validator by default, with the node's network id and nonce" \
	[ "$(last kind) $(last sender) $(last validator) $(last amount) $(last network_id) $(last nonce) $(last fee)" = "bond $V1 $V1 5 1337 0 0" ]
check "bond: the signature verifies under the sender's key" sig_ok

with ISTHMUS_NODE="$NODE" expect "ISTHMUS_NODE names the node; waits for the commit" 0 \
	stake unbond --key v1 --validator $H32 --amount 7 --fee 2 --nonce 9 --network-id 42 "${KS[@]}"
check "the outcome on stdout: the id and 'committed at height 123: ok'" \
	bash -c "[ \"\$(sed -n 2p '$T/out')\" = 'committed at height 123: ok' ] && grep -qx 'tx [0-9a-f]\{64\}' '$T/out'"
check "unbond: --validator, --fee, --nonce and --network-id are what is signed" \
	[ "$(last kind) $(last validator) $(last amount) $(last fee) $(last nonce) $(last network_id)" = "unbond $H32 7 2 9 42" ]

expect "register: status 0" 0 stake register --key v1 --address tcp://10.0.0.5:26600 --commission-bps 500 --node "$NODE" "${KS[@]}"
check "register: the keyset's three public keys, the address and the commission" python3 - "$T/fake/last_tx.json" "$T/ks/v1.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
k = [x["public"] for x in json.load(open(sys.argv[2]))["keys"]]
assert t["kind"] == "register_validator", t
assert [t["node_key"], t["attest_key"], t["dkg_key"]] == k, (t, k)
assert t["sender"] == k[0] and t["address"] == "tcp://10.0.0.5:26600" and t["commission_bps"] == 500, t
EOF
check "register: the signature verifies" sig_ok

expect "transfer --json: status 0" 0 tx transfer --key acct --to $H32 --amount 1000 --json --node "$NODE" "${KS[@]}"
check "transfer --json: a stable outcome object" python3 - "$T/out" "$T/fake/last_tx.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
t = json.load(open(sys.argv[2]))
assert o == {"id": t["id"], "kind": "transfer", "sender": t["sender"], "nonce": "0", "fee": "0",
             "status": "committed", "height": 123, "index": 2, "result": "ok"}, o
assert t["to"] == "c" * 64 and t["amount"] == 1000, t
EOF
check "transfer: the ed25519 keyset's key is the sender" [ "$(last sender)" = "$ACCT" ]

expect "withdraw: status 0" 0 stake withdraw --key v1 --node "$NODE" "${KS[@]}"
check "withdraw: a withdraw transaction" [ "$(last kind)" = withdraw ]
expect "unjail: status 0" 0 stake unjail --key v1 --node "$NODE" "${KS[@]}"
check "unjail: an unjail transaction" [ "$(last kind)" = unjail ]

mode fail
expect "committed but failed: status 1" 1 stake bond --key v1 --amount 5 --node "$NODE" "${KS[@]}"
check "failed: the outcome on stdout with the reason" \
	grep -qx 'committed at height 123: failed: insufficient balance: 10 < 60 (amount + fee)' "$T/out"
check "failed: the reason on stderr, one 'isthmus:' line" \
	bash -c "[ \$(grep -c '^isthmus: ' '$T/err') -eq 1 ] && grep -q 'failed: insufficient balance' '$T/err'"
expect "failed --json: status 1" 1 stake bond --key v1 --amount 5 --json --node "$NODE" "${KS[@]}"
check "failed --json: result and reason" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["result"] == "failed" and o["reason"].startswith("insufficient balance"), o' "$T/out"

mode reject
expect_err "refused: the node's reason, status 1" 1 "refused the transaction: 400 bad_request: nonce 3 already used (next is 5)" \
	stake bond --key v1 --amount 5 --node "$NODE" "${KS[@]}"
mode full
expect_err "mempool full: status 1, retry later" 1 "503 unavailable: the mempool is full (retry later)" \
	stake bond --key v1 --amount 5 --node "$NODE" "${KS[@]}"
mode wrongid
expect_err "an answer with another id: status 1" 1 "unexpected answer: id: is not the transaction's id" \
	stake bond --key v1 --amount 5 --node "$NODE" "${KS[@]}"
mode dup
expect "already waiting (409): waits for it, status 0" 0 stake bond --key v1 --amount 5 --node "$NODE" "${KS[@]}"
check "already waiting: a warning" grep -q "is already in the node's mempool: waiting for it" "$T/err"
mode pending
expect "never committed: status 1 after --timeout" 1 stake bond --key v1 --amount 5 --timeout 1 --node "$NODE" "${KS[@]}"
check "never committed: says so, with the command to look later" \
	bash -c "grep -q 'not committed within 1 s (the node says: pending)' '$T/err' && grep -q \"isthmus query tx [0-9a-f]\\{64\\}\" '$T/err'"

# ---- queries against the stand-in ----------------------------------------------------------------

mode ok
expect "query account: status 0" 0 query account $A32 --node "$NODE"
check "query account: balance, next nonce, bonds, unbonding" \
	bash -c "grep -q '^balance  *123$' '$T/out' && grep -q '^next nonce  *4$' '$T/out' && grep -q '^bonds .*AMOUNT' '$T/out' && grep -q ' 50  7$' '$T/out'"
expect "query account --key (no passphrase)" 0 query account --key acct --keystore "$T/ks" --node "$NODE"
check "query account --key: the keyset's account, unseen: zeros" \
	bash -c "grep -q '^account  *$ACCT$' '$T/out' && grep -q '^balance  *0$' '$T/out' && grep -q '^bonds  *none$' '$T/out'"
expect "query account --json" 0 query account $A32 --json --node "$NODE"
check "query account --json: the node's answer" python3 -c '
import json, sys
assert json.load(open(sys.argv[1]))["balance"] == "123"' "$T/out"
expect "query validators" 0 query validators --node "$NODE"
check "query validators: the epoch's set as a table" \
	bash -c "grep -q '^epoch 3 of network 1337: 2 validators, total stake 3000000$' '$T/out' && grep -q '^0  *node0  *$A32  *2000000$' '$T/out'"
expect "query validators --epoch 2" 0 query validators --epoch 2 --node "$NODE"
check "query validators --epoch 2: that epoch's set" grep -q '^epoch 2 of network' "$T/out"
expect "query validators --all" 0 query validators --all --node "$NODE"
check "query validators --all: the registry with status and bonded stake" \
	bash -c "grep -q '^node0  *active  *2000000  *5.00%  *$A32  *tcp://127.0.0.1:26610$' '$T/out' && grep -q '^-  *jailed ' '$T/out'"
expect "query epoch" 0 query epoch --node "$NODE"
check "query epoch: current, start, length, next" \
	bash -c "grep -q '^epoch  *3$' '$T/out' && grep -q '^next epoch  *from height 91$' '$T/out'"
expect "query epoch 2" 0 query epoch 2 --node "$NODE"
check "query epoch 2: heights, hand-over, set" \
	bash -c "grep -q '^hand-over  *at height 90' '$T/out' && grep -q '^certificate  *70 bytes$' '$T/out' && grep -q '^1  *node1 ' '$T/out'"
expect_err "query epoch 9: the node's 404, status 1" 1 "404 not_found: no epoch 9 yet" query epoch 9 --node "$NODE"
expect "query evidence" 0 query evidence --node "$NODE"
check "query evidence: a table row" grep -q "^4\{64\}  *double-vote  *b\{64\}  *2  *77  *100000$" "$T/out"
expect_err "query tx: unknown to the node" 1 "is not known to the node" query tx $A32 --node "$NODE"
mode ok
expect "a transaction for query tx" 0 stake bond --key v1 --amount 5 --no-wait --node "$NODE" "${KS[@]}"
TXID=$(cat "$T/out")
expect "query tx: pending" 0 query tx "$TXID" --node "$NODE"
check "query tx: pending" grep -q '^status  *pending' "$T/out"
expect "query tx: committed" 0 query tx "$TXID" --node "$NODE"
check "query tx: committed, its result" \
	bash -c "grep -q '^status  *committed at height 123 (item 2)$' '$T/out' && grep -q '^result  *ok$' '$T/out'"
expect "stake show --validator" 0 stake show --validator $A32 --node "$NODE"
check "stake show: the registry row and the operator's stake" \
	bash -c "grep -q '^status  *active$' '$T/out' && grep -q '^commission  *5.00% (500 bps)$' '$T/out' && grep -q '^balance  *123$' '$T/out'"
expect "stake show --key of an account operating nothing" 0 stake show --key acct --keystore "$T/ks" --node "$NODE"
check "stake show --key: no validator, the account" \
	bash -c "grep -q '^validator  *none' '$T/out' && grep -q '^account  *$ACCT$' '$T/out'"
expect "stake show --json" 0 stake show --validator bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb --json --node "$NODE"
check "stake show --json: validator row and account" python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["validator"]["status"] == "jailed" and o["account"]["balance"] == "0", o' "$T/out"
expect_err "stake show: an unknown validator" 1 "no validator with node key $H32" stake show --validator $H32 --node "$NODE"

mode garbage
expect_err "a malformed account answer: the field and the problem" 1 "GET /v1/accounts/$A32: unexpected answer: key: must be an account key" query account $A32 --node "$NODE"
expect_err "a malformed registry" 1 "GET /v1/staking: unexpected answer: epoch:" query validators --all --node "$NODE"
expect_err "a malformed validator set" 1 "GET /v1/validators: unexpected answer: format:" query validators --node "$NODE"
expect_err "a malformed epoch" 1 "GET /v1/epochs: unexpected answer: current:" query epoch --node "$NODE"
expect_err "malformed evidence" 1 "GET /v1/evidence: unexpected answer: evidence: must be an array" query evidence --node "$NODE"
expect_err "a malformed status: no transaction is signed" 1 "GET /v1/status: unexpected answer: network_id:" \
	stake bond --key v1 --amount 5 --node "$NODE" "${KS[@]}"
mode notjson
expect_err "an answer that is not JSON" 1 "GET /v1/epochs: the answer is not a JSON object" query epoch --node "$NODE"

finish
