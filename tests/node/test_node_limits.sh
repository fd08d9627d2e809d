#!/usr/bin/env bash
# Route limits with real processes (suite integration, TAP): four
# validators, two devchains, `isthmus relay`, `isthmus gov` and
# `isthmus query message`.
#
# Governance gives route 1->2 a count limit (2 messages per window) with a
# window too long to slide during the test, and a high-value delay. A burst
# of 5 messages: 2 are delivered, 3 are held (the API and the CLI say so,
# with the rule and the message they wait behind), a message 2->1 sent
# after them is delivered (other routes are untouched) while they stay
# held, and the held-messages gauge counts them; a validator SIGKILLed and
# restarted holds them by the same rule. Governance releases two of
# them early: those two are delivered, the last stays held. A short window
# then lets the last one through as the window slides, after the others.
# A high-value message waits its delay (it is delivered only once the
# source chain passed the release height the API gave) and the message
# behind it waits in order. Removing the limits releases what they held and
# the gauge falls to 0.
#
# Waiting is bounded polling; nothing asserts on timing: a held message is
# checked while the window that holds it cannot slide before the test ends.
TEST_NAME=limits
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
N=4

# the genesis limits route 2->1 from the first block: above 1000 waits 30 blocks
edit_genesis() {
	python3 - "$1" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["route_limits"] = [{"src_chain": 2, "dst_chain": 1, "high_value": 1000, "delay_blocks": 30}]
json.dump(d, open(p, "w"), indent=2)
PY
}
start_net $N 2

head_height() { jget "$(chain_url "$1")/v1/head" 'd["height"]'; }
# hold I NONCE EXPR: EXPR over the hold of message NONCE of 1->2 on validator I ('' when not held)
hold() { jget "$(api "$1")/v1/deliveries/1/2/$2" "(lambda h: $3)(d['hold']) if d.get('reason') == 'held' else ''"; }
is_held() { [ "$(hold "${3:-1}" "$1" 'h["rule"]')" = "$2" ]; }

prop_status() { jget "$(api "${2:-1}")/v1/gov/proposals/$1" 'd["status"]'; }
# pass WHAT ARGS...: validator 0 proposes, 1 and 2 vote yes (75% of the stake); the proposal passes
pass() {
	local what=$1 p
	shift
	if ! as 0 propose "$@"; then
		not_ok "$what: proposed" "$(cat "$T/gov.out")"
		return 1
	fi
	p=$(sed -n 's/^proposal \([0-9]*\)$/\1/p' "$T/gov.out")
	as 1 vote "$p" --yes && as 2 vote "$p" --yes || { not_ok "$what: votes" "$(cat "$T/gov.out")"; return 1; }
	if [ "$(prop_status "$p")" = passed ]; then
		ok "$what: proposal $p passes with 75% of the stake"
	else
		not_ok "$what: proposal $p passes" "status '$(prop_status "$p")'"
		return 1
	fi
}
# limits_on I WINDOW: validator I's ledger has route 1->2 limited with that window
limits_on() {
	[ "$(jget "$(api "$1")/v1/gov" '[r["limits"]["window_blocks"] for r in d["route_limits"] if r["src_chain"]=="1" and r["dst_chain"]=="2" and r["limits"]][0]')" = "$2" ]
}
all_limits() { local i; for i in 0 1 2 3; do limits_on "$i" "$1" || return 1; done; }

send 1 2 && poll delivered 1 2 "$NONCE" && ok "before any vote, message $NONCE 1->2 is delivered" ||
	bail "the relay delivers nothing: $(tail -3 "$T/relay.log")"
# the genesis's limits hold from the first block, with no vote
held21() { [ "$(jget "$(api 2)/v1/deliveries/2/1/$1" 'd.get("reason","")+" "+d.get("hold",{}).get("rule","")')" = "held high_value_delay" ]; }
if send 2 1 5000 && G=$NONCE && poll held21 "$G"; then
	ok "the genesis's route_limits hold high-value message $G 2->1 (high_value_delay) with no vote"
	poll delivered 2 1 "$G" && ok "and it is delivered once its delay has passed" ||
		not_ok "the genesis-held message is delivered after its delay" "$(curl -s "$(api 2)/v1/deliveries/2/1/$G")"
else
	not_ok "the genesis's route_limits hold a high-value message" "$(curl -s "$(api 2)/v1/deliveries/2/1/$G")"
fi

