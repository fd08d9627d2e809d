#!/usr/bin/env bash
# The automatic circuit breaker with real processes (suite integration,
# TAP): four validators, three devchains (with their test hooks) and
# `isthmus relay`.
#
# A message 1->2 is delivered; then a final block of chain 1 is rewritten
# (POST /v1/test/rewrite-finalized). Every validator's watcher halts on
# the finality violation and proposes a signed finality report; once
# reports of more than 1/3 of the stake are committed, the ledger pauses
# chain 1 on every validator: GET /v1/gov shows it paused with a breaker of
# reason finality_violation, and the breaker metrics say so. A message 3->1
# (from a healthy chain into the paused one) sent afterwards waits for a
# checkpoint while a message 2->3 sent after it is delivered: everything
# else goes on. Once all four reports are counted, a governance
# resume_chain clears the breaker, and the reports of the violation it
# resumed from do not trip it again.
#
# Waiting is bounded polling; nothing asserts on timing.
TEST_NAME=breaker
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
N=4

start_net $N 3 --test-hooks

# msg_height SRC DST NONCE: the height of the source block holding the message
msg_height() {
	local h
	h=$(jget "$(chain_url "$1")/v1/head" 'd["height"]')
	[ -n "$h" ] || return 1
	jget "$(chain_url "$1")/v1/messages?from_height=$((h > 999 ? h - 999 : 0))&to_height=$h" \
		"[m['height'] for m in d['messages'] if m['dst_chain'] == $2 and m['nonce'] == $3][0]"
}
# breaker I: validator I's breaker of chain 1 as "paused tripped reason reporters"
breaker() {
	jget "$(api "$1")/v1/gov" '" ".join(["1" in d["paused_chains"] and "paused" or "running"] +
		[str(b["tripped"]).lower() + " " + str(b["reason"]) + " " + str(len(b["reporters"]))
		 for b in d["breakers"] if b["chain"] == "1"])'
}
# metric_value I NAME: the series' value on node I ('' when it has none)
metric_value() { curl -s --max-time 5 "$(api "$1")/metrics" | awk -v k="$2" '$1 == k { print $2 }'; }

# ---- before: the relay works ----
if send 1 2 && M=$NONCE && poll delivered 1 2 "$M"; then
	ok "before the violation, message $M 1->2 is delivered"
else
	bail "the relay delivers nothing: $(tail -3 "$T/relay.log")"
fi
b0=$(breaker 0)
[ "$b0" = running ] && ok "GET /v1/gov: chain 1 is running, no breaker" || not_ok "nothing tripped yet" "got '$b0'"

# ---- a final block of chain 1 is rewritten ----
MH=$(msg_height 1 2 "$M")
[ -n "$MH" ] || bail "cannot find the block of message $M on chain 1"
out=$(curl -s --max-time 10 -X POST -d "{\"height\":$MH}" "$(chain_url 1)/v1/test/rewrite-finalized")
printf '%s' "$out" | grep -q '"new_hash"' && ok "chain 1's final block $MH is rewritten (test hook)" ||
	bail "rewrite-finalized: $out"

tripped_on() { case "$(breaker "$1")" in "paused true finality_violation "[1-9]*) return 0 ;; esac; return 1; }
all_tripped() { local i; for i in 0 1 2 3; do tripped_on "$i" || return 1; done; }
if poll all_tripped; then
	ok "on every validator GET /v1/gov shows chain 1 paused by its breaker: $(breaker 0) reporter(s)"
else
	not_ok "chain 1's breaker trips on every validator" "$(for i in 0 1 2 3; do echo "validator $i: '$(breaker "$i")'"; done)"
fi
# the other validators' reports still count once it tripped: all four
four() { [ "$(breaker 1)" = "paused true finality_violation 4" ]; }
poll four && ok "every validator's report is counted: $(breaker 1) reporters" ||
	not_ok "all four reports are counted" "'$(breaker 1)'"
# more than 1/3 of four equal stakes: at least two reporters, validator keys
nrep=$(jget "$(api 2)/v1/gov" '[len(b["reporters"]) >= 2 and all(len(k) == 64 for k in b["reporters"]) and b["tripped_at"] > 0 for b in d["breakers"] if b["chain"] == "1"][0]')
[ "$nrep" = True ] && ok "the breaker names at least two reporters (validator keys) and the height it tripped at" ||
	not_ok "the breaker's reporters" "$(jget "$(api 2)/v1/gov" 'd["breakers"]')"
grep -q 'finality report .* submitted' "$T"/node*.log && ok "a validator logs the finality report it submitted" ||
	not_ok "the report is logged" "$(grep -h breaker "$T"/node*.log | tail -3)"
