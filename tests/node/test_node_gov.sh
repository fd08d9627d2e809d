#!/usr/bin/env bash
# Governance with real processes (suite integration, TAP): `isthmus gov`
# against four validators, two devchains and `isthmus relay`.
#
# Validator 0's operator proposes pausing route 1->2; validators 1 and 2
# vote yes and it passes (75% of the stake, more than 2/3). While the route
# is paused a message 1->2 waits (no checkpoint covers it: the validators
# say "awaiting_checkpoint") while a message 2->1 sent after it is
# delivered, which bounds the wait without timing. A resume passes and the
# held messages are delivered, in nonce order. A proposal with half the
# stake stays open and is rejected when it closes, changing nothing. A vote
# from an account that operates no validator, and one on a closed proposal,
# are refused with the ledger's reason.
#
# Waiting is bounded polling; nothing asserts on timing.
TEST_NAME=gov
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
N=4

start_net $N 2

prop_field() { jget "$(api "${3:-1}")/v1/gov/proposals/$1" "$2"; }
paused_routes() { jget "$(api "${1:-1}")/v1/gov" '",".join(r["src_chain"]+"->"+r["dst_chain"] for r in d["paused_routes"])'; }
paused_chains() { jget "$(api "${1:-1}")/v1/gov" '",".join(d["paused_chains"])'; }

# ---- the relay works both ways before anything is paused ----
if send 1 2 && poll delivered 1 2 "$NONCE"; then
	ok "before any pause, message $NONCE 1->2 is delivered"
else
	bail "the relay delivers nothing: $(tail -3 "$T/relay.log")"
fi

# ---- pause route 1->2: proposed by validator 0, yes from 1 and 2 ----
if as 0 propose --pause-route 1:2 --voting-blocks 1000 && grep -q '^proposal [0-9]' "$T/gov.out"; then
	P1=$(sed -n 's/^proposal \([0-9]*\)$/\1/p' "$T/gov.out")
	ok "gov propose --pause-route 1:2 prints the proposal number ($P1) once committed"
else
	bail "gov propose: $(cat "$T/gov.out")"
fi
st=$(prop_field "$P1" 'd["status"]+" "+d["yes_stake"]+"/"+d["total_stake"]+" "+str(len(d["votes"]))')
[ "$st" = "open 1000000/4000000 1" ] && ok "proposal $P1 is open with the proposer's yes (25% of the stake)" ||
	not_ok "the proposal is open with the proposer's vote" "got '$st'"
as 1 vote "$P1" --yes || not_ok "validator 1 votes yes" "$(cat "$T/gov.out")"
st=$(prop_field "$P1" 'd["status"]+" "+d["yes_stake"]')
[ "$st" = "open 2000000" ] && ok "with validator 1's yes it is still open (50%, not more than 2/3)" ||
	not_ok "50% does not pass" "got '$st'"
as 2 vote "$P1" --yes || not_ok "validator 2 votes yes" "$(cat "$T/gov.out")"
st=$(prop_field "$P1" 'd["status"]+" "+d["yes_stake"]+" "+str(d["decided"] is not None)')
[ "$st" = "passed 3000000 True" ] && ok "with validator 2's yes proposal $P1 passes (75% > 2/3)" ||
	not_ok "75% passes" "got '$st'"
# every validator's ledger has it, and a few blocks more, before a message is sent
all_paused() { local i; for i in 0 1 2 3; do [ "$(paused_routes "$i")" = "1->2" ] || return 1; done; }
if poll all_paused && wait_heights $(($(height 1) + 3)) 0 1 2 3; then
	ok "GET /v1/gov on every validator shows route 1->2 paused"
else
	not_ok "route 1->2 is paused on every validator" "node 1: '$(paused_routes 1)'"
fi
"$BIN" gov list --node "$(api 1)" >"$T/list.out" 2>&1 </dev/null &&
	grep -q '^paused routes  1->2$' "$T/list.out" && grep -q "^ *$P1  pause_route  *1->2 *passed" "$T/list.out" &&
	ok "gov list shows the paused route and the passed proposal" ||
	not_ok "gov list" "$(cat "$T/list.out")"