# ---- a count limit whose window cannot slide during the test ----
pass "route limits 1->2 (2 per 100000 blocks, above 1000 waits 40 blocks)" \
	--route-limits 1:2 --window-blocks 100000 --max-count 2 --high-value 1000 --delay-blocks 40 --voting-blocks 200 ||
	bail "no limits"
poll all_limits 100000 && ok "GET /v1/gov on every validator shows the limits of route 1->2" ||
	not_ok "every validator has the limits" "$(jget "$(api 0)/v1/gov" 'd["route_limits"]')"
"$BIN" gov list --node "$(api 1)" >"$T/list.out" 2>&1 </dev/null &&
	grep -q '^  1->2 *window 100000 blocks: 2 messages; value above 1000 waits 40 blocks' "$T/list.out" &&
	ok "gov list shows the route's limits" || not_ok "gov list shows the limits" "$(cat "$T/list.out")"

# ---- a burst of 5: 2 pass, 3 are held, in order ----
B=
for k in 1 2 3 4 5; do
	send 1 2 || bail "cannot send on chain 1"
	[ -n "$B" ] || B=$NONCE
done
B2=$((B + 2)) B3=$((B + 3)) B4=$((B + 4))
if poll delivered 1 2 $((B + 1)) && delivered 1 2 "$B"; then
	ok "of a burst of 5 (nonces $B..$B4), the 2 the window allows are delivered"
else
	not_ok "the first 2 of the burst are delivered" "$(tail -2 "$T/relay.log")"
fi
if poll is_held "$B4" window_count; then
	first=$(hold 1 "$B4" 'h["first_held"]')
	[ "$first" = "$B2" ] && is_held "$B2" window_count && is_held "$B3" window_count &&
		ok "GET /v1/deliveries says messages $B2..$B4 are held (window_count), $B3 and $B4 behind $B2" ||
		not_ok "the held messages wait behind the first held one" "first_held '$first'"
else
	not_ok "message $B4 is held" "$(curl -s "$(api 1)/v1/deliveries/1/2/$B4")"
fi
for i in 0 2 3; do
	is_held "$B2" window_count "$i" || not_ok "validator $i holds message $B2 too" \
		"$(curl -s "$(api "$i")/v1/deliveries/1/2/$B2")"
done
ok "every validator says message $B2 is held"
"$BIN" query message 1 2 "$B4" --node "$(api 1)" >"$T/query.out" 2>&1 </dev/null
if grep -q '^status       held$' "$T/query.out" && grep -q '^rule         window_count$' "$T/query.out" &&
	grep -q "^behind       message $B2 " "$T/query.out" && grep -q '^release      at source height' "$T/query.out"; then
	ok "isthmus query message says held, the rule, the message it waits behind and the release height"
else
	not_ok "isthmus query message shows the hold" "$(cat "$T/query.out")"
fi
send 2 1 && O=$NONCE || bail "cannot send on chain 2"
if poll delivered 2 1 "$O"; then
	ok "message $O 2->1, sent after the burst, is delivered: the other route is untouched"
else
	not_ok "route 2->1 goes on" "$(tail -2 "$T/relay.log")"
fi
# the window (100000 blocks) cannot have slid: still held, not delivered
if is_held "$B2" window_count && ! delivered 1 2 "$B2" && ! delivered 1 2 "$B4"; then
	ok "messages $B2..$B4 are still held and undelivered"
else
	not_ok "the held messages stay held" "$(curl -s "$(api 1)/v1/deliveries/1/2/$B2")"
fi
held_gauge() { [ "$(metric 1 'isthmus_route_held_messages{route="1->2"}')" = 3 ]; }
poll held_gauge && ok "isthmus_route_held_messages{route=\"1->2\"} is 3" ||
	not_ok "the held gauge counts 3" "$(curl -s "$(api 1)/metrics" | grep held)"

# ---- a validator killed and restarted still holds them, by the same rule ----
R2=$(hold 3 "$B2" 'h["release_height"]')
kill -KILL "${PIDS[3]}" 2>/dev/null
wait "${PIDS[3]}" 2>/dev/null
start 3
same_hold() { [ "$(hold 3 "$B4" 'h["rule"]+" "+h["first_held"]+" "+str(h["release_height"])')" = "window_count $B2 $R2" ]; }
if poll same_hold; then
	ok "validator 3, SIGKILLed and restarted, still holds $B2..$B4 by window_count until source height $R2"
else
	not_ok "the limits survive a restart" "$(curl -s "$(api 3)/v1/deliveries/1/2/$B4")"
fi