tm=$(metric_value 1 'isthmus_breaker_tripped{chain="1"}')
t2=$(metric_value 1 'isthmus_breaker_tripped{chain="2"}')
rc=$(metric_value 1 'isthmus_breaker_reporters{chain="1"}')
[ "$tm" = 1 ] && [ "$t2" = 0 ] && [ -n "$rc" ] && [ "$rc" -ge 2 ] &&
	ok "metrics: isthmus_breaker_tripped{chain=\"1\"} 1, chain 2 0, $rc reports counted" ||
	not_ok "the breaker metrics" "tripped 1 '$tm', 2 '$t2', reporters '$rc'"
ev=$(jget "$(api 0)/v1/evidence" 'sum(1 for e in d["evidence"] if e["kind"] == "finality-report" and e["result"] == "counted")')
[ -n "$ev" ] && [ "$ev" -ge 2 ] && ok "GET /v1/evidence lists $ev counted finality reports" ||
	not_ok "the reports are recorded as evidence" "'$ev'"
"$BIN" gov list --node "$(api 1)" >"$T/list.out" 2>&1 </dev/null &&
	grep -q '^breakers       chain 1 tripped at height [0-9]* (finality_violation, [2-4] reporters)$' "$T/list.out" &&
	ok "gov list shows the tripped breaker: $(sed -n 's/^breakers *//p' "$T/list.out")" ||
	not_ok "gov list shows the breaker" "$(cat "$T/list.out")"
# the automatic pause is certified like any: a destination can check it
breaker_certified() {
	"$BIN" gov pauses --validators "$T/net/validator-set.json" --node "$(api 3)" >"$T/pauses.out" 2>&1 </dev/null &&
		grep -q 'pause chain 1 (circuit breaker): valid, certified at height' "$T/pauses.out"
}
poll breaker_certified && ok "gov pauses: the breaker's pause of chain 1 is certified, and the genesis set verifies it" ||
	not_ok "the automatic pause is certified" "$(cat "$T/pauses.out")"

# ---- the paused chain gets no checkpoint; everything else goes on ----
send 3 1 && H=$NONCE || bail "cannot send on chain 3"
send 2 3 && B=$NONCE || bail "cannot send on chain 2"
if poll delivered 2 3 "$B"; then
	ok "message $B 2->3, sent after message $H 3->1, is delivered"
else
	not_ok "route 2->3 goes on while chain 1 is paused" "$(tail -2 "$T/relay.log")"
fi
reason() { jget "$(api "$1")/v1/deliveries/3/1/$H" 'd["status"]+" "+d.get("reason","")'; }
awaiting_all() { local i; for i in 0 1 2 3; do [ "$(reason "$i")" = "pending awaiting_checkpoint" ] || return 1; done; }
poll awaiting_all
wait_heights $(($(height 1) + 5)) 0 1 2 3
if ! delivered 3 1 "$H" && awaiting_all; then
	ok "5 blocks later message $H 3->1 is still undelivered: every validator says awaiting_checkpoint"
else
	not_ok "the route into the paused chain gets no checkpoint" "$(for i in 0 1 2 3; do echo "validator $i: '$(reason "$i")'"; done)"
fi

# ---- resume: the breaker is cleared and stays cleared ----
if as 0 propose --resume-chain 1 --voting-blocks 1000 && P=$(sed -n 's/^proposal \([0-9]*\)$/\1/p' "$T/gov.out") &&
	[ -n "$P" ] && as 1 vote "$P" --yes && as 2 vote "$P" --yes; then
	ok "gov propose --resume-chain 1 passes with validators 0, 1 and 2 (proposal $P)"
else
	not_ok "the resume passes" "$(cat "$T/gov.out")"
fi
cleared() { [ "$(breaker "$1")" = running ]; }
all_cleared() { local i; for i in 0 1 2 3; do cleared "$i" || return 1; done; }
if poll all_cleared && wait_heights $(($(height 1) + 8)) 0 1 2 3 && all_cleared; then
	ok "after the resume chain 1 runs and has no breaker on every validator, 8 blocks later too"
else
	not_ok "the resume clears the breaker for good" "$(for i in 0 1 2 3; do echo "validator $i: '$(breaker "$i")'"; done)"
fi
tm=$(metric_value 3 'isthmus_breaker_tripped{chain="1"}')
[ "$tm" = 0 ] && ok "metrics: isthmus_breaker_tripped{chain=\"1\"} 0 after the resume" ||
	not_ok "the gauge follows the resume" "'$tm'"

echo "1..$n"
exit $failed
