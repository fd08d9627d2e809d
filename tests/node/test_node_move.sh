#!/usr/bin/env bash
# Moving a validator to a new machine, with real isthmusd processes on
# 127.0.0.1 (suite integration, TAP; the harness: tests/node/harness.sh).
#
# A 4-validator testnet commits; node3 is stopped (SIGTERM) and its safety
# state exported; its data directory is wiped, as on a new machine that got
# the keys and the config but no database; the state is imported and node3
# starts again. Checks: the export is refused while node3 runs and the
# import of node3's state into node2's home is refused (another node key);
# the others commit without node3; node3 starts from the genesis block with
# the imported state, catches up by block sync to the same chain, and takes
# part again: with node0 stopped, commits need node3's votes, and they go
# on; node3 only voted above the imported view (its state has moved past it
# and no node saw a second, different vote or timeout for one view from
# anyone); SIGTERM stops every node with status 0.
TEST_NAME=move
. "$(dirname "${BASH_SOURCE[0]}")/harness.sh"
N=4

# field FILE KEY: a top-level value of a JSON file
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
# top NODES...: the highest height among the nodes listed
top() {
	local i h t=0
	for i in "$@"; do h=$(height "$i"); [ "$h" -gt $t ] && t=$h; done
	echo $t
}
# equivocations I: the consensus messages node I dropped as a second,
# different message of one signer for one view
equivocations() {
	curl -s --max-time 2 "$(api "$1")/metrics" |
		awk '/^isthmus_consensus_dropped_total\{reason="second different message for a view"\}/ { s += $2 } END { print s + 0 }'
}

pick_base_port $N || bail "no free base port found"
if "$BIN" testnet --validators $N --output "$T/net" --base-port "$BASE" --kdf-fast >"$T/testnet.out" 2>&1 </dev/null; then
	ok "isthmus testnet makes $N homes (base port $BASE)"
else
	bail "isthmus testnet failed: $(head -3 "$T/testnet.out")"
fi
all="0 1 2 3"
for i in $all; do start "$i"; done
# shellcheck disable=SC2086
wait_heights 5 $all && ok "all $N nodes commit to height 5" || bail "the cluster does not commit"

# ---- the old machine: stop node3 and export its state ----
mover=3
out=$("$BIN" safety export --home "$T/net/node$mover" 2>&1 </dev/null)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q "the node is running"; then
	ok "export while node$mover runs is refused"
else
	not_ok "export while node$mover runs is refused" "status $rc, output: $out"
fi
stop $mover
[ "$rc" = 0 ] && ok "node$mover stops on SIGTERM with status 0" || not_ok "node$mover stops on SIGTERM" "status $rc"
STATE="$T/node$mover.safety.json"
if "$BIN" safety export --home "$T/net/node$mover" --output "$STATE" >"$T/export.out" 2>&1 </dev/null; then
	ok "node$mover's safety state exported: $(cat "$T/export.out")"
else
	bail "export failed: $(cat "$T/export.out")"
fi
voted=$(field "$STATE" last_voted_view)
[ "$voted" -gt 0 ] && ok "node$mover had voted (last voted view $voted)" || not_ok "node$mover had voted" "last voted view $voted"
out=$("$BIN" safety import --home "$T/net/node2" "$STATE" 2>&1 </dev/null)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q "node_key: the state is for node key"; then
	ok "node$mover's state is refused by node2's home (another node key)"
else
	not_ok "node$mover's state is refused by node2's home" "status $rc, output: $out"
fi

# 20 blocks: the catch-up from the genesis block takes more than one sync
# answer (16 blocks)
rest="0 1 2"
t=$(top $rest)
# shellcheck disable=SC2086
wait_heights $((t + 20)) $rest && ok "without node$mover the others commit on (past height $((t + 20)))" ||
	not_ok "without node$mover the others commit on"

# ---- the new machine: the keys and the config, a new data directory ----
mv "$T/net/node$mover/data" "$T/old-data"
if "$BIN" safety import --home "$T/net/node$mover" "$STATE" >"$T/import.out" 2>&1 </dev/null &&
	grep -q "(the home had none)$" "$T/import.out"; then
	ok "the state is imported into the new data directory: $(cat "$T/import.out")"
else
	bail "import failed: $(cat "$T/import.out")"
fi
start $mover
t=$(top $rest)
if wait_heights "$t" $mover; then
	ok "node$mover catches up by block sync from the genesis block (height >= $t)"
else
	not_ok "node$mover catches up by block sync" "height $(height $mover), others at $t"
fi
grep -q "resuming at height 0 in view [0-9]* with 0 stored uncommitted block(s) and the saved safety state" \
	"$T/node$mover.log" && ok "node$mover says it resumed with the saved safety state" ||
	not_ok "node$mover says it resumed with the saved safety state"
for h in 1 "$t"; do
	a=$(block_id 0 "$h")
	b=$(block_id $mover "$h")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		ok "node$mover has node0's block at height $h"
	else
		not_ok "node$mover has node0's block at height $h" "node0 $a, node$mover $b"
	fi
done

# ---- node3 votes again: without node0, 3 of 4 validators need it ----
stop 0
[ "$rc" = 0 ] || not_ok "node0 stops on SIGTERM with status 0" "status $rc"
three="1 2 3"
t=$(top $three)
# shellcheck disable=SC2086
if wait_heights $((t + 5)) $three; then
	ok "with node0 stopped, node1, node2 and node$mover commit on: node$mover votes (past height $((t + 5)))"
else
	# shellcheck disable=SC2086
	not_ok "with node0 stopped, commits go on with node$mover's votes" \
		"heights: $(for i in $three; do printf '%s ' "$(height "$i")"; done)"
fi
start 0
t=$(top $three)
# shellcheck disable=SC2086
wait_heights "$t" $all && ok "node0 rejoins: all $N nodes at height >= $t" || not_ok "node0 rejoins"
a=$(block_id 0 "$t")
b=$(block_id $mover "$t")
[ -n "$a" ] && [ "$a" = "$b" ] && ok "node0 and node$mover agree at height $t" ||
	not_ok "node0 and node$mover agree at height $t" "node0 $a, node$mover $b"
eq=0
for i in $all; do eq=$((eq + $(equivocations "$i"))); done
[ $eq -eq 0 ] && ok "no node saw two different votes or timeouts of one validator for one view" ||
	not_ok "no node saw an equivocation" "$eq equivocation drop(s)"

# ---- SIGTERM: clean shutdown; node3's state moved past the imported one ----
for i in $all; do
	stop "$i"
	[ "$rc" = 0 ] && ok "node$i exits 0 on SIGTERM" || not_ok "node$i exits 0 on SIGTERM" "status $rc"
done
if "$BIN" safety export --home "$T/net/node$mover" --output "$T/after.json" >/dev/null 2>&1 </dev/null &&
	[ "$(field "$T/after.json" last_voted_view)" -gt "$voted" ]; then
	ok "node$mover's last voted view moved past the imported one ($voted -> $(field "$T/after.json" last_voted_view))"
else
	not_ok "node$mover's last voted view moved past the imported one"
fi

echo "1..$n"
[ $failed -eq 0 ]
