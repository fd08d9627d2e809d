#!/usr/bin/env bash
# FROST threshold certificates with real processes (issue 7; suite
# integration, TAP).
#
# Four validators with a genesis "frost" section and short epochs. The DKG
# of epoch 0 runs through consensus and forms a group key, which two
# devchains then trust; their inboxes accept frost-ed25519 certificates
# only, and `isthmus relay --scheme frost` carries messages both ways: the
# deliveries are verified with FROST alone. The destinations follow the
# hand-overs (each certified by the outgoing group, carrying the next group
# key) across several epochs.
#
# Faults (builds with -Dfault_injection=true; skipped otherwise):
#   - validator 3 sends a bad DKG share (ISTHMUS_FAULT=dkg-bad-share): its
#     recipient complains, validator 3 is disqualified, the key still forms;
#   - validator 3 sends wrong signature shares (frost-bad-share): they are
#     reported and it is marked bad for the epoch, certificates still form;
#   - validator 2 is killed (SIGKILL) and so withholds its shares: the
#     signers that do not answer are replaced after the bound and messages
#     are still delivered.
#
# Waiting is bounded polling; nothing asserts on timing.
TEST_NAME=frost
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
N=4
EPOCH=50

DC=${ISTHMUS_DEVCHAIN_BIN:?ISTHMUS_DEVCHAIN_BIN must point to isthmus-devchain}
FAULTS=${ISTHMUS_FAULT_BUILD:-0}
pick_base_port $N 3 || bail "no free base port found"
"$BIN" testnet --validators $N --chains 2 --output "$T/net" --base-port "$BASE" --epoch-length $EPOCH --frost \
	--kdf-fast >"$T/testnet.out" 2>&1 </dev/null || bail "isthmus testnet failed: $(head -3 "$T/testnet.out")"
grep -q '"dkg_round_blocks"' "$T/net/genesis.json" && ok "isthmus testnet --frost writes a genesis frost section" ||
	not_ok "isthmus testnet --frost writes a genesis frost section"
chain() { echo "http://127.0.0.1:$((BASE + 199 + $1))"; }

# json URL EXPR: a python expression over the JSON document `d`
json() {
	curl -s --max-time 5 "$1" 2>/dev/null | python3 -c "import json,sys
try:
    d=json.load(sys.stdin); print($2)
except Exception:
    print('')" 2>/dev/null
}
wait_for() { # wait_for COMMAND...: poll until the command succeeds (bounded)
	local deadline=$((SECONDS + WAIT_S * 2))
	while [ $SECONDS -lt $deadline ]; do
		"$@" && return 0
		sleep 0.3
	done
	return 1
}
# the node keys, read once (a killed node answers nothing)
KEYS=()
node_key() {
	[ -n "${KEYS[$1]:-}" ] || KEYS[$1]=$(json "$(api "$1")/v1/status" 'd["node_key"]')
	echo "${KEYS[$1]}"
}
# member FIELD I EPOCH: FIELD of validator I in EPOCH's FROST group ("" when none)
member() {
	json "$(api 0)/v1/frost" "[m['$1'] for g in d['groups'] if g['epoch']==$3 for m in g['members'] if m['node_key']=='$(node_key "$2")'][0]"
}
epoch_now() { json "$(api 0)/v1/epochs" 'd["current"]'; }
group_key_of() { json "$(api 0)/v1/validators?epoch=$1" 'd.get("group_key","")'; }
has_group_key() { [ -n "$(group_key_of "$1")" ]; }

# ---- the DKG of epoch 0, one dealer cheating ----
for i in 0 1 2; do start "$i"; done
if [ "$FAULTS" = 1 ]; then
	ISTHMUS_FAULT=dkg-bad-share start 3
else
	start 3
