#!/usr/bin/env bash
# Attestation with a lying source RPC, real processes on 127.0.0.1 (suite
# integration, TAP; the harness: tests/node/harness.sh).
#
# 4 validators watch 2 isthmus-devchains. node3 reads chain 1 through a proxy
# that changes the payload of every message (tests/node/lying_rpc.py, with
# self-consistent message ids); node3 also sees chain 1 sooner (no extra
# finality depth, the others wait 2 more blocks), so it is often the first
# leader to propose a new checkpoint of route 1->2: a checkpoint with the
# lie's root. Checks: messages sent both ways are certified and their
# deliveries, taken from an honest node, are accepted by the destination
# inbox with the real message id (the lie is never certified); the honest
# nodes keep node3's conflicting signed proposal as evidence (metric and
# count); node3 refuses to sign the blocks its watcher disagrees with, and no
# certificate of a 1->2 checkpoint carries its signature; node1, SIGKILLed and
# restarted, resumes its watchers from their cursors and serves the next
# message. Waiting is bounded polling; nothing asserts on timing.
# One epoch for the whole run (--epoch-length 100000): this test checks
# deliveries against the genesis set file; epoch changes and the hand-overs
# destinations follow are tests/node/test_node_staking.sh's.
TEST_NAME=attest
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
N=4
PY=$(command -v python3) || bail "python3 is needed for the lying RPC"
DEVCHAIN=${ISTHMUS_DEVCHAIN_BIN:?ISTHMUS_DEVCHAIN_BIN must point to isthmus-devchain}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

pick_base_port $N 2 || bail "no free base port found"
for p in $((BASE + 200)) $((BASE + 201)) $((BASE + 250)); do
	port_used "$p" && bail "port $p is in use"
done
rpc() { echo "http://127.0.0.1:$((BASE + 199 + $1))"; }
LIAR=http://127.0.0.1:$((BASE + 250))

"$BIN" testnet --validators $N --chains 2 --epoch-length 100000 --output "$T/net" --base-port "$BASE" --kdf-fast >"$T/testnet.out" 2>&1 </dev/null ||
	bail "isthmus testnet failed: $(head -3 "$T/testnet.out")"
ok "isthmus testnet makes $N homes watching 2 chains"

# node3 reads chain 1 through the liar and sees it first; the others wait
# 2 blocks more than the chain's own finality
"$PY" - "$T/net" "$LIAR" <<'PY'
import json, sys
net, liar = sys.argv[1], sys.argv[2]
for i in range(4):
    p = f"{net}/node{i}/config.json"
    c = json.load(open(p))
    for ch in c["chains"]:
        ch["finality_depth"] = 0 if i == 3 else 2
        if i == 3 and ch["id"] == 1:
            ch["rpc"] = [liar]
    json.dump(c, open(p, "w"), indent=2)
PY

for k in 1 2; do
	"$DEVCHAIN" --data "$T/chain$k" --chain-id $k --listen "$(rpc $k)" --block-ms 200 --finality-depth 2 \
		--trust "$T/net/validator-set.json" >"$T/chain$k.log" 2>&1 </dev/null &
	PIDS[$((10 + k))]=$!
done
"$PY" "$HERE/lying_rpc.py" $((BASE + 250)) "$(rpc 1)" >"$T/liar.log" 2>&1 </dev/null &
PIDS[13]=$!
all="0 1 2 3"
for i in $all; do start "$i"; done
# shellcheck disable=SC2086
wait_heights 3 $all && ok "all $N nodes commit" || bail "the cluster does not commit"

# send SRC DST PAYLOAD_HEX: the message id the source chain gives
send() {
	curl -s --max-time 5 -X POST -d "{\"dst_chain\":$2,\"recipient\":\"$(printf '11%.0s' $(seq 32))\",\"payload\":\"$3\"}" \
		"$(rpc "$1")/v1/messages" | sed -n 's/.*"message_id":"\([0-9a-f]*\)".*/\1/p'
}
# delivery I SRC DST NONCE: the delivery hex node I serves, empty until ready
delivery() {
	curl -s --max-time 5 "$(api "$1")/v1/deliveries/$2/$3/$4" | sed -n 's/.*"delivery":"\([0-9a-f]*\)".*/\1/p'
}