# ---- the pause is certified: a destination can check it ----
# pauses_valid WHAT: `gov pauses` checks every certificate against the
# genesis set and lists WHAT as valid
pauses_valid() {
	"$BIN" gov pauses --validators "$T/net/validator-set.json" --node "$(api 2)" >"$T/pauses.out" 2>&1 </dev/null &&
		grep -q "$1: valid, certified at height [0-9]* by validators holding [0-9]* of 4000000 stake" "$T/pauses.out"
}
if poll pauses_valid "pause route 1->2 (proposal $P1)"; then
	ok "gov pauses: the pause of route 1->2 is a leaf of its block, whose certificate the genesis set verifies"
else
	not_ok "the pause is certified" "$(cat "$T/pauses.out")"
fi
"$BIN" gov pauses --validators "$T/net/validator-set.json" --accept frost --node "$(api 2)" >"$T/pauses-frost.out" 2>&1 </dev/null
rc=$?
[ $rc -eq 1 ] && grep -q "pause route 1->2 (proposal $P1): invalid: scheme:" "$T/pauses-frost.out" &&
	ok "a verifier that accepts only FROST refuses that multisig certificate (exit 1, invalid: scheme)" ||
	not_ok "an unaccepted scheme is refused" "exit $rc: $(cat "$T/pauses-frost.out")"

# ---- while paused: 1->2 waits, 2->1 goes on ----
send 1 2 && H1=$NONCE && send 1 2 && H2=$NONCE || bail "cannot send on chain 1"
send 2 1 && B=$NONCE || bail "cannot send on chain 2"
if poll delivered 2 1 "$B"; then
	ok "while 1->2 is paused, message $B 2->1 (sent after the 1->2 ones) is delivered"
else
	not_ok "route 2->1 goes on while 1->2 is paused" "$(tail -2 "$T/relay.log")"
fi
reason() { jget "$(api 2)/v1/deliveries/1/2/$1" 'd["status"]+" "+d.get("reason","")'; }
awaiting() { [ "$(reason "$H2")" = "pending awaiting_checkpoint" ]; }
poll awaiting
wait_heights $(($(height 1) + 5)) 1 2
r1=$(reason "$H1")
if ! delivered 1 2 "$H1" && ! delivered 1 2 "$H2" && [ "$r1" = "pending awaiting_checkpoint" ] && awaiting; then
	ok "5 blocks later, messages $H1 and $H2 1->2 are still undelivered: $r1"
else
	not_ok "the paused route's messages wait" "$H1: '$r1' delivered=$(delivered 1 2 "$H1" && echo yes)"
fi

# ---- resume: the held messages are delivered, in order ----
if as 0 propose --resume-route 1:2 --json; then
	P2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["proposal"])' "$T/gov.out" 2>/dev/null)
	[ -n "$P2" ] && ok "gov propose --resume-route 1:2 --json gives proposal $P2" ||
		not_ok "the --json outcome has the proposal" "$(cat "$T/gov.out")"
else
	bail "gov propose --resume-route: $(cat "$T/gov.out")"
fi
as 1 vote "$P2" --yes && as 3 vote "$P2" --yes ||
	not_ok "validators 1 and 3 vote yes" "$(cat "$T/gov.out")"
st=$(prop_field "$P2" 'd["status"]')
poll pauses_valid "resume route 1->2 (proposal $P2)" &&
	ok "gov pauses: the resume is certified too" || not_ok "the resume is certified" "$(cat "$T/pauses.out")"
[ "$st" = passed ] && [ -z "$(paused_routes)" ] && ok "proposal $P2 passes and nothing is paused any more" ||
	not_ok "the resume passes" "status '$st', paused '$(paused_routes)'"
if poll delivered 1 2 "$H2" && delivered 1 2 "$H1"; then
	h1=$(inbox_height 1 2 "$H1") h2=$(inbox_height 1 2 "$H2")
	[ -n "$h1" ] && [ -n "$h2" ] && [ "$h1" -le "$h2" ] &&
		ok "after the resume, held messages $H1 and $H2 are delivered in order (chain 2 heights $h1, $h2)" ||
		not_ok "the held messages are delivered in order" "heights '$h1' '$h2'"