# ---- governance releases two of them early ----
pass "release of 1->2 messages up to $B3" --release-held "1:2:$B3" --voting-blocks 200
if poll delivered 1 2 "$B3" && delivered 1 2 "$B2"; then
	ok "released messages $B2 and $B3 are delivered"
else
	not_ok "the released messages are delivered" "$(curl -s "$(api 1)/v1/deliveries/1/2/$B2")"
fi
is_held "$B4" window_count && ! delivered 1 2 "$B4" &&
	ok "message $B4, not released, is still held by the window" ||
	not_ok "message $B4 stays held" "$(curl -s "$(api 1)/v1/deliveries/1/2/$B4")"

# ---- a short window: the last one passes as it slides, in order ----
pass "route limits 1->2 (2 per 10 blocks)" \
	--route-limits 1:2 --window-blocks 10 --max-count 2 --high-value 1000 --delay-blocks 40 --voting-blocks 200
if poll delivered 1 2 "$B4"; then
	h2=$(inbox_height 1 2 "$B2") h3=$(inbox_height 1 2 "$B3") h4=$(inbox_height 1 2 "$B4")
	[ -n "$h2" ] && [ -n "$h4" ] && [ "$h2" -le "$h3" ] && [ "$h3" -le "$h4" ] &&
		ok "with a 10-block window message $B4 is delivered, after $B2 and $B3 (chain 2 heights $h2 $h3 $h4)" ||
		not_ok "delivered in order" "heights '$h2' '$h3' '$h4'"
else
	not_ok "message $B4 is delivered as the window slides" "$(curl -s "$(api 1)/v1/deliveries/1/2/$B4")"
fi

# ---- a high-value message waits its delay; the one behind it waits too ----
send 1 2 5000 && HV=$NONCE && send 1 2 1 && LV=$NONCE || bail "cannot send on chain 1"
if poll is_held "$HV" high_value_delay; then
	R=$(hold 1 "$HV" 'h["release_height"]')
	ok "high-value message $HV (5000 > 1000) is held by high_value_delay until source height $R"
else
	not_ok "the high-value message is held" "$(curl -s "$(api 1)/v1/deliveries/1/2/$HV")"
	R=
fi
behind() { [ "$(hold 1 "$LV" 'h["first_held"]')" = "$HV" ]; }
poll behind && ok "message $LV (value 1) waits behind it" ||
	not_ok "the next message waits in order" "$(curl -s "$(api 1)/v1/deliveries/1/2/$LV")"
if poll delivered 1 2 "$HV"; then
	hh=$(head_height 1)
	[ -n "$R" ] && [ -n "$hh" ] && [ "$hh" -ge "$R" ] &&
		ok "message $HV is delivered once chain 1 passed height $R (it is at $hh)" ||
		not_ok "delivered after its release height" "release '$R' head '$hh'"
else
	not_ok "the high-value message is delivered after its delay" "$(curl -s "$(api 1)/v1/deliveries/1/2/$HV")"
fi
if poll delivered 1 2 "$LV"; then
	a=$(inbox_height 1 2 "$HV") b=$(inbox_height 1 2 "$LV")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -le "$b" ] && ok "then message $LV, in order (chain 2 heights $a, $b)" ||
		not_ok "in order" "'$a' '$b'"
else
	not_ok "the message behind is delivered" "$(curl -s "$(api 1)/v1/deliveries/1/2/$LV")"
fi
nothing_held() { [ "$(metric 1 'isthmus_route_held_messages{route="1->2"}')" = 0 ]; }
poll nothing_held && ok "nothing is held any more: the gauge is 0" ||
	not_ok "the gauge falls to 0" "$(curl -s "$(api 1)/metrics" | grep held)"

# ---- limits removed: what they held goes, the gauge falls to 0 ----
one_held() { [ "$(metric 1 'isthmus_route_held_messages{route="1->2"}')" = 1 ]; }
if send 1 2 5000 && RV=$NONCE && poll is_held "$RV" high_value_delay && poll one_held; then
	pass "removal of route 1->2's limits" --route-limits 1:2 --voting-blocks 200
	if poll delivered 1 2 "$RV" && poll nothing_held; then
		ok "message $RV, held by the removed limits, is delivered and the gauge is 0 again"
	else
		not_ok "removing the limits releases the message and clears the gauge" \
			"$(curl -s "$(api 1)/v1/deliveries/1/2/$RV"; curl -s "$(api 1)/metrics" | grep route_held)"
	fi
else
	not_ok "a high-value message is held before the removal" "$(curl -s "$(api 1)/v1/deliveries/1/2/$RV")"
fi

echo "1..$n"
exit $failed