# messages in rounds (each a new checkpoint for node3 to lie about), until
# an honest node holds evidence or the rounds run out
declare -a IDS12=() IDS21=()
evidence=0
for round in $(seq 0 23); do
	id=$(send 1 2 "$(printf '%02x' "$round")aa")
	[ -n "$id" ] || bail "chain 1 does not take a message"
	IDS12+=("$id")
	if [ $((round % 3)) -eq 0 ]; then
		id=$(send 2 1 "$(printf '%02x' "$round")bb")
		[ -n "$id" ] || bail "chain 2 does not take a message"
		IDS21+=("$id")
	fi
	# wait for this round's message to be deliverable
	deadline=$((SECONDS + WAIT_S))
	while [ $SECONDS -lt $deadline ] && [ -z "$(delivery 0 1 2 $round)" ]; do sleep 0.2; done
	evidence=0
	for i in 0 1 2; do evidence=$((evidence + $(metric "$i" 'isthmus_attest_evidence_total{kind="checkpoint"}'))); done
	[ $evidence -gt 0 ] && [ $round -ge 3 ] && break
done
sent12=${#IDS12[@]}
sent21=${#IDS21[@]}

# every message certified and accepted by the destination with its real id
deliver_all() { # SRC DST COUNT IDS...
	local src=$1 dst=$2 count=$3 k d out good=0
	shift 3
	for k in $(seq 0 $((count - 1))); do
		deadline=$((SECONDS + WAIT_S))
		d=
		while [ $SECONDS -lt $deadline ]; do
			d=$(delivery 1 "$src" "$dst" "$k")
			[ -n "$d" ] && break
			sleep 0.2
		done
		out=$(curl -s --max-time 5 -X POST -d "{\"delivery\":\"$d\"}" "$(rpc "$dst")/v1/inbox")
		if echo "$out" | grep -q '"status":"delivered"' && echo "$out" | grep -q "\"message_id\":\"${1}\""; then
			good=$((good + 1))
		else
			echo "# $src->$dst #$k: $out"
		fi
		shift
	done
	echo $good
}
got=$(deliver_all 1 2 "$sent12" "${IDS12[@]}")
[ "$got" = "$sent12" ] && ok "all $sent12 messages 1->2 are certified and accepted by chain 2 with their real ids" ||
	not_ok "all $sent12 messages 1->2 are certified and accepted by chain 2 with their real ids" "accepted: $got"
got=$(deliver_all 2 1 "$sent21" "${IDS21[@]}")
[ "$got" = "$sent21" ] && ok "all $sent21 messages 2->1 are certified and accepted by chain 1" ||
	not_ok "all $sent21 messages 2->1 are certified and accepted by chain 1" "accepted: $got"

if [ $evidence -gt 0 ]; then
	ok "the honest nodes kept node3's conflicting checkpoint as evidence ($evidence)"
else
	not_ok "the honest nodes kept node3's conflicting checkpoint as evidence" "no evidence after $sent12 rounds"
fi
refused=$(metric 3 isthmus_attest_refused_total)
[ "$refused" -gt 0 ] && ok "node3 refused to sign $refused block(s) its watcher disagrees with" ||
	not_ok "node3 refused to sign the blocks its watcher disagrees with" "refused: $refused"

# no certificate of a 1->2 checkpoint has node3's signature; one of 2->1 has
own12=0 own21=0 certs=0
for h in $(seq 1 "$(height 0)"); do
	c=$(curl -s --max-time 2 "$(api 0)/v1/certificates/$h")
	echo "$c" | grep -q '"signers"' || continue
	certs=$((certs + 1))
	b=$(curl -s --max-time 2 "$(api 0)/v1/blocks/$h")
	signed3=0
	echo "$c" | grep -q '"signers":\[[0-9,]*3[],]' && signed3=1
	echo "$b" | grep -q '"src_chain":"1","dst_chain":"2"' && own12=$((own12 + signed3))
	echo "$b" | grep -q '"src_chain":"2","dst_chain":"1"' && own21=$((own21 + signed3))
done
[ $own12 -eq 0 ] && ok "none of the $certs certificates with a 1->2 checkpoint carries node3's signature" ||
	not_ok "none of the certificates with a 1->2 checkpoint carries node3's signature" "$own12 do"

# the relayer API's edges: a route the genesis does not have is 404, a query
# value that does not parse is 400, and the event stream names the node's
# start (boot) so that a relayer sees a restart
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
c404=$(code "$(api 0)/v1/deliveries/1/9/0")
c400=$(code "$(api 0)/v1/events?after=$(printf '9%.0s' $(seq 40))")
boot=$(curl -s --max-time 5 "$(api 0)/v1/events?after=0" | sed -n 's/.*"boot":"\([0-9a-f]\{16\}\)".*/\1/p')
if [ "$c404" = 404 ] && [ "$c400" = 400 ] && [ -n "$boot" ]; then
	ok "relayer API: unknown route 404, an over-long query value 400, events carry a boot id"
else
	not_ok "relayer API: unknown route 404, an over-long query value 400, events carry a boot id" \
		"unknown route: $c404, long after: $c400, boot: '$boot'"
fi
# ?scheme=: an unknown one is 400 naming the allowed values (deliveries,
# certificates, epochs); multisig-secp256k1 is the default; frost-ed25519
# serves the FROST certificate, or says it is the FROST one that is missing
bogus=$(curl -s --max-time 5 "$(api 0)/v1/deliveries/1/2/0?scheme=bogus")
cb=$(code "$(api 0)/v1/deliveries/1/2/0?scheme=bogus")$(code "$(api 0)/v1/certificates/1?scheme=bogus")$(code "$(api 0)/v1/epochs/0?scheme=frost")
dm=$(curl -s --max-time 5 "$(api 0)/v1/deliveries/1/2/0?scheme=multisig-secp256k1")
dd=$(curl -s --max-time 5 "$(api 0)/v1/deliveries/1/2/0")
df=$(curl -s --max-time 5 "$(api 0)/v1/deliveries/1/2/0?scheme=frost-ed25519")
if [ "$cb" = 400400400 ] && echo "$bogus" | grep -q 'scheme must be multisig-secp256k1 (the default) or frost-ed25519' &&
	[ "$dm" = "$dd" ] && echo "$dd" | grep -q '"status":"ready"' &&
	{ echo "$df" | grep -q '"status":"ready"' || echo "$df" | grep -q '"awaiting_certificate".*FROST certificate'; }; then
	ok "relayer API: ?scheme=bogus 400 with the allowed values, multisig-secp256k1 the default, frost-ed25519 names the FROST certificate"
else
	not_ok "relayer API: ?scheme=bogus 400 with the allowed values, multisig-secp256k1 the default, frost-ed25519 names the FROST certificate" \
		"codes $cb, bogus: $bogus" "frost: $df"
fi

# a validator killed and restarted resumes its watchers from their cursors:
# its trees go on where they stopped, and it serves the new messages
kill -KILL "${PIDS[1]}" 2>/dev/null
wait "${PIDS[1]}" 2>/dev/null
start 1
id=$(send 1 2 "ee01")
k=$sent12
deadline=$((SECONDS + WAIT_S))
d=
while [ $SECONDS -lt $deadline ]; do
	d=$(delivery 1 1 2 "$k")
	[ -n "$d" ] && break
	sleep 0.2
done
routes=$(curl -s --max-time 2 "$(api 1)/v1/routes")
if [ -n "$d" ] && echo "$routes" | grep -q "\"src_chain\":\"1\",\"dst_chain\":\"2\",\"observed_tree_size\":\"$((k + 1))\""; then
	ok "node1, killed and restarted, resumes its watchers: it serves message $k and its tree holds $((k + 1)) messages"
else
	not_ok "node1, killed and restarted, resumes its watchers" "delivery: ${d:0:16}..., routes: $routes"
fi

for i in $all; do
	stop "$i"
	[ "$rc" = 0 ] || not_ok "node$i exits 0 on SIGTERM" "status $rc"
done
ok "every node exits on SIGTERM"

# the evidence is kept, not only counted: the signed proposals are in the
# honest nodes' evidence databases
if command -v mdb_stat >/dev/null; then
	kept=0
	for i in 0 1 2; do
		e=$(mdb_stat -s evidence "$T/net/node$i/data" 2>/dev/null | sed -n 's/^ *Entries: \([0-9]*\)/\1/p')
		kept=$((kept + ${e:-0}))
	done
	[ $kept -gt 0 ] && ok "the honest nodes' evidence databases hold $kept signed proposal(s)" ||
		not_ok "the honest nodes' evidence databases hold the signed proposals" "none"
else
	skip "the evidence databases hold the signed proposals" "mdb_stat (lmdb-utils) is not installed"
fi
echo "1..$n"
[ $failed -eq 0 ]