else
	not_ok "the held messages are delivered after the resume" "$(tail -2 "$T/relay.log")"
fi

# ---- half the stake: open, then rejected when it closes ----
if as 0 propose --pause-chain 2 --voting-blocks 20; then
	P3=$(sed -n 's/^proposal \([0-9]*\)$/\1/p' "$T/gov.out")
	as 1 vote "$P3" --yes
	as 2 vote "$P3" --no
	st=$(prop_field "$P3" 'd["status"]+" "+d["yes_stake"]+" "+str(len(d["votes"]))')
	[ "$st" = "open 2000000 3" ] && ok "proposal $P3 (pause chain 2) with 2 of 4 yes stays open (50% of the stake)" ||
		not_ok "2 of 4 yes stays open" "got '$st'"
	closes=$(prop_field "$P3" 'd["closes"]')
	closed() { [ "$(prop_field "$P3" 'd["status"]')" = rejected ]; }
	if poll closed; then
		dec=$(prop_field "$P3" 'd["decided"]')
		[ "$dec" = "$closes" ] && [ -z "$(paused_chains)" ] && [ -z "$(paused_routes)" ] &&
			ok "proposal $P3 is rejected at height $dec, when it closes, and nothing is paused" ||
			not_ok "the rejection changes nothing" "decided '$dec' closes '$closes' chains '$(paused_chains)'"
	else
		not_ok "proposal $P3 is rejected when it closes (height $closes)" "$(prop_field "$P3" 'd')"
	fi
	"$BIN" gov show "$P3" --node "$(api 0)" >"$T/show.out" 2>&1 </dev/null &&
		grep -q "^status       rejected at height $closes$" "$T/show.out" &&
		grep -q '^yes stake    2000000 of 4000000 (50.00%' "$T/show.out" &&
		ok "gov show $P3 prints the rejection and the tally" || not_ok "gov show" "$(cat "$T/show.out")"
	send 2 1 && poll delivered 2 1 "$NONCE" && ok "chain 2 was never paused: message $NONCE 2->1 is delivered" ||
		not_ok "chain 2 goes on" "$(tail -2 "$T/relay.log")"
else
	not_ok "gov propose --pause-chain 2" "$(cat "$T/gov.out")"
fi

# ---- refusals, with the ledger's reason ----
printf 'gov-test-passphrase\n' >"$T/pass5"
chmod 600 "$T/pass5"
"$BIN" keys new user --type ed25519 --keystore "$T/user" --passphrase-file "$T/pass5" --kdf-fast \
	>"$T/keys.out" 2>&1 </dev/null || bail "keys new: $(cat "$T/keys.out")"
"$BIN" gov vote "$P3" --yes --keystore "$T/user" --key user --passphrase-file "$T/pass5" --node "$(api 1)" \
	>"$T/refused.out" 2>&1 </dev/null
rc=$?
if [ $rc -eq 1 ] && grep -q 'this account operates no validator' "$T/refused.out"; then
	ok "a vote from an account that operates no validator is refused: $(grep -o 'this account operates no validator[^:]*' "$T/refused.out")"
else
	not_ok "a vote from a non-operator is refused with the reason" "exit $rc: $(cat "$T/refused.out")"
fi
as 3 vote "$P1" --no
rc=$?
if [ $rc -eq 1 ] && grep -q "proposal $P1 is passed" "$T/gov.out"; then
	ok "a vote on closed proposal $P1 is refused: proposal $P1 is passed"
else
	not_ok "a vote on a closed proposal is refused" "exit $rc: $(cat "$T/gov.out")"
fi
as 3 vote "$P3" --yes
rc=$?
[ $rc -eq 1 ] && grep -q "proposal $P3 is rejected" "$T/gov.out" &&
	ok "a vote on rejected proposal $P3 is refused: proposal $P3 is rejected" ||
	not_ok "a vote on a rejected proposal is refused" "exit $rc: $(cat "$T/gov.out")"

echo "1..$n"
exit $failed
