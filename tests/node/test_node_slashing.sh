#!/usr/bin/env bash
# Slashing and jailing with real processes (issue 6, item 6; suite
# integration, TAP). Needs isthmusd built with -Dfault_injection=true (what
# tools/check and CI build); skipped otherwise.
#
# Five validators, short epochs. Validator 4 runs with
# ISTHMUS_FAULT=equivocate: with every vote it also signs a vote for another
# block of the same view. The leader that receives both turns them into
# double-vote evidence, the ledger slashes validator 4 (10% of its stake) and
# removes it for good, the epoch ends at once, and the others keep
# committing. Then validator 3 is stopped (SIGKILL) until the ledger jails it
# for missing its epoch's QCs; after its cooldown its operator sends `isthmus
# stake unjail` (to a running validator) and it is back in the set at the
# next boundary. It stays stopped for a few more epochs (jailed again), then,
# restarted far behind, it catches up across the epochs it missed.
#
# Waiting is bounded polling; nothing asserts on timing.
TEST_NAME=slashing
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
N=5
EPOCH=20

if [ "${ISTHMUS_FAULT_BUILD:-0}" != 1 ]; then
	skip "slashing and jailing" "isthmusd was built without -Dfault_injection=true"
	echo "1..$n"
	exit 0
fi

pick_base_port $N || bail "no free base port found"
"$BIN" testnet --validators $N --output "$T/net" --base-port "$BASE" --epoch-length $EPOCH --kdf-fast \
	>"$T/testnet.out" 2>&1 </dev/null || bail "isthmus testnet failed: $(head -3 "$T/testnet.out")"

json() {
	curl -s --max-time 5 "$1" 2>/dev/null | python3 -c "import json,sys
try:
    d=json.load(sys.stdin); print($2)
except Exception:
    print('')" 2>/dev/null
}
wait_for() {
	local deadline=$((SECONDS + WAIT_S * 3))
	while [ $SECONDS -lt $deadline ]; do
		"$@" && return 0
		sleep 0.3
	done
	return 1
}
status_of() { # status_of KEY [NODE]
	json "$(api "${2:-0}")/v1/staking" "[v['status'] for v in d['validators'] if v['node_key']=='$1'][0]"
}

for i in 0 1 2 3; do start "$i"; done
ISTHMUS_FAULT=equivocate start 4
K4=$(sed -n 's/.*"node_key": *"\([0-9a-f]\{64\}\)".*/\1/p' "$T/net/genesis.json" | sed -n 5p)
[ ${#K4} -eq 64 ] || bail "cannot read validator 4's node key"
wait_heights 3 0 1 2 3 && ok "five validators start, validator 4 equivocating; the others commit" || bail "no commits"

slashed() { json "$(api 0)/v1/evidence" "int(any(e['result']=='slashed' and e['offender']=='$K4' for e in d['evidence']))" | grep -qx 1; }
if wait_for slashed; then
	amt=$(json "$(api 0)/v1/evidence" "[e['slashed'] for e in d['evidence'] if e['result']=='slashed'][0]")
	ok "double-vote evidence against validator 4 is committed: slashed $amt"
	[ "$amt" = "100000" ] && ok "the slash is 10% of its 1000000 stake" || not_ok "the slash is 10%" "slashed '$amt'"
else
	not_ok "validator 4 is slashed" "$(grep -h 'evidence' "$T"/node*.log | head -3)"
fi
[ "$(status_of "$K4" 1)" = removed ] && ok "validator 4 is removed (on node 1)" || not_ok "validator 4 removed" "$(status_of "$K4" 1)"
not_in_set() { json "$(api 1)/v1/validators" "int(all(v['node_key']!='$K4' for v in d['validators']))" | grep -qx 1; }
wait_for not_in_set && ok "validator 4 is out of the current set" || not_ok "validator 4 out of the set" ""
h=$(height 0)
wait_heights $((h + 5)) 0 1 2 3 && ok "the network keeps committing after the slash" || not_ok "commits after the slash" ""
grep -q 'voted for two blocks' "$T"/node[0-3].log && ok "a validator logged the double vote it found" ||
	not_ok "the double vote is logged" ""

# ---- jailing: validator 3 stopped for more than an epoch ----
kill -KILL "${PIDS[3]}" 2>/dev/null
wait "${PIDS[3]}" 2>/dev/null
PIDS[3]=
K3=$(sed -n 's/.*"node_key": *"\([0-9a-f]\{64\}\)".*/\1/p' "$T/net/genesis.json" | sed -n 4p)
jailed() { [ "$(status_of "$K3" 0)" = jailed ]; }
if wait_for jailed; then
	je=$(json "$(api 0)/v1/staking" "[v['jailed_epoch'] for v in d['validators'] if v['node_key']=='$K3'][0]")
	ok "validator 3, stopped, is jailed at the end of epoch $je"
else
	not_ok "validator 3 is jailed" "status $(status_of "$K3" 0)"
fi
# unjail needs no running node: the operator signs it and a validator of the
# set commits it
ue=$(json "$(api 0)/v1/staking" "[v['unjail_epoch'] for v in d['validators'] if v['node_key']=='$K3'][0]")
cooled() { [ "$(json "$(api 0)/v1/epochs" 'd["current"]')" -ge "$ue" ] 2>/dev/null; }
wait_for cooled || not_ok "the cooldown ends" "unjail epoch '$ue'"
if "$BIN" stake unjail --keystore "$T/net/node3/keys" --key validator --passphrase-file "$T/net/node3/passphrase" \
	--node "$(api 0)" --timeout 60 >"$T/unjail.out" 2>&1 </dev/null; then
	ok "isthmus stake unjail is committed"
else
	not_ok "isthmus stake unjail" "$(tail -2 "$T/unjail.out")"
fi
back() { json "$(api 0)/v1/validators" "int(any(v['node_key']=='$K3' for v in d['validators']))" | grep -qx 1; }
wait_for back && ok "validator 3 is back in the set at the next boundary" || not_ok "validator 3 back in the set" "$(status_of "$K3" 0)"

# Restarted many epochs behind, validator 3 catches up: by then it missed the
# QCs of the epoch it was back in and is jailed again, so it follows the
# epochs it missed out of the set (the others serve it the blocks between its
# root and each epoch's last block, then the proof of that epoch's end).
epoch_of() { json "$(api "$1")/v1/epochs" 'd["current"]'; }
eb=$(epoch_of 0)
later() { [ "$(epoch_of 0)" -ge $((eb + 3)) ] 2>/dev/null; }
wait_for later || not_ok "three more epochs while validator 3 is stopped" "epoch $(epoch_of 0), from $eb"
start 3
target=$(height 0)
caught_up() { [ "$(height 3)" -ge "$target" ]; }
if wait_for caught_up; then
	ok "validator 3 restarts and catches up across the epochs it missed (from epoch $eb to height $target)"
else
	not_ok "validator 3 restarts and catches up across the epochs it missed" \
		"at height $(height 3) of $target, in epoch $(epoch_of 3) (network in $(epoch_of 0))"
fi
same_epoch() { [ "$(epoch_of 3)" = "$(epoch_of 0)" ] && [ "$(height 3)" -ge "$(($(height 0) - 2))" ]; }
wait_for same_epoch && ok "validator 3 follows the network's epoch and height" ||
	not_ok "validator 3 follows the network's epoch" "node 3 in epoch $(epoch_of 3), network in $(epoch_of 0)"

echo "1..$n"
exit $failed