fi
wait_heights 3 0 1 2 3 && ok "4 validators commit" || bail "no commits"
for i in 0 1 2 3; do [ ${#KEYS[$i]} -eq 64 ] || node_key "$i" >/dev/null; done
for i in 0 1 2 3; do [ "$(node_key "$i" | wc -c)" -eq 65 ] || bail "cannot read node $i's key"; done
wait_for has_group_key 0 && ok "epoch 0's DKG forms a group key through consensus: $(group_key_of 0)" ||
	bail "no group key for epoch 0: $(curl -s --max-time 5 "$(api 0)/v1/frost")"
same=1
for i in 1 2 3; do
	[ "$(json "$(api "$i")/v1/validators?epoch=0" 'd.get("group_key","")')" = "$(group_key_of 0)" ] || same=0
done
[ $same = 1 ] && ok "every validator has the same group key" || not_ok "every validator has the same group key"
if [ "$FAULTS" = 1 ]; then
	[ "$(member qualified 3 0)" = False ] && [ "$(member qualified 0 0)" = True ] &&
		ok "the dealer of a bad share is disqualified, the others are not" ||
		not_ok "the dealer of a bad share is disqualified" "$(curl -s --max-time 5 "$(api 0)/v1/frost")"
	grep -q "complaint sent" "$T"/node[012].log && ok "its recipient complained" ||
		not_ok "its recipient complained"
	stop 3
	start 3   # honest from now on
else
	skip "the dealer of a bad share is disqualified" "no fault injection in this build"
	skip "its recipient complained" "no fault injection in this build"
fi

# ---- destinations that accept FROST only ----
curl -s --max-time 5 "$(api 0)/v1/validators?epoch=0" >"$T/trust.json"
for k in 1 2; do
	"$DC" --data "$T/chain$k" --chain-id $k --listen "$(chain $k)" --block-ms 200 --finality-depth 1 \
		--trust "$T/trust.json" --accept frost >>"$T/chain$k.log" 2>&1 </dev/null &
	PIDS[$((7 + k))]=$!
done
for i in 0 1 2 3; do printf -- '--validator\n%s\n' "$(api "$i")"; done >"$T/relay.args"
mapfile -t RARGS <"$T/relay.args"
"$BIN" relay "${RARGS[@]}" --chain "1=$(chain 1)" --chain "2=$(chain 2)" --scheme frost --state "$T/relay.json" \
	--wait-ms 1000 >"$T/relay.log" 2>&1 </dev/null &
PIDS[10]=$!
chain_up() { curl -s --max-time 2 "$(chain 1)/v1/head" | grep -q height && curl -s --max-time 2 "$(chain 2)/v1/head" | grep -q height; }
wait_for chain_up || bail "the devchains do not answer: $(tail -3 "$T/chain1.log")"

R32=3333333333333333333333333333333333333333333333333333333333333333
# delivered SRC DST WHAT: a message SRC->DST reaches DST's inbox
delivered() {
	local out nonce deadline=$((SECONDS + WAIT_S * 3))
	out=$(curl -s --max-time 10 -X POST -d "{\"dst_chain\":$2,\"recipient\":\"$R32\",\"value\":1,\"payload\":\"00\"}" \
		"$(chain "$1")/v1/messages")
	nonce=$(printf '%s' "$out" | sed -n 's/.*"nonce":\([0-9]*\).*/\1/p')
	[ -n "$nonce" ] || { not_ok "$3" "send: $out"; return; }
	while [ $SECONDS -lt $deadline ]; do
		if curl -s --max-time 5 "$(chain "$2")/v1/inbox/$1/$nonce" | grep -q '"delivered":true'; then
			local te
			te=$(curl -s --max-time 5 "$(chain "$2")/v1/inbox/epochs" | sed -n 's/.*"current":\([0-9]*\).*/\1/p')
			ok "$3 (message $nonce $1->$2; the inbox trusts epoch $te)"
			return
		fi
		sleep 0.3
	done
	not_ok "$3" "relay: $(tail -3 "$T/relay.log")" "inbox: $(curl -s --max-time 5 "$(chain "$2")/v1/inbox/epochs")"
}
delivered 1 2 "a message is delivered with a frost-ed25519 certificate alone"
delivered 2 1 "and the other way"
h=$(height 0)
cert=$(json "$(api 0)/v1/frost" 'd["pending_jobs"]')
[ -n "$cert" ] && ok "GET /v1/frost answers (pending jobs: $cert)" || not_ok "GET /v1/frost answers"
if curl -s --max-time 5 "http://127.0.0.1:$((BASE + 100))/metrics" | grep -q '^isthmus_frost_certificates_total'; then
	ok "nodes count their frost-ed25519 certificates"
else
	not_ok "nodes count their frost-ed25519 certificates"
fi

# ---- epoch changes: hand-overs certified by the outgoing group ----
e0=$(epoch_now)
wait_for eval '[ "$(epoch_now)" -ge $((e0 + 2)) ]' && ok "the network moves on two epochs (now $(epoch_now))" ||
	not_ok "the network moves on two epochs"
e=$(epoch_now)
has_group_key "$e" && ok "epoch $e has its own group key, made before its hand-over" ||
	not_ok "epoch $e has its own group key"
[ "$(group_key_of "$e")" != "$(group_key_of 0)" ] && ok "a new key each epoch" || not_ok "a new key each epoch"
delivered 1 2 "after the hand-overs, a message is still delivered with FROST alone"
te=$(curl -s --max-time 5 "$(chain 2)/v1/inbox/epochs" | sed -n 's/.*"current":\([0-9]*\).*/\1/p')
[ -n "$te" ] && [ "$te" -ge 2 ] && ok "the FROST-only inbox followed the hand-overs to epoch $te" ||
	not_ok "the FROST-only inbox followed the hand-overs" "$(curl -s --max-time 5 "$(chain 2)/v1/inbox/epochs")"

# ---- a pause, certified by the group key ----
# pass_gov ARGS...: validator 0 proposes, 1 and 2 vote yes; the number in $P
pass_gov() {
	as 0 propose "$@" --voting-blocks 200 && P=$(sed -n 's/^proposal \([0-9]*\)$/\1/p' "$T/gov.out") &&
		[ -n "$P" ] && as 1 vote "$P" --yes && as 2 vote "$P" --yes
}
# frost_pause: the epoch of proposal $P's pause once its FROST certificate is formed, in $PE
frost_pause() {
	PE=$(json "$(api 1)/v1/gov/pauses?scheme=frost-ed25519" \
		"[str(p['epoch']) for p in d['pauses'] if p['certificate'] and p['proposal'] == $P][0]")
	[ -n "$PE" ]
}
if pass_gov --pause-route 2:1; then
	if wait_for frost_pause; then
		curl -s --max-time 5 "$(api 1)/v1/validators?epoch=$PE" >"$T/set-$PE.json"
		"$BIN" gov pauses --scheme frost --accept frost --validators "$T/set-$PE.json" --node "$(api 1)" \
			>"$T/pauses.out" 2>&1 </dev/null
		grep -q "pause route 2->1 (proposal $P): valid, certified at height [0-9]* by the FROST group key of epoch $PE" \
			"$T/pauses.out" &&
			ok "a governance pause is a leaf of its block's FROST certificate: epoch $PE's group key proves it" ||
			not_ok "the pause's FROST certificate proves it" "$(cat "$T/pauses.out")"
	else
		not_ok "the pause block gets a FROST certificate" "$(curl -s --max-time 5 "$(api 1)/v1/gov/pauses?scheme=frost-ed25519")"
	fi
	pass_gov --resume-route 2:1 || not_ok "the route is resumed" "$(cat "$T/gov.out")"
else
	not_ok "governance pauses route 2->1" "$(cat "$T/gov.out")"
fi

# ---- a signer that sends wrong shares ----
if [ "$FAULTS" = 1 ]; then
	stop 3
	ISTHMUS_FAULT=frost-bad-share start 3
	e=$(epoch_now)
	wait_for eval '[ "$(epoch_now)" -gt $e ] && has_group_key "$(epoch_now)"' || true
	bad_seen() {
		for i in 0 1 2; do
			curl -s --max-time 5 "$(api "$i")/metrics" | grep -q '^isthmus_frost_bad_shares_total [1-9]' && return 0
		done
		return 1
	}
	# in a group the API lists (the current or the previous epoch's)
	is_bad() {
		[ "$(json "$(api 0)/v1/frost" "int(any(m['bad_share'] for g in d['groups'] for m in g['members'] if m['node_key']=='$(node_key 3)'))")" = 1 ]
	}
	# it signs when chosen (t of the members, by a hash of each block)
	delivered 2 1 "with a signer sending wrong shares, messages are still delivered"
	for _ in 1 2 3 4 5 6; do bad_seen && is_bad && break; delivered 1 2 "another message is delivered"; done
	bad_seen && ok "its wrong shares are caught (isthmus_frost_bad_shares_total)" ||
		not_ok "its wrong shares are caught"
	wait_for is_bad && ok "the ledger marks it bad for the epoch (a signed share report is the evidence)" ||
		not_ok "the ledger marks it bad" "$(curl -s --max-time 5 "$(api 0)/v1/frost")"
	stop 3
	start 3
else
	skip "with a signer sending wrong shares, messages are still delivered" "no fault injection in this build"
	skip "its wrong shares are caught" "no fault injection in this build"
	skip "the ledger marks it bad for the epoch" "no fault injection in this build"
fi

# ---- a signer that withholds: killed ----
# first a new epoch, whose group has no bad member, and the destinations
# following it: the hand-over out of an epoch needs t of that epoch's group
# (validator 3 was bad in the last one; with validator 2 gone too, its
# hand-over could never be signed)
e=$(epoch_now)
wait_for eval '[ "$(epoch_now)" -gt $e ] && has_group_key "$(epoch_now)"' || true
delivered 1 2 "a message is delivered in the new epoch, before the kill"
inbox_current() {
	[ "$(curl -s --max-time 5 "$(chain 2)/v1/inbox/epochs" | sed -n 's/.*"current":\([0-9]*\).*/\1/p')" = "$(epoch_now)" ]
}
wait_for inbox_current || true
kill -KILL "${PIDS[2]}" 2>/dev/null
wait "${PIDS[2]}" 2>/dev/null
ok "validator 2 is killed (SIGKILL)"
delivered 1 2 "with a signer withholding, the silent signers are replaced and the message is delivered"
delivered 2 1 "and the other way"
# left out: absent in a group the API lists (the current or the previous
# epoch's), not qualified in one (a DKG it missed), or out of the current
# group altogether (jailed for its missed votes)
absent_seen() {
	[ "$(json "$(api 0)/v1/frost" "int(any(m['absent'] or not m['qualified'] for g in d['groups'] for m in g['members'] if m['node_key']=='$(node_key 2)') or not any(m['node_key']=='$(node_key 2)' for g in d['groups'] if g['epoch']==max(x['epoch'] for x in d['groups']) for m in g['members']))")" = 1 ]
}
for _ in 1 2 3 4 5 6; do absent_seen && break; delivered 2 1 "another message is delivered"; done
absent_seen && ok "the ledger leaves the silent signer out (absent, unqualified, or jailed out of the set)" ||
	not_ok "the ledger marks the silent signer absent" "$(curl -s --max-time 5 "$(api 0)/v1/frost")"

echo "1..$n"
[ "$failed" -eq 0 ]
